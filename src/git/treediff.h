/*
 * treediff: what changed between two trees, by walking them side by side.
 *
 * Entries whose id and mode are equal are skipped without being read, so
 * an unchanged subtree costs one comparison however large it is; only
 * subtrees whose ids differ are opened. A deleted and an added file with
 * the same blob id are paired as an exact rename (status R): git's
 * `-M100%`, and the reason a moved file adds no lines.
 */
#ifndef GITGATE_TREEDIFF_H
#define GITGATE_TREEDIFF_H

#include <git2.h>

#include "changes.h"

/* Appends the changes from old_tree to new_tree (either may be NULL, the
 * empty tree) to cs. Returns 0, or -1 with the reason in err. */
int treediff_trees(git_repository *repo, const git_tree *old_tree, const git_tree *new_tree,
		   struct changeset *cs, struct buf *err);

#endif
