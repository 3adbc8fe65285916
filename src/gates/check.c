/*
 * check: see check.h.
 */
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checks.h"
#include "gitdiff.h"
#include "gitdir.h"
#include "hashset.h"
#include "run.h"
#include "scan.h"

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int check_locate_rules(const struct check_request *req, const char *gitdir, struct buf *path,
		       struct buf *err)
{
	buf_clear(path);
	if (req->rules_path) {
		buf_adds(path, req->rules_path);
		return 0;
	}
	const char *argv[] = {"git", "config", "--path", "--get", "gitgate.rules", NULL};
	struct buf out = BUF_INIT;
	struct run_result git = {.code = 1}; /* git config's "not set" */
	if (!gitdir || gitdir_config_may_set(gitdir, "gitgate.rules")) {
		struct run_options opts = {.argv = argv, .out = {RUN_OUT_CAPTURE, &out}};
		if (run(&git, &opts, err) < 0) {
			buf_free(&out);
			return -1;
		}
	}
	if (git.code == 0 && out.len) {
		size_t len = strcspn(out.data, "\n");
		if (!len) {
			buf_free(&out);
			buf_adds(err, "git config gitgate.rules is set but empty: point it at a "
				      "rules file, or unset it");
			return -1;
		}
		if (out.data[0] != '/')
			buf_printf(path, "%s/", req->top);
		buf_add(path, out.data, len);
		buf_free(&out);
		return 0;
	}
	buf_free(&out);
	if (git.code != 1 && git.code != 0) {
		buf_adds(err, "cannot read git config gitgate.rules: git ");
		run_describe(err, &git);
		return -1;
	}
	buf_printf(path, "%s/rules.ini", req->top);
	if (file_exists(path->data))
		return 0;
	buf_printf(err,
		   "no rules: there is no %s; put the policy there, or point at one with "
		   "`git config gitgate.rules PATH` or --rules PATH",
		   path->data);
	return -1;
}

/* Reads `git cat-file blob SPEC` into out; 0 when git printed it. errors
 * says where git's own complaint goes. */
static int git_cat_blob(const char *spec, enum run_output_kind errors, struct buf *out)
{
	const char *argv[] = {"git", "cat-file", "blob", spec, NULL};
	struct run_options opts = {.argv = argv, .out = {RUN_OUT_CAPTURE, out}, .err = {errors}};
	struct run_result git;
	struct buf err = BUF_INIT;
	int rc = run(&git, &opts, &err) == 0 && git.code == 0 ? 0 : -1;
	buf_free(&err); /* a blob that cannot be read is the caller's finding */
	return rc;
}

static int cat_blob(void *ctx, const char *oid, struct buf *out)
{
	(void)ctx;
	return git_cat_blob(oid, RUN_OUT_INHERIT, out);
}

struct scan_sink {
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

static const char *const staged_diff_argv[] = {
    "git",
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
    "--src-prefix=a/",
    "--dst-prefix=b/",
    NULL,
};

enum gitgate_status check_staged(const struct check_request *req, struct findings *out,
				 struct buf *err)
{
	/* Start git first: it reads the index while the rules are loaded. */
	struct run_options diff = {.argv = staged_diff_argv, .out = {RUN_OUT_PIPE}};
	struct run_process git;
	if (run_start(&git, &diff, err) < 0)
		return STATUS_FAULT;
	enum gitgate_status status = STATUS_PASSED;
	struct buf rules_path = BUF_INIT, gitdir = BUF_INIT, merge_heads = BUF_INIT;
	struct rules rules;
	struct changeset cs = {0};
	int rules_loaded = 0;
	int have_gitdir = gitdir_find(req->top, &gitdir) == 0;
	if (check_locate_rules(req, have_gitdir ? gitdir.data : NULL, &rules_path, err) < 0) {
		status = STATUS_USAGE;
		goto done;
	}
	if (rules_load(&rules, rules_path.data, err) < 0) {
		rules_free(&rules);
		status = STATUS_USAGE;
		goto done;
	}
	rules_loaded = 1;
	findings_skip_rules(out, req->skip);
	if (gitdiff_read_raw(git.out, &cs, err) < 0) {
		status = STATUS_FAULT;
		goto done;
	}
	out->files = cs.n;

	struct check_context ctx = {
	    .rules = &rules,
	    .findings = out,
	    .blobs = {NULL, cat_blob},
	    .is_merge = have_gitdir && gitdir_merge_heads(gitdir.data, &merge_heads) > 0,
	};
	check_isolation(&ctx, &cs);
	check_forbidden_paths(&ctx, &cs);
	check_version_bumps(&ctx, &cs);

	struct scan_sink sink = {.findings = out,
				 .merge_heads = ctx.is_merge ? merge_heads.data : NULL};
	if (scanner_init(&sink.scanner, &rules) < 0) {
		buf_adds(err, "cannot set up PCRE2 matching (out of memory)");
		status = STATUS_FAULT;
		goto done;
	}
	struct line_sink lines = {&sink, scan_begin_file, scan_added_line};
	int read_rc = gitdiff_read_patch(git.out, &cs, &lines, err);
	scanner_free(&sink.scanner);
	scan_selection_free(&sink.selection);
	hashset_free(&sink.parent_lines);
	if (read_rc < 0)
		status = STATUS_FAULT;
done:;
	struct run_result diff_result;
	struct buf wait_err = BUF_INIT;
	int waited = run_finish(&diff_result, &git, &wait_err);
	if (status == STATUS_PASSED && (waited < 0 || diff_result.code != 0)) {
		buf_adds(err, "`git diff --cached` ");
		if (waited < 0)
			buf_add(err, wait_err.data, wait_err.len);
		else
			run_describe(err, &diff_result);
		buf_adds(err, "; the change could not be checked");
		status = STATUS_FAULT;
	}
	buf_free(&wait_err);
	if (status == STATUS_PASSED && out->errors)
		status = STATUS_REJECTED;
	changeset_free(&cs);
	if (rules_loaded)
		rules_free(&rules);
	buf_free(&rules_path);
	buf_free(&gitdir);
	buf_free(&merge_heads);
	return status;
}
