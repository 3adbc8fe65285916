/*
 * detach: a program started to outlive its caller, in a session and process
 * group of its own, its stdout and stderr into a log of bounded size.
 *
 * The program does not write the log itself: an app holding the log open
 * would go on writing into a file renamed away. Its output goes into a
 * pipe read by a log writer, a process of the same session and group that
 * appends to the log and, when the next piece would pass the cap, renames
 * it to LOG.1 (LOG.1 to LOG.2, ... up to `keep` files) and starts a new
 * one. A piece is cut after its last whole line that fits, so lines stay
 * whole unless one alone is longer than the cap.
 *
 * So a stop that signals the group reaches the writer too. The writer
 * ignores SIGTERM, SIGINT and SIGHUP: it ends when the pipe does, once the
 * program and everything it started have exited or closed their output,
 * so their last words on the way out are in the log; SIGKILL ends it as
 * it ends them. If the log cannot be written (a full disk), the output is
 * read and dropped: the program is never blocked nor killed by its log.
 *
 * Memory: the writer is a fork of the caller that never execs, so it holds
 * a copy-on-write image of the caller (shared pages until the caller exits)
 * and runs only system calls: read, write, open, rename, ftruncate, close.
 */
#ifndef GITGATE_DETACH_H
#define GITGATE_DETACH_H

#include <sys/types.h>

#include "buf.h"

/* A log and its cap. */
struct detach_log {
	const char *path;
	unsigned long long max_bytes; /* 0: no cap, nothing rotated */
	unsigned keep;		      /* rotated files kept, PATH.1 .. PATH.keep; 0 counts as 1 */
};

struct detach_options {
	const char *const *argv; /* argv[0] looked up in the caller's PATH */
	const char *const *env;	 /* as run.h takes it */
	int env_clear;
	const char *cwd;
	struct detach_log log;
};

/* Starts argv detached: stdin /dev/null, its own session (its pid is the
 * session's and the group's), its output through a log writer into the
 * log. Returns 0 once argv is executing (the program itself, not a step
 * before it), with its pid in *pid; or -1 with the reason in err (argv
 * could not be run) and nothing left running. The caller reaps *pid. */
int detach_start(pid_t *pid, const struct detach_options *o, struct buf *err);

/* Rotates the log when it has reached its cap, as the writer does: for a
 * writer of the caller's own between runs of a detached program (a command
 * that appends to the log while no writer runs). Returns 0, or -1 with the
 * reason in err. */
int detach_log_rotate_full(const struct detach_log *l, struct buf *err);

#endif
