/* state.c: a POP3 session's state: the one function that changes it, and
 * the release of what a TRANSACTION holds.  Runs in the session and, after
 * login, in the owner's process. */
#include <stdlib.h>
#include <unistd.h>

#include "pop3d.h"

void
pop3_set_state(struct pop3 *s, enum pop3_state st)
{
	/* The one place a state changes; a debug log line would go here. */
	s->state = st;
}

void
pop3_release(struct pop3 *s)
{
	if (s->box.fd != -1)
		store_close(&s->box);
	s->box.fd = -1;
	mbox_index_free(&s->ix);
	free(s->del);
	s->del = NULL;
	/* Closing the marker releases its lock: the maildrop is free again. */
	if (s->popfd != -1)
		close(s->popfd);
	s->popfd = -1;
}
