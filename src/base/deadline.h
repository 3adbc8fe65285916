/*
 * deadline: a point in time (CLOCK_MONOTONIC) after which a check stops
 * and is refused rather than passed (a hook that never answers is a hook
 * users remove), or a command is stopped (run.h's time limit).
 */
#ifndef GITGATE_DEADLINE_H
#define GITGATE_DEADLINE_H

#include <time.h>

struct deadline {
	struct timespec at; /* zero: none */
};

/* seconds from now; 0 sets none. */
void deadline_start(struct deadline *d, unsigned seconds);
/* milliseconds from now; 0 sets none. */
void deadline_start_ms(struct deadline *d, unsigned ms);
/* 1 once the deadline has passed; never for none. */
int deadline_passed(const struct deadline *d);
/* Milliseconds left (0 once passed), or -1 for none: a poll() timeout. */
int deadline_left_ms(const struct deadline *d);

#endif
