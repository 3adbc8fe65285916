/*
 * gitgate rules: validate a rules file and print the policy it sets.
 *
 * The printing lives here, not in policy/: it is this command's output, and
 * policy/ only loads and answers questions.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "deploy_policy.h"
#include "rules.h"
#include "rules_locate.h"
#include "sandbox.h"
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

/* " a b c", or " " and none when the list is empty. */
static void describe_list(FILE *out, const struct strlist *list, const char *none)
{
	if (list->n)
		describe_words(out, list);
	else
		fprintf(out, " %s", none);
}

static void describe_command(FILE *out, const char *name, const struct deploy_command *c)
{
	if (c->argv)
		fprintf(out, "    %-9s %s\n", name, c->text);
}

static void describe_health(FILE *out, const struct deploy_target *t)
{
	fprintf(out, "    health    slot %s, live %s; status %s",
		t->health_url ? t->health_url : "(port only)",
		t->live_url ? t->live_url : "(the live slot's health_url)", t->health_status);
	for (size_t i = 0; i < t->nhealth_body; i++)
		fprintf(out, "; body %s", t->health_body[i].source);
	fprintf(out, "\n              level 3: under %ums; dependencies:", t->health_latency_ms);
	describe_list(out, &t->health_dependencies, "(none)");
	fprintf(out, "; command %s\n", t->health_command.argv ? t->health_command.text : "(none)");
	fprintf(out,
		"              each try %ums, %u failed tries allowed, every %ums, %u in a row, "
		"all within %us\n",
		t->health_timeout_ms, t->health_retries, t->health_interval_ms, t->health_successes,
		t->health_deadline_seconds);
}

/* What the app's commands on a target's hosts run in. A host is not asked
 * here: a deploy probes it when it connects, and says the answer in gate 1
 * and its record. */
static void describe_host_sandbox(FILE *out, const struct deploy_policy *d,
				  const struct deploy_target *t)
{
	const char *s = t->hosts.n > 1 ? "s" : "";
	if (d->sandbox == DEPLOY_SANDBOX_NO) {
		fprintf(
		    out,
		    "    sandbox   none on the host%s (sandbox = no): migrate, run, start, stop "
		    "and the health command run there as the ssh user, unconfined\n",
		    s);
		return;
	}
	fprintf(out,
		"    sandbox   bubblewrap on the host%s when it works there (the bwrap of the "
		"login PATH, probed at each deploy's connect; gitgate doctor asks now): migrate, "
		"run, start, stop and the health command, as the ssh user; where it does not, "
		"%s\n",
		s,
		d->sandbox == DEPLOY_SANDBOX_YES
		    ? "no deploy (sandbox = yes)"
		    : "they run there unconfined, and gate 1 and the record say so");
}

/* A confirmed deploy in the environment: when it may start, its canary,
 * its watch. */
static void describe_confirmation(FILE *out, const struct deploy_environment *e)
{
	struct buf hours = BUF_INIT;
	deploy_policy_hours_describe(&hours, &e->hours);
	fprintf(out, "  %-18s deploys start %s; canary:", "", hours.data);
	for (size_t i = 0; i < e->canary.n; i++)
		fprintf(out, " %u%%", e->canary.percents[i]);
	if (e->canary.n)
		fprintf(out, ", %us a step", e->canary_step_seconds);
	else
		fprintf(out, " (none)");
	if (e->watch_seconds)
		fprintf(out, "; watch %us, checked every %us, %s\n", e->watch_seconds,
			e->watch_interval_seconds,
			e->watch_rollback ? "a failure switches back" : "a failure is only told");
	else
		fprintf(out, "; no watch after gate 11\n");
	buf_free(&hours);
}

/* The logs a target's checks read. */
static void describe_logs(FILE *out, const struct deploy_target *t)
{
	for (size_t i = 0; i < t->nhealth_log_pattern; i++)
		fprintf(out, "    app log   %s must hold no line matching %s\n",
			t->health_log_file ? t->health_log_file : "(the supervised app's)",
			t->health_log_pattern[i].source);
	if (t->error_log)
		fprintf(out,
			"    errors    in %s, lines matching %s: at most %u.%02u%% of the new "
			"slot's requests, once there are %u\n",
			t->error_log, t->error_pattern[0].source, t->error_rate_max / 100,
			t->error_rate_max % 100, t->error_min_requests);
}

static void describe_target(FILE *out, const struct deploy_policy *d, const struct deploy_target *t)
{
	fprintf(out, "target %s %s: root %s (slots -blue, -green); ports %u %u\n", t->project,
		t->environment, t->root, t->ports[0], t->ports[1]);
	if (t->hosts.n) {
		fprintf(out, "    on       ");
		describe_list(out, &t->hosts, "");
		fprintf(out, "%s over SSH", t->hosts.n > 1 ? ", one at a time," : "");
		if (t->ssh_known_hosts || t->ssh_identity)
			fprintf(out, "; known hosts %s, key %s",
				t->ssh_known_hosts ? t->ssh_known_hosts : "([deploy]'s)",
				t->ssh_identity ? t->ssh_identity : "([deploy]'s)");
		fputc('\n', out);
		describe_host_sandbox(out, d, t);
	}
	if (t->sandbox_writable.n) {
		fprintf(out, "    the app may also write:");
		describe_words(out, &t->sandbox_writable);
		fputc('\n', out);
	}
	fprintf(out, "    env file  %s; required:", t->env_file ? t->env_file : "(none)");
	describe_list(out, &t->env_required, "(none)");
	fputc('\n', out);
	describe_command(out, "env_command", &t->env_command);
	const struct deploy_command *compose =
	    t->compose_command.argv ? &t->compose_command : &d->compose_command;
	if (t->compose && compose->argv)
		fprintf(out, "    compose   %s, by `%s`\n", t->compose, compose->text);
	else if (t->compose)
		fprintf(out,
			"    compose   %s, by `docker compose` where that plugin answers, else "
			"`docker-compose`\n",
			t->compose);
	const struct {
		const char *name;
		const struct deploy_command *command;
	} steps[] = {{"install", &t->install}, {"test", &t->test},	 {"lint", &t->lint},
		     {"build", &t->build},     {"migrate", &t->migrate}, {"run", &t->run},
		     {"start", &t->start},     {"stop", &t->stop}};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		describe_command(out, steps[i].name, steps[i].command);
	fprintf(out, "    switch    %s\n", t->live_switch.text);
	describe_health(out, t);
	describe_logs(out, t);
	fprintf(out, "    each command within %us\n", t->command_timeout_seconds);
}

/* Whether the pushed code's commands run in the sandbox here, and how. */
static void describe_sandbox(FILE *out, const struct deploy_policy *d)
{
	struct sandbox_choice c;
	struct buf line = BUF_INIT;
	sandbox_choose(&c, d);
	sandbox_choice_describe(&line, &c);
	fprintf(out, "\n  sandbox: %s", line.data);
	if (c.on)
		fprintf(out, "; network for gates 3-5 %s; as %s; every app may also write:",
			d->sandbox_network ? "on" : "off",
			d->sandbox_user ? d->sandbox_user : "gitgate's own user");
	if (c.on)
		describe_list(out, &d->sandbox_writable, "(nothing more)");
	buf_free(&line);
	sandbox_choice_free(&c);
}

/* What deploy time follows: [deploy], the environments, each unit's way
 * through them, and every target. */
static void deploy_describe(const struct rules *r, FILE *out)
{
	const struct deploy_policy *d = &r->deploy;
	fprintf(out, "deploy: branch %s; state dir %s; %u releases kept; lock wait %us\n",
		d->branch, d->state_dir ? d->state_dir : "BARE_REPO/gitgate", d->keep_releases,
		d->lock_wait_seconds);
	fprintf(out, "  app logs: rotated at %llu bytes, %u old kept\n", d->app_log_max_bytes,
		d->app_log_keep);
	fprintf(out, "  confirm phrase: %s\n", *d->confirm_phrase ? d->confirm_phrase : "(none)");
	fprintf(out, "  freeze:");
	for (int day = 0; day < 7; day++)
		if ((d->freeze_days >> day) & 1)
			fprintf(out, " %s", deploy_day_names[day]);
	fprintf(out, "%s in %s; emergency:", d->freeze_days ? "" : " (no day)", d->freeze_timezone);
	describe_list(out, &d->emergency_users, "(nobody)");
	fprintf(out, "\n  exclude: ");
	describe_globs(out, &d->exclude);
	fprintf(out, "\n  env placeholders:");
	describe_list(out, &d->env_placeholders, "(none)");
	fprintf(out, "\n  nginx: %s (pid file %s)", d->nginx.text, d->nginx_pid_file);
	fprintf(out, "\n  ssh: known hosts %s; key %s",
		d->ssh_known_hosts ? d->ssh_known_hosts : "(OpenSSH's own)",
		d->ssh_identity ? d->ssh_identity : "(OpenSSH's own)");
	describe_sandbox(out, d);
	fprintf(out, "\n  notify: command %s; url %s; within %us\n",
		d->notify_command.argv ? d->notify_command.text : "(none)",
		d->notify_url ? d->notify_url : "(none)", d->notify_timeout_seconds);
	fprintf(out, "environments:\n");
	for (size_t i = 0; i < d->nenvironments; i++) {
		const struct deploy_environment *e = &d->environments[i];
		fprintf(out, "  %-18s %s", e->name, e->auto_deploy ? "auto" : "not auto");
		if (e->requires)
			fprintf(out, "; requires %s", e->requires);
		fprintf(out,
			"; %s; health level %u; %s; users:", e->confirm ? "confirm" : "no confirm",
			e->health_level, e->freeze ? "freezes" : "never freezes");
		describe_list(out, &e->users, "(everyone)");
		fputc('\n', out);
		describe_confirmation(out, e);
	}
	for (size_t i = 0; i < r->nunits; i++) {
		const struct deploy_environment **envs;
		size_t n = deploy_policy_unit_environments(r, &r->units[i], &envs);
		fprintf(out, "unit %s deploys to:", r->units[i].name);
		for (size_t j = 0; j < n; j++)
			fprintf(out, "%s %s", j ? " ->" : "", envs[j]->name);
		fprintf(out, "%s\n", n ? "" : " (nowhere)");
		free(envs);
	}
	for (size_t i = 0; i < d->ntargets; i++)
		describe_target(out, d, &d->targets[i]);
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
	struct buf identity = BUF_INIT;
	identity_policy_describe(&identity, &r->push.identity);
	fprintf(out, "%s; refs to a blob or tree: %s; identity: %s\n",
		r->push.bypass_users.n ? "" : " (nobody)", severity_name(r->push.non_commit_refs),
		identity.data);
	buf_free(&identity);
	fprintf(out, "allow marker: %s; longest line scanned: %zu bytes; match limit: %u\n",
		r->allow_marker, r->max_line_bytes, r->match_limit);
	deploy_describe(r, out);
}

/* The OS user the hooks run as: the owner of the server's repository (git
 * runs its hooks as the user that receives the push), else whoever runs
 * this. NULL when neither has a name. */
static const char *hook_user(const char *gitdir)
{
	struct stat st;
	uid_t uid = gitdir && stat(gitdir, &st) == 0 ? st.st_uid : geteuid();
	struct passwd *pw = getpwuid(uid);
	return pw ? pw->pw_name : NULL;
}

/* A user list that names the hooks' OS user, who is every pusher behind a
 * shared account. Returns 1 when warned. */
static int warn_service_account(const struct strlist *list, const char *what, const char *os_user)
{
	if (!os_user || !strlist_has(list, os_user))
		return 0;
	fprintf(stderr,
		"warning: gitgate: %s names %s, the OS user the hooks run as: whenever the name "
		"falls back to the OS user, every pusher through that account is %s\n",
		what, os_user, os_user);
	return 1;
}

/* Who the user lists ([push] bypass_users, [deploy] emergency_users,
 * [environment] users) can tell apart: warnings on stderr. */
static void identity_warnings(const struct rules *r, const char *gitdir)
{
	const char *os_user = hook_user(gitdir);
	size_t lists = r->push.bypass_users.n + r->deploy.emergency_users.n;
	warn_service_account(&r->push.bypass_users, "[push] bypass_users", os_user);
	warn_service_account(&r->deploy.emergency_users, "[deploy] emergency_users", os_user);
	for (size_t i = 0; i < r->deploy.nenvironments; i++) {
		const struct deploy_environment *e = &r->deploy.environments[i];
		struct buf what = BUF_INIT;
		buf_printf(&what, "[environment %s] users", e->name);
		warn_service_account(&e->users, what.data, os_user);
		lists += e->users.n;
		buf_free(&what);
	}
	enum identity_mode mode = r->push.identity.mode;
	if (lists && (mode == IDENTITY_AUTO || mode == IDENTITY_OS))
		fprintf(stderr,
			"warning: gitgate: [push] identity is %s: %s the OS user the hooks run as "
			"(%s) is who pushed, and behind one shared account the user lists tell "
			"nobody apart; say where names come from: identity = gitolite, gitlab, "
			"gitea or env:NAME\n",
			mode == IDENTITY_AUTO ? "auto" : "os",
			mode == IDENTITY_AUTO ? "where no hosting platform names the pusher," : "",
			os_user ? os_user : "unknown");
}

/* --list KIND: the names, one a line. Units answer to their aliases too. */
static void list_names(const struct rules *r, const char *kind, FILE *out)
{
	if (!strcmp(kind, "units"))
		for (size_t i = 0; i < r->nunits; i++) {
			fprintf(out, "%s\n", r->units[i].name);
			for (size_t j = 0; j < r->units[i].aliases.n; j++)
				fprintf(out, "%s\n", r->units[i].aliases.items[j]);
		}
	else if (!strcmp(kind, "projects"))
		for (size_t i = 0; i < r->nprojects; i++)
			fprintf(out, "%s\n", r->projects[i].name);
	else
		for (size_t i = 0; i < r->deploy.nenvironments; i++)
			fprintf(out, "%s\n", r->deploy.environments[i].name);
}

int cmd_rules(int argc, char **argv)
{
	struct rules_location where = {0};
	const char *value, *list = NULL;
	for (int i = 1; i < argc; i++) {
		if (cli_option_value(argc, argv, &i, "--rules", &value)) {
			if (!value)
				return STATUS_USAGE;
			where.explicit_path = value;
		} else if (cli_option_value(argc, argv, &i, "--list", &value)) {
			if (!value || (strcmp(value, "units") && strcmp(value, "projects") &&
				       strcmp(value, "environments"))) {
				fprintf(stderr, "gitgate rules: --list units, projects or "
						"environments\n");
				return STATUS_USAGE;
			}
			list = value;
		} else {
			fprintf(stderr, "gitgate rules: unknown argument '%s'\n", argv[i]);
			return STATUS_USAGE;
		}
	}
	struct buf top = BUF_INIT, path = BUF_INIT, err = BUF_INIT;
	int status = STATUS_PASSED;
	if (cli_rules_location(&where, &top) < 0) {
		status = STATUS_USAGE;
		goto done;
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
	} else if (list) {
		list_names(&rules, list, stdout);
	} else {
		rules_describe(&rules, stdout);
		identity_warnings(&rules, where.gitdir);
	}
	rules_free(&rules);
done:
	buf_free(&top);
	buf_free(&path);
	buf_free(&err);
	return status;
}
