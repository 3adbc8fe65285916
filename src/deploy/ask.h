/*
 * ask: how a person runs gitgate's read-only commands (status, logs,
 * history, report), said in the hints a deploy prints. At a shell on the
 * server that is `gitgate logs ID`. A pusher without one goes through the
 * platform: gitolite's users log in to its commands, so `ssh git@host
 * gitgate logs REPOSITORY ID` runs gitolite's `gitgate` command
 * (install.sh --server installs it), which lets them read only the
 * repositories gitolite lets them read. On GitLab, Gitea or GitHub the
 * pusher has git alone: the server keeps what those commands say in the
 * deploys ref (DEPLOYS_REF), which anyone who may read the repository may
 * fetch. The way is the push's own (procenv_ask), carried by its jobs to
 * the worker that prints the hints.
 */
#ifndef GITGATE_ASK_H
#define GITGATE_ASK_H

#include "buf.h"

/* How to ask: prefix is the platform's command ("ssh -p 2222 git@host
 * gitgate"), or NULL; repository its name for the repository; by_ref: by
 * git, from the deploys ref. Neither: at a shell. */
struct ask {
	const char *prefix;
	const char *repository;
	int by_ref;
};

/* Appends the command line that runs `gitgate COMMAND ARGS` the asker's
 * way (args may be NULL). By git, it fetches the deploys ref and shows the
 * file that holds what the command says (logs/ID.log for `logs ID`). */
void ask_command(struct buf *out, const struct ask *a, const char *command, const char *args);

/* The deploys ref's file that holds what `gitgate COMMAND ID` says, appended
 * to out: "status", "history", "logs/ID.log" ("logs/" without an id: the
 * folder), "reports/ID.md". Returns 0, or -1 for a command it does not
 * hold. */
int ask_ref_file(struct buf *out, const char *command, const char *id);

#endif
