/*
 * deploy: see deploy.h.
 *
 * A deploy is a job (struct job) over the unit's targets in the
 * environment (struct part, one a project). The numbered gates run from a
 * table in order; each returns passed, failed or skipped with a detail, and
 * the runner prints and records it. The steps after the gates (slot,
 * migrate, switch) and gate 11 are one function each, because what they
 * undo depends on how far they got.
 *
 * Paths under the state directory:
 *   targets/PROJECT-ENV/   the slots' state, pid files and app logs (slot.h)
 *   releases/PROJECT-ENV/  the exports (release.h)
 *   logs/ID.log            every command's output for deploy ID
 *   locks/UNIT-ENV.lock    one deploy of a unit into an environment at a time
 *   history.jsonl          the records (history.h)
 *
 * The values of every env file the job reads (part_read_env) join the
 * job's mask: from then on, commands write into logs/ID.log through it, and
 * what the job prints, records and sends is masked (mask.h).
 */
#include "deploy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "deploy_policy.h"
#include "envfile.h"
#include "escape.h"
#include "health.h"
#include "history.h"
#include "mask.h"
#include "notify.h"
#include "proc.h"
#include "push.h"
#include "push_gate.h"
#include "push_log.h"
#include "release.h"
#include "repo.h"
#include "run.h"
#include "remote.h"
#include "sandbox.h"
#include "slot.h"
#include "ssh.h"
#include "state.h"
#include "switch.h"

#define GATES 11
#define GRACE_MS 5000
#define LOG_LINES_SHOWN 20

struct conn;

/* One project's target in this deploy, on one of its hosts. */
struct part {
	const struct deploy_target *t;
	const char *host;     /* USER@HOST[:PORT], or NULL: this machine */
	size_t step;	      /* the host's place in the target's hosts: the rolling order */
	struct ssh *ssh;      /* the host's connection, once job_connect made it */
	struct conn *conn;    /* the same, with its sandbox */
	struct part *primary; /* the target's first part, whose release every host gets */
	struct buf label;     /* "argo", or "argo on root@10.0.0.2:22" */
	struct buf state_dir, releases_dir;
	struct buf remote_releases; /* ROOT-releases on the host */
	struct slot_target slot;
	struct slot_state state;
	enum slot_color live, next;
	struct release release;
	int exported;
	struct envfile env;
	struct mask *mask; /* the job's: the env file's values join it when read */
	int started;	   /* the next slot's app was started by this deploy */
	int switched;
	int stranded; /* switching back failed: its pending mark stays for reconcile */
};

/* One host's connection, shared by the parts on it. */
struct conn {
	const char *host;
	struct ssh ssh;
	/* Whether the app's commands run in the sandbox there, probed once. */
	struct remote_sandbox jail;
	struct sandbox_choice sandbox;
};

struct job {
	const struct deploy_site *site;
	const struct deploy_request *req;
	const struct rules *rules;
	const struct unit *unit;
	const struct deploy_environment *env;
	struct part *parts;
	size_t nparts;
	size_t step, nsteps; /* the host step going live, and how many there are */
	struct conn **conns; /* each apart: parts point at them */
	size_t nconns, cap_conns;
	char revision[GIT_OID_HEXSZ + 1];
	const char *from; /* the revision live before, or NULL */
	struct buf id, log;
	struct mask mask; /* the values it must never show, log, record or send */
	json_t *record;
	FILE *out;
	unsigned level;	 /* gitgate health --level: instead of the environment's */
	FILE *table;	 /* gitgate health: each check's table is printed here */
	json_t *reports; /* gitgate health --format json: each target's report */

	/* Whether the pushed code's commands run in the sandbox. */
	struct sandbox_choice sandbox;
};

static void part_init(struct job *j, struct part *p, const struct deploy_target *t,
		      const struct deploy_environment *env, size_t step);
static int part_load(struct part *p, struct buf *err);
static void part_free(struct part *p);
static int part_connect(struct job *j, struct part *p, struct buf *err);

void deploy_target_state_dir(struct buf *out, const struct deploy_site *site,
			     const struct deploy_target *t, const char *host)
{
	buf_printf(out, "%s/targets/%s-%s%s%s", site->state_dir, t->project, t->environment,
		   host ? "@" : "", host ? host : "");
}

int deploy_live_at(const struct deploy_site *site, const struct unit *unit,
		   const struct deploy_environment *env, const char *revision)
{
	const struct deploy_target **targets;
	size_t n = deploy_policy_unit_targets(site->rules, unit, env, &targets);
	int live = n > 0;
	for (size_t i = 0; live && i < n; i++) {
		const struct strlist *hosts = &targets[i]->hosts;
		/* Every host of a remote target. */
		for (size_t h = 0; live && h < (hosts->n ? hosts->n : 1); h++) {
			struct buf dir = BUF_INIT, err = BUF_INIT;
			deploy_target_state_dir(&dir, site, targets[i],
						hosts->n ? hosts->items[h] : NULL);
			struct slot_target slot = {.root = targets[i]->root, .state_dir = dir.data};
			struct slot_state st;
			live = slot_state_load(&st, &slot, &err) == 0 && st.live != SLOT_NONE &&
			       st.slots[st.live].revision &&
			       !strcmp(st.slots[st.live].revision, revision);
			slot_state_free(&st);
			buf_free(&dir);
			buf_free(&err);
		}
	}
	free(targets);
	return live;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static int make_dir(const char *path, struct buf *err)
{
	if (mkdir(path, 0775) == 0 || errno == EEXIST)
		return 0;
	buf_printf(err, "cannot make %s: %s", path, strerror(errno));
	return -1;
}

/* ---- Commands ------------------------------------------------------------ */

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

static void vars_for(struct command_vars *vars, const struct job *j, const struct part *p,
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

/* The environment a command gets: git's variables removed, the env file's
 * (for the commands that run the app) and gitgate's own added. */
static char **command_environ(const struct part *p, const struct command_vars *vars, int secrets)
{
	char **env = NULL;
	size_t n = 0;
	for (const char *const *g = git_variables; *g; g++) {
		env = xrealloc(env, (n + 2) * sizeof(*env));
		env[n++] = xstrdup(*g);
		env[n] = NULL;
	}
	for (size_t i = 0; secrets && i < p->env.n; i++) {
		env = xrealloc(env, (n + 2) * sizeof(*env));
		env[n++] = xstrdup(p->env.items[i]);
		env[n] = NULL;
	}
	command_add_environ(&env, &n, vars);
	return env;
}

/* The last lines of the deploy log, for a failure's detail. */
static void log_tail(struct buf *out, const char *path)
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
static char **sandboxed(struct job *j, const struct part *p, char **argv, const char *dir, int app,
			int detached, struct buf *err)
{
	const struct conn *there = app ? p->conn : NULL;
	struct sandbox_call c = {.choice = there ? &there->sandbox : &j->sandbox,
				 .host = there ? &there->jail.host : NULL,
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
 * one). Returns 1 when it ran and exited 0, 0 when it failed (why in
 * detail, with the log's last lines), -1 when it is not set. */
static int command_run(struct job *j, struct part *p, const struct deploy_command *cmd,
		       const char *cwd, enum slot_color c, int on_target, struct buf *detail)
{
	if (!cmd->argv)
		return -1;
	char port[16];
	struct command_vars vars;
	vars_for(&vars, j, p, c, port, sizeof(port));
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
	char **env = command_environ(p, &vars, on_target);
	struct run_output log = {.kind = RUN_OUT_APPEND, .path = j->log.data, .mask = &j->mask};
	struct run_options opts = {.argv = (const char *const *)argv,
				   .env = (const char *const *)env,
				   .cwd = cwd,
				   .out = log,
				   .err = log,
				   .limit_ms = p->t->command_timeout_seconds * 1000,
				   .grace_ms = GRACE_MS};
	struct remote_command remote = {0};
	struct run_result result = {0};
	int ok = 1;
	if (on_target && p->ssh) {
		ok = remote_command_make(&remote, p->ssh, (const char *const *)argv,
					 (const char *const *)env, cwd, opts.limit_ms, detail) == 0;
		remote_command_options(&opts, &remote);
		opts.env = NULL;
	}
	ok = ok && run(&result, &opts, detail) == 0 && !result.code && !result.timed_out;
	if (!ok && !detail->len && p->ssh && result.code == 255 && !result.timed_out)
		buf_printf(detail, "the connection to %s failed or was lost (ssh exited with 255)",
			   p->host);
	else if (!ok && !detail->len)
		run_describe(detail, &result);
	if (!ok) {
		buf_printf(detail, " (%s: %s)", p->label.data, cmd->text);
		log_tail(detail, j->log.data);
	}
	remote_command_free(&remote);
	command_free(argv);
	command_free(env);
	return ok;
}

/* ---- Health ---------------------------------------------------------------- */

/* A part on a host is asked only through its connection: never this
 * machine's file or port of the same name. */
static int part_unreachable(const struct part *p, struct buf *err)
{
	if (!p->host || p->ssh)
		return 0;
	buf_printf(err, "%s: not connected", p->label.data);
	return 1;
}

/* health_spec.reachable for a part on a host: its connection's master. */
static int connection_alive(void *ssh)
{
	return ssh_alive(ssh);
}

/* A target's health check at the environment's level against url ($PORT
 * the slot's port), the health command run in the slot's folder. */
static int health_check(struct job *j, struct part *p, const struct deploy_environment *env,
			const char *url_template, enum slot_color c, struct buf *detail)
{
	char port[16];
	struct command_vars vars;
	vars_for(&vars, j, p, c, port, sizeof(port));
	/* $REVISION is what the slot checked runs: the deploy's revision in the
	 * slot it prepares, the one already there in the live slot (gate 9, a
	 * switch back). */
	if (c != p->next && p->state.slots[c].revision)
		vars.revision = p->state.slots[c].revision;
	const char *url_words[] = {url_template ? url_template : "", NULL};
	char **url = command_expand(url_words, &vars);
	const char *urls[] = {url[0]};
	const char **deps = xcalloc(p->t->health_dependencies.n + 1, sizeof(*deps));
	size_t ndeps = 0;
	for (size_t i = 0; i < p->t->health_dependencies.n; i++) {
		const char *value = envfile_get(&p->env, p->t->health_dependencies.items[i]);
		if (value && *value)
			deps[ndeps++] = value;
	}
	char **argv = p->t->health_command.argv
			  ? command_expand((const char *const *)p->t->health_command.argv, &vars)
			  : NULL;
	char **cmd_env = command_environ(p, &vars, 1);
	struct buf cwd = BUF_INIT;
	slot_dir(&cwd, &p->slot, c);
	int jailed = !argv || (argv = sandboxed(j, p, argv, cwd.data, 1, 0, detail)) != NULL;
	struct health_spec spec = {
	    .level = (int)(j->level ? j->level : env->health_level),
	    .port = p->slot.ports[c == SLOT_GREEN],
	    .urls = urls,
	    .nurls = url_template ? 1 : 0,
	    .status = p->t->health_status,
	    .body = p->t->nhealth_body ? p->t->health_body[0].code : NULL,
	    .timeout_ms = p->t->health_timeout_ms,
	    .latency_ms = p->t->health_latency_ms,
	    .dependency_urls = deps,
	    .ndeps = ndeps,
	    .command = (const char *const *)argv,
	    .command_env = (const char *const *)cmd_env,
	    .command_cwd = cwd.data,
	    .command_log = j->log.data,
	    .command_log_mask = &j->mask,
	    .command_limit_ms = p->t->command_timeout_seconds * 1000,
	    .successes = p->t->health_successes,
	    .retries = p->t->health_retries,
	    .interval_ms = p->t->health_interval_ms,
	    .deadline_ms = p->t->health_deadline_seconds * 1000,
	};
	if (spec.level > 1 && !spec.nurls)
		spec.level = 1;
	if (p->ssh) {
		spec.reachable = connection_alive;
		spec.reachable_ctx = p->ssh;
	}
	struct remote_health there = {0};
	struct health_report report = {0};
	int ok = jailed && !part_unreachable(p, detail) &&
		 (!p->ssh || remote_health_prepare(&there, p->ssh, &spec, deps, detail) == 0) &&
		 health_run(&report, &spec, detail) == 0 && report.passed;
	health_report_mask(&report, &j->mask);
	if (!detail->len && !ok && report.unreachable)
		buf_printf(detail, "the connection to %s was lost: the app could not be asked",
			   p->host);
	else if (!detail->len && !ok)
		for (size_t i = 0; i < report.n; i++)
			if (!report.items[i].ok)
				buf_printf(detail, "%s%s: %s", detail->len ? "; " : "",
					   report.items[i].what,
					   report.items[i].why ? report.items[i].why : "failed");
	if (!ok && p->host && !report.unreachable)
		buf_printf(detail, " (on %s)", p->host);
	if (j->table) {
		fprintf(j->table, "%s in %s (%s slot):\n", p->label.data, env->name, slot_name(c));
		health_report_text(j->table, &report);
	}
	if (j->reports) {
		json_t *one = health_report_json(&report);
		json_object_set_new(one, "project", json_string(p->t->project));
		json_object_set_new(one, "environment", json_string(env->name));
		if (p->host)
			json_object_set_new(one, "host", json_string(p->host));
		json_array_append_new(j->reports, one);
	}
	if (j->record) {
		json_t *checks = health_report_checks_json(&report);
		json_array_extend(json_object_get(j->record, "health"), checks);
		json_decref(checks);
	}
	health_report_free(&report);
	remote_health_free(&there);
	command_free(url);
	command_free(argv);
	command_free(cmd_env);
	free(deps);
	buf_free(&cwd);
	return ok;
}

/* The URL gate 11 checks: the live URL, through the switch, or the health
 * URL at the live slot's port. */
static const char *live_url_of(const struct part *p)
{
	return p->t->live_url ? p->t->live_url : p->t->health_url;
}

/* ---- The gates -------------------------------------------------------------- */

/* Gate 1's word on a sandbox, here or on host: in its detail, and aloud
 * when it runs bare (a passed gate's detail is only recorded). Returns 1
 * when it refuses the deploy. */
static int sandbox_said(struct job *j, const struct sandbox_choice *c, const char *host,
			struct buf *detail)
{
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

static enum gate_result gate_identify(struct job *j, struct buf *detail)
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
	int refuse = sandbox_said(j, &j->sandbox, NULL, detail);
	for (size_t i = 0; i < j->nconns; i++)
		refuse |= sandbox_said(j, &j->conns[i]->sandbox, j->conns[i]->host, detail);
	return refuse ? GATE_FAILED : GATE_PASSED;
}

static enum gate_result gate_scope(struct job *j, struct buf *detail)
{
	buf_printf(detail, "one unit, %s:", j->unit->name);
	for (size_t i = 0; i < j->nparts; i++)
		if (j->parts[i].primary == &j->parts[i])
			buf_printf(detail, " %s", j->parts[i].t->project);
	return GATE_PASSED;
}

/* The part's env file, read where the part runs. */
static int part_read_env_file(struct part *p, struct buf *err)
{
	if (part_unreachable(p, err))
		return -1;
	if (!p->ssh)
		return envfile_read(&p->env, p->t->env_file, err);
	struct buf text = BUF_INIT;
	int found = remote_read_file(p->ssh, p->t->env_file, &text, err);
	if (found == 0)
		buf_printf(err, "cannot read the env file %s on %s: it is not there",
			   p->t->env_file, p->host);
	int rc =
	    found > 0 ? envfile_read_text(&p->env, text.data, text.len, p->t->env_file, err) : -1;
	buf_free(&text);
	return rc;
}

/* part_read_env_file, and its values join the job's mask: every reader of
 * an env file (or of another source of variables) adds them there. */
static int part_read_env(struct part *p, struct buf *err)
{
	int rc = part_read_env_file(p, err);
	if (rc == 0 && p->mask)
		mask_add_assignments(p->mask, (const char *const *)p->env.items, p->env.n);
	return rc;
}

static enum gate_result gate_environment(struct job *j, struct buf *detail)
{
	enum gate_result result = GATE_SKIPPED;
	const struct strlist *ph = &j->rules->deploy.env_placeholders;
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (!p->t->env_file)
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
	return result;
}

/* Is the finding the deployed unit's to answer for? One in another unit's
 * project is not (that unit's own deploy judges it); one in this unit's
 * projects, the shared packages or a file of no project is. */
static int finding_is_units(const struct job *j, const struct finding *f)
{
	const struct project *project = f->path ? rules_project_of(j->rules, f->path) : NULL;
	return !project || project->unit == j->unit;
}

/* Gate 8: the scans over what the deploy brings, the same engine as
 * `gitgate check`, and no bypass that a push used carries over. */
static enum gate_result gate_code_quality(struct job *j, struct buf *detail)
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

/* A target's command by its offset in deploy_target (COMMAND(test)). */
#define COMMAND(field) offsetof(struct deploy_target, field)

static const struct deploy_command *part_command(const struct part *p, size_t offset)
{
	return (const struct deploy_command *)((const char *)p->t + offset);
}

/* Is p its target's first part, the one whose export every host gets? The
 * gates that build run once a target, for it. */
static int is_primary(const struct part *p)
{
	return p->primary == p;
}

static enum gate_result gate_export_and_run(struct job *j, const char *what, size_t offset,
					    struct buf *detail)
{
	enum gate_result result = GATE_SKIPPED;
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (!is_primary(p))
			continue;
		const struct deploy_command *cmd = part_command(p, offset);
		int ran = command_run(j, p, cmd, p->release.dir, p->next, 0, detail);
		if (ran == 0)
			return GATE_FAILED;
		if (ran > 0)
			result = GATE_PASSED;
	}
	buf_printf(detail, result == GATE_SKIPPED ? "no %s command" : "%s passed", what);
	return result;
}

/* A fresh export of the revision for the part, its install run there; the
 * exclusions wait for the build. Returns 0, or -1 with why in detail. */
static int part_export(struct job *j, struct part *p, struct buf *detail)
{
	struct release_options opts = {.releases_dir = p->releases_dir.data,
				       .exclude = &j->rules->deploy.exclude,
				       .defer_exclusions = 1,
				       .limit_ms = p->t->command_timeout_seconds * 1000};
	if (release_export(&p->release, j->site->repo, j->revision, &opts, detail) < 0)
		return -1;
	p->exported = 1;
	return command_run(j, p, &p->t->install, p->release.dir, p->next, 0, detail) == 0 ? -1 : 0;
}

/* Gate 3 starts by exporting the revision for every project, and runs each
 * project's install before its tests. */
static enum gate_result gate_tests(struct job *j, struct buf *detail)
{
	for (size_t i = 0; i < j->nparts; i++)
		if (is_primary(&j->parts[i]) && part_export(j, &j->parts[i], detail) < 0)
			return GATE_FAILED;
	return gate_export_and_run(j, "tests", COMMAND(test), detail);
}

static enum gate_result gate_lint(struct job *j, struct buf *detail)
{
	return gate_export_and_run(j, "lint", COMMAND(lint), detail);
}

/* Gate 5 ends with the exclusions: what install and build made stays. */
static enum gate_result gate_build(struct job *j, struct buf *detail)
{
	enum gate_result result = gate_export_and_run(j, "build", COMMAND(build), detail);
	for (size_t i = 0; result != GATE_FAILED && i < j->nparts; i++)
		if (is_primary(&j->parts[i]) &&
		    release_apply_exclusions(&j->parts[i].release, &j->rules->deploy.exclude,
					     detail) < 0)
			result = GATE_FAILED;
	return result;
}

/* Gate 6: the environment this one requires runs this revision, healthy. */
static enum gate_result gate_staging(struct job *j, struct buf *detail)
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
			if (ok && t->env_file)
				part_read_env(&there, &err);
			if (ok)
				ok = health_check(j, &there, req, live_url_of(&there), there.live,
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
static enum gate_result gate_before(struct job *j, struct buf *detail)
{
	int any = 0;
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (p->live == SLOT_NONE)
			continue;
		any = 1;
		if (!health_check(j, p, j->env, live_url_of(p), p->live, detail)) {
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

static enum gate_result gate_confirmed(struct job *j, struct buf *detail)
{
	buf_adds(detail, j->env->confirm ? "the phrase was given" : "not required here");
	return j->env->confirm ? GATE_PASSED : GATE_SKIPPED;
}

struct gate {
	int number;
	const char *name;
	enum gate_result (*run)(struct job *j, struct buf *detail);
	/* the project's command it runs (a dry run says it instead), as the
	 * offset of a deploy_command in deploy_target, or 0 */
	size_t command;
};

/* In the order they run; numbered as the team's rules number them. */
static const struct gate gates[] = {
    {1, "identify", gate_identify, 0},	      {2, "scope", gate_scope, 0},
    {7, "environment", gate_environment, 0},  {8, "code-quality", gate_code_quality, 0},
    {3, "tests", gate_tests, COMMAND(test)},  {4, "lint", gate_lint, COMMAND(lint)},
    {5, "build", gate_build, COMMAND(build)}, {6, "staging", gate_staging, 0},
    {9, "health-before", gate_before, 0},     {10, "confirmation", gate_confirmed, 0},
};

/* A dry run's word for a gate that runs commands: what it would run. */
static enum gate_result gate_described(struct job *j, const struct gate *g, struct buf *detail)
{
	for (size_t i = 0; i < j->nparts; i++) {
		const struct part *p = &j->parts[i];
		const struct deploy_command *cmd = part_command(p, g->command);
		buf_printf(detail, "%s%s: ", i ? "; " : "", p->t->project);
		if (g->command == COMMAND(test))
			buf_printf(detail, "export %.12s, install `%s`, then ", j->revision,
				   p->t->install.argv ? p->t->install.text : "");
		if (cmd->argv)
			buf_printf(detail, "`%s`", cmd->text);
		else
			buf_printf(detail, "no %s command", g->name);
	}
	return GATE_SKIPPED;
}

static void gate_report(struct job *j, int number, const char *name, enum gate_result result,
			double seconds, const char *detail)
{
	/* Steps between the gates (slot, switch) and refusals before them have
	 * no number of the team's. A detail may hold what a command printed. */
	struct buf line = BUF_INIT, err = BUF_INIT;
	char *masked = mask_string(&j->mask, detail);
	detail = masked;
	if (number)
		buf_printf(&line, "gate %2d/%d  ", number, GATES);
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

/* ---- Slots, switch, gate 11 ------------------------------------------------ */

/* Stops the app of slot c: supervised (run), or through the user's stop
 * command. Returns 0, or -1 with why in err. */
static int app_stop(struct job *j, struct part *p, enum slot_color c, struct buf *err)
{
	if (p->t->run.argv)
		return slot_stop(&p->slot, c, err);
	if (p->t->stop.argv)
		return command_run(j, p, &p->t->stop, NULL, c, 1, err) == 1 ? 0 : -1;
	return 0;
}

static void stop_next(struct job *j, struct part *p)
{
	struct buf err = BUF_INIT;
	if (!p->started)
		return;
	app_stop(j, p, p->next, &err);
	p->started = 0;
	buf_free(&err);
}

/* Starts the app in the next slot on its port, with the env file:
 * supervised (run) or through the user's start command. */
static int app_start(struct job *j, struct part *p, struct buf *detail)
{
	char port[16];
	struct command_vars vars;
	vars_for(&vars, j, p, p->next, port, sizeof(port));
	struct buf dir = BUF_INIT;
	slot_dir(&dir, &p->slot, p->next);
	int ok;
	if (p->t->run.argv) {
		char **argv = command_expand((const char *const *)p->t->run.argv, &vars);
		argv = sandboxed(j, p, argv, dir.data, 1, 1, detail);
		char **env = command_environ(p, &vars, 1);
		struct slot_command cmd = {.argv = (const char *const *)argv,
					   .env = (const char *const *)env};
		ok = argv && slot_start(&p->slot, p->next, &cmd, detail) == 0;
		command_free(argv);
		command_free(env);
	} else {
		ok = command_run(j, p, &p->t->start, dir.data, p->next, 1, detail) == 1;
	}
	buf_free(&dir);
	return p->started = ok;
}

/* Assigns the release to the inactive slot, starts it on its port with the
 * env file, checks it at the environment's level, and migrates (a deploy;
 * a rollback never does). */
static int slot_prepare(struct job *j, struct part *p, int migrate, struct buf *detail)
{
	pid_t pid;
	int running = slot_running(&p->slot, p->next, &pid, detail);
	if (running > 0 && slot_stop(&p->slot, p->next, detail) < 0)
		return 0;
	const struct release *rel = &p->primary->release;
	struct buf there = BUF_INIT;
	if (p->ssh) {
		/* The export travels as a tar stream into ROOT-releases there. */
		buf_printf(&there, "%s/%s", p->remote_releases.data, rel->id);
		if (remote_receive_release(p->ssh, rel->dir, p->remote_releases.data, rel->id,
					   p->t->command_timeout_seconds * 1000, detail) < 0) {
			buf_free(&there);
			return 0;
		}
	}
	int assigned = slot_assign(&p->slot, p->next, rel->id, p->ssh ? there.data : rel->dir,
				   j->revision, detail) == 0;
	buf_free(&there);
	if (!assigned)
		return 0;
	struct buf dir = BUF_INIT;
	slot_dir(&dir, &p->slot, p->next);
	int ok = app_start(j, p, detail);
	if (ok)
		ok = health_check(j, p, j->env, p->t->health_url, p->next, detail);
	if (ok && migrate)
		ok = command_run(j, p, &p->t->migrate, dir.data, p->next, 1, detail) != 0;
	buf_free(&dir);
	return ok;
}

/*
 * What this deploy has started on a target and not confirmed yet is marked
 * in the target's state: TARGET/pending.json names the deploy, its process
 * (pid, start time, and whether it leads a session: the worker does), the
 * stage ("slot": the next slot's app may run; "switch": traffic may have
 * moved to it) and the slot to go back to. If the process dies before the
 * mark is cleared, deploy_reconcile ends what it left running, undoes the
 * switch, stops the unconfirmed app and records the deploy as abandoned.
 */
static void pending_path(struct buf *out, const struct part *p)
{
	buf_printf(out, "%s/pending.json", p->state_dir.data);
}

static int pending_mark(struct job *j, const struct part *p, const char *stage, struct buf *err)
{
	struct proc_info me;
	struct buf path = BUF_INIT;
	pending_path(&path, p);
	json_t *mark = json_pack(
	    "{s:s, s:s, s:o, s:s?, s:s, s:s, s:s, s:o, s:i, s:I, s:b, s:s, s:s, s:s}", "deploy",
	    j->id.data, "kind", json_string_value(json_object_get(j->record, "kind")), "user",
	    push_log_text(j->req->user), "user_source", j->req->user_source, "unit", j->unit->name,
	    "environment", j->env->name, "revision", j->revision, "from",
	    j->from ? json_string(j->from) : json_null(), "pid", (int)getpid(), "start",
	    (json_int_t)(proc_read(getpid(), &me) == 0 ? me.start : 0), "session",
	    getsid(0) == getpid(), "stage", stage, "slot", slot_name(p->next), "back_to",
	    p->live == SLOT_NONE ? "none" : slot_name(p->live));
	char *text = mark ? json_dumps(mark, JSON_COMPACT) : NULL;
	int rc = -1;
	if (text)
		rc = state_replace(path.data, text, strlen(text), err);
	else
		buf_printf(err, "cannot make the mark %s", path.data);
	free(text);
	json_decref(mark);
	buf_free(&path);
	return rc;
}

static void pending_clear(const struct part *p)
{
	if (p->stranded)
		return;
	struct buf path = BUF_INIT;
	pending_path(&path, p);
	unlink(path.data);
	buf_free(&path);
}

/* How a switch ended. Traffic moving and the state saying so are two
 * writes: the second can fail (a full disk) after the first took effect,
 * and then what serves is not what the state names. */
enum switch_outcome {
	SWITCH_FAILED,	   /* traffic did not move */
	SWITCH_DONE,	   /* traffic moved, and the state says so */
	SWITCH_UNRECORDED, /* traffic moved; the state still names the slot before */
};

static enum switch_outcome switch_to(struct job *j, struct part *p, enum slot_color c,
				     struct buf *detail)
{
	const struct deploy_switch *sw = &p->t->live_switch;
	const struct deploy_policy *d = &j->rules->deploy;
	struct buf dir = BUF_INIT;
	slot_dir(&dir, &p->slot, c);
	int rc = -1;
	if (sw->kind == DEPLOY_SWITCH_NGINX) {
		struct switch_nginx opts = {.ssh = p->ssh,
					    .file = sw->path,
					    .nginx = (const char *const *)d->nginx.argv,
					    .pid_file = d->nginx_pid_file,
					    .limit_ms = p->t->command_timeout_seconds * 1000};
		rc = switch_nginx(&opts, p->slot.ports[c == SLOT_GREEN], detail);
	} else if (sw->kind == DEPLOY_SWITCH_LINK) {
		rc = switch_link(p->slot.ssh, sw->path, dir.data, detail);
	} else if (sw->kind == DEPLOY_SWITCH_COMMAND) {
		rc = command_run(j, p, &sw->command, NULL, c, 1, detail) == 1 ? 0 : -1;
	}
	buf_free(&dir);
	if (rc < 0)
		return SWITCH_FAILED;
	if (slot_set_live(&p->slot, c, detail) < 0) {
		buf_printf(detail,
			   " (%s serves from its %s slot now, but that could not be recorded)",
			   p->label.data, slot_name(c));
		return SWITCH_UNRECORDED;
	}
	return SWITCH_DONE;
}

/* Puts every switched part back on its old slot and checks it there. */
static void switch_back(struct job *j, struct buf *detail)
{
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (p->switched && p->live == SLOT_NONE)
			buf_printf(detail,
				   "; %s stays on the new release: nothing served there before",
				   p->label.data);
		if (!p->switched || p->live == SLOT_NONE)
			continue;
		struct buf why = BUF_INIT;
		enum switch_outcome back = switch_to(j, p, p->live, &why);
		if (back == SWITCH_FAILED) {
			buf_printf(detail,
				   "; switching %s back failed (gitgate deploy --reconcile tries "
				   "again): %s",
				   p->label.data, why.data);
			p->stranded = 1;
		} else if (back == SWITCH_UNRECORDED) {
			/* Traffic is back; the mark stays so that reconcile
			 * records it once the state can be written. */
			buf_printf(detail, "; %s is back on %s: %s", p->label.data,
				   slot_name(p->live), why.data);
			p->stranded = 1;
		} else if (!health_check(j, p, j->env, live_url_of(p), p->live, &why))
			buf_printf(detail, "; %s's old slot is unhealthy too: %s", p->label.data,
				   why.data);
		else
			buf_printf(detail, "; %s is back on %s, healthy", p->label.data,
				   slot_name(p->live));
		p->switched = 0;
		buf_free(&why);
	}
}

/* After a failure: every next slot this deploy started is stopped, but
 * one that went live where nothing served before (a first deploy, on an
 * earlier host of a rolling one, or by a failed gate 11): it still serves,
 * and there is nothing to go back to. */
static void stop_unconfirmed(struct job *j)
{
	for (size_t i = 0; i < j->nparts; i++)
		if (!(j->parts[i].switched && j->parts[i].live == SLOT_NONE))
			stop_next(j, &j->parts[i]);
}

/* Is the part going live in this step (its host's turn)? */
static int in_step(const struct job *j, const struct part *p)
{
	return p->step == j->step;
}

/* The parts of this step switch to their next slot, then gate 11 checks
 * them live; if a switch or the check fails, every switched part goes back
 * (the hosts of earlier steps too). */
static enum history_outcome switch_and_confirm(struct job *j)
{
	struct timespec t0;
	struct buf detail = BUF_INIT;
	int ok = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; ok && i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (!in_step(j, p))
			continue;
		ok = pending_mark(j, p, "switch", &detail) == 0;
		if (ok) {
			/* A switch that took effect is undone by switch_back,
			 * recorded or not: never left on a slot then stopped. */
			enum switch_outcome so = switch_to(j, p, p->next, &detail);
			p->switched = so != SWITCH_FAILED;
			ok = so == SWITCH_DONE;
		}
	}
	if (!ok) {
		switch_back(j, &detail);
		gate_report(j, 0, "switch", GATE_FAILED, seconds_since(&t0), detail.data);
		stop_unconfirmed(j);
		for (size_t i = 0; i < j->nparts; i++)
			pending_clear(&j->parts[i]);
		buf_free(&detail);
		return j->step ? OUTCOME_ROLLED_BACK : OUTCOME_FAILED;
	}
	gate_report(j, 0, "switch", GATE_PASSED, seconds_since(&t0), NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; ok && i < j->nparts; i++)
		if (in_step(j, &j->parts[i]))
			ok = health_check(j, &j->parts[i], j->env, live_url_of(&j->parts[i]),
					  j->parts[i].next, &detail);
	enum history_outcome outcome = OUTCOME_DEPLOYED;
	if (!ok) {
		switch_back(j, &detail);
		outcome = OUTCOME_ROLLED_BACK;
		stop_unconfirmed(j);
	} else if (j->nsteps > 1) {
		for (size_t i = 0; i < j->nparts; i++)
			if (in_step(j, &j->parts[i]))
				buf_printf(&detail, "%s%s", detail.len ? "; " : "",
					   j->parts[i].label.data);
	}
	gate_report(j, 11, "health-after", ok ? GATE_PASSED : GATE_FAILED, seconds_since(&t0),
		    detail.data);
	for (size_t i = 0; i < j->nparts; i++)
		pending_clear(&j->parts[i]);
	buf_free(&detail);
	return outcome;
}

/* How a part's next slot is made ready to go live: a deploy's
 * slot_prepare, a rollback's warm_up. Returns 1 when it is, else 0 with why
 * in detail. */
typedef int (*prepare_fn)(struct job *j, struct part *p, int migrate, struct buf *detail);

/* One step of live_steps: its parts' slots made ready, switched, confirmed.
 * A slot that fails here undoes the hosts that went live in earlier steps.
 * note, when given, is said once the slots are ready. */
static enum history_outcome live_step(struct job *j, prepare_fn prepare, int migrate,
				      const char *note)
{
	struct timespec t0;
	struct buf detail = BUF_INIT;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int ok = 1;
	for (size_t i = 0; ok && i < j->nparts; i++)
		if (in_step(j, &j->parts[i]))
			ok = pending_mark(j, &j->parts[i], "slot", &detail) == 0 &&
			     prepare(j, &j->parts[i], migrate, &detail);
	if (ok && note)
		buf_adds(&detail, note);
	else if (!ok && j->step)
		switch_back(j, &detail);
	gate_report(j, 0, "slot", ok ? GATE_PASSED : GATE_FAILED, seconds_since(&t0), detail.data);
	if (ok && note)
		fprintf(j->out, "    %s\n", detail.data);
	buf_free(&detail);
	if (!ok) {
		stop_unconfirmed(j);
		for (size_t i = 0; i < j->nparts; i++)
			pending_clear(&j->parts[i]);
		return j->step ? OUTCOME_ROLLED_BACK : OUTCOME_FAILED;
	}
	return switch_and_confirm(j);
}

/* The steps after the gates (or a rollback's), a host at a time when the
 * targets have several (rolling): each host's slots made ready (migrated
 * when migrate, on the first host only: one database), switched and
 * confirmed by gate 11 before the next host's turn. A failure on host k
 * stops there, and hosts 1..k go back to their old slots. */
static enum history_outcome live_steps(struct job *j, prepare_fn prepare, int migrate,
				       const char *note)
{
	enum history_outcome outcome = OUTCOME_DEPLOYED;
	for (j->step = 0; outcome == OUTCOME_DEPLOYED && j->step < j->nsteps; j->step++) {
		if (j->nsteps > 1)
			fprintf(j->out, "host %zu of %zu\n", j->step + 1, j->nsteps);
		outcome = live_step(j, prepare, migrate && j->step == 0, note);
	}
	return outcome;
}

static enum history_outcome go_live(struct job *j, int migrate)
{
	return live_steps(j, slot_prepare, migrate, NULL);
}

/* ---- The job ---------------------------------------------------------------- */

static int cheap_refusal(struct job *j, struct buf *detail, int *number, const char **name)
{
	const struct deploy_request *req = j->req;
	const char *phrase = j->rules->deploy.confirm_phrase;
	int frozen = 0;
	*number = 10;
	*name = "confirmation";
	if (j->env->confirm && (!req->phrase || !phrase || strcmp(req->phrase, phrase))) {
		buf_printf(detail,
			   "%s needs the exact phrase \"%s\" (git push -o \"confirm=%s\", or "
			   "gitgate deploy ... --confirm \"%s\")",
			   j->env->name, phrase, phrase, phrase);
		return 1;
	}
	*number = 0;
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
	*name = "freeze";
	if (deploy_policy_is_frozen(j->rules, j->env, time(NULL), &frozen, detail) < 0)
		return 1;
	if (frozen && !req->emergency) {
		buf_printf(detail,
			   "no deploys to %s today ([deploy] freeze_days); an emergency goes "
			   "through: -o \"emergency=REASON\" or --emergency REASON, by a user in "
			   "[deploy] emergency_users",
			   j->env->name);
		return 1;
	}
	return 0;
}

/* Target t in env on its step-th host (this machine when it has none):
 * its paths and slots. Its state is read by part_load, once the deploy
 * holds its lock. */
static void part_init(struct job *j, struct part *p, const struct deploy_target *t,
		      const struct deploy_environment *env, size_t step)
{
	*p = (struct part){.t = t, .step = step, .primary = p, .mask = &j->mask, .live = SLOT_NONE};
	p->host = t->hosts.n ? t->hosts.items[step] : NULL;
	buf_adds(&p->label, t->project);
	if (p->host)
		buf_printf(&p->label, " on %s", p->host);
	deploy_target_state_dir(&p->state_dir, j->site, t, p->host);
	buf_printf(&p->releases_dir, "%s/releases/%s-%s", j->site->state_dir, t->project,
		   env->name);
	buf_printf(&p->remote_releases, "%s-releases", t->root);
	p->slot = (struct slot_target){.root = t->root,
				       .state_dir = p->state_dir.data,
				       .ports = {t->ports[0], t->ports[1]},
				       .limit_ms = t->command_timeout_seconds * 1000,
				       .grace_ms = GRACE_MS,
				       .log_max_bytes = j->rules->deploy.app_log_max_bytes,
				       .log_keep = j->rules->deploy.app_log_keep};
}

/* The part's slots as its state says now: which is live, and so which is
 * next. Returns 0, or -1 with why in err. */
static int part_load(struct part *p, struct buf *err)
{
	slot_state_free(&p->state);
	int rc =
	    make_dir(p->state_dir.data, err) == 0 ? slot_state_load(&p->state, &p->slot, err) : -1;
	p->live = rc == 0 ? p->state.live : SLOT_NONE;
	p->next = p->live == SLOT_NONE ? SLOT_BLUE : slot_other(p->live);
	return rc;
}

static void part_free(struct part *p)
{
	if (p->exported && is_primary(p))
		release_free(&p->release);
	slot_state_free(&p->state);
	envfile_free(&p->env);
	buf_free(&p->label);
	buf_free(&p->state_dir);
	buf_free(&p->releases_dir);
	buf_free(&p->remote_releases);
}

/* The sandbox on c's host, probed once for the connection (not at all with
 * sandbox = no), and the record's word on it. Returns 0, or -1 with why in
 * err: the host could not be asked. */
static int conn_sandbox(struct job *j, struct conn *c, struct buf *err)
{
	const struct deploy_policy *d = &j->rules->deploy;
	if (d->sandbox != DEPLOY_SANDBOX_NO && remote_sandbox_open(&c->jail, &c->ssh, err) < 0)
		return -1;
	sandbox_choose_host(&c->sandbox, d, &c->jail.host);
	if (j->record) {
		json_t *hosts = json_object_get(j->record, "sandbox_hosts");
		if (!hosts)
			json_object_set_new(j->record, "sandbox_hosts", hosts = json_object());
		struct buf word = BUF_INIT;
		sandbox_choice_record(&word, &c->sandbox);
		json_object_set_new(hosts, c->host, json_string(word.data));
		buf_free(&word);
	}
	return 0;
}

/* The part's host connection: the job's, opened at the first need.
 * Returns 0 (nothing to do on this machine), or -1 with why in err. */
static int part_connect(struct job *j, struct part *p, struct buf *err)
{
	if (!p->host || p->ssh)
		return 0;
	for (size_t i = 0; i < j->nconns && !p->ssh; i++)
		if (!strcmp(j->conns[i]->host, p->host)) {
			p->ssh = &j->conns[i]->ssh;
			p->conn = j->conns[i];
		}
	if (!p->ssh) {
		const struct deploy_policy *d = &j->rules->deploy;
		struct buf dir = BUF_INIT;
		buf_printf(&dir, "%s/ssh", j->site->state_dir);
		struct ssh_options o = {.known_hosts = p->t->ssh_known_hosts ? p->t->ssh_known_hosts
									     : d->ssh_known_hosts,
					.identity = p->t->ssh_identity ? p->t->ssh_identity
								       : d->ssh_identity,
					.control_dir = dir.data};
		struct conn *c = xcalloc(1, sizeof(*c));
		int rc = ssh_open(&c->ssh, p->host, &o, err);
		buf_free(&dir);
		if (rc < 0) {
			free(c);
			return -1;
		}
		c->host = p->host;
		*ARRAY_PUSH(j->conns, j->nconns, j->cap_conns) = c;
		p->ssh = &c->ssh;
		p->conn = c;
		if (conn_sandbox(j, c, err) < 0)
			return -1;
	}
	p->slot.ssh = p->ssh;
	return 0;
}

/* Connects every part to its host (a step of its own in the record, when
 * there is any remote host). Returns 0, or -1 (reported). */
static int job_connect(struct job *j)
{
	struct timespec t0;
	struct buf detail = BUF_INIT;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int ok = 1, any = 0;
	for (size_t i = 0; ok && i < j->nparts; i++) {
		any = any || j->parts[i].host;
		ok = part_connect(j, &j->parts[i], &detail) == 0;
	}
	if (any) {
		if (ok)
			for (size_t i = 0; i < j->nconns; i++)
				buf_printf(&detail, "%s%s", i ? ", " : "", j->conns[i]->host);
		gate_report(j, 0, "connect", ok ? GATE_PASSED : GATE_FAILED, seconds_since(&t0),
			    detail.data);
	}
	buf_free(&detail);
	return ok ? 0 : -1;
}

/* A part per target and host, in the order they go live: every target's
 * first host, then every target's second, ... (coupled projects on one
 * step switch together). Nothing of their state is read yet: job_load. */
static int parts_open(struct job *j, const struct deploy_target **targets, size_t n,
		      struct buf *err)
{
	struct buf dir = BUF_INIT;
	const char *subdirs[] = {"", "/targets", "/releases", "/logs", "/locks"};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		buf_clear(&dir);
		buf_printf(&dir, "%s%s", j->site->state_dir, subdirs[i]);
		rc = make_dir(dir.data, err);
	}
	buf_free(&dir);
	size_t total = 0;
	j->nsteps = 1;
	for (size_t i = 0; i < n; i++) {
		size_t hosts = targets[i]->hosts.n ? targets[i]->hosts.n : 1;
		total += hosts;
		if (hosts > j->nsteps)
			j->nsteps = hosts;
	}
	j->parts = xcalloc(total, sizeof(*j->parts));
	for (size_t step = 0; step < j->nsteps; step++)
		for (size_t i = 0; i < n; i++) {
			if (step >= (targets[i]->hosts.n ? targets[i]->hosts.n : 1))
				continue;
			struct part *p = &j->parts[j->nparts++];
			part_init(j, p, targets[i], j->env, step);
			p->primary = step ? &j->parts[i] : p;
		}
	return rc;
}

/* What every part's slots hold now, and so the revision live before this
 * job (from). A job that changes slots calls it holding its lock: what it
 * decides from the state is what the state is once nobody else can change
 * it. Returns 0, or -1 with why in err. */
static int job_load(struct job *j, struct buf *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < j->nparts; i++)
		rc = part_load(&j->parts[i], err);
	j->from = rc == 0 && j->parts[0].live != SLOT_NONE
		      ? j->parts[0].state.slots[j->parts[0].live].revision
		      : NULL;
	if (j->record)
		history_record_revisions(j->record, j->from, j->revision);
	return rc;
}

static void parts_close(struct job *j)
{
	for (size_t i = 0; i < j->nparts; i++)
		part_free(&j->parts[i]);
	free(j->parts);
	for (size_t i = 0; i < j->nconns; i++) {
		ssh_close(&j->conns[i]->ssh);
		remote_sandbox_free(&j->conns[i]->jail);
		sandbox_choice_free(&j->conns[i]->sandbox);
		free(j->conns[i]);
	}
	free(j->conns);
}

int deploy_resolve_revision(const struct deploy_site *site, const char *name,
			    char out[GIT_OID_HEXSZ + 1], struct buf *err)
{
	const struct rules *r = site->rules;
	struct buf spec = BUF_INIT;
	if (name)
		buf_adds(&spec, name);
	else
		deploy_policy_branch_ref(r, &spec);
	git_object *obj = NULL, *commit = NULL;
	int rc = git_revparse_single(&obj, site->repo, spec.data) == 0 &&
			 git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) == 0
		     ? 0
		     : -1;
	if (rc == 0)
		git_oid_tostr(out, GIT_OID_HEXSZ + 1, git_object_id(commit));
	else
		buf_printf(err, "'%s' is not a commit here", spec.data);
	git_object_free(commit);
	git_object_free(obj);
	buf_free(&spec);
	return rc;
}

static int resolve_revision(struct job *j, const char *name, struct buf *err)
{
	return deploy_resolve_revision(j->site, name, j->revision, err);
}

static void closing_block(struct job *j, enum history_outcome outcome)
{
	fprintf(j->out,
		"\n%s %s: %s to %s at %.12s: %s\n"
		"  log:      gitgate logs %s\n"
		"  history:  gitgate history %s %s\n",
		json_string_value(json_object_get(j->record, "kind")), j->id.data, j->unit->name,
		j->env->name, j->revision, history_outcome_name(outcome), j->id.data, j->unit->name,
		j->env->name);
	if (outcome == OUTCOME_DEPLOYED && j->from)
		fprintf(j->out, "  rollback: gitgate rollback %s %s (the old slot is still up)\n",
			j->unit->name, j->env->name);
}

/* Keeps [deploy] keep_releases exports of each target, and always both
 * slots' (the warm one is the instant rollback). A failure to prune is
 * said, never a failed deploy. */
static void prune_releases(struct job *j)
{
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		struct slot_state now;
		struct buf err = BUF_INIT;
		size_t removed = 0;
		if (slot_state_load(&now, &p->slot, &err) == 0) {
			const char *in_use[] = {now.slots[0].release, now.slots[1].release};
			unsigned keep = j->rules->deploy.keep_releases;
			/* The exports here once a target; each host's releases there. */
			if ((is_primary(p) && release_prune(p->releases_dir.data, keep, in_use, 2,
							    &removed, &err) < 0) ||
			    (p->ssh && remote_prune_releases(p->ssh, p->remote_releases.data, keep,
							     in_use, 2, &removed, &err) < 0))
				fprintf(j->out, "warning: gitgate: %s\n", err.data);
			slot_state_free(&now);
		}
		buf_free(&err);
	}
}

/* Finds the unit, the environment and their targets, and loads what each
 * target runs. Returns 0, or a status with the reason printed. */
static enum gitgate_status job_open(struct job *j, struct buf *err)
{
	const struct project *project = rules_find_project(j->rules, j->req->unit);
	j->unit = project ? project->unit : rules_find_unit(j->rules, j->req->unit);
	j->env = deploy_policy_find_environment(j->rules, j->req->environment);
	const struct deploy_target **targets = NULL;
	size_t n =
	    j->unit && j->env ? deploy_policy_unit_targets(j->rules, j->unit, j->env, &targets) : 0;
	if (!j->unit || !j->env || !n) {
		buf_adds(err, !j->unit	? "no such unit or project in rules.ini"
			      : !j->env ? "no such environment in rules.ini"
					: "this unit has no target in that environment");
		free(targets);
		return STATUS_USAGE;
	}
	int rc = parts_open(j, targets, n, err);
	free(targets);
	if (rc < 0)
		return STATUS_FAULT;
	history_new_id(&j->id);
	buf_printf(&j->log, "%s/logs/%s.log", j->site->state_dir, j->id.data);
	sandbox_choose(&j->sandbox, &j->rules->deploy);
	return STATUS_PASSED;
}

static void job_start_record(struct job *j, const char *kind)
{
	j->record = history_record_new(j->id.data, kind, j->unit->name,
				       j->unit->projects.n == 1 ? j->parts[0].t->project : NULL,
				       j->env->name, j->req->user, j->req->user_source, j->from,
				       j->revision);
	json_object_set_new(j->record, "options",
			    json_pack("{s:b}", "phrase", j->req->phrase != NULL));
	if (j->req->emergency)
		json_object_set_new(j->record, "emergency", push_log_text(j->req->emergency));
	struct buf sandbox = BUF_INIT;
	sandbox_choice_record(&sandbox, &j->sandbox);
	json_object_set_new(j->record, "sandbox", json_string(sandbox.data));
	buf_free(&sandbox);
	fprintf(j->out, "%s %s: %s in %s, to %.12s\n", kind, j->id.data, j->unit->name,
		j->env->name, j->revision);
}

static int job_lock(struct job *j, struct state_lock *lock, struct buf *detail)
{
	struct buf path = BUF_INIT;
	struct state_holder me = {.pid = getpid(),
				  .user = (char *)j->req->user,
				  .revision = j->revision,
				  .since = time(NULL)};
	buf_printf(&path, "%s/locks/%s-%s.lock", j->site->state_dir, j->unit->name, j->env->name);
	int rc = state_lock(lock, path.data, &me, j->rules->deploy.lock_wait_seconds, detail);
	buf_free(&path);
	if (rc < 0)
		gate_report(j, 0, "lock", GATE_FAILED, 0, detail->data);
	return rc;
}

/* job_load, its failure a step of the record. Returns 0 or -1. */
static int job_load_reported(struct job *j)
{
	struct buf err = BUF_INIT;
	int rc = job_load(j, &err);
	if (rc < 0)
		gate_report(j, 0, "state", GATE_FAILED, 0, err.data);
	buf_free(&err);
	return rc;
}

static void job_close(struct job *j)
{
	sandbox_choice_free(&j->sandbox);
	json_decref(j->record);
	parts_close(j);
	mask_free(&j->mask);
	buf_free(&j->id);
	buf_free(&j->log);
}

/* Records the outcome, says it, and closes the job. Returns the command's
 * status: a record that cannot be written is a fault. */
static enum gitgate_status job_end(struct job *j, enum history_outcome outcome)
{
	struct buf err = BUF_INIT;
	enum gitgate_status status = outcome == OUTCOME_DEPLOYED ? STATUS_PASSED : STATUS_REJECTED;
	history_record_finish(j->record, outcome);
	history_record_mask(j->record, &j->mask);
	if (history_append(j->site->state_dir, j->record, &err) < 0) {
		fprintf(j->out, "error: gitgate: %s\n", err.data);
		status = STATUS_FAULT;
	} else {
		closing_block(j, outcome);
	}
	notify_send(&j->rules->deploy, j->record, j->log.data, j->out);
	buf_free(&err);
	job_close(j);
	return status;
}

/* One deploy among those deploy_run runs together. */
struct step {
	struct job j;
	struct state_lock lock;
	int opened, locked, failed;
	size_t gate; /* the next gate of the table to run */
	enum history_outcome outcome;
	enum gitgate_status status; /* when it could not be opened */
};

#define NGATES (sizeof(gates) / sizeof(gates[0]))
/* Gates 1, 2, 7, 8 and 3: what every unit passes before any deploys, when
 * several deploy together. */
#define GATES_BEFORE_ANY_DEPLOY 5

/* Opens the deploy, records its start and takes its lock, unless a cheap
 * refusal stops it first. Returns 1 when the gates may run. */
static int step_begin(struct step *s, const struct deploy_site *site,
		      const struct deploy_request *req, FILE *out)
{
	struct job *j = &s->j;
	*j = (struct job){.site = site, .req = req, .rules = site->rules, .out = out};
	struct buf err = BUF_INIT, detail = BUF_INIT;
	s->status = job_open(j, &err);
	if (s->status == STATUS_PASSED && resolve_revision(j, req->revision, &err) < 0)
		s->status = STATUS_USAGE;
	if (s->status != STATUS_PASSED) {
		fprintf(out, "error: gitgate: %s\n", err.data);
		job_close(j);
	} else {
		s->opened = 1;
		job_start_record(j, "deploy");
		s->outcome = OUTCOME_REFUSED;
		int number;
		const char *name;
		if (cheap_refusal(j, &detail, &number, &name)) {
			gate_report(j, number, name, GATE_FAILED, 0, detail.data);
		} else if (req->dry_run) {
			s->outcome = OUTCOME_DEPLOYED;
			fprintf(out, "dry run: nothing is run, locked, switched or recorded\n");
			/* Its read-only gates read remote hosts too. */
			s->failed = job_load_reported(j) < 0 || job_connect(j) < 0;
		} else if (job_lock(j, &s->lock, &detail) == 0) {
			s->locked = 1;
			s->outcome = OUTCOME_FAILED;
			s->failed = job_load_reported(j) < 0 || job_connect(j) < 0;
		}
	}
	s->failed = s->failed || s->outcome == OUTCOME_REFUSED || (!s->locked && !req->dry_run);
	buf_free(&err);
	buf_free(&detail);
	return !s->failed;
}

/* Runs the gates from the next one up to (not including) the until-th.
 * Returns 1 when none failed. */
static int step_gates(struct step *s, size_t until)
{
	struct buf detail = BUF_INIT;
	for (; !s->failed && s->gate < until; s->gate++) {
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		buf_clear(&detail);
		const struct gate *g = &gates[s->gate];
		enum gate_result result = s->j.req->dry_run && g->command
					      ? gate_described(&s->j, g, &detail)
					      : g->run(&s->j, &detail);
		gate_report(&s->j, gates[s->gate].number, gates[s->gate].name, result,
			    seconds_since(&t0), detail.data);
		s->failed = result == GATE_FAILED;
	}
	buf_free(&detail);
	return !s->failed;
}

/* What a dry run would do after the gates. */
static void dry_run_plan(struct job *j)
{
	for (size_t i = 0; i < j->nparts; i++) {
		const struct part *p = &j->parts[i];
		const struct deploy_command *app = p->t->run.argv ? &p->t->run : &p->t->start;
		fprintf(j->out,
			"would start %s in its %s slot on port %u (`%s`), check it, %s%s%s"
			"switch (%s), and check it live (gate 11)\n",
			p->label.data, slot_name(p->next), p->slot.ports[p->next == SLOT_GREEN],
			app->argv ? app->text : "", p->t->migrate.argv ? "migrate (`" : "",
			p->t->migrate.argv ? p->t->migrate.text : "",
			p->t->migrate.argv ? "`), " : "",
			p->t->live_switch.text ? p->t->live_switch.text : "none");
	}
}

/* The rest of the gates, the slot, the switch and gate 11. */
static void step_finish(struct step *s)
{
	if (!step_gates(s, NGATES))
		return;
	if (s->j.req->dry_run) {
		dry_run_plan(&s->j);
		return;
	}
	s->outcome = go_live(&s->j, 1);
	if (s->outcome == OUTCOME_DEPLOYED)
		prune_releases(&s->j);
}

static enum gitgate_status step_end(struct step *s)
{
	if (s->locked)
		state_unlock(&s->lock);
	if (!s->opened)
		return s->status;
	if (!s->j.req->dry_run)
		return job_end(&s->j, s->outcome);
	int would = !s->failed && s->outcome != OUTCOME_REFUSED;
	fprintf(s->j.out, "\ndry run: %s to %s at %.12s %s\n", s->j.unit->name, s->j.env->name,
		s->j.revision, would ? "would deploy" : "would not deploy");
	job_close(&s->j);
	return would ? STATUS_PASSED : STATUS_REJECTED;
}

enum gitgate_status deploy_run(const struct deploy_site *site, const struct deploy_request *reqs,
			       size_t n, FILE *out, unsigned char *deployed)
{
	struct step *steps = xcalloc(n, sizeof(*steps));
	const char *blocked_by = NULL;
	if (n > 1)
		fprintf(out,
			"gitgate: %zu units: the gates up to the tests for every one of them "
			"first, then each deploys in turn\n",
			n);
	for (size_t i = 0; n > 1 && i < n; i++)
		if (!(step_begin(&steps[i], site, &reqs[i], out) &&
		      step_gates(&steps[i], GATES_BEFORE_ANY_DEPLOY)) &&
		    !blocked_by)
			blocked_by = reqs[i].unit;
	enum gitgate_status worst = STATUS_PASSED;
	for (size_t i = 0; i < n; i++) {
		struct step *s = &steps[i];
		if (n == 1)
			step_begin(s, site, &reqs[i], out);
		if (!s->failed && blocked_by) {
			struct buf detail = BUF_INIT;
			buf_printf(
			    &detail,
			    "not deployed: every unit must pass its tests before any deploys, "
			    "and %s did not",
			    blocked_by);
			gate_report(&s->j, 0, "every-unit", GATE_FAILED, 0, detail.data);
			s->outcome = OUTCOME_REFUSED;
			buf_free(&detail);
		} else if (!s->failed) {
			step_finish(s);
		}
		enum gitgate_status status = step_end(s);
		if (deployed)
			deployed[i] = status == STATUS_PASSED;
		if (status > worst)
			worst = status;
	}
	free(steps);
	return worst;
}

/* Back to the other slot, as it was left warm: started again if it was
 * stopped, checked there, switched to, checked live (and switched back if
 * that fails). A rollback never runs migrate again: a migration that the
 * newer release made stays, and the record says so. */
static int warm_up(struct job *j, struct part *p, int migrate, struct buf *detail)
{
	(void)migrate;
	pid_t pid;
	int running = slot_running(&p->slot, p->next, &pid, detail);
	return running >= 0 && (running || app_start(j, p, detail)) &&
	       health_check(j, p, j->env, p->t->health_url, p->next, detail);
}

/* A gate outside the table (a rollback's), run, timed and reported. */
static enum gate_result gate_run_reported(struct job *j, int number, const char *name,
					  enum gate_result (*gate)(struct job *j,
								   struct buf *detail))
{
	struct buf detail = BUF_INIT;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enum gate_result result = gate(j, &detail);
	gate_report(j, number, name, result, seconds_since(&t0), detail.data);
	buf_free(&detail);
	return result;
}

/* Gate 7 for a rollback, first: the app it may start gets its env file's
 * variables, and every value is masked from then on. */
static enum gate_result rollback_environment(struct job *j)
{
	return gate_run_reported(j, 7, "environment", gate_environment);
}

static enum history_outcome roll_back(struct job *j)
{
	if (rollback_environment(j) == GATE_FAILED)
		return OUTCOME_FAILED;
	return live_steps(j, warm_up, 0, "migrate is not run again by a rollback");
}

/* rollback (no --to): each part's warm slot, which must hold a release. */
static enum gitgate_status rollback_to_warm_slot(struct job *j, struct buf *err)
{
	for (size_t i = 0; i < j->nparts; i++) {
		const struct part *p = &j->parts[i];
		if (p->live == SLOT_NONE || !p->state.slots[p->next].revision) {
			buf_printf(err, "%s in %s has no other slot to roll back to", p->t->project,
				   j->env->name);
			return STATUS_REJECTED;
		}
	}
	snprintf(j->revision, sizeof(j->revision), "%s",
		 j->parts[0].state.slots[j->parts[0].next].revision);
	return STATUS_PASSED;
}

/* rollback --to: `to` names a kept release (of one project: its revision is
 * the unit's) or a revision. Each part gets its newest kept release of
 * that revision, or none (roll_back_to exports and builds it again). */
static enum gitgate_status rollback_choose(struct job *j, const char *to, struct buf *err)
{
	const char *id = NULL;
	for (size_t i = 0; !id && i < j->nparts && is_primary(&j->parts[i]); i++) {
		struct part *p = &j->parts[i];
		int found = release_find(&p->release, p->releases_dir.data, to, NULL, err);
		if (found < 0)
			return STATUS_FAULT;
		if (found)
			id = p->release.id;
		p->exported = found;
	}
	struct buf revision = BUF_INIT;
	if (id) /* "<time>-<12 hex of the revision>[-N]" */
		buf_add(&revision, strchr(id, '-') + 1, strcspn(strchr(id, '-') + 1, "-"));
	int rc = resolve_revision(j, id ? revision.data : to, err);
	buf_free(&revision);
	if (rc < 0) {
		buf_clear(err);
		buf_printf(err, "'%s' is neither a kept release nor a commit here", to);
		return STATUS_USAGE;
	}
	int everywhere = 1;
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (p->live == SLOT_NONE) {
			buf_printf(err, "nothing is live for %s in %s: deploy it instead",
				   p->t->project, j->env->name);
			return STATUS_REJECTED;
		}
		const char *live = p->state.slots[p->live].revision;
		everywhere = everywhere && live && !strcmp(live, j->revision);
		int found =
		    p->exported || !is_primary(p)
			? 1
			: release_find(&p->release, p->releases_dir.data, NULL, j->revision, err);
		if (found < 0)
			return STATUS_FAULT;
		p->exported = found;
	}
	if (everywhere) {
		buf_printf(err, "%s in %s runs %.12s already", j->unit->name, j->env->name,
			   j->revision);
		return STATUS_REJECTED;
	}
	return STATUS_PASSED;
}

/* rollback --to a revision with no kept release: exported again, installed
 * and built (its tests and lint passed when it was deployed). */
static enum gate_result rebuild(struct job *j, struct buf *detail)
{
	enum gate_result result = GATE_SKIPPED;
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (p->exported || !is_primary(p))
			continue;
		result = GATE_PASSED;
		if (part_export(j, p, detail) < 0 ||
		    command_run(j, p, &p->t->build, p->release.dir, p->next, 0, detail) == 0 ||
		    release_apply_exclusions(&p->release, &j->rules->deploy.exclude, detail) < 0)
			return GATE_FAILED;
	}
	buf_adds(detail, result == GATE_SKIPPED ? "a kept release: built when it was deployed"
						: "exported again, installed and built");
	return result;
}

/* rollback --to: the chosen release into the warm slot, through the health
 * checks, the switch and gate 11; not migrated. */
static enum history_outcome roll_back_to(struct job *j)
{
	const char *why = "rollback --to does not run tests and lint again";
	gate_report(j, 3, "tests", GATE_SKIPPED, 0, why);
	gate_report(j, 4, "lint", GATE_SKIPPED, 0, why);
	if (rollback_environment(j) == GATE_FAILED ||
	    gate_run_reported(j, 5, "build", rebuild) == GATE_FAILED)
		return OUTCOME_FAILED;
	fprintf(j->out, "    migrate is not run by a rollback\n");
	return go_live(j, 0);
}

/* What a rollback goes back to, as the slots say now: the warm slot, or
 * what --to names. Made again once the lock is held (a deploy that held it
 * may have switched), each earlier choice's releases forgotten. */
static enum gitgate_status rollback_choice(struct job *j, struct buf *err)
{
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (p->exported && is_primary(p))
			release_free(&p->release);
		p->exported = 0;
	}
	if (job_load(j, err) < 0)
		return STATUS_FAULT;
	return j->req->to ? rollback_choose(j, j->req->to, err) : rollback_to_warm_slot(j, err);
}

enum gitgate_status deploy_rollback(const struct deploy_site *site,
				    const struct deploy_request *req, FILE *out)
{
	struct job j = {.site = site, .req = req, .rules = site->rules, .out = out};
	struct buf err = BUF_INIT, detail = BUF_INIT;
	enum gitgate_status status = job_open(&j, &err);
	if (status == STATUS_PASSED && !deploy_policy_user_may_deploy(j.env, req->user)) {
		buf_printf(&err, "%s may not deploy to %s ([environment %s] users)", req->user,
			   j.env->name, j.env->name);
		status = STATUS_REJECTED;
	}
	/* A first choice refuses at once what cannot be rolled back, and
	 * names the revision while the lock is awaited. */
	if (status == STATUS_PASSED)
		status = rollback_choice(&j, &err);
	if (status != STATUS_PASSED) {
		fprintf(out, "error: gitgate: %s\n", err.data);
		job_close(&j);
		buf_free(&err);
		return status;
	}
	job_start_record(&j, "rollback");
	if (req->to)
		json_object_set_new(json_object_get(j.record, "options"), "to",
				    json_string(req->to));
	enum history_outcome outcome = OUTCOME_FAILED;
	struct state_lock lock;
	if (job_lock(&j, &lock, &detail) == 0) {
		char before[sizeof(j.revision)];
		memcpy(before, j.revision, sizeof(before));
		buf_clear(&err);
		status = rollback_choice(&j, &err);
		history_record_revisions(j.record, j.from, j.revision);
		if (status != STATUS_PASSED) {
			gate_report(&j, 0, "rollback", GATE_FAILED, 0, err.data);
			outcome = status == STATUS_FAULT ? OUTCOME_FAILED : OUTCOME_REFUSED;
		} else {
			if (strcmp(before, j.revision))
				fprintf(out,
					"    a deploy went live while this waited: rolling back to "
					"%.12s instead\n",
					j.revision);
			if (job_connect(&j) == 0)
				outcome = req->to ? roll_back_to(&j) : roll_back(&j);
		}
		state_unlock(&lock);
	}
	buf_free(&err);
	buf_free(&detail);
	return job_end(&j, outcome);
}

enum gitgate_status deploy_health(const struct deploy_site *site, const struct deploy_request *req,
				  unsigned level, json_t *reports, FILE *out)
{
	int json = reports != NULL;
	struct job j = {.site = site,
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
			if (p->t->env_file && part_read_env(p, &detail) < 0)
				fprintf(stderr, "warning: gitgate: %s\n", detail.data);
			buf_clear(&detail);
			snprintf(j.revision, sizeof(j.revision), "%s",
				 p->state.slots[p->live].revision ? p->state.slots[p->live].revision
								  : "");
			if (!health_check(&j, p, j.env, live_url_of(p), p->live, &detail))
				status = STATUS_REJECTED;
		}
		buf_free(&detail);
	}
	buf_free(&err);
	job_close(&j);
	return status;
}

/* What a dead deploy left on one part, as its mark says: a switch undone
 * (traffic back on the old slot), and the app it started and never
 * confirmed stopped, unless it is what serves and nothing served before (a
 * first deploy). Returns 0 when that is done, -1 when the mark must stay
 * for another try. */
static int reconcile_part(struct job *j, struct part *p, const json_t *mark, FILE *out)
{
	const char *stage = json_string_value(json_object_get(mark, "stage"));
	const char *back = json_string_value(json_object_get(mark, "back_to"));
	const char *slot = json_string_value(json_object_get(mark, "slot"));
	enum slot_color old = back && !strcmp(back, "green")  ? SLOT_GREEN
			      : back && !strcmp(back, "blue") ? SLOT_BLUE
							      : SLOT_NONE;
	enum slot_color unconfirmed = slot && !strcmp(slot, "green")  ? SLOT_GREEN
				      : slot && !strcmp(slot, "blue") ? SLOT_BLUE
				      : old != SLOT_NONE	      ? slot_other(old)
								      : SLOT_NONE;
	struct buf why = BUF_INIT;
	int rc = part_connect(j, p, &why);
	/* The switch and stop commands get the target's variables, masked. */
	if (rc == 0 && p->t->env_file && part_read_env(p, &why) < 0) {
		fprintf(out, "warning: gitgate: %s\n", why.data);
		buf_clear(&why);
	}
	/* A mark without a stage is a switch's (the only kind there was). */
	int switched = !stage || !strcmp(stage, "switch");
	/* The unconfirmed app may stop once it serves nothing: traffic is
	 * back on the old slot, or never left it (the state does not name the
	 * unconfirmed slot live: a first deploy that switched keeps serving). */
	int may_stop = rc == 0 && p->state.live != unconfirmed;
	if (rc == 0 && switched && old != SLOT_NONE) {
		enum switch_outcome so = switch_to(j, p, old, &why);
		rc = so == SWITCH_DONE ? 0 : -1;
		if (so == SWITCH_FAILED)
			fprintf(out, "gitgate: %s in %s: switching back to %s failed: %s\n",
				p->label.data, j->env->name, back, why.data);
		else
			fprintf(out,
				"gitgate: %s in %s: the deploy %s died after its switch; back "
				"on %s%s%s\n",
				p->label.data, j->env->name, j->id.data, back,
				so == SWITCH_UNRECORDED ? ": " : "",
				so == SWITCH_UNRECORDED ? why.data : "");
		may_stop = so != SWITCH_FAILED;
	} else if (rc < 0) {
		fprintf(out, "gitgate: %s in %s: %s\n", p->label.data, j->env->name, why.data);
	}
	/* The state says what serves now; an app that does not serve and was
	 * never confirmed is stopped. */
	if (may_stop && unconfirmed != SLOT_NONE) {
		buf_clear(&why);
		if (app_stop(j, p, unconfirmed, &why) < 0)
			fprintf(out, "gitgate: %s in %s: stopping the %s slot failed: %s\n",
				p->label.data, j->env->name, slot_name(unconfirmed), why.data);
		else if (!switched)
			fprintf(out,
				"gitgate: %s in %s: the deploy %s died before its switch; its "
				"app in the %s slot is stopped\n",
				p->label.data, j->env->name, j->id.data, slot_name(unconfirmed));
	}
	buf_free(&why);
	return rc;
}

/* One target on one of its hosts (NULL: this machine) whose deploy died
 * before it confirmed what it started: what that deploy's process left
 * running is ended first (a switch command still running could move
 * traffic after the undo), then reconcile_part, and one record of the
 * deploy as abandoned (none when it has a record already: it ended, and
 * only its undo was left to do). */
static int reconcile_target(const struct deploy_site *site, const struct deploy_target *t,
			    const char *host, FILE *out, struct buf *err)
{
	struct buf path = BUF_INIT;
	deploy_target_state_dir(&path, site, t, host);
	buf_adds(&path, "/pending.json");
	json_t *mark = json_load_file(path.data, 0, NULL);
	pid_t pid = (pid_t)json_integer_value(json_object_get(mark, "pid"));
	unsigned long long start =
	    (unsigned long long)json_integer_value(json_object_get(mark, "start"));
	int rc = 0;
	if (!mark || proc_alive(pid, start)) {
		json_decref(mark);
		buf_free(&path);
		return 0;
	}
	if (json_is_true(json_object_get(mark, "session")) &&
	    proc_end_session(pid, start, GRACE_MS) < 0)
		fprintf(out,
			"warning: gitgate: what the deploy's process %d left running "
			"did not end\n",
			(int)pid);
	const char *id = json_string_value(json_object_get(mark, "deploy"));
	struct deploy_request req = {
	    .unit = t->project, .environment = t->environment, .user = "reconcile"};
	struct job j = {.site = site, .req = &req, .rules = site->rules, .out = out};
	int undone = 1;
	if (job_open(&j, err) != STATUS_PASSED || job_load(&j, err) < 0) {
		rc = -1;
	} else {
		buf_clear(&j.id);
		buf_adds(&j.id, id ? id : "unknown");
		const char *revision = json_string_value(json_object_get(mark, "revision"));
		snprintf(j.revision, sizeof(j.revision), "%s", revision ? revision : "");
		for (size_t i = 0; i < j.nparts; i++) {
			struct part *p = &j.parts[i];
			if (p->t == t && (!host || (p->host && !strcmp(p->host, host))) &&
			    reconcile_part(&j, p, mark, out) < 0)
				undone = 0;
		}
		/* A host that cannot be reached keeps its mark for the next try. */
		if (undone &&
		    !history_has(site->state_dir, j.unit->name, t->environment, "id", j.id.data)) {
			const char *kind = json_string_value(json_object_get(mark, "kind"));
			j.record = history_record_new(
			    j.id.data, kind ? kind : "deploy", j.unit->name,
			    j.unit->projects.n == 1 ? t->project : NULL, t->environment,
			    json_string_value(json_object_get(mark, "user")),
			    json_string_value(json_object_get(mark, "user_source")),
			    json_string_value(json_object_get(mark, "from")), j.revision);
			history_record_finish(j.record, OUTCOME_ABANDONED);
			rc = history_append(site->state_dir, j.record, err);
		}
		if (undone && rc == 0)
			unlink(path.data);
	}
	job_close(&j);
	json_decref(mark);
	buf_free(&path);
	return rc;
}

int deploy_reconcile(const struct deploy_site *site, FILE *out, struct buf *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < site->rules->deploy.ntargets; i++) {
		const struct deploy_target *t = &site->rules->deploy.targets[i];
		for (size_t h = 0; rc == 0 && h < (t->hosts.n ? t->hosts.n : 1); h++)
			rc = reconcile_target(site, t, t->hosts.n ? t->hosts.items[h] : NULL, out,
					      err);
	}
	return rc;
}
