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
/* Is a merge being concluded (MERGE_HEAD present)? */
int gitdir_merge_in_progress(const char *gitdir);

#endif
