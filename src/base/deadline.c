/*
 * deadline: see deadline.h.
 */
#include "deadline.h"

#include <limits.h>
#include <string.h>

static void start(struct deadline *d, time_t seconds, long nanoseconds)
{
	memset(d, 0, sizeof(*d));
	if (!seconds && !nanoseconds)
		return;
	clock_gettime(CLOCK_MONOTONIC, &d->at);
	d->at.tv_sec += seconds;
	d->at.tv_nsec += nanoseconds;
	if (d->at.tv_nsec >= 1000000000) {
		d->at.tv_sec++;
		d->at.tv_nsec -= 1000000000;
	}
}

void deadline_start(struct deadline *d, unsigned seconds)
{
	start(d, (time_t)seconds, 0);
}

void deadline_start_ms(struct deadline *d, unsigned ms)
{
	start(d, (time_t)(ms / 1000), (long)(ms % 1000) * 1000000);
}

int deadline_passed(const struct deadline *d)
{
	if (!d->at.tv_sec)
		return 0;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > d->at.tv_sec ||
	       (now.tv_sec == d->at.tv_sec && now.tv_nsec >= d->at.tv_nsec);
}

int deadline_left_ms(const struct deadline *d)
{
	if (!d->at.tv_sec)
		return -1;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ns =
	    (long long)(d->at.tv_sec - now.tv_sec) * 1000000000 + (d->at.tv_nsec - now.tv_nsec);
	if (ns <= 0)
		return 0;
	long long ms = (ns + 999999) / 1000000; /* rounded up: a poll never spins */
	return ms > INT_MAX ? INT_MAX : (int)ms;
}
