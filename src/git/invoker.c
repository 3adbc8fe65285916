/*
 * invoker: see invoker.h.
 */
#include "invoker.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "proc.h"

/* How far up to look for git: the hook, a wrapper, a shell, git; under a
 * hook manager more: lefthook installed from npm stands as its hook script,
 * node, its binary and the shell it runs a command with between git and
 * `gitgate hook pre-commit` (five levels); the pre-commit framework as one
 * (its hook script execs python). */
#define MAX_ANCESTORS 8

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

/* The nearest ancestor that is git, with its argv (NUL-separated) in
 * cmdline; 0 when there is none within reach. */
static pid_t git_ancestor(struct buf *cmdline)
{
	pid_t pid = getppid();
	for (int depth = 0; depth < MAX_ANCESTORS && pid > 1; depth++) {
		char path[64];
		struct proc_info info;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		buf_clear(cmdline);
		if (buf_read_file(cmdline, path) == 0 && cmdline->len && is_git(cmdline->data))
			return pid;
		pid = proc_read(pid, &info) == 0 ? info.ppid : 0;
	}
	return 0;
}

int invoker_amends(void)
{
	struct buf cmdline = BUF_INIT;
	int amend = git_ancestor(&cmdline) && args_amend(cmdline.data, cmdline.len);
	buf_free(&cmdline);
	return amend;
}

pid_t invoker_git(void)
{
	struct buf cmdline = BUF_INIT;
	pid_t pid = git_ancestor(&cmdline);
	buf_free(&cmdline);
	return pid;
}
