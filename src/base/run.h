/*
 * run: running other programs, always from an argv array.
 *
 * Nothing here goes through a shell, so branch names, paths and pushed
 * content can never become shell syntax. A child's stdout is either read as
 * a stream (large output such as a diff, consumed while it is produced) or
 * collected whole (short answers such as `git config`).
 */
#ifndef GITGATE_RUN_H
#define GITGATE_RUN_H

#include <stdio.h>
#include <sys/types.h>

#include "buf.h"

struct child {
	pid_t pid;
	FILE *out; /* the child's stdout */
};

enum run_stderr { RUN_STDERR_SHOWN, RUN_STDERR_DISCARDED };

/* Starts argv[0] (looked up in PATH) with stdout piped to c->out; stdin
 * is /dev/null and stderr is inherited. Returns 0 or -1 with errno set. */
int run_start(struct child *c, const char *const argv[]);
/* Closes c->out and waits. Returns the exit code, 128+N for signal N, or
 * -1 when waiting failed. */
int run_finish(struct child *c);
/* Runs argv to completion, collecting stdout into out. Same return as
 * run_finish, or -1 when the program could not be started. Discard stderr
 * for questions whose "no" is an expected answer (a path a commit lacks). */
int run_capture(const char *const argv[], enum run_stderr err, struct buf *out);

#endif
