/*
 * gitgate rules: validate a rules file and print the policy it sets.
 *
 * The printing lives here, not in policy/: it is this command's output, and
 * policy/ only loads and answers questions.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rules.h"
#include "rules_locate.h"
#include "status.h"

static void describe_globs(FILE *out, const struct globlist *list)
{
	for (size_t i = 0; i < list->n; i++)
		fprintf(out, "%s%s", i ? " " : "", list->items[i].text);
}

static void describe_words(FILE *out, const struct strlist *list)
{
	for (size_t i = 0; i < list->n; i++)
		fprintf(out, " %s", list->items[i]);
}

/* The effective policy, every default filled in, as a person checks it. */
static void rules_describe(const struct rules *r, FILE *out)
{
	fprintf(out, "rules: %s\n", r->file);
	fprintf(out, "projects:\n");
	for (size_t i = 0; i < r->nprojects; i++)
		fprintf(out, "  %-18s %-20s unit %s%s%s\n", r->projects[i].name,
			r->projects[i].path, r->projects[i].unit ? r->projects[i].unit->name : "?",
			r->projects[i].description ? "  - " : "",
			r->projects[i].description ? r->projects[i].description : "");
	fprintf(out, "units:\n");
	for (size_t i = 0; i < r->nunits; i++) {
		const struct unit *u = &r->units[i];
		fprintf(out, "  %-18s projects:", u->name);
		describe_words(out, &u->projects);
		if (u->aliases.n) {
			fprintf(out, "  aliases:");
			describe_words(out, &u->aliases);
		}
		fputc('\n', out);
	}
	fprintf(out,
		"isolation: %s (one unit per commit; files outside every project are neutral)\n",
		severity_name(r->isolation));
	if (r->shared_path)
		fprintf(out, "shared: %s affects every unit; version bump: %s\n", r->shared_path,
			severity_name(r->version_bump));
	fprintf(out, "forbidden paths (%s): ", severity_name(r->forbidden_severity));
	describe_globs(out, &r->forbidden);
	fputc('\n', out);
	for (size_t i = 0; i < r->nscans; i++) {
		const struct scan_rule *s = &r->scans[i];
		fprintf(out, "scan %s: rule %s, %s, files: ", s->name, s->rule_id,
			severity_name(s->severity));
		describe_globs(out, &s->files);
		if (s->exclude.n) {
			fprintf(out, " except ");
			describe_globs(out, &s->exclude);
		}
		fputc('\n', out);
		for (size_t j = 0; j < s->npatterns; j++)
			fprintf(out, "    pattern %s\n", s->patterns[j].source);
	}
	fprintf(out, "commit: deadline %us\n", r->commit.deadline_seconds);
	fprintf(out, "push: deploy branch %s; protected:", r->push.deploy_branch);
	describe_words(out, &r->push.protected_refs);
	fprintf(out, "; deadline %us; baseline %s; may bypass:", r->push.deadline_seconds,
		r->push.baseline ? r->push.baseline : "(none)");
	describe_words(out, &r->push.bypass_users);
	fprintf(out, "%s; refs to a blob or tree: %s\n", r->push.bypass_users.n ? "" : " (nobody)",
		severity_name(r->push.non_commit_refs));
	fprintf(out, "allow marker: %s; longest line scanned: %zu bytes; match limit: %u\n",
		r->allow_marker, r->max_line_bytes, r->match_limit);
}

int cmd_rules(int argc, char **argv)
{
	struct rules_location where = {0};
	const char *value;
	for (int i = 1; i < argc; i++) {
		if (cli_option_value(argc, argv, &i, "--rules", &value)) {
			if (!value)
				return STATUS_USAGE;
			where.explicit_path = value;
		} else {
			fprintf(stderr, "gitgate rules: unknown argument '%s'\n", argv[i]);
			return STATUS_USAGE;
		}
	}
	struct buf top = BUF_INIT, path = BUF_INIT, err = BUF_INIT;
	int status = STATUS_PASSED;
	if (!where.explicit_path) {
		if (cli_work_tree_top(&top) < 0) {
			status = STATUS_USAGE;
			goto done;
		}
		where.top = top.data;
	}
	if (rules_locate(&where, &path, &err) < 0) {
		fprintf(stderr, "gitgate: %s\n", err.data);
		status = STATUS_USAGE;
		goto done;
	}
	struct rules rules;
	if (rules_load(&rules, path.data, &err) < 0) {
		fputs(err.data, stderr);
		status = STATUS_USAGE;
	} else {
		rules_describe(&rules, stdout);
	}
	rules_free(&rules);
done:
	buf_free(&top);
	buf_free(&path);
	buf_free(&err);
	return status;
}
