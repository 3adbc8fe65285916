/*
 * merge_work: see merge_work.h.
 */
#include "merge_work.h"

#include <stdlib.h>
#include <string.h>

#include "gitdiff.h"
#include "hashset.h"
#include "run.h"

static int diff_against_head(const char *head, struct changeset *out, struct buf *err)
{
	const char *argv[] = {"git",	       "--no-pager",   "diff",
			      "--cached",      "--raw",	       "-z",
			      "--no-abbrev",   "--no-renames", "--ignore-submodules=none",
			      "--no-ext-diff", head,	       NULL};
	struct run_options opts = {.argv = argv, .out = {.kind = RUN_OUT_PIPE}};
	struct run_process git;
	if (run_start(&git, &opts, err) < 0)
		return -1;
	int rc = gitdiff_read_raw(git.out, out, err);
	struct buf why = BUF_INIT;
	if (run_finish_ok(&git, &why) < 0 && rc == 0) {
		buf_printf(err, "`git diff --cached %s` %s", head, why.data);
		rc = -1;
	}
	buf_free(&why);
	return rc;
}

static int add_blob_lines(struct hashset *lines, const char *oid, struct buf *err)
{
	const char *argv[] = {"git", "cat-file", "blob", oid, NULL};
	struct buf content = BUF_INIT;
	struct run_result git;
	int rc = run_capture(&git, &content, argv, RUN_OUT_INHERIT, err) < 0 ? -1 : git.code;
	if (rc == 0)
		hashset_add_lines(lines, content.data ? content.data : "", content.len);
	else if (rc > 0) /* else err says why git did not run */
		buf_printf(err, "cannot read blob %s of a merge's parent", oid);
	buf_free(&content);
	return rc == 0 ? 0 : -1;
}

/* Does the staged file hold a line that no parent's version holds? */
static int has_own_line(const struct file_change *fc, const struct changeset *diffs, size_t nheads,
			struct buf *err)
{
	struct hashset parent_lines = {0};
	struct buf content = BUF_INIT;
	int rc = 0;
	if (fc->status != 'A' && mode_is_regular_file(fc->old_mode))
		rc = add_blob_lines(&parent_lines, fc->old_oid, err);
	for (size_t h = 0; h < nheads && rc == 0; h++) {
		const struct file_change *in_head = changeset_find(&diffs[h], fc->path);
		if (in_head && in_head->status != 'A' && mode_is_regular_file(in_head->old_mode))
			rc = add_blob_lines(&parent_lines, in_head->old_oid, err);
	}
	const char *argv[] = {"git", "cat-file", "blob", fc->new_oid, NULL};
	struct run_result git;
	if (rc == 0 && run_capture(&git, &content, argv, RUN_OUT_INHERIT, err) < 0) {
		rc = -1;
	} else if (rc == 0 && git.code != 0) {
		buf_printf(err, "cannot read the staged content of %s", fc->path);
		rc = -1;
	}
	int own = 0;
	const char *p = content.data, *end = p + content.len;
	while (rc == 0 && !own && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		own = !hashset_has_line(&parent_lines, p, len);
		p += len + (nl != NULL);
	}
	hashset_free(&parent_lines);
	buf_free(&content);
	return rc < 0 ? -1 : own;
}

/* A side of a change differs from a head when the head's diff lists it. */
static int differs_from_every_head(const char *path, const struct changeset *diffs, size_t nheads)
{
	for (size_t h = 0; h < nheads; h++)
		if (!changeset_find(&diffs[h], path))
			return 0; /* taken whole from this head */
	return 1;
}

static int some_parent_has(const struct file_change *fc, const struct changeset *diffs,
			   size_t nheads)
{
	if (fc->status != 'A')
		return 1;
	for (size_t h = 0; h < nheads; h++) {
		const struct file_change *in_head = changeset_find(&diffs[h], fc->path);
		if (in_head && in_head->status != 'A')
			return 1;
	}
	return 0;
}

int merge_work_find(const struct changeset *cs, const char *heads, unsigned char *writes,
		    struct buf *err)
{
	size_t nheads = 0, cap = 0;
	struct changeset *diffs = NULL; /* the index against each head */
	struct buf head = BUF_INIT;
	int rc = 0;
	for (const char *p = heads; *p && rc == 0;) {
		size_t len = strcspn(p, "\n");
		buf_clear(&head);
		buf_add(&head, p, len);
		struct changeset *d = ARRAY_PUSH(diffs, nheads, cap);
		memset(d, 0, sizeof(*d));
		rc = diff_against_head(head.data, d, err);
		p += len + (p[len] == '\n');
	}
	for (size_t i = 0; i < cs->n && rc == 0; i++) {
		const struct file_change *fc = &cs->items[i];
		int differs =
		    differs_from_every_head(fc->path, diffs, nheads) ||
		    (fc->old_path && differs_from_every_head(fc->old_path, diffs, nheads));
		writes[i] = (unsigned char)differs;
		if (differs && fc->status != 'D' && fc->status != 'R' &&
		    mode_is_regular_file(fc->new_mode) && some_parent_has(fc, diffs, nheads)) {
			int own = has_own_line(fc, diffs, nheads, err);
			if (own < 0)
				rc = -1;
			writes[i] = own > 0;
		}
	}
	for (size_t h = 0; h < nheads; h++)
		changeset_free(&diffs[h]);
	free(diffs);
	buf_free(&head);
	return rc;
}
