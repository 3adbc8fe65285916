/*
 * procenv: the one place that reads what the process environment says
 * to a gate. The hook mains and the command line call procenv_read and
 * pass what each gate needs down in its options; no library code below
 * calls getenv. (git/gitdir.c is the exception by design: it mirrors git's
 * own discovery of GIT_DIR and its config files, and must read what git
 * reads.)
 */
#ifndef GITGATE_PROCENV_H
#define GITGATE_PROCENV_H

#include <stdio.h>

#include "buf.h"
#include "identity.h"

struct procenv {
	const char *skip;    /* GITGATE_SKIP: rules a client skips, "rule,rule" */
	char *os_user;	     /* the OS user this process runs as; NULL: unknown */
	const char *git_dir; /* GIT_DIR, as git gives a hook; NULL when unset */
	char **push_options; /* GIT_PUSH_OPTION_<n>, in order */
	size_t npush_options;
	int color_allowed; /* neither NO_COLOR nor TERM=dumb */
	/* The pre-commit framework's pre-push stage, which reads git's lines
	 * itself and hands its hooks one ref through PRE_COMMIT_* variables
	 * (each NULL when unset): the remote, the local and remote ref, and
	 * the commits (from: what the remote has, or the parent of the first
	 * commit it lacks; both NULL when the whole history is new). */
	struct {
		const char *remote, *url, *local_ref, *remote_ref, *from, *to;
	} framework_push;
	/* The hosting platform that runs this hook (platform.h): NULL when
	 * none does, or when two platforms' variables are set. */
	const struct platform *platform;
	char *repository;	  /* the platform's name for the repository, or NULL */
	char *repository_why;	  /* why that name is not used, when the platform gave one */
	int time_bounded;	  /* the platform holds this hook to a time limit now */
	const char *error_prefix; /* its web page shows only lines that start so, or NULL */
	/* Where a pusher reached this machine over ssh (SSH_CONNECTION's
	 * server end), or NULL and 0. */
	char *ssh_host;
	unsigned ssh_port;
};

void procenv_read(struct procenv *env);
void procenv_free(struct procenv *env);
/* Who pushes, by rules.ini's [push] identity (identity.h): a hook's
 * pusher, as the git server (gitolite, GitLab, Gitea) or the admin says.
 * Returns 0 with out filled, or -1 with why: the caller refuses. */
int procenv_pusher(const struct identity_policy *p, const struct procenv *env, struct identity *out,
		   struct buf *why);
/* Who runs `gitgate deploy` or `rollback`: the OS user, or env:NAME's
 * variable when [push] identity names one (identity_resolve_command). */
int procenv_command_user(const struct identity_policy *p, const struct procenv *env,
			 struct identity *out, struct buf *why);
/* How a pusher without a shell here runs gitgate's read-only commands
 * (status, logs, history, report): through gitolite's command, `ssh
 * [-p PORT] USER@HOST gitgate` (then COMMAND REPOSITORY ARGS...), when
 * gitolite runs this hook. Returns 1 with prefix filled, 0 when the pusher
 * has no such way (or has a shell: no platform). */
int procenv_ask(const struct procenv *env, struct buf *prefix);
/* Does the pusher have git alone (GitLab, Gitea, GitHub: no shell, no
 * command of gitgate's), and so reads the deploys ref (ask.h)? */
int procenv_ask_by_ref(const struct procenv *env);
/* Colour on a terminal, when the environment allows it. */
int procenv_wants_color(const struct procenv *env, FILE *out);

#endif
