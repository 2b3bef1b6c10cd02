/* clock.h: deadlines on the monotonic clock, for every wait that must end:
 * frames on a seam, the privileged side's bound on a session's life. */
#ifndef INETMAIL_CLOCK_H
#define INETMAIL_CLOCK_H

#include <time.h>

/* *T becomes now + MS milliseconds (CLOCK_MONOTONIC). */
void clock_in(struct timespec *t, long ms);
/* Milliseconds left until T: 0 when it has passed. */
long clock_left_ms(const struct timespec *t);
/* The same as a poll(2) timeout: capped at an hour (a longer wait loops
 * and asks again), 0 when T has passed. */
int clock_poll_ms(const struct timespec *t);

#endif
