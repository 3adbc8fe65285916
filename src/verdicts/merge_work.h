/*
 * merge_work: what a merge being concluded at commit time writes itself.
 *
 * A merge brings in what its other parents hold; that is not its own work,
 * and isolation does not judge it. What it writes itself is: a file that
 * differs from every parent and either exists in none of them (added), in
 * all of them but not in the result (deleted), or holds a line that no
 * parent's version of it holds (a conflict resolution, or an "evil merge"
 * that slips a change in). A clean merge writes nothing; a resolution that
 * stays in one unit passes.
 *
 * Which files match each parent comes from one `git diff --cached --raw`
 * per merged-in head; only files that differ from every parent have their
 * blobs read.
 */
#ifndef GITGATE_MERGE_WORK_H
#define GITGATE_MERGE_WORK_H

#include "changes.h"

/* cs is the index against HEAD, heads the merged-in commits one a line
 * (MERGE_HEAD). Sets writes[i] for each change the merge writes itself.
 * Returns 0, or -1 with the reason in err. */
int merge_work_find(const struct changeset *cs, const char *heads, unsigned char *writes,
		    struct buf *err);

#endif
