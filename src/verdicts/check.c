/*
 * check: see check.h.
 */
#include "check.h"

#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "gitdiff.h"
#include "gitdir.h"
#include "hashset.h"
#include "merge_work.h"
#include "rules_locate.h"
#include "run.h"
#include "scan.h"
#include "text.h"

/* Reads `git cat-file blob SPEC` into out; 0 when git printed it. errors
 * says where git's own complaint goes. */
static int git_cat_blob(const char *spec, enum run_output_kind errors, struct buf *out)
{
	const char *argv[] = {"git", "cat-file", "blob", spec, NULL};
	struct run_result git;
	struct buf err = BUF_INIT;
	int rc = run_capture(&git, out, argv, errors, &err) == 0 && git.code == 0 ? 0 : -1;
	buf_free(&err); /* a blob that cannot be read is the caller's finding */
	return rc;
}

static int cat_blob(void *ctx, const char *oid, struct buf *out)
{
	(void)ctx;
	return git_cat_blob(oid, RUN_OUT_INHERIT, out);
}

struct scan_sink {
	const struct changeset *cs;
	unsigned char *patched; /* per change: did git show a patch for it? */
	struct scanner scanner;
	struct scan_selection selection;
	struct scan_place place;
	struct findings *findings;
	const char *merge_heads; /* concluding a merge: the other parents, one a line */
	struct hashset parent_lines;
};

/* What the other parents of a merge hold at this path: their lines are
 * not new, only what the resolution wrote is. */
static void collect_parent_lines(struct scan_sink *s, const char *path)
{
	hashset_clear(&s->parent_lines);
	struct buf spec = BUF_INIT, content = BUF_INIT;
	for (const char *p = s->merge_heads; *p;) {
		size_t len = strcspn(p, "\n");
		buf_clear(&spec);
		buf_add(&spec, p, len);
		buf_printf(&spec, ":%s", path);
		buf_clear(&content);
		if (git_cat_blob(spec.data, RUN_OUT_DISCARD, &content) == 0)
			hashset_add_lines(&s->parent_lines, content.data ? content.data : "",
					  content.len);
		p += len + (p[len] == '\n');
	}
	buf_free(&spec);
	buf_free(&content);
}

static int scan_begin_file(void *ctx, const struct file_change *change)
{
	struct scan_sink *s = ctx;
	s->patched[change - s->cs->items] = 1;
	if (!mode_is_regular_file(change->new_mode))
		return 0;
	scan_select(s->scanner.rules, change->path, &s->selection);
	s->place.path = change->path;
	if (s->selection.n && s->merge_heads)
		collect_parent_lines(s, change->path);
	return s->selection.n > 0;
}

static void scan_added_line(void *ctx, size_t line, const char *text, size_t len)
{
	struct scan_sink *s = ctx;
	if (s->merge_heads && hashset_has_line(&s->parent_lines, text, len))
		return;
	s->place.line = line;
	scan_line(&s->scanner, &s->selection, &s->place, text, len, s->findings);
}

/* A blob as text to scan (UTF-16 decoded): 1, 0 when it is binary by
 * gitgate's own test, -1 when it cannot be read. */
static int read_text(const char *oid, struct buf *content)
{
	struct buf utf8 = BUF_INIT;
	if (cat_blob(NULL, oid, content) < 0)
		return -1;
	if (text_from_utf16(&utf8, content->data ? content->data : "", content->len)) {
		buf_free(content);
		*content = utf8;
	}
	return !text_is_binary(content->data ? content->data : "", content->len);
}

/*
 * A changed file that git showed no patch for is one git took as binary:
 * by its content, or because .gitattributes (-diff, binary, a diff driver
 * with binary = true) or core.bigFileThreshold said so. gitgate judges it
 * itself: binary content has no lines; text (UTF-16 decoded) has its lines
 * scanned that are in no line of the old content. That is git's added
 * lines but for a line that repeats one the file already had.
 */
static int scan_unpatched_file(struct scan_sink *s, const struct file_change *fc, struct buf *err)
{
	if (!scan_begin_file(s, fc))
		return 0;
	struct buf new_text = BUF_INIT, old_text = BUF_INIT;
	struct hashset old_lines = {0};
	int rc = read_text(fc->new_oid, &new_text);
	if (rc > 0 && fc->status != 'A' && mode_is_regular_file(fc->old_mode)) {
		int old_rc = read_text(fc->old_oid, &old_text);
		if (old_rc > 0)
			hashset_add_lines(&old_lines, old_text.data ? old_text.data : "",
					  old_text.len);
		rc = old_rc < 0 ? -1 : rc;
	}
	if (rc < 0)
		buf_printf(err, "cannot read the staged content of %s", fc->path);
	const char *p = new_text.data, *end = p + new_text.len;
	for (size_t line = 1; rc > 0 && p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (!hashset_has_line(&old_lines, p, len))
			scan_added_line(s, line, p, len);
		p += len + (nl != NULL);
	}
	hashset_free(&old_lines);
	buf_free(&new_text);
	buf_free(&old_text);
	return rc < 0 ? -1 : 0;
}

static int has_content_change(const struct file_change *fc)
{
	return fc->status != 'D' && mode_is_regular_file(fc->new_mode) &&
	       strcmp(fc->old_oid, fc->new_oid) && strcmp(fc->new_oid, EMPTY_BLOB_ID);
}

/* Every option that a user's config could set otherwise is given, since a
 * program reads this diff (diff.ignoreSubmodules or a .gitmodules "ignore"
 * would hide a submodule from isolation). Attributes can still make git
 * call a file binary: scan_unpatched_file judges those. */
static const char *const staged_diff_argv[] = {
    "git",
    "-c",
    "diff.suppressBlankEmpty=false",
    "--no-pager",
    "diff",
    "--cached",
    "--raw",
    "-z",
    "-p",
    "-U0",
    "--no-abbrev",
    "-M100%",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-relative",
    "--submodule=short",
    "--ignore-submodules=none",
    "--diff-algorithm=myers",
    "--indent-heuristic",
    "--inter-hunk-context=0",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    NULL,
};

/* The commit that `git commit --amend` writes replaces HEAD: it is judged
 * against HEAD's first parent, or the empty tree when HEAD is a root (then
 * it is a root too, an import, not held to isolation). Returns 0, 1 for a
 * root, or -1. */
static int amended_commit_base(struct buf *base, struct buf *err)
{
	const char *argv[] = {"git", "rev-parse", "-q", "--verify", "HEAD^", NULL};
	struct run_result git;
	if (run_capture(&git, base, argv, RUN_OUT_DISCARD, err) < 0)
		return -1;
	if (git.code > 1) {
		buf_adds(err, "cannot read HEAD's parent to check an amended commit: git ");
		run_describe(err, &git);
		return -1;
	}
	if (git.code == 1 || !base->len) {
		buf_clear(base);
		buf_adds(base, EMPTY_TREE_ID);
		return 1;
	}
	base->len = strcspn(base->data, "\n");
	base->data[base->len] = '\0';
	return 0;
}

/* Starts `git diff --cached`, against HEAD's parent for an amend
 * (*amends_root: HEAD is a root). Returns 0, or -1 with why in err. */
static int staged_diff_start(struct run_process *git, int amend, int *amends_root, struct buf *err)
{
	const size_t n = sizeof(staged_diff_argv) / sizeof(staged_diff_argv[0]);
	const char *argv[sizeof(staged_diff_argv) / sizeof(staged_diff_argv[0]) + 1];
	memcpy(argv, staged_diff_argv, sizeof(staged_diff_argv));
	struct buf amend_base = BUF_INIT;
	*amends_root = 0;
	if (amend) {
		*amends_root = amended_commit_base(&amend_base, err);
		if (*amends_root < 0)
			return -1;
		argv[n - 1] = amend_base.data;
		argv[n] = NULL;
	}
	struct run_options diff = {.argv = argv, .out = {.kind = RUN_OUT_PIPE}};
	int rc = run_start(git, &diff, err);
	buf_free(&amend_base);
	return rc;
}

/* The rules that apply to the work tree at req->top, loaded (rules_free
 * them). STATUS_PASSED, or STATUS_USAGE with why in err. */
static enum gitgate_status staged_rules(const struct check_request *req, const char *gitdir,
					struct rules *rules, struct buf *err)
{
	struct buf path = BUF_INIT;
	struct rules_location where = {
	    .explicit_path = req->rules_path, .top = req->top, .gitdir = gitdir};
	enum gitgate_status status = STATUS_PASSED;
	if (rules_locate(&where, &path, err) < 0) {
		memset(rules, 0, sizeof(*rules));
		status = STATUS_USAGE;
	} else if (rules_load(rules, path.data, err) < 0) {
		status = STATUS_USAGE;
	}
	buf_free(&path);
	return status;
}

/* Isolation, forbidden paths and version bumps over the changed paths (a
 * merge's own work only, when merge_heads names what it merges). Returns
 * 0, or -1 with why in err. */
static int check_paths(struct check_context *ctx, const struct changeset *cs,
		       const char *merge_heads, struct buf *err)
{
	unsigned char *merge_writes = NULL;
	if (merge_heads) {
		ctx->merge_writes = merge_writes = xcalloc(cs->n ? cs->n : 1, 1);
		if (merge_work_find(cs, merge_heads, merge_writes, err) < 0) {
			free(merge_writes);
			return -1;
		}
	}
	check_isolation(ctx, cs);
	free(merge_writes);
	ctx->merge_writes = NULL;
	check_forbidden_paths(ctx, cs);
	return check_version_bumps(ctx, cs, err);
}

/* The added lines of the diff git streams on `diff`, scanned as they come,
 * and the files git showed no patch for. Returns 0, or -1 with why in err. */
static int scan_staged(FILE *diff, struct changeset *cs, const struct rules *rules,
		       struct findings *out, const char *merge_heads, struct buf *err)
{
	struct scan_sink sink = {.cs = cs, .findings = out, .merge_heads = merge_heads};
	if (scanner_init(&sink.scanner, rules) < 0) {
		buf_adds(err, "cannot set up PCRE2 matching (out of memory)");
		return -1;
	}
	deadline_start(&sink.scanner.deadline, rules->commit.deadline_seconds);
	sink.patched = xcalloc(cs->n ? cs->n : 1, 1);
	struct line_sink lines = {&sink, scan_begin_file, scan_added_line};
	int rc = gitdiff_read_patch(diff, cs, &lines, err);
	for (size_t i = 0; i < cs->n && rc == 0; i++)
		if (!sink.patched[i] && has_content_change(&cs->items[i]))
			rc = scan_unpatched_file(&sink, &cs->items[i], err);
	free(sink.patched);
	if (rc == 0 && sink.scanner.late) {
		buf_printf(err,
			   "the change took longer to check than [commit] deadline_seconds (%us) "
			   "allows",
			   rules->commit.deadline_seconds);
		rc = -1;
	}
	scanner_free(&sink.scanner);
	scan_selection_free(&sink.selection);
	hashset_free(&sink.parent_lines);
	return rc;
}

enum gitgate_status check_staged(const struct check_request *req, struct findings *out,
				 struct buf *err)
{
	/* Start git first: it reads the index while the rules are loaded. */
	struct run_process git;
	int amends_root;
	if (staged_diff_start(&git, req->amend, &amends_root, err) < 0)
		return STATUS_FAULT;
	struct buf gitdir = BUF_INIT, merge_heads = BUF_INIT;
	struct rules rules;
	struct changeset cs = {0};
	int have_gitdir = gitdir_find(req->top, &gitdir) == 0;
	enum gitgate_status status =
	    staged_rules(req, have_gitdir ? gitdir.data : NULL, &rules, err);
	if (status == STATUS_PASSED) {
		findings_skip_rules(out, req->skip);
		if (gitdiff_read_raw(git.out, &cs, err) < 0)
			status = STATUS_FAULT;
		out->files = cs.n;
	}
	int is_merge = have_gitdir && gitdir_merge_heads(gitdir.data, &merge_heads) > 0;
	struct check_context ctx = {.rules = &rules,
				    .findings = out,
				    .blobs = {NULL, cat_blob},
				    .is_merge = is_merge,
				    .is_root = amends_root};
	const char *merged = is_merge ? merge_heads.data : NULL;
	if (status == STATUS_PASSED && (check_paths(&ctx, &cs, merged, err) < 0 ||
					scan_staged(git.out, &cs, &rules, out, merged, err) < 0))
		status = STATUS_FAULT;
	struct buf why = BUF_INIT;
	if (run_finish_ok(&git, &why) < 0 && status == STATUS_PASSED) {
		buf_printf(err, "`git diff --cached` %s; the change could not be checked",
			   why.data);
		status = STATUS_FAULT;
	}
	buf_free(&why);
	if (status == STATUS_PASSED && out->errors)
		status = STATUS_REJECTED;
	changeset_free(&cs);
	rules_free(&rules);
	buf_free(&gitdir);
	buf_free(&merge_heads);
	return status;
}
