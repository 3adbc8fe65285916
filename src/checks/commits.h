/*
 * commits: checking one commit of history against the rules.
 *
 * The commit is compared with its first parent (the empty tree for a root)
 * by treediff; the path rules run on that list; then each changed file that
 * a scan section takes is read. Its new content is first matched as a
 * whole: a file that no pattern matches anywhere has no added line that
 * matches either. Then only the lines outside the ends it shares with the
 * old content are matched. Only files with a possible hit there pay for a
 * line diff, made with libgit2's xdiff and git's settings (indent
 * heuristic, no context), so the lines judged are git's added lines.
 *
 * A merge is held to isolation over what it writes itself (files that
 * differ from every parent: added, deleted, or holding a line no parent
 * holds), and its scan covers only lines that are in no parent: what its
 * conflict resolution wrote. A root commit is not held to isolation. One
 * commit's data is held at a time.
 */
#ifndef GITGATE_COMMITS_H
#define GITGATE_COMMITS_H

#include <git2.h>

#include "findings.h"
#include "hashset.h"
#include "rules.h"
#include "scan.h"

struct commit_checker {
	git_repository *repo;
	const struct rules *rules;
	struct findings *findings;
	struct scanner scanner;
	struct scan_selection selection;
	struct hashset parent_lines; /* a merge's other parents' lines */
	struct scan_place place;
	int in_merge;
	int late; /* the deadline passed before the commit was checked */
};

#define COMMITS_LATE_MESSAGE "the push took longer to check than deadline_seconds allows"

int commit_checker_init(struct commit_checker *cc, git_repository *repo, const struct rules *rules,
			struct findings *findings, const struct deadline *deadline);
void commit_checker_free(struct commit_checker *cc);
/* Checks one commit. Returns 0, or -1 with the reason in err: a fault, or
 * (cc->late set) the deadline passed. */
int commit_checker_run(struct commit_checker *cc, const git_commit *commit, struct buf *err);

#endif
