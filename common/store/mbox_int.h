/* mbox_int.h: shared by the scanner (scan.c) and the reader (mbox.c) only. */
#ifndef INETMAIL_MBOX_INT_H
#define INETMAIL_MBOX_INT_H

#include <stdint.h>

/* Does the file FD hold a run of '>' from OFF on and then "From ", before
 * END?  For the rare run longer than a scan window or the reader's buffer:
 * the writer quotes runs of any length, so readers must see them whole.
 * Returns 1, 0, or -1 on a read error. */
int mbox_gt_run_from(int fd, uint64_t off, uint64_t end);

#endif
