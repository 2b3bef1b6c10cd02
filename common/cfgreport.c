/* cfgreport.c: how -T reports a problem: "FILE:LINE: MSG" on stderr, a
 * warning marked as one, each counted.  Every part of the check reports
 * here, so none calls back into the part that runs it. */
#include <stdarg.h>
#include <stdio.h>

#include "cfgreport.h"

void
cfg_report(struct cfgcheck *c, int error, const char *file,
    unsigned long line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (error)
		c->errors++;
	else
		c->warnings++;
	if (file == NULL)
		fprintf(stderr, "%s: %s%s\n", c->prog, error ? "" : "warning: ",
		    msg);
	else if (line == 0)
		fprintf(stderr, "%s: %s%s\n", file, error ? "" : "warning: ", msg);
	else
		fprintf(stderr, "%s:%lu: %s%s\n", file, line,
		    error ? "" : "warning: ", msg);
}
