/*
 * repo: opening the repository with libgit2 the way a hook must.
 *
 * The repository is opened from the environment git gives a hook
 * (GIT_DIR, and in pre-receive the quarantine's GIT_OBJECT_DIRECTORY and
 * GIT_ALTERNATE_OBJECT_DIRECTORIES), so pushed objects are found. libgit2
 * is set up for reading history fast and in bounded memory: no re-hashing
 * of every object read, a small object cache and pack window budget.
 * Nothing here writes to the repository.
 */
#ifndef GITGATE_REPO_H
#define GITGATE_REPO_H

#include <git2.h>

#include "buf.h"

/* Starts libgit2 and opens the hook's repository. Returns 0, or -1 with
 * the reason in err (libgit2's message, or what the repository lacks). */
int repo_open(git_repository **out, struct buf *err);
void repo_close(git_repository *repo);
/* Appends libgit2's last error message (or `what` alone) to err. */
void repo_error(struct buf *err, const char *what);
/* A blob_reader over this repository (ctx is the git_repository). */
int repo_read_blob(void *repo, const char *oid, struct buf *out);

#endif
