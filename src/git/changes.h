/*
 * changes: what one change (the index against HEAD, or a commit against its
 * parent) does to the tree, file by file.
 *
 * A changeset lists every changed path with its modes and blob ids; added
 * lines are not stored here but streamed to a sink while the diff is read,
 * so memory stays flat however large the change.
 */
#ifndef GITGATE_CHANGES_H
#define GITGATE_CHANGES_H

#include <stddef.h>

#include "buf.h"

/* The id of the empty blob: an empty file has no lines. */
#define EMPTY_BLOB_ID "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
/* The id of the empty tree: what a root commit is compared with. */
#define EMPTY_TREE_ID "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

struct file_change {
	char status; /* A, M, D, R (exact rename), C, T */
	unsigned old_mode, new_mode;
	char *old_oid, *new_oid; /* full hex ids */
	char *old_path;		 /* the source of a rename or copy, else NULL */
	char *path;		 /* the path after the change (before it, for D) */
};

struct changeset {
	struct file_change *items;
	size_t n, cap;
};

/* Receives the added lines of the files it asks for. */
struct line_sink {
	void *ctx;
	/* Called as a file's diff starts: return 1 to receive its lines. */
	int (*begin_file)(void *ctx, const struct file_change *change);
	void (*added_line)(void *ctx, size_t line, const char *text, size_t len);
};

/* Reads a blob's content by its hex id. */
struct blob_reader {
	void *ctx;
	int (*read)(void *ctx, const char *oid, struct buf *out);
};

struct file_change *changeset_add(struct changeset *cs);
void changeset_free(struct changeset *cs);
/* The change at this path (after the change), or NULL. */
const struct file_change *changeset_find(const struct changeset *cs, const char *path);
/* Only regular files have lines to scan; symlinks and submodules do not. */
int mode_is_regular_file(unsigned mode);
/* Was there a file at this side of the change? */
int change_has_new_side(const struct file_change *change);

#endif
