/*
 * proc: see proc.h.
 */
#include "proc.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"

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
			  " %c %d %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			  "%*s %llu",
			  &out->state, &out->ppid, &out->pgrp, &out->start) == 4)
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
