/*
 * server: what the deploy-time commands open first, on the server: the bare
 * repository (from GIT_DIR, else the current directory, as git finds it),
 * its own rules (never a pushed tree's: rules_locate's server rule) and the
 * state directory ([deploy] state_dir, else BARE_REPO/gitgate).
 */
#ifndef GITGATE_SERVER_H
#define GITGATE_SERVER_H

#include <git2.h>

#include "buf.h"
#include "rules.h"

struct server {
	git_repository *repo;
	struct rules rules;
	int rules_loaded;
	struct buf state_dir;
};

/* Returns 0, or a gitgate status (reported on stderr). */
int server_open(struct server *s);
void server_close(struct server *s);

#endif
