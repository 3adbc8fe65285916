/*
 * live: what comes after the gates: each part's next slot made ready (the
 * release assigned, the app started and checked, migrated), the switch, and
 * gate 11, a host's turn at a time (rolling); a failure switches every part
 * that moved back to its old slot, which stayed up. What is started and not
 * yet confirmed is marked (pending.json) for reconcile.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "push_log.h"
#include "switch.h"

/* What still runs in p's next slot stopped before the slot gets another
 * release, when slot_running says it runs. (A supervised app is stopped
 * by part_receive, in the same trip to a remote host as the release.) */
static int next_slot_clear(struct part *p, struct buf *detail)
{
	if (part_supervised(p))
		return 0;
	int running;
	if (slot_running(&p->slot, p->next, &running, detail) < 0)
		return -1;
	return running ? slot_stop(&p->slot, p->next, detail) : 0;
}

/* Assigns the release to the inactive slot, starts it on its port with the
 * env file, checks it at the environment's level, and migrates (a deploy;
 * a rollback never does). Returns 0, or -1 with why in detail. */
static int slot_prepare(struct deploy_job *j, struct part *p, int migrate, struct buf *detail)
{
	part_offer(p);
	if (next_slot_clear(p, detail) < 0)
		return -1;
	/* The export, made available on the part's host (a copy there), the
	 * slot's app stopped and the slot pointed at it. */
	struct buf there = BUF_INIT, sent = BUF_INIT;
	int assigned = part_receive(j, p, p->next, &there, &sent, detail) == 0;
	buf_free(&there);
	if (!assigned) {
		buf_free(&sent);
		return -1;
	}
	struct buf dir = BUF_INIT;
	slot_dir(&dir, &p->slot, p->next);
	app_log_mark(j, p);
	int rc = app_start(j, p, detail);
	if (rc == 0)
		rc = health_check(j, p, j->env, p->t->health_url, p->next, detail);
	if (rc == 0 && migrate)
		rc = command_run(j, p, &p->t->migrate, dir.data, p->next, 1, detail);
	/* How the release travelled, in the record of a slot made ready. */
	if (rc == 0 && sent.len)
		buf_printf(detail, "%s%s", detail->len ? "; " : "", sent.data);
	buf_free(&dir);
	buf_free(&sent);
	return rc;
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

static int pending_mark(struct deploy_job *j, const struct part *p, const char *stage,
			struct buf *err)
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

void part_nginx(struct deploy_job *j, struct part *p, struct switch_nginx *out)
{
	const struct deploy_policy *d = &j->rules->deploy;
	*out = (struct switch_nginx){.host = p->host,
				     .file = p->t->live_switch.path,
				     .nginx = (const char *const *)d->nginx.argv,
				     .pid_file = d->nginx_pid_file,
				     .limit_ms = p->t->command_timeout_seconds * 1000};
}

enum switch_outcome switch_to(struct deploy_job *j, struct part *p, enum slot_color c,
			      struct buf *detail)
{
	const struct deploy_switch *sw = &p->t->live_switch;
	struct buf dir = BUF_INIT;
	slot_dir(&dir, &p->slot, c);
	int rc = -1;
	if (sw->kind == DEPLOY_SWITCH_NGINX) {
		struct switch_nginx opts;
		part_nginx(j, p, &opts);
		rc = switch_nginx(&opts, p->slot.ports[c == SLOT_GREEN], detail);
	} else if (sw->kind == DEPLOY_SWITCH_LINK) {
		rc = switch_link(p->host, sw->path, dir.data, detail);
	} else if (sw->kind == DEPLOY_SWITCH_COMMAND) {
		rc = command_run(j, p, &sw->command, NULL, c, 1, detail);
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
static void switch_back(struct deploy_job *j, struct buf *detail)
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
		} else if (health_check(j, p, j->env, live_url_of(p), p->live, &why) < 0)
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
static void stop_unconfirmed(struct deploy_job *j)
{
	for (size_t i = 0; i < j->nparts; i++)
		if (!(j->parts[i].switched && j->parts[i].live == SLOT_NONE))
			stop_next(j, &j->parts[i]);
}

/* The parts of this turn switch to their next slot, then gate 11 checks
 * them live; if a switch or the check fails, every switched part goes back
 * (the hosts of earlier turns too). */
static enum history_outcome switch_and_confirm(struct deploy_job *j)
{
	struct timespec t0;
	struct buf detail = BUF_INIT;
	int ok = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; ok && i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (!in_turn(j, p))
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
		return j->turn ? OUTCOME_ROLLED_BACK : OUTCOME_FAILED;
	}
	gate_report(j, 0, "switch", GATE_PASSED, seconds_since(&t0), NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; ok && i < j->nparts; i++)
		if (in_turn(j, &j->parts[i]))
			ok = !health_check(j, &j->parts[i], j->env, live_url_of(&j->parts[i]),
					   j->parts[i].next, &detail);
	enum history_outcome outcome = OUTCOME_DEPLOYED;
	if (!ok) {
		switch_back(j, &detail);
		outcome = OUTCOME_ROLLED_BACK;
		stop_unconfirmed(j);
	} else if (j->nturns > 1) {
		for (size_t i = 0; i < j->nparts; i++)
			if (in_turn(j, &j->parts[i]))
				buf_printf(&detail, "%s%s", detail.len ? "; " : "",
					   j->parts[i].label.data);
	}
	gate_said(j, 11, ok ? GATE_PASSED : GATE_FAILED, seconds_since(&t0), detail.data);
	for (size_t i = 0; i < j->nparts; i++)
		pending_clear(&j->parts[i]);
	buf_free(&detail);
	return outcome;
}

/* The canary's steps (confirm.c), a deploy's only: a rollback goes back
 * to what served. Traffic moves in part, so each part of the turn is
 * marked as switching first (a dead deploy's canary is undone by
 * reconcile). A failure stops what this deploy started, earlier turns
 * switched back. Returns 0, or -1 (reported). */
static int canary(struct deploy_job *j)
{
	if (!j->env->canary.n ||
	    strcmp(json_string_value(json_object_get(j->record, "kind")), "deploy"))
		return 0;
	struct buf detail = BUF_INIT;
	int ok = 1;
	for (size_t i = 0; ok && i < j->nparts; i++)
		if (in_turn(j, &j->parts[i]))
			ok = pending_mark(j, &j->parts[i], "switch", &detail) == 0;
	if (ok && canary_steps(j, &detail) == 0) {
		buf_free(&detail);
		return 0;
	}
	if (j->turn)
		switch_back(j, &detail);
	stop_unconfirmed(j);
	for (size_t i = 0; i < j->nparts; i++)
		pending_clear(&j->parts[i]);
	buf_free(&detail);
	return -1;
}

/* One turn of live_turns: its parts' slots made ready, switched, confirmed.
 * A slot that fails here undoes the hosts that went live in earlier turns.
 * note, when given, is said once the slots are ready. */
static enum history_outcome live_turn(struct deploy_job *j, prepare_fn prepare, int migrate,
				      const char *note)
{
	struct timespec t0;
	struct buf detail = BUF_INIT;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int ok = 1;
	for (size_t i = 0; ok && i < j->nparts; i++)
		if (in_turn(j, &j->parts[i]))
			ok = pending_mark(j, &j->parts[i], "slot", &detail) == 0 &&
			     prepare(j, &j->parts[i], migrate, &detail) == 0;
	if (ok && note)
		buf_adds(&detail, note);
	else if (!ok && j->turn)
		switch_back(j, &detail);
	gate_report(j, 0, "slot", ok ? GATE_PASSED : GATE_FAILED, seconds_since(&t0), detail.data);
	if (ok && note)
		fprintf(j->out, "    %s\n", detail.data);
	buf_free(&detail);
	if (!ok) {
		stop_unconfirmed(j);
		for (size_t i = 0; i < j->nparts; i++)
			pending_clear(&j->parts[i]);
		return j->turn ? OUTCOME_ROLLED_BACK : OUTCOME_FAILED;
	}
	return canary(j) == 0 ? switch_and_confirm(j) : OUTCOME_ROLLED_BACK;
}

/* What comes after the gates (or a rollback's), a host at a time when the
 * targets have several (rolling): each host's slots made ready (migrated
 * when migrate, on the first host only: one database), switched and
 * confirmed by gate 11 before the next host's turn. A failure on host k
 * stops there, and hosts 1..k go back to their old slots. */
enum history_outcome live_turns(struct deploy_job *j, prepare_fn prepare, int migrate,
				const char *note)
{
	enum history_outcome outcome = OUTCOME_DEPLOYED;
	for (j->turn = 0; outcome == OUTCOME_DEPLOYED && j->turn < j->nturns; j->turn++) {
		if (j->nturns > 1)
			fprintf(j->out, "host %zu of %zu\n", j->turn + 1, j->nturns);
		outcome = live_turn(j, prepare, migrate && j->turn == 0, note);
	}
	return outcome;
}

enum history_outcome go_live(struct deploy_job *j, int migrate)
{
	return live_turns(j, slot_prepare, migrate, NULL);
}
