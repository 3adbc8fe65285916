/*
 * deadline: see deadline.h.
 */
#include "deadline.h"

#include <string.h>

void deadline_start(struct deadline *d, unsigned seconds)
{
	memset(d, 0, sizeof(*d));
	if (!seconds)
		return;
	clock_gettime(CLOCK_MONOTONIC, &d->at);
	d->at.tv_sec += seconds;
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
