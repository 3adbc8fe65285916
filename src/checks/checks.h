/*
 * checks: the rules that look at which paths a change touches.
 *
 * isolation      - one deploy unit per commit (coupled projects count as one;
 *                  shared code and files outside every project are neutral;
 *                  a rename counts for both its sides; a merge counts only
 *                  the files it writes itself, not what it brings in);
 * forbidden-path - local-only files, secrets and build artifacts;
 * version-bump   - a changed shared package must raise its package.json
 *                  version (semver), and a malformed package.json is a finding.
 * The line scan is in scan.c; check.c runs everything over one change.
 * Isolation and forbidden paths judge the list of paths alone and cannot
 * fail; the version bump reads blobs, and says when it could not.
 */
#ifndef GITGATE_CHECKS_H
#define GITGATE_CHECKS_H

#include "changes.h"
#include "findings.h"
#include "rules.h"

struct check_context {
	const struct rules *rules;
	struct findings *findings;
	const char *commit; /* hex id, or NULL for the index */
	const char *subject;
	struct blob_reader blobs;
	int is_root; /* a root commit imports history: not held to isolation */
	int is_merge;
	/* A merge is held to isolation over what it writes itself: per change
	 * of cs, 1 for a file it made differ from every parent (see
	 * merge_writes in commits.c and merge_work.c). */
	const unsigned char *merge_writes;
};

void check_isolation(const struct check_context *ctx, const struct changeset *cs);
/* Does isolation look at this change at all (enabled, and a path of it in
 * a project)? A merge's own work is worked out for these changes alone. */
int check_isolation_looks_at(const struct rules *rules, const struct file_change *fc);
void check_forbidden_paths(const struct check_context *ctx, const struct changeset *cs);
/* Is the version bump checked at all (enabled, with shared packages)? */
int check_version_bumps_apply(const struct rules *rules);
/* Reads package.json blobs: returns 0, or -1 with the reason in err when
 * one cannot be read (the check did not run: a fault, never a finding). */
int check_version_bumps(const struct check_context *ctx, const struct changeset *cs,
			struct buf *err);

#endif
