/*
 * check: running every rule over one change and collecting the findings.
 *
 * This is the commit-time pipeline: git's own diff of the index against
 * HEAD is read as it streams (raw list, then the patch), the path rules run
 * on the list, and each added line of a scanned file is matched as it
 * arrives. git computes the diff, so the lines judged are exactly the lines
 * git would show, whatever index git is using (GIT_INDEX_FILE, split or
 * sparse indexes, worktrees). Concluding a merge, isolation judges only
 * what the merge writes itself (merge_work.h), and only lines that none of
 * the merged commits hold are scanned.
 */
#ifndef GITGATE_CHECK_H
#define GITGATE_CHECK_H

#include "buf.h"
#include "findings.h"
#include "status.h"

struct check_request {
	const char *rules_path; /* --rules, or NULL to look it up */
	const char *top;	/* the top of the work tree */
	const char *skip;	/* GITGATE_SKIP, or NULL */
	int amend;		/* the commit replaces HEAD (git commit --amend) */
};

/* Checks the staged change. Returns a status; on STATUS_USAGE or
 * STATUS_FAULT, err says what happened. */
enum gitgate_status check_staged(const struct check_request *req, struct findings *out,
				 struct buf *err);

#endif
