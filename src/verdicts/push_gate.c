/*
 * push_gate: see push_gate.h.
 */
#include "push_gate.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "push_log.h"
#include "escape.h"
#include "repo.h"
#include "rules_locate.h"

#define SHOWN_PER_COMMIT 10
#define SHOWN_COMMITS 20

const char *push_gate_baseline(git_repository *repo, const struct rules *rules, struct buf *holder)
{
	git_config *cfg = NULL;
	git_buf value = GIT_BUF_INIT;
	int found = git_repository_config_snapshot(&cfg, repo) == 0 &&
		    git_config_get_path(&value, cfg, "gitgate.baseline") == 0;
	if (found)
		buf_adds(holder, value.ptr);
	git_buf_dispose(&value);
	git_config_free(cfg);
	return found ? holder->data : rules->push.baseline;
}

static int locate_rules(const struct push_gate_options *opts, git_repository *repo,
			struct buf *path, struct buf *err)
{
	struct buf top = BUF_INIT;
	const char *workdir = git_repository_workdir(repo);
	int server = opts->mode == PUSH_SERVER;
	if (!server && workdir) {
		buf_adds(&top, workdir);
		if (top.len > 1 && top.data[top.len - 1] == '/')
			top.data[--top.len] = '\0';
	}
	struct rules_location where = {
	    .explicit_path = server ? NULL : opts->rules_path,
	    .top = top.data,
	    .gitdir = git_repository_path(repo),
	};
	int rc = rules_locate(&where, path, err);
	buf_free(&top);
	return rc;
}

static int add_range(const struct push_scope *scope, struct push_updates *updates, const char *spec,
		     struct buf *err)
{
	git_revspec rs;
	if (git_revparse(&rs, scope->repo, spec) < 0) {
		buf_printf(err, "'%s' is not a revision or range here", spec);
		repo_error(err, "");
		return -1;
	}
	char from[GIT_OID_HEXSZ + 1] = "0", to[GIT_OID_HEXSZ + 1] = "0";
	int rc = 0;
	if (rs.flags & GIT_REVSPEC_SINGLE) {
		git_oid_tostr(to, sizeof(to), git_object_id(rs.from));
	} else {
		git_oid_tostr(to, sizeof(to), git_object_id(rs.to));
		if (rs.flags & GIT_REVSPEC_MERGE_BASE) {
			git_oid base;
			/* A...B: both sides, down to where they meet. */
			rc = git_merge_base(&base, scope->repo, git_object_id(rs.from),
					    git_object_id(rs.to));
			if (rc == 0)
				git_oid_tostr(from, sizeof(from), &base);
			rc = push_updates_add(updates, spec, from,
					      git_oid_tostr_s(git_object_id(rs.from)), err);
			if (rc == 0)
				rc = push_updates_add(updates, spec, from, to, err);
			goto done;
		}
		git_oid_tostr(from, sizeof(from), git_object_id(rs.from));
	}
	rc = push_updates_add(updates, spec, from, to, err);
	if (rc == 0 && (rs.flags & GIT_REVSPEC_SINGLE) && !scope->max_count)
		updates->items[updates->n - 1].single = 1;
done:
	git_object_free(rs.from);
	git_object_free(rs.to);
	return rc;
}

/* Push options: only "gitgate.bypass=RULE:REASON" means anything here. */
static void apply_bypass(const struct push_gate_options *opts, const struct rules *rules,
			 const struct identity *who, struct findings *findings, json_t *audit)
{
	FILE *diag = opts->diag;
	struct buf user = BUF_INIT;
	escape_bytes(&user, who->name, strlen(who->name));
	for (size_t i = 0; i < opts->npush_options; i++) {
		const char *opt = opts->push_options[i];
		if (strncmp(opt, "gitgate.bypass=", 15))
			continue;
		const char *spec = opt + 15, *colon = strchr(spec, ':');
		struct buf shown = BUF_INIT; /* pushed text reaches the terminal escaped */
		if (!colon || colon == spec || !colon[1]) {
			escape_bytes(&shown, opt, strlen(opt));
			fprintf(
			    diag,
			    "warning: gitgate: ignoring '%s': write gitgate.bypass=RULE:REASON\n",
			    shown.data);
			buf_free(&shown);
			continue;
		}
		char *rule = xstrndup(spec, (size_t)(colon - spec));
		escape_bytes(&shown, rule, strlen(rule));
		if (!rules_user_may_bypass(rules, who->name)) {
			fprintf(
			    diag,
			    "warning: gitgate: '%s' (%s) may not bypass rules (rules.ini [push] "
			    "bypass_users); the %s rule still applies\n",
			    user.data, who->source, shown.data);
		} else {
			/* Recorded first, escaped: a bypass that cannot be recorded is
			 * not granted, and the pusher's terminal gets no raw bytes. */
			json_t *entry = json_pack("{s:o,s:o}", "rule", push_log_text(rule),
						  "reason", push_log_text(colon + 1));
			if (!entry || json_array_append_new(audit, entry) < 0) {
				fprintf(diag,
					"warning: gitgate: the bypass of %s cannot be "
					"recorded, so the rule still applies\n",
					shown.data);
			} else {
				findings_skip_rules(findings, rule);
				fprintf(
				    diag,
				    "warning: gitgate: %s bypasses the %s rule: %s (recorded)\n",
				    user.data, json_string_value(json_object_get(entry, "rule")),
				    json_string_value(json_object_get(entry, "reason")));
			}
		}
		buf_free(&shown);
		free(rule);
	}
	buf_free(&user);
}

static int write_audit(git_repository *repo, const struct identity *who, json_t *bypasses,
		       const struct push_updates *updates, const struct buf *checked,
		       struct buf *err)
{
	json_t *commits = json_array();
	const char *p = checked->data ? checked->data : "";
	while (*p) {
		size_t len = strcspn(p, "\n");
		json_array_append_new(commits, json_stringn(p, len));
		p += len + (p[len] == '\n');
	}
	json_t *refs = json_array();
	for (size_t i = 0; i < updates->n; i++) {
		/* Two buffers: git_oid_tostr_s has one, which made "old" equal "new". */
		char old_id[GIT_OID_HEXSZ + 1], new_id[GIT_OID_HEXSZ + 1];
		git_oid_tostr(old_id, sizeof(old_id), &updates->items[i].old_oid);
		git_oid_tostr(new_id, sizeof(new_id), &updates->items[i].new_oid);
		json_array_append_new(refs, push_log_ref(updates->items[i].ref, old_id, new_id));
	}
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < json_array_size(bypasses); i++) {
		json_t *entry = push_log_entry(who);
		json_object_update(entry, json_array_get(bypasses, i));
		json_object_set(entry, "refs", refs);
		json_object_set(entry, "commits", commits);
		rc = push_log_write(git_repository_path(repo), "audit.jsonl", entry, err);
		json_decref(entry);
	}
	json_decref(commits);
	json_decref(refs);
	return rc;
}

static int has_commit_errors(const struct findings *findings)
{
	for (size_t i = 0; i < findings->n; i++)
		if (findings->items[i].commit && findings->items[i].severity == SEVERITY_ERROR)
			return 1;
	return 0;
}

/* How to mend commits; a refused ref update (a protected branch) carries
 * its own hint, and no line marker can change it. */
static void advise(FILE *diag, enum push_mode mode, const struct findings *findings)
{
	if (!has_commit_errors(findings))
		return;
	fprintf(diag, "hint: fix the commits listed, then push again:\n"
		      "hint:   the last commit: fix, `git add`, `git commit --amend`\n"
		      "hint:   an older commit: `git rebase -i <commit>^`, mark it 'edit', fix, "
		      "`git commit --amend`, `git rebase --continue`\n"
		      "hint:   a line that must stay: add 'gitgate:allow' to it\n");
	if (mode == PUSH_CLIENT)
		fprintf(diag, "hint: the server checks the same rules; `git push --no-verify` only "
			      "skips this early check\n");
}

/* What push_gate_run judges with, and what it found. */
struct push_judgement {
	git_repository *repo;
	struct rules rules;
	struct identity who;
	struct findings findings;
	json_t *bypasses;
	struct buf checked, baseline, err;
};

/* Opens the repository and the rules, takes the ranges and the pusher,
 * and checks the new commits. Returns the verdict's status, or
 * STATUS_USAGE / STATUS_FAULT with why in pj->err. */
static enum gitgate_status push_judge(struct push_judgement *pj,
				      const struct push_gate_options *opts,
				      struct push_updates *updates)
{
	struct buf rules_path = BUF_INIT;
	if (repo_open(&pj->repo, &pj->err) < 0)
		return STATUS_FAULT;
	struct push_scope scope = {.repo = pj->repo,
				   .mode = opts->mode,
				   .remote = opts->remote,
				   .remote_url = opts->remote_url,
				   .max_count = opts->max_count,
				   .rules = &pj->rules};
	int rc = locate_rules(opts, pj->repo, &rules_path, &pj->err);
	if (rc == 0)
		rc = rules_load(&pj->rules, rules_path.data, &pj->err);
	buf_free(&rules_path);
	if (rc < 0)
		return STATUS_USAGE;
	scope.baseline = push_gate_baseline(pj->repo, &pj->rules, &pj->baseline);
	for (size_t i = 0; i < opts->nranges; i++)
		if (add_range(&scope, updates, opts->ranges[i], &pj->err) < 0)
			return STATUS_USAGE;
	if (opts->mode == PUSH_SERVER) {
		if (procenv_pusher(&pj->rules.push.identity, opts->env, &pj->who, &pj->err) < 0)
			return STATUS_FAULT;
		apply_bypass(opts, &pj->rules, &pj->who, &pj->findings, pj->bypasses);
	} else {
		findings_skip_rules(&pj->findings, opts->skip);
	}
	enum gitgate_status status =
	    push_check(&scope, updates, &pj->findings, &pj->checked, &pj->err);
	if (status != STATUS_FAULT && json_array_size(pj->bypasses) &&
	    write_audit(pj->repo, &pj->who, pj->bypasses, updates, &pj->checked, &pj->err) < 0)
		status = STATUS_FAULT;
	return status;
}

/* The findings, in the format asked, and what they mean for the push. */
static void push_report(const struct push_gate_options *opts, const struct findings *f)
{
	if (opts->format == REPORT_TEXT)
		report_text_capped(opts->out, f, opts->color,
				   opts->mode == PUSH_RANGE ? SIZE_MAX : SHOWN_PER_COMMIT,
				   opts->mode == PUSH_RANGE ? SIZE_MAX : SHOWN_COMMITS);
	else
		report_write(opts->out, opts->format, f, 0);
	if (f->nskip && opts->mode != PUSH_SERVER)
		fprintf(opts->diag, "gitgate: GITGATE_SKIP is set: %zu finding%s skipped\n",
			f->skipped, f->skipped == 1 ? "" : "s");
	if (opts->format == REPORT_TEXT && f->errors) {
		advise(opts->diag, opts->mode, f);
		fprintf(opts->diag, "error: gitgate: %zu error%s in %zu commit%s checked: %s\n",
			f->errors, f->errors == 1 ? "" : "s", f->commits,
			f->commits == 1 ? "" : "s",
			opts->mode == PUSH_RANGE ? "the range breaks the rules" : "push refused");
	}
}

/* Why the push could not be judged; a hook's push is then refused. */
static void push_failure(const struct push_gate_options *opts, const struct push_judgement *pj,
			 enum gitgate_status status)
{
	fprintf(opts->diag, "error: gitgate: %s\n", pj->err.data ? pj->err.data : "unknown error");
	if (status == STATUS_FAULT && pj->repo && git_repository_is_shallow(pj->repo) == 1)
		fprintf(opts->diag, "hint: this is a shallow clone and the commits reach past its "
				    "history: `git fetch --unshallow` (in CI: fetch-depth 0)\n");
	if (status == STATUS_FAULT && opts->mode != PUSH_RANGE)
		fprintf(opts->diag,
			"error: gitgate: the push could not be checked, so it is refused "
			"(fail closed)\n");
}

enum gitgate_status push_gate_run(const struct push_gate_options *opts,
				  struct push_updates *updates)
{
	struct push_judgement pj = {
	    .bypasses = json_array(), .checked = BUF_INIT, .baseline = BUF_INIT, .err = BUF_INIT};
	enum gitgate_status status = push_judge(&pj, opts, updates);
	if (status == STATUS_USAGE || status == STATUS_FAULT)
		push_failure(opts, &pj, status);
	else
		push_report(opts, &pj.findings);
	json_decref(pj.bypasses);
	identity_free(&pj.who);
	findings_free(&pj.findings);
	rules_free(&pj.rules);
	buf_free(&pj.err);
	buf_free(&pj.baseline);
	buf_free(&pj.checked);
	repo_close(pj.repo);
	return status;
}

enum gitgate_status push_gate_run_hook(const struct push_gate_options *opts, FILE *in,
				       enum hook_input_kind kind)
{
	struct hook_input input = {0};
	struct push_updates updates = {0};
	struct buf err = BUF_INIT;
	enum gitgate_status status;
	if (hook_input_read(&input, in, kind, &err) < 0 ||
	    push_updates_add_hook_input(&updates, &input, &err) < 0) {
		fprintf(opts->diag,
			"error: gitgate: %s\n"
			"error: gitgate: the push could not be checked, so it is refused\n",
			err.data);
		status = STATUS_FAULT;
	} else {
		status = push_gate_run(opts, &updates);
	}
	push_updates_free(&updates);
	hook_input_free(&input);
	buf_free(&err);
	return status;
}

enum gitgate_status push_gate_client_hook(const char *remote, const char *url, FILE *in)
{
	struct procenv env;
	procenv_read(&env);
	struct push_gate_options opts = {.mode = PUSH_CLIENT,
					 .remote = remote,
					 .remote_url = url,
					 .skip = env.skip,
					 .color = procenv_wants_color(&env, stderr),
					 .format = REPORT_TEXT,
					 .out = stderr,
					 .diag = stderr};
	enum gitgate_status status = push_gate_run_hook(&opts, in, HOOK_INPUT_PUSH);
	procenv_free(&env);
	return status;
}
