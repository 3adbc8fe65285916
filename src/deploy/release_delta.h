/*
 * release_delta: what tells one release from another, so that a host that
 * holds a copy of the other gets only that.
 *
 * Both are folders here (two exports, release.h). The delta is what makes
 * a copy of base into dir: the paths to remove first (`gone`: each one
 * topmost, a folder with everything in it), then the paths to write (`send`,
 * as a tar of them would hold them: a folder alone, a file, a symlink),
 * everything else being the same in both. Two entries are the same when
 * they are of one kind and mode and, for a file, of one size and the same
 * bytes (read and compared here, whatever wrote them: git, a build, an
 * exclusion pass), for a symlink, of one target; a folder is written alone
 * when it is new or its mode changed. An entry that changed kind (a file
 * that became a folder, a folder a symlink) is gone, then written. Nothing
 * is followed through a symlink.
 *
 * Each side is named by a digest of its listing (every path, kind, mode,
 * size and symlink target, in order): the copy a host keeps says which
 * release it is and the listing it was sent with, so a base here that is
 * no longer what was sent is never taken for the copy there.
 */
#ifndef GITGATE_RELEASE_DELTA_H
#define GITGATE_RELEASE_DELTA_H

#include <stddef.h>

#include "buf.h"
#include "strvec.h"

struct release_delta {
	struct strvec send;		  /* "./PATH", each folder before what it holds */
	struct strvec gone;		  /* PATH, relative to the release */
	size_t files;			  /* dir's entries that are not folders */
	size_t changed;			  /* of them, those in send */
	unsigned long long bytes;	  /* the files in send, in bytes */
	char digest[17], base_digest[17]; /* 16 hex digits each ("" without base) */
};

/* The delta from base to dir (base NULL: dir's digest and files alone).
 * Returns 0, or -1 with why in err. */
int release_delta_make(struct release_delta *out, const char *dir, const char *base,
		       struct buf *err);
void release_delta_free(struct release_delta *d);

#endif
