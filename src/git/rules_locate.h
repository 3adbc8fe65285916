/*
 * rules_locate: which rules.ini a gate reads, decided in one place for the
 * commit gate, the push gate and `gitgate rules`.
 *
 * A client (a work tree) reads --rules FILE, else `git config
 * gitgate.rules` (relative to the top of the work tree), else rules.ini at
 * the top. The server (a bare repository) reads only its own file: `git
 * config gitgate.rules` of the repository, else rules.ini in the
 * repository's gitgate folder; never one from a pushed tree. `git config`
 * is started only when a config file could set the key
 * (gitdir_config_may_set), so the common commit pays for no extra process.
 *
 * The server's gitgate folder holds the repository's rules.ini, its
 * records (pushes.jsonl, audit.jsonl) and, unless [deploy] state_dir says
 * otherwise, its deploy state. It is, by git config (any file git reads
 * for the repository, one `git config` for all three keys):
 *   gitgate.dir    that folder: one repository's, set in its own config,
 *                  outside it where the platform moves repositories (a
 *                  rename on Gitea, a storage move on GitLab);
 *   gitgate.home   HOME/NAME, NAME the repository's name as its hosting
 *                  platform gives it (GL_REPO, GL_PROJECT_PATH, Gitea's
 *                  OWNER/REPO): one gitgate serving many repositories, each
 *                  its own folder. A repository without a folder there is
 *                  not gitgate's: its hooks let it be (RULES_NOT_OURS);
 *   neither        GIT_DIR/gitgate.
 */
#ifndef GITGATE_RULES_LOCATE_H
#define GITGATE_RULES_LOCATE_H

#include "buf.h"

struct rules_location {
	const char *explicit_path; /* --rules FILE, or NULL (always NULL for the server's hooks) */
	const char *top;	   /* the work tree's top; NULL on the server */
	const char *gitdir;	   /* the git dir, or NULL when not known */
	/* The server: the repository's name as its hosting platform gives it,
	 * or NULL; when the platform gave one that is not a name, why. */
	const char *repository;
	const char *unnamed_why;
};

/* What rules_locate returns for a repository gitgate.home has no folder
 * for: not gitgate's. */
#define RULES_NOT_OURS 1

/* Writes the rules file's path. Returns 0, or -1 with what is wrong (and
 * how to fix it) in err (a repository that is not gitgate's too). */
int rules_locate(const struct rules_location *where, struct buf *path, struct buf *err);
/* The server's rules file and its gitgate folder (above), at once.
 * Returns 0, RULES_NOT_OURS with the folder that is missing, or -1 with
 * what is wrong in err. */
int rules_locate_server(const struct rules_location *where, struct buf *path, struct buf *folder,
			struct buf *err);

#endif
