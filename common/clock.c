/* clock.c: deadlines on the monotonic clock (clock.h); a change of the
 * wall clock cannot stretch or cut them.  Runs on both sides of a seam. */
#include "clock.h"

void
clock_in(struct timespec *t, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

long
clock_left_ms(const struct timespec *t)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(t->tv_sec - now.tv_sec) * 1000 +
	    (t->tv_nsec - now.tv_nsec) / 1000000;
	/* Round a part of a millisecond up: 0 means the time has come. */
	if (ms <= 0 && (t->tv_sec > now.tv_sec ||
	    (t->tv_sec == now.tv_sec && t->tv_nsec > now.tv_nsec)))
		ms = 1;
	return ms < 0 ? 0 : ms;
}

int
clock_poll_ms(const struct timespec *t)
{
	long ms = clock_left_ms(t);

	return ms > 3600000 ? 3600000 : (int)ms;
}
