/*
 * ask: how a person runs gitgate's read-only commands (status, logs,
 * history, report), said in the hints a deploy prints. At a shell on the
 * server that is `gitgate logs ID`; a pusher without one (gitolite's users
 * log in to its command, not a shell) goes through the platform: `ssh
 * git@host gitgate logs REPOSITORY ID`, gitolite's `gitgate` command
 * (install.sh --server installs it), which lets them read only the
 * repositories gitolite lets them read. The way is the push's own
 * (procenv_ask), carried by its jobs to the worker that prints the hints.
 */
#ifndef GITGATE_ASK_H
#define GITGATE_ASK_H

#include "buf.h"

/* How to ask: prefix is the platform's way ("ssh -p 2222 git@host
 * gitgate"), NULL at a shell; repository its name for the repository. */
struct ask {
	const char *prefix;
	const char *repository;
};

/* Appends the command line that runs `gitgate COMMAND ARGS` the asker's
 * way (args may be NULL). */
void ask_command(struct buf *out, const struct ask *a, const char *command, const char *args);

#endif
