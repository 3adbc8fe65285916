/*
 * invoker: see invoker.h.
 */
#include "invoker.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

/* How far up to look for git: the hook, a wrapper, a shell, git. */
#define MAX_ANCESTORS 4

static pid_t parent_of(pid_t pid)
{
	char path[64];
	struct buf stat = BUF_INIT;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	pid_t parent = 0;
	/* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
	if (buf_read_file(&stat, path) == 0 && stat.len) {
		const char *close = strrchr(stat.data, ')');
		int ppid;
		if (close && sscanf(close + 1, " %*c %d", &ppid) == 1)
			parent = (pid_t)ppid;
	}
	buf_free(&stat);
	return parent;
}

static int is_git(const char *argv0)
{
	const char *base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	return !strcmp(base, "git") || !strncmp(base, "git-", 4);
}

/* --amend as parse-options reads it: a unique prefix of at least "--am"
 * (no other commit option starts so), the last of --amend/--no-amend
 * winning, nothing after "--". */
static int args_amend(const char *args, size_t len)
{
	int amend = 0;
	for (const char *p = args, *end = args + len; p < end; p += strlen(p) + 1) {
		size_t n = strlen(p);
		if (!strcmp(p, "--"))
			break;
		if (n >= 4 && !strncmp(p, "--amend", n))
			amend = 1;
		else if (n >= 7 && !strncmp(p, "--no-amend", n))
			amend = 0;
	}
	return amend;
}

int invoker_amends(void)
{
	pid_t pid = getppid();
	for (int depth = 0; depth < MAX_ANCESTORS && pid > 1; depth++, pid = parent_of(pid)) {
		char path[64];
		struct buf cmdline = BUF_INIT;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		int found =
		    buf_read_file(&cmdline, path) == 0 && cmdline.len && is_git(cmdline.data);
		int amend = found && args_amend(cmdline.data, cmdline.len);
		buf_free(&cmdline);
		if (found)
			return amend;
	}
	return 0;
}
