/*
 * commits: see commits.h.
 */
#include "commits.h"

#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "repo.h"
#include "text.h"
#include "treediff.h"

int commit_checker_init(struct commit_checker *cc, git_repository *repo, const struct rules *rules,
			struct findings *findings, const struct deadline *deadline)
{
	memset(cc, 0, sizeof(*cc));
	cc->repo = repo;
	cc->rules = rules;
	cc->findings = findings;
	int rc = scanner_init(&cc->scanner, rules);
	cc->scanner.deadline = *deadline;
	return rc;
}

void commit_checker_free(struct commit_checker *cc)
{
	scanner_free(&cc->scanner);
	scan_selection_free(&cc->selection);
	hashset_free(&cc->parent_lines);
	memset(cc, 0, sizeof(*cc));
}

/* Once the deadline passed, what is left is not checked: a fault to the
 * caller, said in words a pusher understands. */
static int note_late(struct commit_checker *cc, struct buf *err)
{
	if (!cc->scanner.late && !deadline_passed(&cc->scanner.deadline))
		return 0;
	cc->late = 1;
	buf_clear(err);
	buf_adds(err, COMMITS_LATE_MESSAGE);
	return -1;
}

static void scan_one_line(struct commit_checker *cc, size_t line, const char *text, size_t len)
{
	len = len && text[len - 1] == '\n' ? len - 1 : len;
	if (cc->in_merge && hashset_has_line(&cc->parent_lines, text, len))
		return;
	cc->place.line = line;
	scan_line(&cc->scanner, &cc->selection, &cc->place, text, len, cc->findings);
}

static int on_diff_line(const git_diff_delta *delta, const git_diff_hunk *hunk,
			const git_diff_line *line, void *payload)
{
	(void)delta;
	(void)hunk;
	if (line->origin == GIT_DIFF_LINE_ADDITION)
		scan_one_line(payload, (size_t)line->new_lineno, line->content, line->content_len);
	return 0;
}

/*
 * The lines of `new` that are not in its common prefix or suffix of whole
 * lines with `old`. Every line git's diff reports as added has the content
 * of a line in this region: the diff matches the common ends, and sliding a
 * hunk (the indent heuristic) only rotates it through lines equal to its
 * own. So when no pattern matches here, no added line can match, and the
 * line diff is not needed.
 */
static void changed_region(const char *old, size_t old_len, const char *new, size_t new_len,
			   size_t *start, size_t *end)
{
	size_t limit = old_len < new_len ? old_len : new_len, p = 0;
	/* Whole blocks first (memcmp's wide compares), then bytes. */
	while (p + 64 <= limit && !memcmp(old + p, new + p, 64))
		p += 64;
	while (p < limit && old[p] == new[p])
		p++;
	while (p > 0 && new[p - 1] != '\n')
		p--;
	size_t k = 0;
	while (k + 64 <= limit - p && !memcmp(old + old_len - k - 64, new + new_len - k - 64, 64))
		k += 64;
	while (k < limit - p && old[old_len - 1 - k] == new[new_len - 1 - k])
		k++;
	while (k > 0 && !((new_len - k == 0 || new[new_len - k - 1] == '\n') &&
			  (old_len - k == 0 || old[old_len - k - 1] == '\n')))
		k--;
	*start = p;
	*end = new_len - k;
}

/* A blob's content as text to scan: UTF-16 decoded into holder, or the
 * blob's own bytes. Returns 0 when it is binary (nothing to scan). */
static int blob_text(const git_blob *blob, struct buf *holder, const char **text, size_t *size)
{
	*text = git_blob_rawcontent(blob);
	*size = (size_t)git_blob_rawsize(blob);
	if (text_from_utf16(holder, *text, *size)) {
		*text = holder->data ? holder->data : "";
		*size = holder->len;
	}
	return !text_is_binary(*text, *size);
}

static int lookup_blob(git_blob **out, git_repository *repo, const char *hex, struct buf *err)
{
	git_oid oid;
	if (git_oid_fromstr(&oid, hex) < 0 || git_blob_lookup(out, repo, &oid) < 0) {
		repo_error(err, "cannot read a blob");
		return -1;
	}
	return 0;
}

/* The id of the entry at path in the commit's parent p: 1, 0 when the
 * parent has none, -1 when the parent cannot be read. */
static int parent_entry(const git_commit *commit, unsigned p, const char *path, git_oid *out,
			struct buf *err)
{
	git_commit *parent = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	int rc = -1;
	if (git_commit_parent(&parent, commit, p) == 0 && git_commit_tree(&tree, parent) == 0) {
		int found = git_tree_entry_bypath(&entry, tree, path);
		rc = found == 0 ? 1 : found == GIT_ENOTFOUND ? 0 : -1;
		if (rc > 0)
			git_oid_cpy(out, git_tree_entry_id(entry));
	}
	if (rc < 0)
		repo_error(err, "cannot read a merge's parent");
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(parent);
	return rc;
}

/* For a merge: was this file taken whole from another parent (the same
 * content at the same path there)? Then no line of it is the merge's own,
 * and its content need not be read. */
static int taken_from_other_parent(const git_commit *commit, const struct file_change *fc)
{
	git_oid new_oid, there;
	struct buf ignored = BUF_INIT;
	int taken = 0;
	if (git_oid_fromstr(&new_oid, fc->new_oid) < 0)
		return 0;
	for (unsigned p = 1; !taken && p < git_commit_parentcount(commit); p++)
		taken = parent_entry(commit, p, fc->path, &there, &ignored) > 0 &&
			git_oid_equal(&there, &new_oid);
	buf_free(&ignored);
	return taken;
}

/* For a merge: the lines of this file in its other parents, into
 * cc->parent_lines (a parent that cannot be read adds none: more is
 * scanned, never less). */
static void collect_other_parents(struct commit_checker *cc, const git_commit *commit,
				  const struct file_change *fc)
{
	hashset_clear(&cc->parent_lines);
	for (unsigned p = 1; p < git_commit_parentcount(commit); p++) {
		git_commit *parent = NULL;
		git_tree *tree = NULL;
		git_tree_entry *entry = NULL;
		git_blob *blob = NULL;
		if (git_commit_parent(&parent, commit, p) == 0 &&
		    git_commit_tree(&tree, parent) == 0 &&
		    git_tree_entry_bypath(&entry, tree, fc->path) == 0 &&
		    git_tree_entry_type(entry) == GIT_OBJECT_BLOB &&
		    git_blob_lookup(&blob, cc->repo, git_tree_entry_id(entry)) == 0)
			hashset_add_lines(&cc->parent_lines, git_blob_rawcontent(blob),
					  (size_t)git_blob_rawsize(blob));
		git_blob_free(blob);
		git_tree_entry_free(entry);
		git_tree_free(tree);
		git_commit_free(parent);
	}
}

static int add_blob_lines(git_repository *repo, struct hashset *lines, const git_oid *oid,
			  struct buf *err)
{
	git_blob *blob = NULL;
	if (git_blob_lookup(&blob, repo, oid) < 0) {
		repo_error(err, "cannot read a blob of a merge's parent");
		return -1;
	}
	hashset_add_lines(lines, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return 0;
}

/* Does the new content hold a line that none of the lines hold? */
static int has_line_outside(git_repository *repo, const char *hex, const struct hashset *lines,
			    struct buf *err)
{
	git_blob *blob = NULL;
	if (lookup_blob(&blob, repo, hex, err) < 0)
		return -1;
	const char *p = git_blob_rawcontent(blob), *end = p + git_blob_rawsize(blob);
	int outside = 0;
	while (!outside && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		outside = !hashset_has_line(lines, p, len);
		p += len + (nl != NULL);
	}
	git_blob_free(blob);
	return outside;
}

/*
 * Does a merge write this change (against its first parent) itself? Not
 * when another parent has the same there (the merge took it whole: for a
 * rename, the new path's content and no old path); else when the file is
 * added or deleted against every parent, or holds a line that no parent's
 * version holds. Returns 1, 0, or -1 on a fault.
 */
static int merge_writes_change(struct commit_checker *cc, const git_commit *commit,
			       const struct file_change *fc, struct buf *err)
{
	int present = fc->status != 'D';
	git_oid new_oid;
	if (present && git_oid_fromstr(&new_oid, fc->new_oid) < 0)
		return -1;
	struct hashset lines = {0};
	int in_some_parent = fc->status == 'M' || fc->status == 'T', rc = 0, taken = 0;
	if (in_some_parent && mode_is_regular_file(fc->old_mode) && present &&
	    mode_is_regular_file(fc->new_mode)) {
		git_oid old_oid;
		rc = git_oid_fromstr(&old_oid, fc->old_oid) < 0
			 ? -1
			 : add_blob_lines(cc->repo, &lines, &old_oid, err);
	}
	for (unsigned p = 1; p < git_commit_parentcount(commit) && rc == 0 && !taken; p++) {
		git_oid at_path, at_old_path;
		int has = parent_entry(commit, p, fc->path, &at_path, err);
		int has_old =
		    fc->old_path ? parent_entry(commit, p, fc->old_path, &at_old_path, err) : 0;
		if (has < 0 || has_old < 0) {
			rc = -1;
			break;
		}
		taken = !has_old && (present ? has && git_oid_equal(&at_path, &new_oid) : !has);
		if (has && !taken && present && mode_is_regular_file(fc->new_mode)) {
			in_some_parent = 1;
			rc = add_blob_lines(cc->repo, &lines, &at_path, err);
		}
	}
	if (rc == 0 && !taken)
		rc = present && in_some_parent && mode_is_regular_file(fc->new_mode)
			 ? has_line_outside(cc->repo, fc->new_oid, &lines, err)
			 : 1;
	hashset_free(&lines);
	return taken ? 0 : rc;
}

/* Added, a binary file or a symlink or submodule turned into text: every
 * line of text is new. */
static void scan_all_lines(struct commit_checker *cc, const char *text, size_t size)
{
	size_t line = 1;
	for (const char *p = text, *end = text + size; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
		scan_one_line(cc, line, p, n);
		p += n;
	}
}

/* A modified text file: the lines its diff adds, when the region that
 * changed may match at all. decoded: the texts are UTF-16 made UTF-8,
 * not the blobs' bytes. Returns 0, or -1 with why in err. */
static int scan_changed_lines(struct commit_checker *cc, git_blob *old_blob, const char *old_text,
			      size_t old_size, git_blob *new_blob, const char *text, size_t size,
			      int decoded, struct buf *err)
{
	size_t start, end;
	changed_region(old_text, old_size, text, size, &start, &end);
	if (!scan_buffer_may_match(&cc->scanner, &cc->selection, text + start, end - start))
		return 0;
	git_diff_options opts;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.context_lines = 0;
	opts.interhunk_lines = 0;
	opts.flags = GIT_DIFF_FORCE_TEXT | GIT_DIFF_INDENT_HEURISTIC;
	/* Blobs, so their ids are not hashed again; an empty path, so libgit2
	 * makes no .gitattributes lookup for every file. Decoded UTF-16 is no
	 * blob: it goes as a buffer. */
	int diff_rc = decoded ? git_diff_buffers(old_text, old_size, "", text, size, "", &opts,
						 NULL, NULL, NULL, on_diff_line, cc)
			      : git_diff_blobs(old_blob, "", new_blob, "", &opts, NULL, NULL, NULL,
					       on_diff_line, cc);
	if (diff_rc < 0) {
		repo_error(err, "cannot diff a file");
		return -1;
	}
	return 0;
}

static int scan_file(struct commit_checker *cc, const git_commit *commit,
		     const struct file_change *fc, struct buf *err)
{
	if (fc->status == 'D' || fc->status == 'R' || !mode_is_regular_file(fc->new_mode))
		return 0;
	scan_select(cc->rules, fc->path, &cc->selection);
	if (!cc->selection.n || (cc->in_merge && taken_from_other_parent(commit, fc)))
		return 0;
	git_blob *new_blob = NULL, *old_blob = NULL;
	struct buf new_utf8 = BUF_INIT, old_utf8 = BUF_INIT;
	if (lookup_blob(&new_blob, cc->repo, fc->new_oid, err) < 0)
		return -1;
	const char *text, *old_text;
	size_t size, old_size;
	int rc = 0;
	/* A modified file is matched over the region that changed alone (its
	 * old blob costs less to read than the whole file costs to match), once
	 * the whole holds a pattern's literal; a merge's files first over the
	 * whole, before their parents are read. */
	int whole_first = fc->status != 'M' || !mode_is_regular_file(fc->old_mode) || cc->in_merge;
	if (!blob_text(new_blob, &new_utf8, &text, &size) ||
	    !(whole_first ? scan_buffer_may_match : scan_buffer_may_hold_literals)(
		&cc->scanner, &cc->selection, text, size))
		goto done;
	if (cc->in_merge)
		collect_other_parents(cc, commit, fc);
	cc->place.path = fc->path;
	int old_is_text = 0;
	if (fc->status == 'M' && mode_is_regular_file(fc->old_mode)) {
		if (lookup_blob(&old_blob, cc->repo, fc->old_oid, err) < 0) {
			rc = -1;
			goto done;
		}
		old_is_text = blob_text(old_blob, &old_utf8, &old_text, &old_size);
	}
	if (old_is_text)
		rc = scan_changed_lines(cc, old_blob, old_text, old_size, new_blob, text, size,
					new_utf8.len || old_utf8.len, err);
	else if (whole_first || scan_buffer_may_match(&cc->scanner, &cc->selection, text, size))
		scan_all_lines(cc, text, size);
done:
	git_blob_free(old_blob);
	git_blob_free(new_blob);
	buf_free(&new_utf8);
	buf_free(&old_utf8);
	return rc;
}

/* What commit changed against its first parent (everything, for a root).
 * Returns 0, or -1 with why in err. */
static int commit_changes(struct commit_checker *cc, const git_commit *commit, struct changeset *cs,
			  struct buf *err)
{
	git_tree *tree = NULL, *parent_tree = NULL;
	git_commit *parent = NULL;
	int rc = -1;
	if (git_commit_tree(&tree, commit) < 0 ||
	    (git_commit_parentcount(commit) && (git_commit_parent(&parent, commit, 0) < 0 ||
						git_commit_tree(&parent_tree, parent) < 0)))
		repo_error(err, "cannot read a commit's tree");
	else
		rc = treediff_trees(cc->repo, parent_tree, tree, cs, err);
	git_tree_free(tree);
	git_tree_free(parent_tree);
	git_commit_free(parent);
	return rc;
}

/* Isolation over what a commit writes: a merge's own work only (read for
 * the changes isolation looks at). Returns 0, or -1 with why in err. */
static int commit_isolation(struct commit_checker *cc, const git_commit *commit,
			    struct check_context *ctx, const struct changeset *cs, struct buf *err)
{
	int rc = 0;
	unsigned char *merge_writes = NULL;
	if (ctx->is_merge) {
		ctx->merge_writes = merge_writes = xcalloc(cs->n ? cs->n : 1, 1);
		for (size_t i = 0; i < cs->n && rc == 0; i++) {
			if (!check_isolation_looks_at(cc->rules, &cs->items[i]))
				continue;
			int writes = merge_writes_change(cc, commit, &cs->items[i], err);
			rc = writes < 0 ? -1 : 0;
			merge_writes[i] = writes > 0;
		}
	}
	if (rc == 0)
		check_isolation(ctx, cs);
	free(merge_writes);
	ctx->merge_writes = NULL;
	return rc;
}

int commit_checker_run(struct commit_checker *cc, const git_commit *commit, struct buf *err)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_oid_tostr(hex, sizeof(hex), git_commit_id(commit));
	const char *summary = git_commit_summary((git_commit *)commit);
	struct changeset cs = {0};
	unsigned parents = git_commit_parentcount(commit);
	int rc = commit_changes(cc, commit, &cs, err);
	if (rc == 0) {
		cc->findings->commits++;
		cc->findings->files += cs.n;
	}
	struct check_context ctx = {
	    .rules = cc->rules,
	    .findings = cc->findings,
	    .commit = hex,
	    .subject = summary,
	    .blobs = {cc->repo, repo_read_blob},
	    .is_merge = parents > 1,
	    .is_root = parents == 0,
	};
	if (rc == 0)
		rc = commit_isolation(cc, commit, &ctx, &cs, err);
	if (rc == 0)
		check_forbidden_paths(&ctx, &cs);
	cc->place.commit = hex;
	cc->place.subject = summary;
	cc->in_merge = parents > 1;
	for (size_t i = 0; i < cs.n && rc == 0; i++) {
		rc = note_late(cc, err);
		if (rc == 0)
			rc = scan_file(cc, commit, &cs.items[i], err);
		if (rc == 0)
			rc = note_late(cc, err);
	}
	changeset_free(&cs);
	return rc;
}
