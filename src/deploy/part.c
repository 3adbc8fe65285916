/*
 * part: what a deploy does with one part (a project's target on a host):
 * its commands, in its sandbox, with gitgate's variables and, for the app's
 * commands, its env file's; its env file, read where it lives, its values
 * joining the job's mask; its app started and stopped; its health checked
 * at the environment's level (and gitgate health, over the live slots).
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "command.h"
#include "health.h"
#include "repo.h"
#include "run.h"

/* How many of the log's last lines a failure's detail shows. */
#define LOG_LINES_SHOWN 20

/* What a target's commands must not inherit from the hook that started the
 * deploy: git's own variables would point their git at the server's repo. */
static const char *const git_variables[] = {"GIT_DIR",
					    "GIT_WORK_TREE",
					    "GIT_INDEX_FILE",
					    "GIT_OBJECT_DIRECTORY",
					    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
					    "GIT_QUARANTINE_PATH",
					    "GIT_PUSH_OPTION_COUNT",
					    NULL};

void part_vars(struct command_vars *vars, const struct deploy_job *j, const struct part *p,
	       enum slot_color c, char *port, size_t port_size)
{
	snprintf(port, port_size, "%u", p->slot.ports[c == SLOT_GREEN]);
	*vars = (struct command_vars){.port = port,
				      .slot = c == SLOT_GREEN ? "green" : "blue",
				      .revision = j->revision,
				      .unit = j->unit->name,
				      .project = p->t->project,
				      .environment = j->env->name,
				      .root = p->t->root};
}

void part_expand(struct deploy_job *j, struct part *p, enum slot_color c, const char *word,
		 struct buf *out)
{
	char port[16];
	struct command_vars vars;
	part_vars(&vars, j, p, c, port, sizeof(port));
	const char *words[] = {word, NULL};
	char **expanded = command_expand(words, &vars);
	buf_clear(out);
	buf_adds(out, expanded[0]);
	strvec_free(expanded);
}

/* The environment a command gets: git's variables removed, the env file's
 * (for the commands that run the app) and gitgate's own added. */
char **part_environ(const struct part *p, const struct command_vars *vars, int secrets)
{
	struct strvec env = STRVEC_INIT;
	strvec_push_all(&env, git_variables);
	for (size_t i = 0; secrets && i < p->env.n; i++)
		strvec_push(&env, p->env.items[i]);
	command_add_environ(&env, vars);
	return strvec_detach(&env);
}

void log_tail(struct buf *out, const char *path)
{
	struct buf log = BUF_INIT;
	if (buf_read_file(&log, path) == 0 && log.len) {
		size_t start = log.len, lines = 0;
		while (start > 0 && lines <= LOG_LINES_SHOWN)
			if (log.data[--start] == '\n' && start + 1 < log.len)
				lines++;
		buf_printf(out, "\n%s", log.data + start + (log.data[start] == '\n'));
	}
	buf_free(&log);
}

/* argv (consumed) in the job's sandbox: a command of gates 3-5 writing only
 * its release dir, or the app's (app) in its slot dir, on the part's host
 * in the sandbox chosen there. NULL with why in err: not to be run. */
static char **sandboxed(struct deploy_job *j, const struct part *p, char **argv, const char *dir,
			int app, int detached, struct buf *err)
{
	const struct host *there = app ? p->host : j->here;
	struct sandbox_call c = {.choice = &there->sandbox,
				 .host = there->sandbox_host,
				 .policy = &j->rules->deploy,
				 .rules = j->rules,
				 .state_dir = j->site->state_dir,
				 .repo_dir = git_repository_path(j->site->repo),
				 .app = app ? p->t : NULL,
				 .dir = dir,
				 .detached = detached};
	return sandbox_wrap(&c, argv, err);
}

/* Runs one of a target's commands: in the export (install, test, lint,
 * build), or, on_target, where the app runs (migrate, start, stop, a switch
 * command: with the env file's variables, on the part's host when it has
 * one). Returns 0 when it ran and exited 0, or is not set (the caller
 * asks cmd->argv when that matters), -1 when it failed (why in detail,
 * with the log's last lines). */
int command_run(struct deploy_job *j, struct part *p, const struct deploy_command *cmd,
		const char *cwd, enum slot_color c, int on_target, struct buf *detail)
{
	if (!cmd->argv)
		return 0;
	char port[16];
	struct command_vars vars;
	part_vars(&vars, j, p, c, port, sizeof(port));
	char **argv = command_expand((const char *const *)cmd->argv, &vars);
	/* The switch command is the admin's; every other one runs pushed code. */
	if (cmd != &p->t->live_switch.command) {
		struct buf slot = BUF_INIT;
		slot_dir(&slot, &p->slot, c);
		argv = sandboxed(j, p, argv, on_target ? slot.data : cwd, on_target, 0, detail);
		buf_free(&slot);
		if (!argv) {
			buf_printf(detail, " (%s: %s)", p->label.data, cmd->text);
			return 0;
		}
	}
	char **env = part_environ(p, &vars, on_target);
	struct run_output log = {.kind = RUN_OUT_APPEND, .path = j->log.data, .mask = &j->mask};
	struct host_command hc = {.argv = (const char *const *)argv,
				  .env = (const char *const *)env,
				  .cwd = cwd,
				  .out = log,
				  .err = log,
				  .limit_ms = p->t->command_timeout_seconds * 1000,
				  .grace_ms = GRACE_MS};
	struct run_result result = {0};
	int ok = host_run(on_target ? p->host : j->here, &hc, &result, detail) == 0 &&
		 !result.code && !result.timed_out;
	if (!ok && !detail->len)
		run_describe(detail, &result);
	if (!ok) {
		buf_printf(detail, " (%s: %s)", p->label.data, cmd->text);
		log_tail(detail, j->log.data);
	}
	strvec_free(argv);
	strvec_free(env);
	return ok ? 0 : -1;
}

/* A part on a host is asked only through its connection: never this
 * machine's file or port of the same name. */
static int part_unreachable(const struct part *p, struct buf *err)
{
	if (p->host)
		return 0;
	buf_printf(err, "%s: not connected", p->label.data);
	return 1;
}

/* One health check's spec for a part's slot, and what it holds. */
struct part_check {
	struct health_spec spec;
	char **url, **argv, **env;
	const char *urls[1];
	const char **deps;
	struct buf cwd;
	int jailed; /* the health command, if any, is in its sandbox */
};

/* The spec of the environment's level against url ($PORT the slot's port),
 * the health command in the slot's folder, with the target's variables. */
static void check_prepare(struct part_check *pc, struct deploy_job *j, struct part *p,
			  const struct deploy_environment *env, const char *url_template,
			  enum slot_color c, struct buf *detail)
{
	char port[16];
	struct command_vars vars;
	part_vars(&vars, j, p, c, port, sizeof(port));
	/* $REVISION is what the slot checked runs: the deploy's revision in the
	 * slot it prepares, the one already there in the live slot (gate 9, a
	 * switch back). */
	if (c != p->next && p->state.slots[c].revision)
		vars.revision = p->state.slots[c].revision;
	const char *url_words[] = {url_template ? url_template : "", NULL};
	*pc = (struct part_check){.url = command_expand(url_words, &vars), .cwd = BUF_INIT};
	pc->urls[0] = pc->url[0];
	pc->deps = xcalloc(p->t->health_dependencies.n + 1, sizeof(*pc->deps));
	size_t ndeps = 0;
	for (size_t i = 0; i < p->t->health_dependencies.n; i++) {
		const char *value = envfile_get(&p->env, p->t->health_dependencies.items[i]);
		if (value && *value)
			pc->deps[ndeps++] = value;
	}
	pc->argv = p->t->health_command.argv
		       ? command_expand((const char *const *)p->t->health_command.argv, &vars)
		       : NULL;
	pc->env = part_environ(p, &vars, 1);
	slot_dir(&pc->cwd, &p->slot, c);
	pc->jailed =
	    !pc->argv || (pc->argv = sandboxed(j, p, pc->argv, pc->cwd.data, 1, 0, detail)) != NULL;
	const struct deploy_target *t = p->t;
	pc->spec = (struct health_spec){
	    .level = (int)(j->level ? j->level : env->health_level),
	    .port = p->slot.ports[c == SLOT_GREEN],
	    .urls = pc->urls,
	    .nurls = url_template ? 1 : 0,
	    .status = t->health_status,
	    .body = t->nhealth_body ? t->health_body[0].code : NULL,
	    .timeout_ms = t->health_timeout_ms,
	    .latency_ms = t->health_latency_ms,
	    .dependency_urls = pc->deps,
	    .ndeps = ndeps,
	    .command = (const char *const *)pc->argv,
	    .command_env = (const char *const *)pc->env,
	    .command_cwd = pc->cwd.data,
	    .command_log = j->log.data,
	    .command_log_mask = &j->mask,
	    .command_limit_ms = t->command_timeout_seconds * 1000,
	    .successes = t->health_successes,
	    .retries = t->health_retries,
	    .interval_ms = t->health_interval_ms,
	    .deadline_ms = t->health_deadline_seconds * 1000,
	};
	if (pc->spec.level > 1 && !pc->spec.nurls)
		pc->spec.level = 1;
}

static void check_free(struct part_check *pc)
{
	strvec_free(pc->url);
	strvec_free(pc->argv);
	strvec_free(pc->env);
	free(pc->deps);
	buf_free(&pc->cwd);
}

/* A check's result where it is asked for: why it failed in detail, the
 * table of gitgate health, its JSON report, the deploy's record. */
static void check_said(struct deploy_job *j, const struct part *p,
		       const struct deploy_environment *env, enum slot_color c,
		       const struct health_report *report, int ok, struct buf *detail)
{
	if (!detail->len && !ok && report->unreachable)
		buf_printf(detail, "the connection to %s was lost: the app could not be asked",
			   p->address);
	else if (!detail->len && !ok)
		for (size_t i = 0; i < report->n; i++)
			if (!report->items[i].ok)
				buf_printf(detail, "%s%s: %s", detail->len ? "; " : "",
					   report->items[i].what,
					   report->items[i].why ? report->items[i].why : "failed");
	if (!ok && p->address && !report->unreachable)
		buf_printf(detail, " (on %s)", p->address);
	if (j->table) {
		fprintf(j->table, "%s in %s (%s slot):\n", p->label.data, env->name, slot_name(c));
		health_report_text(j->table, report);
	}
	if (j->reports) {
		json_t *one = health_report_json(report);
		json_object_set_new(one, "project", json_string(p->t->project));
		json_object_set_new(one, "environment", json_string(env->name));
		if (p->address)
			json_object_set_new(one, "host", json_string(p->address));
		json_array_append_new(j->reports, one);
	}
	/* A watch's record keeps its checks its own way (watch.c). */
	json_t *health = j->record ? json_object_get(j->record, "health") : NULL;
	if (health) {
		json_t *checks = health_report_checks_json(report);
		json_array_extend(health, checks);
		json_decref(checks);
	}
}

/* A target's health check at the environment's level against url ($PORT
 * the slot's port), the health command run in the slot's folder. Returns
 * 0 when it passed, -1 with why in detail. */
int health_check(struct deploy_job *j, struct part *p, const struct deploy_environment *env,
		 const char *url_template, enum slot_color c, struct buf *detail)
{
	struct part_check pc;
	check_prepare(&pc, j, p, env, url_template, c, detail);
	struct health_report report = {0};
	int ok = pc.jailed && !part_unreachable(p, detail) &&
		 host_check(p->host, &pc.spec, pc.deps, &report, detail) == 0 && report.passed;
	/* Level 3 reads the new slot's app log too: nothing it logged since it
	 * started may match health_log_pattern. */
	if (ok && pc.spec.level >= 3 && c == p->next && app_log_check(j, p, detail) < 0)
		ok = 0;
	health_report_mask(&report, &j->mask);
	check_said(j, p, env, c, &report, ok, detail);
	health_report_free(&report);
	check_free(&pc);
	return ok ? 0 : -1;
}

void part_reach_checks(struct deploy_job *j, struct part *p)
{
	if (!p->host || p->live == SLOT_NONE)
		return;
	const char *templates[] = {live_url_of(p), p->t->health_url};
	const enum slot_color slots[] = {p->live, p->next};
	char *urls[2] = {NULL, NULL};
	for (int k = 0; k < 2; k++) {
		char port[16];
		struct command_vars vars;
		part_vars(&vars, j, p, slots[k], port, sizeof(port));
		const char *words[] = {templates[k], NULL};
		char **url = templates[k] ? command_expand(words, &vars) : NULL;
		urls[k] = url && url[0] ? xstrdup(url[0]) : NULL;
		strvec_free(url);
	}
	host_reach(p->host, (const char *const *)urls, 2);
	free(urls[0]);
	free(urls[1]);
}

/* The URL gate 11 checks: the live URL, through the switch, or the health
 * URL at the live slot's port. */
const char *live_url_of(const struct part *p)
{
	return p->t->live_url ? p->t->live_url : p->t->health_url;
}

/* The part's env file, read where the part runs. */
static int part_read_env_file(struct part *p, struct buf *err)
{
	if (part_unreachable(p, err))
		return -1;
	struct buf text = BUF_INIT;
	int found, rc = host_read_file(p->host, p->t->env_file, &text, &found, err);
	if (rc == 0 && !found) {
		buf_printf(err, "cannot read the env file %s", p->t->env_file);
		if (p->address)
			buf_printf(err, " on %s", p->address);
		buf_adds(err, ": it is not there");
		rc = -1;
	}
	if (rc == 0)
		rc = envfile_read_text(&p->env, text.data, text.len, p->t->env_file, err);
	buf_free(&text);
	return rc;
}

/* The env file, then the env_command's variables over it; every value
 * read joins the job's mask, even when a later step fails: every reader of
 * an env file (or of another source of variables) adds them there. */
int part_read_env(struct part *p, struct buf *err)
{
	int rc = p->t->env_file ? part_read_env_file(p, err) : 0;
	if (rc == 0 && p->t->env_command.argv)
		rc = env_command_read(p, err);
	if (p->mask)
		mask_add_assignments(p->mask, (const char *const *)p->env.items, p->env.n);
	return rc;
}

/* A fresh export of the revision for the part, its install run there; the
 * exclusions wait for the build. Returns 0, or -1 with why in detail. */
int part_export(struct deploy_job *j, struct part *p, struct buf *detail)
{
	struct release_options opts = {.releases_dir = p->releases_dir.data,
				       .exclude = &j->rules->deploy.exclude,
				       .defer_exclusions = 1,
				       .limit_ms = p->t->command_timeout_seconds * 1000};
	if (release_export(&p->release, j->site->repo, j->revision, &opts, detail) < 0)
		return -1;
	p->exported = 1;
	return command_run(j, p, &p->t->install, p->release.dir, p->next, 0, detail);
}

/* The part's release as its host receives it (base_dir: where the base
 * is here), on the newest release its slots hold as the base when that
 * export is still here: a remote host then gets only what differs. */
static void part_release(const struct part *p, struct host_release *r, struct buf *base_dir)
{
	const struct release *rel = &p->primary->release;
	const char *base = NULL;
	for (int c = 0; c < 2; c++) {
		const char *id = p->state.slots[c].release;
		if (id && (!base || strcmp(id, base) > 0))
			base = id;
	}
	struct stat st;
	if (base)
		buf_printf(base_dir, "%s/%s", p->releases_dir.data, base);
	if (base && (lstat(base_dir->data, &st) < 0 || !S_ISDIR(st.st_mode)))
		base = NULL;
	*r = (struct host_release){.root = p->t->root,
				   .dir = rel->dir,
				   .id = rel->id,
				   .base_dir = base ? base_dir->data : NULL,
				   .base_id = base,
				   .limit_ms = p->t->command_timeout_seconds * 1000};
}

void part_offer(struct part *p)
{
	if (!p->host)
		return;
	struct host_release r;
	struct buf base_dir = BUF_INIT;
	part_release(p, &r, &base_dir);
	host_offer(p->host, &r);
	buf_free(&base_dir);
}

int part_supervised(const struct part *p)
{
	return p->t->run.argv && !p->t->compose;
}

/* The part's release made available on its host (there: where it is
 * now). Given a slot (not SLOT_NONE), the slot's supervised app is stopped
 * and the slot pointed at it and it is recorded there in the same step
 * (slot_assign). How it travelled goes
 * into the deploy log and sent ("argo on HOST: release ID sent ...";
 * empty when it did not travel), for the step's detail once it passed.
 * Returns 0, or -1 with why in detail. */
int part_receive(struct deploy_job *j, struct part *p, enum slot_color slot, struct buf *there,
		 struct buf *sent, struct buf *detail)
{
	struct host_release r;
	struct buf base_dir = BUF_INIT, said = BUF_INIT, err = BUF_INIT;
	part_release(p, &r, &base_dir);
	int rc = slot == SLOT_NONE ? host_receive(p->host, &r, there, &said, detail)
				   : slot_assign(&p->slot, slot, &r, part_supervised(p),
						 j->revision, there, &said, detail);
	buf_clear(sent);
	if (rc == 0 && said.len) {
		buf_printf(sent, "%s: release %s %s", p->label.data, r.id, said.data);
		if (state_append_jsonl(j->log.data, sent->data, &err) < 0)
			fprintf(j->out, "warning: gitgate: %s\n", err.data);
	}
	buf_free(&base_dir);
	buf_free(&said);
	buf_free(&err);
	return rc;
}

/* Stops the app of slot c: supervised (run), its Compose project, or
 * through the user's stop command. Returns 0, or -1 with why in err. */
int app_stop(struct deploy_job *j, struct part *p, enum slot_color c, struct buf *err)
{
	if (p->t->run.argv || p->t->compose)
		return slot_stop(&p->slot, c, err);
	if (p->t->stop.argv)
		return command_run(j, p, &p->t->stop, NULL, c, 1, err);
	return 0;
}

void stop_next(struct deploy_job *j, struct part *p)
{
	struct buf err = BUF_INIT;
	if (!p->started)
		return;
	app_stop(j, p, p->next, &err);
	p->started = 0;
	buf_free(&err);
}

/* Starts the app in the next slot on its port, with the env file:
 * supervised (run), its Compose project, or through the user's start
 * command. Returns 0, or -1 with why in detail. */
int app_start(struct deploy_job *j, struct part *p, struct buf *detail)
{
	char port[16];
	struct command_vars vars;
	part_vars(&vars, j, p, p->next, port, sizeof(port));
	struct buf dir = BUF_INIT;
	slot_dir(&dir, &p->slot, p->next);
	int ok;
	if (p->t->compose) {
		ok = part_compose_up(j, p, detail) == 0;
	} else if (p->t->run.argv) {
		char **argv = command_expand((const char *const *)p->t->run.argv, &vars);
		argv = sandboxed(j, p, argv, dir.data, 1, 1, detail);
		char **env = part_environ(p, &vars, 1);
		struct slot_command cmd = {.argv = (const char *const *)argv,
					   .env = (const char *const *)env};
		ok = argv && slot_start(&p->slot, p->next, &cmd, detail) == 0;
		strvec_free(argv);
		strvec_free(env);
	} else {
		ok = command_run(j, p, &p->t->start, dir.data, p->next, 1, detail) == 0;
	}
	buf_free(&dir);
	p->started = ok;
	return ok ? 0 : -1;
}

enum gitgate_status deploy_health(const struct deploy_site *site, const struct deploy_request *req,
				  unsigned level, json_t *reports, FILE *out)
{
	int json = reports != NULL;
	struct deploy_job j = {.site = site,
			       .req = req,
			       .rules = site->rules,
			       .out = out,
			       .level = level,
			       .table = json ? NULL : out,
			       .reports = reports};
	struct buf err = BUF_INIT;
	enum gitgate_status status = job_open(&j, &err);
	if (status == STATUS_PASSED && job_load(&j, &err) < 0)
		status = STATUS_FAULT;
	if (status != STATUS_PASSED)
		fprintf(stderr, "error: gitgate: %s\n", err.data);
	for (size_t i = 0; status == STATUS_PASSED && i < j.nparts; i++) {
		struct part *p = &j.parts[i];
		struct buf detail = BUF_INIT;
		if (p->live == SLOT_NONE) {
			if (!json)
				fprintf(out, "%s in %s: nothing is live yet\n", p->label.data,
					j.env->name);
			status = STATUS_REJECTED;
		} else if (part_connect(&j, p, &detail) < 0) {
			fprintf(stderr, "error: gitgate: %s\n", detail.data);
			status = STATUS_REJECTED;
		} else {
			if ((p->t->env_file || p->t->env_command.argv) &&
			    part_read_env(p, &detail) < 0)
				fprintf(stderr, "warning: gitgate: %s\n", detail.data);
			buf_clear(&detail);
			snprintf(j.revision, sizeof(j.revision), "%s",
				 p->state.slots[p->live].revision ? p->state.slots[p->live].revision
								  : "");
			if (health_check(&j, p, j.env, live_url_of(p), p->live, &detail) < 0)
				status = STATUS_REJECTED;
		}
		buf_free(&detail);
	}
	buf_free(&err);
	job_close(&j);
	return status;
}
