/*
 * release: a revision written out as a folder of plain files, the thing a
 * slot runs.
 *
 * release_export writes the tree of a commit into RELEASES/<id> (id:
 * "<UTC time>-<12 hex of the revision>", "20250115T101500Z-0123456789ab",
 * with "-2", "-3" added when two exports of one revision meet in one
 * second). Blobs become files with git's modes (0644, 0755), symlinks
 * become symlinks holding the stored target as it is (a symlink is data:
 * what it points at is the app's business), submodules are skipped and
 * listed. Blobs are written as stored: no .gitattributes filters, no
 * end-of-line conversion.
 *
 * What it guarantees:
 * - Nothing is written outside the release. Every file and folder is made
 *   relative to the descriptor of its parent folder, never through a path,
 *   and nothing is opened through a symlink (O_NOFOLLOW, O_EXCL): a tree
 *   that holds `a -> /etc` and also `a/passwd` (git never makes one, a
 *   crafted object can) fails instead of writing /etc/passwd. Names that
 *   git would not check out (".", "..", ".git" in any case, a "/" inside)
 *   refuse the export.
 * - Names are bytes: spaces, newlines, leading dashes, non-UTF-8 are
 *   written as they are.
 * - RELEASES/<id> appears whole or not at all: the export is written into
 *   a hidden RELEASES/.export-XXXXXX, synced, and renamed; a failed export
 *   removes what it wrote (a crash leaves a .export-* folder, never a
 *   release).
 *
 * Exclusions: what the revision's top-level `.deployignore` (gitignore
 * syntax, read from the commit, not from the folder a build may have
 * changed) or the server's own list names is removed, but only among the
 * files the export wrote: what install or build produce later stays, even
 * when a pattern names it (node_modules/ from `pnpm install`). The pushed
 * `.deployignore` can add exclusions, never take back the server's: a "!"
 * in it re-includes only what it excluded itself. The pass runs at the end
 * of the export unless deferred, and may run again, e.g. after the build
 * (gate 3 runs the tests in the export, so tests/ must still be there).
 */
#ifndef GITGATE_RELEASE_H
#define GITGATE_RELEASE_H

#include <git2.h>

#include "buf.h"
#include "glob.h"

struct release {
	char *id;			  /* "20250115T101500Z-0123456789ab" */
	char *dir;			  /* RELEASES/<id> */
	char revision[GIT_OID_HEXSZ + 1]; /* the commit's full id */
	/* What the export wrote, files and symlinks, relative to dir: what
	 * an exclusion pass may remove. */
	char **files;
	size_t n_files, cap_files;
	/* The submodules skipped, by path. */
	char **submodules;
	size_t n_submodules, cap_submodules;
	struct globlist deployignore; /* the revision's .deployignore */
	size_t excluded;	      /* removed by the exclusion passes so far */
	unsigned limit_ms;	      /* each exclusion pass's time limit; 0: none */
};

struct release_options {
	const char *releases_dir;	/* RELEASES, made when missing */
	const struct globlist *exclude; /* the server's own list, or NULL */
	int defer_exclusions;		/* leave them to release_apply_exclusions */
	unsigned limit_ms;		/* each exclusion pass's; 0: none */
};

/* Writes the tree of the commit `revision` names (anything git_revparse
 * takes) into a new release. Returns 0 with out filled, or -1 with the
 * reason in err (out is then empty and nothing is left on disk). The
 * caller is the one export of RELEASES at a time (it holds the target's
 * deploy lock): what an export killed mid-way left there is removed first. */
int release_export(struct release *out, git_repository *repo, const char *revision,
		   const struct release_options *opts, struct buf *err);

/* Removes from rel->dir each file the export wrote that rel->deployignore
 * or `exclude` (may be NULL) names, then each folder the removals left
 * empty; adds the count to rel->excluded. Files already gone are skipped,
 * and a path whose folder is no longer a folder (a build put a symlink
 * there) is not followed. Returns 0, or -1 with the reason in err. */
int release_apply_exclusions(struct release *rel, const struct globlist *exclude, struct buf *err);

/* The choice release_prune makes, for a list of ids read elsewhere (a
 * remote host's): of names, oldest first, sets go[i] for each that goes;
 * returns how many. */
size_t release_prune_plan(const char *const *names, size_t n, size_t keep,
			  const char *const *in_use, size_t nin_use, unsigned char *go);
/* Removes the oldest releases in releases_dir until keep are left, never
 * one whose id is in in_use (a slot's). Returns 0 with how many went in
 * *removed, or -1 with the reason in err. */
int release_prune(const char *releases_dir, size_t keep, const char *const *in_use, size_t nin_use,
		  size_t *removed, struct buf *err);
/* Removes the releases release_prune set aside (a rename each: what it
 * counts as removed is gone from every listing at once), here and now, or
 * in a process of its own that outlives the caller. One that is killed
 * leaves them hidden for the next sweep. */
void release_sweep(const char *releases_dir);
void release_sweep_detached(const char *releases_dir);
/* A kept release: the one named id, else the newest of the full revision
 * (either may be NULL). Returns 1 with out->id and out->dir filled (nothing
 * else: the caller knows the revision), 0 when there is none, -1 with the
 * reason in err. */
int release_find(struct release *out, const char *releases_dir, const char *id,
		 const char *revision, struct buf *err);
void release_free(struct release *rel);

#endif
