/*
 * proc: see proc.h.
 */
#include "proc.h"

#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "deadline.h"

int proc_read(pid_t pid, struct proc_info *out)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	struct buf text = BUF_INIT;
	int rc = -1;
	/* The name in parentheses may hold spaces and ")": fields are
	 * counted from the last ")". */
	char *end = buf_read_file(&text, path) == 0 ? strrchr(text.data, ')') : NULL;
	if (end && sscanf(end + 1,
			  " %c %d %d %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			  "%*s %llu",
			  &out->state, &out->ppid, &out->pgrp, &out->session, &out->start) == 5)
		rc = 0;
	buf_free(&text);
	return rc;
}

int proc_alive(pid_t pid, unsigned long long start)
{
	struct proc_info p;
	return pid > 0 && proc_read(pid, &p) == 0 && p.start == start && p.state != 'Z' &&
	       p.state != 'X';
}

size_t proc_signal_session(pid_t sid, int sig)
{
	DIR *d = sid > 1 ? opendir("/proc") : NULL;
	struct dirent *e;
	size_t found = 0;
	while (d && (e = readdir(d))) {
		struct proc_info p;
		pid_t pid = isdigit((unsigned char)e->d_name[0]) ? (pid_t)atoi(e->d_name) : 0;
		if (pid <= 1 || pid == sid || proc_read(pid, &p) < 0 || p.session != sid ||
		    p.state == 'Z')
			continue;
		found++;
		if (p.pgrp > 1 && p.pgrp != sid)
			kill(-p.pgrp, sig);
		kill(pid, sig);
	}
	if (d)
		closedir(d);
	return found;
}

int proc_end_session(pid_t sid, unsigned long long start, unsigned wait_ms)
{
	struct proc_info leader;
	/* The pid names another process now: the dead leader's session cannot
	 * be told from the new one's. */
	if (proc_read(sid, &leader) == 0 && leader.start != start)
		return 0;
	struct deadline give_up;
	deadline_start_ms(&give_up, wait_ms);
	while (proc_signal_session(sid, SIGKILL) > 0) {
		if (deadline_passed(&give_up))
			return -1;
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
	}
	return 0;
}
