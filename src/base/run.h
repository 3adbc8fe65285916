/*
 * run: running other programs, always from an argv array, never a shell.
 *
 * One options struct says everything about a child: its argv, its
 * environment (the inherited one with entries set or removed, or only the
 * entries given), its working directory, where its stdin comes from, where
 * its stdout and stderr go, and a time limit. Nothing goes through a shell,
 * so branch names, paths and pushed content never become shell syntax.
 *
 * A time limit puts the child in a process group of its own and starts a
 * watchdog thread: at the limit the whole group gets SIGTERM, then SIGKILL
 * after the grace period, or as soon as the child itself has gone, so
 * nothing it started outlives it. Without a limit there is no thread and
 * the child stays in the caller's process group (a terminal's Ctrl-C
 * reaches it): the commit hook's `git diff` costs one posix_spawn.
 *
 * A log appended to through a mask (mask.h) never gets the child's bytes
 * as they are: the child writes into a pipe that run_finish drains into
 * the file, masked, as the output comes (a reader following the log sees
 * it live). stdout and stderr into the same file through the same mask
 * share one pipe, so their order stays. Draining ends when the pipe is
 * closed or, once the child has gone, when nothing more is waiting: a
 * process it left behind holding its output is not waited for, and its
 * later writes fail (EPIPE).
 */
#ifndef GITGATE_RUN_H
#define GITGATE_RUN_H

#include <stdio.h>
#include <sys/types.h>

#include "buf.h"
#include "deadline.h"
#include "mask.h"

enum run_input_kind {
	RUN_IN_NULL,   /* /dev/null: the default */
	RUN_IN_BUFFER, /* data, len */
	RUN_IN_FILE,   /* the file at path */
	RUN_IN_FD,     /* the descriptor fd: the child gets a copy, the caller keeps it */
};

enum run_output_kind {
	RUN_OUT_INHERIT, /* the caller's own: the default */
	RUN_OUT_DISCARD, /* /dev/null */
	RUN_OUT_CAPTURE, /* appended to *buf (stdout and stderr may share one) */
	RUN_OUT_PIPE,	 /* stdout only: read run_process.out while the child runs */
	RUN_OUT_APPEND,	 /* appended to the file at path (a log), created if missing;
			  * through mask when it is set */
};

struct run_input {
	enum run_input_kind kind;
	const char *data;
	size_t len;
	const char *path;
	int fd;
};

struct run_output {
	enum run_output_kind kind;
	struct buf *buf;
	const char *path;
	const struct mask *mask; /* RUN_OUT_APPEND: the values the file must not get */
};

struct run_options {
	const char *const *argv; /* argv[0] is looked up in the caller's PATH */
	/* NULL-terminated: "NAME=value" sets NAME, a bare "NAME" removes it,
	 * over the inherited environment, or over an empty one with env_clear. */
	const char *const *env;
	int env_clear;
	const char *cwd; /* NULL: the caller's; file paths above are the caller's */
	struct run_input in;
	struct run_output out, err;
	unsigned limit_ms; /* 0: no time limit */
	unsigned grace_ms; /* from SIGTERM to SIGKILL */
};

struct run_result {
	int code;      /* the exit status, or 128 + the signal, as a shell says */
	int signal;    /* the signal that ended the child, or 0 */
	int timed_out; /* the time limit hit and the process group was killed */
};

struct run_watchdog;

struct run_process {
	pid_t pid;
	FILE *out; /* RUN_OUT_PIPE: the child's stdout */
	/* What run_finish still has to feed, drain and stop. */
	int in_fd, out_fd, err_fd;
	const char *in_data;
	size_t in_len;
	struct buf *out_buf, *err_buf;
	int log_fd, log_file; /* a masked log: the pipe's end, the file */
	int log_errno;	      /* why writing the log failed, or 0 */
	const char *log_path;
	struct mask_stream log_mask;
	struct deadline give_up; /* past the limit and its grace: stop draining */
	struct run_watchdog *watchdog;
};

/* Starts a child. With RUN_OUT_PIPE the caller reads out->out, and stdin
 * may not be a buffer nor stderr captured (nothing would drain them). Returns
 * 0, or -1 with the reason in err (nothing is left running). */
int run_start(struct run_process *out, const struct run_options *opts, struct buf *err);
/* Feeds and drains what run_start set up, waits for the child and reaps
 * it. Returns 0 with the result filled, or -1 with the reason in err. */
int run_finish(struct run_result *out, struct run_process *p, struct buf *err);
/* run_start and run_finish in one. */
int run(struct run_result *out, const struct run_options *opts, struct buf *err);
/* run for the common question: stdout collected into out, stderr inherited
 * or discarded (`errors`), the answer in result->code. */
int run_capture(struct run_result *result, struct buf *out, const char *const argv[],
		enum run_output_kind errors, struct buf *err);
/* run_finish for a child whose failure is the caller's: 0 when it exited
 * 0, else -1 with how it ended ("exited with 128") in why. */
int run_finish_ok(struct run_process *p, struct buf *why);
/* The environment a child gets from env and env_clear as run_options has
 * them: environ itself when nothing changes, else a new array (the caller
 * frees the array, not its strings). */
char **run_environ(const char *const *env, int env_clear);
/* "exited with 3", "was killed by signal 9 (Killed)", "was stopped at its
 * time limit": how the child ended, for messages. */
void run_describe(struct buf *out, const struct run_result *r);

#endif
