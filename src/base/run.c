/*
 * run: see run.h. Built on posix_spawnp, which uses vfork-like cloning on
 * glibc: a hook that starts git pays for no page-table copy.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int start(struct child *c, const char *const argv[], enum run_stderr err)
{
	int fds[2];
	c->pid = -1;
	c->out = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (err == RUN_STDERR_DISCARDED)
		posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	int rc = posix_spawnp(&c->pid, argv[0], &actions, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(fds[1]);
	if (rc) {
		close(fds[0]);
		errno = rc;
		return -1;
	}
	c->out = fdopen(fds[0], "r");
	if (!c->out) {
		int saved = errno;
		close(fds[0]);
		run_finish(c);
		errno = saved;
		return -1;
	}
	return 0;
}

int run_start(struct child *c, const char *const argv[])
{
	return start(c, argv, RUN_STDERR_SHOWN);
}

int run_finish(struct child *c)
{
	if (c->out) {
		fclose(c->out);
		c->out = NULL;
	}
	if (c->pid <= 0)
		return -1;
	int status;
	while (waitpid(c->pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	c->pid = -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int run_capture(const char *const argv[], enum run_stderr err, struct buf *out)
{
	struct child c;
	if (start(&c, argv, err) < 0)
		return -1;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), c.out)) > 0)
		buf_add(out, chunk, n);
	return run_finish(&c);
}
