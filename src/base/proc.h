/*
 * proc: what Linux says of a process in /proc/PID/stat. A pid alone names
 * a process only until it is reused; a pid with its start time names one
 * process for good, so records that keep pids keep start times too.
 */
#ifndef GITGATE_PROC_H
#define GITGATE_PROC_H

#include <sys/types.h>

struct proc_info {
	char state; /* 'R', 'S', ... 'Z' for a zombie */
	pid_t ppid;
	pid_t pgrp;
	pid_t session;
	unsigned long long start; /* clock ticks after boot */
};

/* Returns 0, or -1 when there is no such process. */
int proc_read(pid_t pid, struct proc_info *out);
/* Is the process that had this pid and start time still there (and not a
 * zombie)? */
int proc_alive(pid_t pid, unsigned long long start);
/* Sends sig to the process group of every process in session sid, its
 * leader's excepted, and returns how many processes were found: what a
 * session leader that died left running. */
size_t proc_signal_session(pid_t sid, int sig);
/* What the session leader sid (started at start, now dead) left running is
 * killed, and awaited up to wait_ms: once this returns 0, nothing of that
 * session runs (zombies aside) and nothing it ran can act any more. Nothing
 * is done when sid names a newer process. Returns 0, or -1 when something
 * still ran at wait_ms. */
int proc_end_session(pid_t sid, unsigned long long start, unsigned wait_ms);

#endif
