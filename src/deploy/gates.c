/*
 * gates: the team's numbered gates, one function each, in one table in the
 * order they run (cheap refusals first), and how a gate's result is said,
 * printed and recorded (gate_report).
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deploy_policy.h"
#include "env_seen.h"
#include "escape.h"
#include "push.h"
#include "push_gate.h"

/* Gate 1's word on the sandbox of a host: in its detail, and aloud when
 * it runs bare (a passed gate's detail is only recorded). Returns 1 when
 * it refuses the deploy. */
static int sandbox_said(struct deploy_job *j, const struct host *h, struct buf *detail)
{
	const struct sandbox_choice *c = &h->sandbox;
	const char *host = h->address;
	struct buf line = BUF_INIT;
	if (host)
		buf_printf(&line, "on %s: ", host);
	sandbox_choice_describe(&line, c);
	buf_printf(detail, "; %s", line.data);
	if (!c->on && !c->refuse)
		fprintf(j->out, "warning: gitgate: %s (the pushed code runs %s)\n", line.data,
			host ? "there as the ssh user" : "as gitgate's user");
	buf_free(&line);
	return c->refuse;
}

static enum gate_result gate_identify(struct deploy_job *j, struct buf *detail)
{
	for (size_t i = 0; i < j->nparts; i++) {
		const struct part *p = &j->parts[i];
		const char *live = p->live == SLOT_NONE ? NULL : p->state.slots[p->live].revision;
		if (!live)
			buf_printf(detail, "%s%s: first deploy", i ? "; " : "", p->label.data);
		else
			buf_printf(detail, "%s%s: %.12s -> %.12s", i ? "; " : "", p->label.data,
				   live, j->revision);
	}
	int refuse = sandbox_said(j, j->here, detail);
	for (size_t i = 0; i < j->nremote; i++)
		refuse |= sandbox_said(j, j->remote[i], detail);
	return refuse ? GATE_REFUSED : GATE_PASSED;
}

static enum gate_result gate_scope(struct deploy_job *j, struct buf *detail)
{
	buf_printf(detail, "one unit, %s:", j->unit->name);
	for (size_t i = 0; i < j->nparts; i++)
		if (j->parts[i].primary == &j->parts[i])
			buf_printf(detail, " %s", j->parts[i].t->project);
	return GATE_PASSED;
}

static enum gate_result gate_environment(struct deploy_job *j, struct buf *detail)
{
	enum gate_result result = GATE_SKIPPED;
	const struct strlist *ph = &j->rules->deploy.env_placeholders;
	/* What an earlier deploy of this process kept is not this one's. */
	if (j->site->seen)
		env_seen_free(j->site->seen);
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (!p->t->env_file && !p->t->env_command.argv)
			continue;
		struct buf problems = BUF_INIT;
		envfile_free(&p->env);
		if (part_read_env(p, &problems) < 0 ||
		    envfile_check(&p->env, (const char *const *)p->t->env_required.items,
				  p->t->env_required.n, (const char *const *)ph->items, ph->n,
				  &problems)) {
			buf_printf(detail, "%s%s: %s", detail->len ? "; " : "", p->label.data,
				   problems.data);
			while (detail->len && detail->data[detail->len - 1] == '\n')
				detail->data[--detail->len] = '\0';
			result = GATE_FAILED;
		} else if (result == GATE_SKIPPED) {
			result = GATE_PASSED;
		}
		buf_free(&problems);
	}
	if (result == GATE_SKIPPED)
		buf_adds(detail, "no env file");
	else if (result == GATE_PASSED)
		buf_adds(detail, "every required variable is set");
	/* Every target's env file read: the deploys ref written after this
	 * deploy masks with these values, not read again (until the next
	 * deploy's gate 7). */
	if (result != GATE_FAILED && j->site->seen)
		env_seen_add(j->site->seen, j->unit->name, j->env->name, &j->mask);
	return result;
}

/* Is the finding the deployed unit's to answer for? One in another unit's
 * project is not (that unit's own deploy judges it); one in this unit's
 * projects, the shared packages or a file of no project is. */
static int finding_is_units(const struct deploy_job *j, const struct finding *f)
{
	const struct project *project = f->path ? rules_project_of(j->rules, f->path) : NULL;
	return !project || project->unit == j->unit;
}

/* Gate 8: the scans over what the deploy brings, the same engine as
 * `gitgate check`, and no bypass that a push used carries over. */
static enum gate_result gate_code_quality(struct deploy_job *j, struct buf *detail)
{
	struct push_updates updates = {0};
	struct findings findings = {0};
	struct buf err = BUF_INIT, checked = BUF_INIT, baseline = BUF_INIT;
	const char *zero = "0000000000000000000000000000000000000000";
	enum gate_result result = GATE_FAILED;
	if (push_updates_add(&updates, "deploy", j->from ? j->from : zero, j->revision, &err) < 0) {
		buf_add(detail, err.data, err.len);
		goto done;
	}
	struct push_scope scope = {.repo = j->site->repo,
				   .rules = j->rules,
				   .mode = PUSH_RANGE,
				   .baseline =
				       push_gate_baseline(j->site->repo, j->rules, &baseline)};
	enum gitgate_status status = push_check(&scope, &updates, &findings, &checked, &err);
	const struct finding *first = NULL;
	size_t errors = 0;
	for (size_t i = 0; status != STATUS_FAULT && i < findings.n; i++)
		if (findings.items[i].severity == SEVERITY_ERROR &&
		    finding_is_units(j, &findings.items[i])) {
			errors++;
			first = first ? first : &findings.items[i];
		}
	if (status == STATUS_FAULT) {
		buf_printf(detail, "could not check: %s", err.data ? err.data : "");
	} else if (errors) {
		buf_printf(detail, "%zu error%s in %zu commit%s; first: %s%s%zu: %s", errors,
			   errors == 1 ? "" : "s", findings.commits,
			   findings.commits == 1 ? "" : "s", first->path ? first->path : "",
			   first->line ? ":" : "", first->line, first->rule);
	} else {
		buf_printf(detail, "%zu commit%s clean", findings.commits,
			   findings.commits == 1 ? "" : "s");
		result = GATE_PASSED;
	}
done:
	push_updates_free(&updates);
	findings_free(&findings);
	buf_free(&err);
	buf_free(&checked);
	buf_free(&baseline);
	return result;
}

/* The target's command of gates 3, 4 and 5. */
static const struct deploy_command *test_command(const struct deploy_target *t)
{
	return &t->test;
}

static const struct deploy_command *lint_command(const struct deploy_target *t)
{
	return &t->lint;
}

static const struct deploy_command *build_command(const struct deploy_target *t)
{
	return &t->build;
}

static enum gate_result
gate_export_and_run(struct deploy_job *j, const char *what,
		    const struct deploy_command *(*command)(const struct deploy_target *t),
		    struct buf *detail)
{
	enum gate_result result = GATE_SKIPPED;
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (!is_primary(p))
			continue;
		const struct deploy_command *cmd = command(p->t);
		if (!cmd->argv)
			continue;
		if (command_run(j, p, cmd, p->release.dir, p->next, 0, detail) < 0)
			return GATE_FAILED;
		result = GATE_PASSED;
	}
	buf_printf(detail, result == GATE_SKIPPED ? "no %s command" : "%s passed", what);
	return result;
}

/* Gate 3 starts by exporting the revision for every project, and runs each
 * project's install before its tests. */
static enum gate_result gate_tests(struct deploy_job *j, struct buf *detail)
{
	for (size_t i = 0; i < j->nparts; i++)
		if (is_primary(&j->parts[i]) && part_export(j, &j->parts[i], detail) < 0)
			return GATE_FAILED;
	return gate_export_and_run(j, "tests", test_command, detail);
}

static enum gate_result gate_lint(struct deploy_job *j, struct buf *detail)
{
	return gate_export_and_run(j, "lint", lint_command, detail);
}

/* Gate 5 ends with the exclusions (what install and build made stays),
 * then a Compose target's images, on each of its hosts. The release is
 * whole then: each other part's host is offered it (part_offer), so that
 * what a remote host is to get is worked out while gates 6 and 9 run. */
static enum gate_result gate_build(struct deploy_job *j, struct buf *detail)
{
	enum gate_result result = gate_export_and_run(j, "build", build_command, detail);
	for (size_t i = 0; result != GATE_FAILED && i < j->nparts; i++)
		if (is_primary(&j->parts[i]) &&
		    release_apply_exclusions(&j->parts[i].release, &j->rules->deploy.exclude,
					     detail) < 0)
			result = GATE_FAILED;
	for (size_t i = 0; result != GATE_FAILED && i < j->nparts; i++)
		if (j->parts[i].t->compose)
			result = part_compose_build(j, &j->parts[i], detail) < 0 ? GATE_FAILED
										 : GATE_PASSED;
		else
			part_offer(&j->parts[i]);
	return result;
}

/* Gate 6: the environment this one requires runs this revision, healthy. */
static enum gate_result gate_staging(struct deploy_job *j, struct buf *detail)
{
	const struct deploy_environment *req = j->env->required;
	if (!req) {
		buf_adds(detail, "no environment is required first");
		return GATE_SKIPPED;
	}
	for (size_t i = 0; i < j->nparts; i++) {
		const struct deploy_target *t =
		    deploy_policy_find_target(j->rules, j->parts[i].t->project, req->name);
		size_t nhosts = t->hosts.n ? t->hosts.n : 1;
		for (size_t h = 0; is_primary(&j->parts[i]) && h < nhosts; h++) {
			struct part there;
			struct buf err = BUF_INIT;
			part_init(j, &there, t, req, h);
			int ok = part_load(&there, &err) == 0 && there.live != SLOT_NONE &&
				 there.state.slots[there.live].revision &&
				 !strcmp(there.state.slots[there.live].revision, j->revision);
			if (!ok)
				buf_printf(detail,
					   "%s %s does not run %.12s yet: deploy there first",
					   req->name, there.label.data, j->revision);
			if (ok)
				ok = part_connect(j, &there, detail) == 0;
			if (ok && (t->env_file || t->env_command.argv))
				part_read_env(&there, &err);
			if (ok)
				ok = !health_check(j, &there, req, live_url_of(&there), there.live,
						   detail);
			part_free(&there);
			buf_free(&err);
			if (!ok)
				return GATE_FAILED;
		}
	}
	buf_printf(detail, "%s runs %.12s, healthy", req->name, j->revision);
	return GATE_PASSED;
}

/* Gate 9: what is live here now is healthy (an emergency may go on). */
static enum gate_result gate_before(struct deploy_job *j, struct buf *detail)
{
	int any = 0;
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (p->live == SLOT_NONE)
			continue;
		any = 1;
		part_reach_checks(j, p);
		if (health_check(j, p, j->env, live_url_of(p), p->live, detail) < 0) {
			if (!j->req->emergency)
				return GATE_FAILED;
			buf_adds(detail, " (emergency: going on)");
		}
	}
	if (!any) {
		buf_adds(detail, "nothing live yet");
		return GATE_SKIPPED;
	}
	if (!detail->len)
		buf_adds(detail, "live is healthy");
	return GATE_PASSED;
}

/* Gate 10: the exact phrase, where the environment asks for it. Cheap: it
 * is judged before anything else, and reported in its place. */
static enum gate_result gate_confirmation(struct deploy_job *j, struct buf *detail)
{
	const char *given = j->req->phrase, *phrase = j->rules->deploy.confirm_phrase;
	if (!j->env->confirm) {
		buf_adds(detail, "not required here");
		return GATE_SKIPPED;
	}
	if (given && phrase && !strcmp(given, phrase)) {
		buf_adds(detail, "the phrase was given");
		return GATE_PASSED;
	}
	buf_printf(detail,
		   "%s needs the exact phrase \"%s\" (git push -o \"confirm=%s\", or gitgate "
		   "deploy ... --confirm \"%s\")",
		   j->env->name, phrase, phrase, phrase);
	return GATE_REFUSED;
}

/* In the order they run; numbered as the team's rules number them. Gate 10
 * is judged first of all (cheap), gate 11 after the switch (live.c). */
const struct gate deploy_gates[] = {
    {1, "identify", gate_identify, NULL, GATE_BEFORE_ANY},
    {2, "scope", gate_scope, NULL, GATE_BEFORE_ANY},
    {7, "environment", gate_environment, NULL, GATE_BEFORE_ANY},
    {8, "code-quality", gate_code_quality, NULL, GATE_BEFORE_ANY},
    {3, "tests", gate_tests, test_command, GATE_BEFORE_ANY | GATE_EXPORTS},
    {4, "lint", gate_lint, lint_command, 0},
    {5, "build", gate_build, build_command, 0},
    {6, "staging", gate_staging, NULL, 0},
    {9, "health-before", gate_before, NULL, 0},
    {10, "confirmation", gate_confirmation, NULL, GATE_CHEAP},
    {11, "health-after", NULL, NULL, GATE_AFTER_SWITCH},
};

const size_t deploy_ngates = sizeof(deploy_gates) / sizeof(deploy_gates[0]);

const struct gate *gate_numbered(int number)
{
	for (size_t i = 0; i < deploy_ngates; i++)
		if (deploy_gates[i].number == number)
			return &deploy_gates[i];
	return NULL;
}

size_t gates_leading(unsigned flag)
{
	size_t n = 0;
	while (n < deploy_ngates && deploy_gates[n].flags & flag)
		n++;
	return n;
}

size_t gates_before(unsigned flag)
{
	size_t n = 0;
	while (n < deploy_ngates && !(deploy_gates[n].flags & flag))
		n++;
	return n;
}

/* A dry run's word for a gate that runs commands: what it would run. */
enum gate_result gate_described(struct deploy_job *j, const struct gate *g, struct buf *detail)
{
	for (size_t i = 0; i < j->nparts; i++) {
		const struct part *p = &j->parts[i];
		const struct deploy_command *cmd = g->command(p->t);
		buf_printf(detail, "%s%s: ", i ? "; " : "", p->t->project);
		if (g->flags & GATE_EXPORTS)
			buf_printf(detail, "export %.12s, install `%s`, then ", j->revision,
				   p->t->install.argv ? p->t->install.text : "");
		if (cmd->argv)
			buf_printf(detail, "`%s`", cmd->text);
		else
			buf_printf(detail, "no %s command", g->name);
	}
	return GATE_SKIPPED;
}

void gate_report(struct deploy_job *j, int number, const char *name, enum gate_result result,
		 double seconds, const char *detail)
{
	/* Steps between the gates (slot, switch) and refusals before them have
	 * no number of the team's. A detail may hold what a command printed. */
	struct buf line = BUF_INIT, err = BUF_INIT;
	char *masked = mask_string(&j->mask, detail);
	detail = masked;
	if (number)
		buf_printf(&line, "gate %2d/%zu  ", number, deploy_ngates);
	else
		buf_printf(&line, "%-12s", "step");
	buf_printf(&line, "%-13s %-17s %-7s %6.1f s", name, j->unit->name,
		   history_gate_result_name(result), seconds);
	fprintf(j->out, "%s\n", line.data);
	/* The log holds the commands' output: each gate's line marks where
	 * its part ends. */
	if (!j->req->dry_run && state_append_jsonl(j->log.data, line.data, &err) < 0)
		fprintf(j->out, "warning: gitgate: %s\n", err.data);
	buf_free(&line);
	buf_free(&err);
	/* A dry run and an emergency (which lets gate 9 fail) say every
	 * gate's detail; other deploys only what did not pass. */
	if ((result != GATE_PASSED || j->req->dry_run || j->req->emergency) && detail && *detail) {
		struct buf shown = BUF_INIT;
		for (const char *p = detail; *p;) {
			size_t len = strcspn(p, "\n");
			buf_clear(&shown);
			escape_bytes(&shown, p, len);
			fprintf(j->out, "    %s\n", shown.data ? shown.data : "");
			p += len + (p[len] == '\n');
		}
		buf_free(&shown);
	}
	history_record_gate(j->record, number, name, result, seconds, detail);
	free(masked);
}

/* How an emergency is declared, for a refusal that one would go through. */
#define EMERGENCY_HOW                                                                              \
	"an emergency goes through: -o \"emergency=REASON\" or --emergency REASON, by a user in "  \
	"[deploy] emergency_users"

/* Outside deploy_hours: when they are, and what time it is there. */
static void hours_said(struct deploy_job *j, time_t now, struct buf *detail)
{
	struct tm local;
	struct buf hours = BUF_INIT;
	deploy_policy_hours_describe(&hours, &j->env->hours);
	buf_printf(detail, "deploys to %s start within %s only ([environment %s] deploy_hours",
		   j->env->name, hours.data, j->env->name);
	if (deploy_policy_local_time(j->rules, now, &local, detail) == 0)
		buf_printf(detail, "), and it is %02d:%02d in %s", local.tm_hour, local.tm_min,
			   j->rules->deploy.freeze_timezone);
	buf_free(&hours);
}

/* A day or an hour without deploys, said in detail: refused (1), unless
 * an emergency goes through (0), which its record keeps as a step that
 * passed, with why. */
static int calendar_said(struct deploy_job *j, const char *name, struct buf *detail)
{
	if (!j->req->emergency) {
		buf_adds(detail, "; " EMERGENCY_HOW);
		return 1;
	}
	buf_adds(detail, ": an emergency goes through");
	gate_report(j, 0, name, GATE_PASSED, 0, detail->data);
	buf_clear(detail);
	return 0;
}

/* The calendar: the freeze days, then the deploy hours. Returns 1 when the
 * deploy is refused. */
static int calendar_refusal(struct deploy_job *j, struct buf *detail, const char **name)
{
	time_t now = time(NULL);
	int frozen = 0, inside = 1;
	*name = "freeze";
	if (deploy_policy_is_frozen(j->rules, j->env, now, &frozen, detail) < 0)
		return 1;
	if (frozen) {
		buf_printf(detail, "no deploys to %s today ([deploy] freeze_days)", j->env->name);
		if (calendar_said(j, *name, detail))
			return 1;
	}
	*name = "hours";
	if (deploy_policy_in_hours(j->rules, j->env, now, &inside, detail) < 0)
		return 1;
	if (inside)
		return 0;
	hours_said(j, now, detail);
	return calendar_said(j, *name, detail);
}

int cheap_refusal(struct deploy_job *j, struct buf *detail, const char **name)
{
	const struct deploy_request *req = j->req;
	*name = "access";
	if (!deploy_policy_user_may_deploy(j->env, req->user)) {
		buf_printf(detail, "%s may not deploy to %s ([environment %s] users)", req->user,
			   j->env->name, j->env->name);
		return 1;
	}
	if (req->emergency && !req->emergency[strspn(req->emergency, " \t")]) {
		buf_adds(detail, "an emergency needs a reason: -o \"emergency=REASON\" or "
				 "--emergency REASON");
		return 1;
	}
	if (req->emergency && !deploy_policy_user_may_use_emergency(j->rules, req->user)) {
		buf_printf(detail, "%s may not declare an emergency ([deploy] emergency_users)",
			   req->user);
		return 1;
	}
	return calendar_refusal(j, detail, name);
}

void gate_said(struct deploy_job *j, int number, enum gate_result result, double seconds,
	       const char *detail)
{
	gate_report(j, number, gate_numbered(number)->name, result, seconds, detail);
}

enum gate_result gate_run_as(struct deploy_job *j, int number, gate_check check)
{
	struct buf detail = BUF_INIT;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enum gate_result result = (check ? check : gate_numbered(number)->run)(j, &detail);
	gate_said(j, number, result, seconds_since(&t0), detail.data);
	buf_free(&detail);
	return result;
}
