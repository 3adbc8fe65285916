/*
 * job: a deploy's job, the one thing every part of the engine works on:
 * the unit's targets in the environment as parts (one a project and host),
 * read once the job holds its lock; the connections to hosts, with their
 * sandbox; the lock; the record, started, finished, written, told; the
 * releases kept.
 */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deploy_policy.h"
#include "layout.h"
#include "notify.h"
#include "push_log.h"

void deploy_target_state_dir(struct buf *out, const struct deploy_site *site,
			     const struct deploy_target *t, const char *host)
{
	layout_target(out, site->state_dir, t->project, t->environment, host);
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

int deploy_target_read(const struct deploy_site *site, const struct deploy_target *t,
		       const char *host, struct slot_state *out, struct buf *err)
{
	struct buf dir = BUF_INIT;
	deploy_target_state_dir(&dir, site, t, host);
	struct host *here = host ? NULL : host_local_open(NULL);
	struct compose_target compose;
	if (t->compose)
		compose_target_init(&compose, t, &site->rules->deploy);
	struct slot_target slot = {.root = t->root,
				   .host = here,
				   .state_dir = dir.data,
				   .ports = {t->ports[0], t->ports[1]},
				   .compose = t->compose ? &compose : NULL};
	int rc = slot_state_load(out, &slot, err);
	for (int c = SLOT_BLUE; rc == 0 && here && c <= SLOT_GREEN; c++) {
		struct buf ignored = BUF_INIT;
		if (slot_running(&slot, (enum slot_color)c, &out->slots[c].running, &ignored) < 0)
			out->slots[c].running = 0;
		buf_free(&ignored);
	}
	host_close(here);
	if (t->compose)
		compose_target_free(&compose);
	buf_free(&dir);
	return rc;
}

int deploy_running(const struct deploy_site *site, const struct unit *unit, const char *environment,
		   struct state_holder *out, struct buf *err)
{
	struct buf path = BUF_INIT;
	layout_locks(&path, site->state_dir, unit->name, environment);
	int rc = state_lock_holder(out, path.data, err);
	buf_free(&path);
	return rc;
}

double seconds_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Is p its target's first part, the one whose export every host gets? The
 * gates that build run once a target, for it. */
int is_primary(const struct part *p)
{
	return p->primary == p;
}

/* Is the part going live in this turn (its host's)? */
int in_turn(const struct deploy_job *j, const struct part *p)
{
	return p->turn == j->turn;
}

/* Target t in env on its turn-th host (this machine when it has none):
 * its paths and slots. Its state is read by part_load, once the deploy
 * holds its lock. */
void part_init(struct deploy_job *j, struct part *p, const struct deploy_target *t,
	       const struct deploy_environment *env, size_t turn)
{
	*p = (struct part){.t = t, .turn = turn, .primary = p, .mask = &j->mask, .live = SLOT_NONE};
	p->address = t->hosts.n ? t->hosts.items[turn] : NULL;
	p->host = p->address ? NULL : j->here;
	buf_adds(&p->label, t->project);
	if (p->address)
		buf_printf(&p->label, " on %s", p->address);
	deploy_target_state_dir(&p->state_dir, j->site, t, p->address);
	layout_releases(&p->releases_dir, j->site->state_dir, t->project, env->name);
	p->slot = (struct slot_target){.root = t->root,
				       .host = p->host,
				       .state_dir = p->state_dir.data,
				       .ports = {t->ports[0], t->ports[1]},
				       .limit_ms = t->command_timeout_seconds * 1000,
				       .grace_ms = GRACE_MS,
				       .log_max_bytes = j->rules->deploy.app_log_max_bytes,
				       .log_keep = j->rules->deploy.app_log_keep};
	if (t->compose) {
		compose_target_init(&p->compose, t, &j->rules->deploy);
		p->slot.compose = &p->compose;
	}
}

/* The part's slots as its state says now: which is live, and so which is
 * next. Returns 0, or -1 with why in err. */
int part_load(struct part *p, struct buf *err)
{
	slot_state_free(&p->state);
	int rc = layout_make_folder(p->state_dir.data, err) == 0
		     ? slot_state_load(&p->state, &p->slot, err)
		     : -1;
	p->live = rc == 0 ? p->state.live : SLOT_NONE;
	p->next = p->live == SLOT_NONE ? SLOT_BLUE : slot_other(p->live);
	return rc;
}

void part_free(struct part *p)
{
	if (p->exported && is_primary(p))
		release_free(&p->release);
	slot_state_free(&p->state);
	envfile_free(&p->env);
	if (p->t->compose)
		compose_target_free(&p->compose);
	buf_free(&p->label);
	buf_free(&p->app_log);
	buf_free(&p->state_dir);
	buf_free(&p->releases_dir);
}

/* The record's word on the sandbox of a remote host, once opened. */
static void record_host_sandbox(struct deploy_job *j, const struct host *h)
{
	if (!j->record)
		return;
	json_t *hosts = json_object_get(j->record, "sandbox_hosts");
	if (!hosts)
		json_object_set_new(j->record, "sandbox_hosts", hosts = json_object());
	struct buf word = BUF_INIT;
	sandbox_choice_record(&word, &h->sandbox);
	json_object_set_new(hosts, h->address, json_string(word.data));
	buf_free(&word);
}

/* The part's host: this machine's (part_init), or the job's connection to
 * its address, opened at the first need by the site's backend (ssh).
 * Returns 0, or -1 with why in err. */
int part_connect(struct deploy_job *j, struct part *p, struct buf *err)
{
	for (size_t i = 0; i < j->nremote && !p->host; i++)
		if (!strcmp(j->remote[i]->address, p->address))
			p->host = j->remote[i];
	if (!p->host) {
		const struct deploy_policy *d = &j->rules->deploy;
		struct buf dir = BUF_INIT;
		layout_ssh(&dir, j->site->state_dir);
		struct host_options o = {
		    .known_hosts =
			p->t->ssh_known_hosts ? p->t->ssh_known_hosts : d->ssh_known_hosts,
		    .identity = p->t->ssh_identity ? p->t->ssh_identity : d->ssh_identity,
		    .control_dir = dir.data,
		    .policy = d};
		host_open_fn open = j->site->open_host ? j->site->open_host : host_ssh_open;
		int rc = open(&p->host, p->address, &o, err);
		buf_free(&dir);
		if (rc < 0)
			return -1;
		*ARRAY_PUSH(j->remote, j->nremote, j->cap_remote) = p->host;
		record_host_sandbox(j, p->host);
	}
	p->slot.host = p->host;
	return 0;
}

/* Connects every part to its host (a step of its own in the record, when
 * there is any remote host). Returns 0, or -1 (reported). */
int job_connect(struct deploy_job *j)
{
	struct timespec t0;
	struct buf detail = BUF_INIT;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int ok = 1, any = 0;
	for (size_t i = 0; ok && i < j->nparts; i++) {
		any = any || j->parts[i].address;
		ok = part_connect(j, &j->parts[i], &detail) == 0;
	}
	if (any) {
		if (ok)
			for (size_t i = 0; i < j->nremote; i++)
				buf_printf(&detail, "%s%s", i ? ", " : "", j->remote[i]->address);
		gate_report(j, 0, "connect", ok ? GATE_PASSED : GATE_FAILED, seconds_since(&t0),
			    detail.data);
	}
	buf_free(&detail);
	return ok ? 0 : -1;
}

/* A part per target and host, in the order they go live: every target's
 * first host, then every target's second, ... (coupled projects on one
 * turn switch together). Nothing of their state is read yet: job_load. */
static int parts_open(struct deploy_job *j, const struct deploy_target **targets, size_t n,
		      struct buf *err)
{
	int rc = layout_make(j->site->state_dir, err);
	size_t total = 0;
	j->nturns = 1;
	for (size_t i = 0; i < n; i++) {
		size_t hosts = targets[i]->hosts.n ? targets[i]->hosts.n : 1;
		total += hosts;
		if (hosts > j->nturns)
			j->nturns = hosts;
	}
	j->parts = xcalloc(total, sizeof(*j->parts));
	for (size_t turn = 0; turn < j->nturns; turn++)
		for (size_t i = 0; i < n; i++) {
			if (turn >= (targets[i]->hosts.n ? targets[i]->hosts.n : 1))
				continue;
			struct part *p = &j->parts[j->nparts++];
			part_init(j, p, targets[i], j->env, turn);
			p->primary = turn ? &j->parts[i] : p;
		}
	return rc;
}

/* What every part's slots hold now, and so the revision live before this
 * job (from). A job that changes slots calls it holding its lock: what it
 * decides from the state is what the state is once nobody else can change
 * it. Returns 0, or -1 with why in err. */
int job_load(struct deploy_job *j, struct buf *err)
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

static void parts_close(struct deploy_job *j)
{
	for (size_t i = 0; i < j->nparts; i++)
		part_free(&j->parts[i]);
	free(j->parts);
	for (size_t i = 0; i < j->nremote; i++)
		host_close(j->remote[i]);
	free(j->remote);
	host_close(j->here);
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

int resolve_revision(struct deploy_job *j, const char *name, struct buf *err)
{
	return deploy_resolve_revision(j->site, name, j->revision, err);
}

static void closing_block(struct deploy_job *j, enum history_outcome outcome)
{
	struct buf log = BUF_INIT, history = BUF_INIT, args = BUF_INIT;
	buf_printf(&args, "%s %s", j->unit->name, j->env->name);
	ask_command(&log, &j->req->ask, "logs", j->id.data);
	ask_command(&history, &j->req->ask, "history", args.data);
	fprintf(j->out,
		"\n%s %s: %s to %s at %.12s: %s\n"
		"  log:      %s\n"
		"  history:  %s\n",
		json_string_value(json_object_get(j->record, "kind")), j->id.data, j->unit->name,
		j->env->name, j->revision, history_outcome_name(outcome), log.data, history.data);
	/* A rollback is run at a shell on the server: a pusher without one
	 * asks an admin there. */
	if (outcome == OUTCOME_DEPLOYED && j->from)
		fprintf(j->out, "  rollback: %sgitgate rollback %s %s (the old slot is still up)\n",
			j->req->ask.prefix || j->req->ask.by_ref ? "on the server, " : "",
			j->unit->name, j->env->name);
	buf_free(&log);
	buf_free(&history);
	buf_free(&args);
}

/* Keeps [deploy] keep_releases exports of each target, and always both
 * slots' (the warm one is the instant rollback): the others are set aside
 * here and their files removed by job_end. A failure to prune is said,
 * never a failed deploy. */
void prune_releases(struct deploy_job *j)
{
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		struct slot_state now;
		struct buf err = BUF_INIT;
		size_t here = 0, there = 0;
		if (slot_state_load(&now, &p->slot, &err) == 0) {
			const char *in_use[] = {now.slots[0].release, now.slots[1].release};
			unsigned keep = j->rules->deploy.keep_releases;
			/* The exports here once a target; each host's copies there. */
			if ((is_primary(p) && release_prune(p->releases_dir.data, keep, in_use, 2,
							    &here, &err) < 0) ||
			    (p->host &&
			     host_prune(p->host, p->t->root, keep, in_use, 2, &there, &err) < 0))
				fprintf(j->out, "warning: gitgate: %s\n", err.data);
			j->pruned = j->pruned || here;
			slot_state_free(&now);
		}
		if (p->t->compose && p->host)
			part_compose_prune(j, p);
		buf_free(&err);
	}
}

/* Finds the unit, the environment and their targets, and loads what each
 * target runs. Returns 0, or a status with the reason printed. */
enum gitgate_status job_open(struct deploy_job *j, struct buf *err)
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
	j->here = host_local_open(&j->rules->deploy);
	int rc = parts_open(j, targets, n, err);
	free(targets);
	if (rc < 0)
		return STATUS_FAULT;
	history_new_id(&j->id);
	layout_logs(&j->log, j->site->state_dir, j->id.data, ".log");
	return STATUS_PASSED;
}

void job_start_record(struct deploy_job *j, const char *kind)
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
	sandbox_choice_record(&sandbox, &j->here->sandbox);
	json_object_set_new(j->record, "sandbox", json_string(sandbox.data));
	buf_free(&sandbox);
	fprintf(j->out, "%s %s: %s in %s, to %.12s\n", kind, j->id.data, j->unit->name,
		j->env->name, j->revision);
}

int job_lock(struct deploy_job *j, struct state_lock *lock, struct buf *detail)
{
	struct buf path = BUF_INIT;
	struct state_holder me = {.pid = getpid(),
				  .user = (char *)j->req->user,
				  .revision = j->revision,
				  .since = time(NULL)};
	layout_locks(&path, j->site->state_dir, j->unit->name, j->env->name);
	int rc = state_lock(lock, path.data, &me, j->rules->deploy.lock_wait_seconds, detail);
	buf_free(&path);
	if (rc < 0)
		gate_report(j, 0, "lock", GATE_FAILED, 0, detail->data);
	else
		watches_supersede(j); /* what changes the slots ends their watch */
	return rc;
}

/* job_load, its failure a step of the record. Returns 0 or -1. */
int job_load_reported(struct deploy_job *j)
{
	struct buf err = BUF_INIT;
	int rc = job_load(j, &err);
	if (rc < 0)
		gate_report(j, 0, "state", GATE_FAILED, 0, err.data);
	buf_free(&err);
	return rc;
}

void job_close(struct deploy_job *j)
{
	json_decref(j->record);
	parts_close(j);
	mask_free(&j->mask);
	buf_free(&j->id);
	buf_free(&j->log);
}

void job_settle(struct deploy_job *j)
{
	struct buf err = BUF_INIT;
	for (size_t i = 0; i < j->nremote; i++)
		if (host_settle(j->remote[i], &err) < 0) {
			fprintf(j->out, "warning: gitgate: %s\n", err.data);
			buf_clear(&err);
		}
	buf_free(&err);
}

/* Records the outcome, says it, and closes the job. Returns the command's
 * status: a record that cannot be written is a fault. */
enum gitgate_status job_end(struct deploy_job *j, enum history_outcome outcome)
{
	struct buf err = BUF_INIT;
	enum gitgate_status status = outcome == OUTCOME_DEPLOYED ? STATUS_PASSED : STATUS_REJECTED;
	history_record_finish(j->record, outcome);
	history_record_mask(j->record, &j->mask);
	if (history_append(j->site->state_dir, j->record, &err) < 0) {
		fprintf(j->out, "error: gitgate: %s\n", err.data);
		buf_clear(&err);
		status = STATUS_FAULT;
	} else {
		closing_block(j, outcome);
	}
	/* The releases pruned are gone from every listing; their files go
	 * now, without holding up the deploy's end. */
	for (size_t i = 0; j->pruned && i < j->nparts; i++)
		if (is_primary(&j->parts[i]))
			release_sweep_detached(j->parts[i].releases_dir.data);
	notify_send(&j->rules->deploy, j->record, j->log.data, j->out);
	buf_free(&err);
	job_close(j);
	return status;
}
