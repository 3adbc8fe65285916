/*
 * rules_locate: which rules.ini a gate reads, decided in one place for the
 * commit gate, the push gate and `gitgate rules`.
 *
 * A client (a work tree) reads --rules FILE, else `git config
 * gitgate.rules` (relative to the top of the work tree), else rules.ini at
 * the top. The server (a bare repository) reads only its own file: `git
 * config gitgate.rules` of the repository, else GIT_DIR/gitgate/rules.ini;
 * never one from a pushed tree. `git config` is started only when a config
 * file could set the key (gitdir_config_may_set), so the common commit
 * pays for no extra process.
 */
#ifndef GITGATE_RULES_LOCATE_H
#define GITGATE_RULES_LOCATE_H

#include "buf.h"

struct rules_location {
	const char *explicit_path; /* --rules FILE, or NULL (always NULL for the server's hooks) */
	const char *top;	   /* the work tree's top; NULL on the server */
	const char *gitdir;	   /* the git dir, or NULL when not known */
};

/* Writes the rules file's path. Returns 0, or -1 with what is wrong (and
 * how to fix it) in err. */
int rules_locate(const struct rules_location *where, struct buf *path, struct buf *err);

#endif
