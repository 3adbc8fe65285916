/*
 * gitdiff: reading git's own diff output, `git diff --raw -z -p -U0`.
 *
 * The raw part (NUL-separated, never quoted) gives the exact list of
 * changed paths with modes and blob ids; the patch part gives git's added
 * lines exactly as git computes them. A patch section is tied to its file by
 * the "+++ b/PATH" header (C-quoted by git when the path needs it), which is
 * unambiguous even for names with spaces, quotes or newlines.
 */
#ifndef GITGATE_GITDIFF_H
#define GITGATE_GITDIFF_H

#include <stdio.h>

#include "changes.h"

/* Reads the raw records up to the blank record that ends them (or EOF).
 * Returns 0, or -1 with a message in err when the stream is malformed. */
int gitdiff_read_raw(FILE *in, struct changeset *cs, struct buf *err);
/* Reads the patch part, passing added lines of the files the sink wants.
 * The patch must have been made with the prefixes "a/" and "b/". */
int gitdiff_read_patch(FILE *in, const struct changeset *cs, const struct line_sink *sink,
		       struct buf *err);

#endif
