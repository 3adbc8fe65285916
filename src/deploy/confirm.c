/*
 * confirm: what confirms a release beyond one passing check -- the lines
 * its app logs (none may match health_log_pattern), the share of its
 * requests that fail in the target's access log (error_rate_max), its
 * health at the environment's level -- checked over a span: each canary
 * step here, the watch after gate 11 (watch.c). Every log is read on the
 * part's host (host.h), from where the span began.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "switch.h"

/* ---- The app's log ------------------------------------------------------ */

void app_log_mark(struct deploy_job *j, struct part *p)
{
	const struct deploy_target *t = p->t;
	struct buf err = BUF_INIT;
	p->app_marked = 0;
	if (!t->nhealth_log_pattern)
		return;
	buf_clear(&p->app_log);
	if (t->health_log_file)
		part_expand(j, p, p->next, t->health_log_file, &p->app_log);
	else if (t->run.argv)
		slot_app_log(&p->slot, p->next, &p->app_log);
	/* A Compose project's: its containers' logs, from Docker, since now. */
	if (!t->health_log_file && t->compose) {
		compose_project(&p->app_log, &p->compose, slot_name(p->next));
		buf_adds(&p->app_log, "'s containers");
		p->app_started = time(NULL);
		p->app_marked = 1;
		return;
	}
	/* Where it cannot be marked, it is read from its start: more lines
	 * judged, never fewer. */
	if (p->app_log.len && host_log_mark(p->host, p->app_log.data, &p->app_since, &err) < 0)
		p->app_since = (struct logpos){0, 0, 0};
	p->app_marked = p->app_log.len > 0;
	buf_free(&err);
}

int app_log_check(struct deploy_job *j, struct part *p, struct buf *detail)
{
	const struct deploy_target *t = p->t;
	if (!p->app_marked || !t->nhealth_log_pattern)
		return 0;
	struct logmatch m;
	logmatch_init(&m, t->health_log_pattern, t->nhealth_log_pattern, j->rules->match_limit);
	int rc = !t->health_log_file && t->compose
		     ? part_compose_logs(p, logmatch_line, &m, detail)
		     : host_log_follow(p->host, p->app_log.data, &p->app_since, logmatch_line, &m,
				       detail);
	if (rc == 0 && m.matched) {
		buf_printf(detail,
			   "the app logged %llu line%s matching health_log_pattern since it "
			   "started (%s), the first: %s",
			   m.matched, m.matched == 1 ? "" : "s", p->app_log.data, m.first.data);
		rc = -1;
	}
	logmatch_free(&m);
	return rc;
}

/* ---- The access log ----------------------------------------------------- */

int access_span_begin(struct deploy_job *j, struct part *p, struct access_span *a,
		      const struct logpos *resume, struct buf *err)
{
	const struct deploy_target *t = p->t;
	memset(a, 0, sizeof(*a));
	if (!t->error_log)
		return 0;
	a->on = 1;
	for (int c = 0; c < 2; c++) {
		struct buf hp = BUF_INIT;
		enum slot_color which = c ? slot_other(p->next) : p->next;
		buf_printf(&hp, "127.0.0.1:%u", p->slot.ports[which == SLOT_GREEN]);
		a->slots[c] = buf_detach(&hp);
	}
	errorrate_init(&a->rate, t->error_pattern, a->slots[0], (const char *const *)&a->slots[1],
		       1, j->rules->match_limit);
	if (resume) {
		a->pos = *resume;
		return 0;
	}
	return host_log_mark(p->host, t->error_log, &a->pos, err);
}

int access_span_judge(struct deploy_job *j, struct part *p, struct access_span *a,
		      struct errorrate_verdict *v, struct buf *detail)
{
	(void)j;
	memset(v, 0, sizeof(*v));
	if (!a->on)
		return 0;
	const struct deploy_target *t = p->t;
	if (host_log_follow(p->host, t->error_log, &a->pos, errorrate_line, &a->rate, detail) < 0)
		return -1;
	errorrate_judge(&a->rate, t->error_rate_max, t->error_min_requests, v);
	if (!v->failed)
		return 0;
	buf_printf(detail, "%s's error rate in %s: ", p->label.data, t->error_log);
	errorrate_describe(detail, v, t->error_rate_max, t->error_min_requests);
	return -1;
}

void access_span_end(struct access_span *a)
{
	if (a->on)
		errorrate_free(&a->rate);
	free(a->slots[0]);
	free(a->slots[1]);
	memset(a, 0, sizeof(*a));
}

int confirm_check(struct deploy_job *j, struct part *p, struct access_span *a, enum slot_color c,
		  const char *url, struct buf *detail)
{
	struct errorrate_verdict v;
	if (health_check(j, p, j->env, url, c, detail) < 0 || app_log_check(j, p, detail) < 0)
		return -1;
	return access_span_judge(j, p, a, &v, detail);
}

/* ---- The canary ---------------------------------------------------------- */

/* Does the part take part in this turn's canary: it has an old slot to
 * share the requests with? */
static int in_canary(const struct deploy_job *j, const struct part *p)
{
	return in_turn(j, p) && p->live != SLOT_NONE;
}

/* Every request of the turn's parts back on the old slot. */
static void canary_undo(struct deploy_job *j, struct buf *detail)
{
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		struct switch_nginx o;
		struct buf why = BUF_INIT;
		if (!in_canary(j, p))
			continue;
		part_nginx(j, p, &o);
		if (switch_nginx(&o, p->slot.ports[p->live == SLOT_GREEN], &why) < 0) {
			buf_printf(detail, "; putting %s's requests back failed: %s", p->label.data,
				   why.data);
			p->stranded = 1;
		} else {
			buf_printf(detail, "; every request of %s is back on %s", p->label.data,
				   slot_name(p->live));
		}
		buf_free(&why);
	}
}

/* Waits up to seconds, in steps of a second. */
static void pause_seconds(unsigned seconds)
{
	for (unsigned i = 0; i < seconds; i++)
		sleep(1);
}

/* One step: percent of the requests to each new slot for the step's time,
 * checked every interval and at its end. 0 when it passed; -1 with why. */
static int canary_step(struct deploy_job *j, unsigned percent, json_t *step, struct buf *detail)
{
	struct access_span *spans = xcalloc(j->nparts, sizeof(*spans));
	int ok = 1;
	for (size_t i = 0; ok && i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		struct switch_nginx o;
		if (!in_canary(j, p))
			continue;
		part_nginx(j, p, &o);
		ok = switch_nginx_split(&o, p->slot.ports[p->live == SLOT_GREEN],
					p->slot.ports[p->next == SLOT_GREEN], percent,
					detail) == 0 &&
		     access_span_begin(j, p, &spans[i], NULL, detail) == 0;
	}
	unsigned left = j->env->canary_step_seconds, every = j->env->watch_interval_seconds;
	unsigned long long requests = 0, errors = 0;
	while (ok) {
		unsigned wait = every && every < left ? every : left;
		pause_seconds(wait);
		left -= wait;
		requests = errors = 0;
		for (size_t i = 0; ok && i < j->nparts; i++) {
			struct part *p = &j->parts[i];
			if (!in_canary(j, p))
				continue;
			ok = confirm_check(j, p, &spans[i], p->next, p->t->health_url, detail) == 0;
			requests += spans[i].rate.requests;
			errors += spans[i].rate.errors;
		}
		if (!left)
			break;
	}
	json_object_set_new(step, "requests", json_integer((json_int_t)requests));
	json_object_set_new(step, "errors", json_integer((json_int_t)errors));
	for (size_t i = 0; i < j->nparts; i++)
		access_span_end(&spans[i]);
	free(spans);
	return ok ? 0 : -1;
}

int canary_steps(struct deploy_job *j, struct buf *detail)
{
	const struct deploy_canary *c = &j->env->canary;
	int any = 0;
	for (size_t i = 0; i < j->nparts; i++)
		any |= in_canary(j, &j->parts[i]);
	if (!c->n || !any)
		return 0;
	json_t *steps = json_array();
	json_object_set_new(j->record, "canary", steps);
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < c->n; k++) {
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		struct timespec wall;
		clock_gettime(CLOCK_REALTIME, &wall);
		/* "at": the same moment in seconds, to the microsecond. */
		json_t *step = json_pack("{s:i, s:o, s:f}", "percent", (int)c->percents[k],
					 "started", history_time_json(wall.tv_sec), "at",
					 (double)wall.tv_sec + (double)wall.tv_nsec / 1e9);
		json_array_append_new(steps, step);
		struct buf why = BUF_INIT;
		rc = canary_step(j, c->percents[k], step, &why);
		json_object_set_new(step, "seconds", json_real(seconds_since(&t0)));
		json_object_set_new(step, "ok", json_boolean(rc == 0));
		if (rc == 0)
			json_object_set_new(step, "why", json_null());
		buf_printf(detail, "%s%u%%: %s", k ? "; " : "", c->percents[k],
			   rc == 0 ? "passed" : why.data);
		if (rc < 0) {
			json_object_set_new(step, "why", json_string(why.data));
			canary_undo(j, detail);
		}
		char name[16];
		snprintf(name, sizeof(name), "canary %u%%", c->percents[k]);
		gate_report(j, 0, name, rc == 0 ? GATE_PASSED : GATE_FAILED, seconds_since(&t0),
			    rc == 0 ? NULL : detail->data);
		buf_free(&why);
	}
	return rc;
}
