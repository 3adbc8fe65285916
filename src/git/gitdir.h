/*
 * gitdir: facts about the repository a client hook runs in, read from the
 * file system so the hot path does not start another git for them.
 */
#ifndef GITGATE_GITDIR_H
#define GITGATE_GITDIR_H

#include "buf.h"

/* The git dir of the work tree at `top` ($GIT_DIR when set; a worktree's
 * ".git" file is followed). Returns 0 or -1. */
int gitdir_find(const char *top, struct buf *out);
/* Could git's configuration set `key` (a lower-case "section.name")? A
 * cheap, conservative look at every file git would read: 0 only when no
 * config file or environment variable mentions the section and none
 * includes another file. On 1, ask git itself. This saves a hook starting
 * `git config` on every commit in the common case of no such setting. */
int gitdir_config_may_set(const char *gitdir, const char *key);
/* The commits being merged in when a merge is concluded (MERGE_HEAD), one
 * id a line in heads. Returns how many: 0 when no merge is under way. */
size_t gitdir_merge_heads(const char *gitdir, struct buf *heads);

#endif
