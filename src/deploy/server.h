/*
 * server: what the deploy-time commands open first, on the server: the bare
 * repository (from GIT_DIR, else the current directory, as git finds it),
 * its gitgate folder and own rules (never a pushed tree's: rules_locate's
 * server rule) and the state directory ([deploy] state_dir, else the
 * gitgate folder).
 */
#ifndef GITGATE_SERVER_H
#define GITGATE_SERVER_H

#include <git2.h>

#include "buf.h"
#include "rules.h"

struct env_seen;

struct server {
	git_repository *repo;
	struct rules rules;
	int rules_loaded;
	struct buf folder;     /* the repository's gitgate folder: rules.ini, records */
	struct buf state_dir;  /* [deploy] state_dir, or the folder */
	struct env_seen *seen; /* what its deploys read (deploy_site.seen) */
};

/* The repository's name as its hosting platform gives it (procenv's
 * repository; NULL: none, and why when it gave one that is not a name),
 * which picks its gitgate folder under git config gitgate.home. The mains
 * say it once, before the first server_open; the strings must outlive
 * every server opened. */
void server_name_repository(const char *name, const char *unnamed_why);
/* The name said, or NULL (with why, when not NULL). */
const char *server_repository(const char **unnamed_why);

/* Returns 0, or a gitgate status (reported on stderr); a repository that
 * git config gitgate.home has no folder for is a usage error. */
int server_open(struct server *s);
/* What server_open_hook returns for such a repository: not gitgate's. */
#define SERVER_NOT_OURS (-1)
/* server_open for a hook: SERVER_NOT_OURS, said nowhere, for a repository
 * that is not gitgate's (its hooks let it be). */
int server_open_hook(struct server *s);
void server_close(struct server *s);

#endif
