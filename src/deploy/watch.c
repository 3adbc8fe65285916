/*
 * watch: a deploy is complete when it is confirmed. After gate 11 passes
 * in an environment with watch_seconds, the deploy is recorded "deployed"
 * as always, and a watch begins: STATE/watches/ID.json names it, and a
 * watcher of its own (`gitgate deploy --watch ID`, started in a session of
 * its own: a push that hangs up, -o detach or a killed worker leave it
 * running) checks every part of the deploy every watch_interval_seconds
 * until watch_seconds have passed: the environment's health level at the
 * live URL, the app's log (health_log_pattern), the access log's error
 * rate (confirm.c). It ends with one record {"kind": "watch", "deploy":
 * ID, ...}:
 *
 *   confirmed    every check passed to the end
 *   rolled-back  a check failed and, with watch_rollback, every part went
 *                back to its old slot, which still ran the previous release
 *   failed       a check failed with watch_rollback = no: traffic stays
 *   superseded   a newer deploy or a rollback of the unit there began (it
 *                writes the record, under the deploy lock)
 *   abandoned    the watcher died and its time ran out before reconcile
 *                came (one whose time is left is started again)
 *
 * The deploy lock is not held while the watch waits: a new deploy or a
 * rollback may begin, and supersedes it. The watcher takes the lock only
 * to write: its claim, a switch back, its record. Everything it writes is
 * written holding that lock, after checking that the watch file is still
 * there, so a watch is superseded or ended, never both, and recorded once.
 */
#include "engine.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"
#include "notify.h"
#include "proc.h"
#include "push_log.h"

/* ---- The watch file ------------------------------------------------------ */

static void watch_path(struct buf *out, const char *state_dir, const char *id)
{
	buf_clear(out);
	layout_watches(out, state_dir, id);
}

static json_t *watch_load(const char *state_dir, const char *id)
{
	struct buf path = BUF_INIT;
	watch_path(&path, state_dir, id);
	json_t *w = json_load_file(path.data, 0, NULL);
	buf_free(&path);
	if (w && !json_is_object(w)) {
		json_decref(w);
		w = NULL;
	}
	return w;
}

static int watch_save(const char *state_dir, const char *id, const json_t *w, struct buf *err)
{
	struct buf path = BUF_INIT;
	watch_path(&path, state_dir, id);
	char *text = json_dumps(w, JSON_COMPACT);
	int rc = text ? state_replace(path.data, text, strlen(text), err) : -1;
	free(text);
	buf_free(&path);
	return rc;
}

static void watch_remove(const char *state_dir, const char *id)
{
	struct buf path = BUF_INIT;
	watch_path(&path, state_dir, id);
	unlink(path.data);
	buf_free(&path);
}

static const char *text_of(const json_t *w, const char *key)
{
	return json_string_value(json_object_get(w, key));
}

/* The watch's record: kind "watch", the deploy it watches (it has no id
 * of its own), its checks as they come. */
static json_t *watch_record(const json_t *w)
{
	const char *id = text_of(w, "deploy");
	json_t *r = history_record_new("", "watch", text_of(w, "unit"), text_of(w, "project"),
				       text_of(w, "environment"), text_of(w, "user"),
				       text_of(w, "user_source"), text_of(w, "from"),
				       text_of(w, "revision"));
	json_object_del(r, "id");
	json_object_set_new(r, "deploy", json_string(id ? id : "unknown"));
	json_object_set_new(
	    r, "until", history_time_json((time_t)json_integer_value(json_object_get(w, "until"))));
	json_object_set(r, "watch_seconds", json_object_get(w, "seconds"));
	/* Its checks are "checks" alone: the health checks they run add to
	 * no "health" list of the watch's. */
	json_object_del(r, "health");
	json_object_set_new(r, "checks", json_array());
	return r;
}

/* Has the deploy's watch a record already? */
static int watch_recorded(const char *state_dir, const char *deploy)
{
	json_t *records = NULL, *r;
	size_t skipped, i;
	struct buf err = BUF_INIT;
	int found = 0;
	if (history_read_deploy(&records, state_dir, deploy, &skipped, &err) == 0)
		json_array_foreach(records, i, r)
		{
			const char *kind = json_string_value(json_object_get(r, "kind"));
			found |= kind && !strcmp(kind, "watch");
		}
	json_decref(records);
	buf_free(&err);
	return found;
}

/* Appends the watch's record with its outcome, once: none when the
 * history has it already. */
static int watch_close(const char *state_dir, const json_t *w, json_t *record,
		       enum history_outcome outcome, const char *detail, const struct mask *m,
		       struct buf *err)
{
	if (watch_recorded(state_dir, text_of(w, "deploy")))
		return 0;
	/* What the deploy went from and to (the job's reloads say what is live). */
	history_record_revisions(record, text_of(w, "from"), text_of(w, "revision"));
	json_object_set_new(record, "why", detail ? json_string(detail) : json_null());
	history_record_finish(record, outcome);
	if (m)
		history_record_mask(record, m);
	return history_append(state_dir, record, err);
}

/* ---- Begun by the deploy ------------------------------------------------- */

/* Starts `gitgate deploy --watch ID` in a session of its own (setsid -f:
 * it is no child of this process, which may end first), in the
 * repository, its output appended to the deploy's log. */
static int watcher_start(const struct deploy_site *site, const char *id, struct buf *err)
{
	char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0) {
		buf_printf(err, "cannot find gitgate itself: %s", strerror(errno));
		return -1;
	}
	self[len] = '\0';
	struct buf log = BUF_INIT;
	layout_logs(&log, site->state_dir, id, ".log");
	const char *argv[] = {"setsid", "-f", self, "deploy", "--watch", id, NULL};
	struct run_options o = {.argv = argv,
				.cwd = git_repository_path(site->repo),
				.out = {.kind = RUN_OUT_APPEND, .path = log.data},
				.err = {.kind = RUN_OUT_APPEND, .path = log.data},
				.limit_ms = 10000};
	struct run_result r;
	int rc = run(&r, &o, err);
	buf_free(&log);
	if (rc < 0 || r.code == 0)
		return rc;
	buf_adds(err, "setsid ");
	run_describe(err, &r);
	return -1;
}

int watch_begin(struct deploy_job *j)
{
	const struct deploy_environment *env = j->env;
	if (!env->watch_seconds)
		return 0;
	time_t now = time(NULL);
	json_t *w =
	    json_pack("{s:s, s:s, s:s?, s:s, s:o, s:s?, s:s, s:s?, s:I, s:I, s:i, s:i}", "deploy",
		      j->id.data, "unit", j->unit->name, "project",
		      j->unit->projects.n == 1 ? j->parts[0].t->project : NULL, "environment",
		      env->name, "user", push_log_text(j->req->user), "user_source",
		      j->req->user_source, "revision", j->revision, "from", j->from, "started",
		      (json_int_t)now, "until", (json_int_t)(now + env->watch_seconds), "seconds",
		      (int)env->watch_seconds, "interval", (int)env->watch_interval_seconds);
	/* Where each part's app log stood when its app started: the watch
	 * judges what it logged since. */
	json_t *since = json_array();
	for (size_t i = 0; i < j->nparts; i++) {
		const struct logpos *at = &j->parts[i].app_since;
		json_array_append_new(since,
				      j->parts[i].app_marked
					  ? json_pack("[I, I, I]", (json_int_t)at->dev,
						      (json_int_t)at->ino, (json_int_t)at->offset)
					  : json_null());
	}
	json_object_set_new(w, "app_since", since);
	struct buf err = BUF_INIT;
	int rc = w ? watch_save(j->site->state_dir, j->id.data, w, &err) : -1;
	if (rc == 0 && watcher_start(j->site, j->id.data, &err) < 0) {
		watch_remove(j->site->state_dir, j->id.data);
		rc = -1;
	}
	if (rc == 0) {
		json_object_set_new(j->record, "watch",
				    json_pack("{s:i, s:I}", "seconds", (int)env->watch_seconds,
					      "until", (json_int_t)(now + env->watch_seconds)));
		struct buf args = BUF_INIT, status = BUF_INIT, report = BUF_INIT;
		buf_printf(&args, "%s %s", j->unit->name, env->name);
		ask_command(&status, &j->req->ask, "status", args.data);
		ask_command(&report, &j->req->ask, "report", j->id.data);
		fprintf(j->out, "    watching %s in %s for %u min (every %u s): %s; %s\n",
			j->unit->name, env->name, (env->watch_seconds + 59) / 60,
			env->watch_interval_seconds, status.data, report.data);
		buf_free(&args);
		buf_free(&status);
		buf_free(&report);
	} else {
		fprintf(j->out,
			"warning: gitgate: the watch could not begin: %s; the release is live "
			"unwatched: check it with gitgate health %s %s --level 3, and go back with "
			"gitgate rollback %s %s if it fails\n",
			err.data ? err.data : "cannot write its file", j->unit->name, env->name,
			j->unit->name, env->name);
	}
	json_decref(w);
	buf_free(&err);
	return rc;
}

/* ---- Superseded ---------------------------------------------------------- */

/* Calls fn for each watch file's id. */
static void each_watch(const char *state_dir, void (*fn)(const char *id, void *arg), void *arg)
{
	struct buf dir = BUF_INIT;
	layout_watches(&dir, state_dir, NULL);
	DIR *d = opendir(dir.data);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len <= 5 || strcmp(e->d_name + len - 5, ".json"))
			continue;
		struct buf id = BUF_INIT;
		buf_add(&id, e->d_name, len - 5);
		fn(id.data, arg);
		buf_free(&id);
	}
	if (d)
		closedir(d);
	buf_free(&dir);
}

/* A watch of the job's unit in its environment, but its own, ends
 * superseded by the job. */
static void supersede_one(const char *id, void *arg)
{
	struct deploy_job *j = arg;
	json_t *w = watch_load(j->site->state_dir, id);
	const char *unit = text_of(w, "unit"), *env = text_of(w, "environment");
	if (w && unit && env && !strcmp(unit, j->unit->name) && !strcmp(env, j->env->name) &&
	    strcmp(id, j->id.data)) {
		json_t *record = watch_record(w);
		struct buf why = BUF_INIT, err = BUF_INIT;
		buf_printf(&why, "the %s %s began in %s",
			   json_string_value(json_object_get(j->record, "kind")), j->id.data, env);
		if (watch_close(j->site->state_dir, w, record, OUTCOME_SUPERSEDED, why.data,
				&j->mask, &err) == 0)
			watch_remove(j->site->state_dir, id);
		else
			fprintf(j->out, "warning: gitgate: %s\n", err.data);
		json_decref(record);
		buf_free(&why);
		buf_free(&err);
	}
	json_decref(w);
}

void watches_supersede(struct deploy_job *j)
{
	each_watch(j->site->state_dir, supersede_one, j);
}

/* ---- The watcher --------------------------------------------------------- */

/* The watcher's state: the job it checks through, the watch file. */
struct watcher {
	struct deploy_job j;
	struct deploy_request req;
	json_t *w;
	const char *id;
	struct access_span *spans; /* one a part */
	struct state_lock lock;
	int locked;
};

/* Takes the deploy lock to write, and finds the watch still there (a
 * newer deploy supersedes it under the same lock). Returns 1 when the
 * watcher may write, 0 when the watch is gone (the lock released), -1
 * when the lock could not be had now. */
static int watcher_lock(struct watcher *wr)
{
	struct deploy_job *j = &wr->j;
	struct buf path = BUF_INIT, err = BUF_INIT;
	struct state_holder me = {
	    .pid = getpid(), .user = "watch", .revision = j->revision, .since = time(NULL)};
	layout_locks(&path, j->site->state_dir, j->unit->name, j->env->name);
	int rc = state_lock(&wr->lock, path.data, &me, j->rules->deploy.lock_wait_seconds, &err);
	buf_free(&path);
	buf_free(&err);
	if (rc < 0)
		return -1;
	json_t *still = watch_load(j->site->state_dir, wr->id);
	if (!still) {
		state_unlock(&wr->lock);
		return 0;
	}
	json_decref(still);
	wr->locked = 1;
	return 1;
}

static void watcher_unlock(struct watcher *wr)
{
	if (wr->locked)
		state_unlock(&wr->lock);
	wr->locked = 0;
}

/* The job to check through: the deploy's unit and environment, their
 * parts connected, their env files read (masked), each part's logs
 * followed from now. Returns 0, or -1 with why in err. */
static int watcher_open(struct watcher *wr, const struct deploy_site *site, FILE *out,
			struct buf *err)
{
	wr->req = (struct deploy_request){.unit = text_of(wr->w, "unit"),
					  .environment = text_of(wr->w, "environment"),
					  .user = text_of(wr->w, "user"),
					  .user_source = text_of(wr->w, "user_source")};
	struct deploy_job *j = &wr->j;
	*j = (struct deploy_job){.site = site, .req = &wr->req, .rules = site->rules, .out = out};
	if (!wr->req.unit || !wr->req.environment || job_open(j, err) != STATUS_PASSED ||
	    job_load(j, err) < 0)
		return -1;
	buf_clear(&j->id);
	buf_adds(&j->id, wr->id);
	buf_clear(&j->log);
	layout_logs(&j->log, site->state_dir, wr->id, ".log");
	snprintf(j->revision, sizeof(j->revision), "%s", text_of(wr->w, "revision"));
	j->record = watch_record(wr->w);
	wr->spans = xcalloc(j->nparts, sizeof(*wr->spans));
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (part_connect(j, p, err) < 0 || (p->t->env_file && part_read_env(p, err) < 0))
			return -1;
		/* Its app's log from the app's start, the access log from the
		 * watch's. */
		p->next = p->live;
		app_log_mark(j, p);
		json_t *at = json_array_get(json_object_get(wr->w, "app_since"), i);
		if (p->app_marked && json_array_size(at) == 3)
			p->app_since = (struct logpos){
			    (unsigned long long)json_integer_value(json_array_get(at, 0)),
			    (unsigned long long)json_integer_value(json_array_get(at, 1)),
			    (unsigned long long)json_integer_value(json_array_get(at, 2))};
		if (access_span_begin(j, p, &wr->spans[i], NULL, err) < 0)
			return -1;
	}
	return 0;
}

/* Does every part still serve the watched revision? A rollback or a
 * deploy that went by without superseding the watch (one of another
 * kind) leaves it nothing to watch. */
static int watcher_still_live(struct watcher *wr, struct buf *why)
{
	struct deploy_job *j = &wr->j;
	struct buf err = BUF_INIT;
	int live = job_load(j, &err) == 0;
	for (size_t i = 0; live && i < j->nparts; i++) {
		const struct part *p = &j->parts[i];
		const char *rev = p->live == SLOT_NONE ? NULL : p->state.slots[p->live].revision;
		live = rev && !strcmp(rev, j->revision);
		if (!live)
			buf_printf(why, "%s no longer serves %.12s", p->label.data, j->revision);
	}
	if (err.len)
		buf_add(why, err.data, err.len);
	buf_free(&err);
	return live;
}

/* One check of a part in the record's "checks": when, its result, how
 * long it took, the error rate's counts so far. */
static void watcher_note(struct watcher *wr, struct part *p, const struct access_span *a, int ok,
			 double seconds, const char *why)
{
	struct buf what = BUF_INIT;
	buf_printf(&what, "%s: %s", p->label.data, live_url_of(p) ? live_url_of(p) : "port");
	json_t *check = json_pack("{s:o, s:b, s:i, s:s, s:o}", "at", history_time_json(time(NULL)),
				  "ok", ok, "latency_ms", (int)(seconds * 1000), "what", what.data,
				  "why", ok || !why ? json_null() : json_string(why));
	if (a->on) {
		json_object_set_new(check, "requests", json_integer((json_int_t)a->rate.requests));
		json_object_set_new(check, "errors", json_integer((json_int_t)a->rate.errors));
	}
	json_array_append_new(json_object_get(wr->j.record, "checks"), check);
	buf_free(&what);
}

/* One round of checks over every part. Returns 0, or -1 with why. */
static int watcher_check(struct watcher *wr, struct buf *why)
{
	struct deploy_job *j = &wr->j;
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		p->next = p->live;
		int ok = confirm_check(j, p, &wr->spans[i], p->live, live_url_of(p), why) == 0;
		watcher_note(wr, p, &wr->spans[i], ok, seconds_since(&t0), why->data);
		if (!ok)
			return -1;
	}
	return 0;
}

/* Can every part go back: its old slot holds the release served before
 * this deploy (from) and still runs? Returns 1, or 0 with why not. */
static int watcher_can_go_back(struct watcher *wr, struct buf *why)
{
	struct deploy_job *j = &wr->j;
	const char *from = text_of(wr->w, "from");
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		enum slot_color old = slot_other(p->live);
		const char *there = p->state.slots[old].revision;
		int running = 0;
		struct buf err = BUF_INIT;
		if (!from || !there || strcmp(there, from))
			buf_printf(why, "; %s's %s slot does not hold the release served before",
				   p->label.data, slot_name(old));
		else if (p->t->run.argv &&
			 (slot_running(&p->slot, old, &running, &err) < 0 || !running))
			buf_printf(why, "; %s's %s slot does not run any more", p->label.data,
				   slot_name(old));
		buf_free(&err);
	}
	return !strstr(why->data ? why->data : "", "; ");
}

/* Every part back on its old slot, checked there, the watched release's
 * app stopped. Returns 0, or -1 when a part could not go back (why). */
static int watcher_switch_back(struct watcher *wr, struct buf *why)
{
	struct deploy_job *j = &wr->j;
	int rc = 0;
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		enum slot_color watched = p->live, old = slot_other(watched);
		struct buf said = BUF_INIT;
		p->next = watched;
		enum switch_outcome so = switch_to(j, p, old, &said);
		if (so == SWITCH_FAILED) {
			buf_printf(why, "; switching %s back failed: %s", p->label.data, said.data);
			rc = -1;
		} else if (health_check(j, p, j->env, live_url_of(p), old, &said) < 0) {
			buf_printf(why, "; %s is back on %s, unhealthy too: %s", p->label.data,
				   slot_name(old), said.data);
		} else {
			buf_printf(why, "; %s is back on %s, healthy", p->label.data,
				   slot_name(old));
			buf_clear(&said);
			app_stop(j, p, watched, &said);
		}
		buf_free(&said);
	}
	return rc;
}

/* The watch's end: its record, a notice, the file gone. Holding the lock. */
static void watcher_end(struct watcher *wr, enum history_outcome outcome, const char *why)
{
	struct deploy_job *j = &wr->j;
	struct buf err = BUF_INIT;
	if (watch_close(j->site->state_dir, wr->w, j->record, outcome, why, &j->mask, &err) < 0)
		fprintf(j->out, "error: gitgate: the watch's record: %s\n", err.data);
	else
		watch_remove(j->site->state_dir, wr->id);
	fprintf(j->out, "watch %s: %s in %s: %s%s%s\n", wr->id, j->unit->name, j->env->name,
		history_outcome_name(outcome), why ? ": " : "", why ? why : "");
	notify_send(&j->rules->deploy, j->record, j->log.data, j->out);
	buf_free(&err);
}

/* A check failed: back to the old slots (watch_rollback), or the watch
 * ends failed with the traffic where it is. */
static void watcher_failed(struct watcher *wr, struct buf *why)
{
	if (!wr->j.env->watch_rollback) {
		buf_adds(why, " (watch_rollback = no: the release stays live)");
		watcher_end(wr, OUTCOME_FAILED, why->data);
	} else if (!watcher_can_go_back(wr, why)) {
		buf_adds(why, " (the release stays live)");
		watcher_end(wr, OUTCOME_FAILED, why->data);
	} else {
		watcher_switch_back(wr, why);
		watcher_end(wr, OUTCOME_ROLLED_BACK, why->data);
	}
}

/* Waits seconds, a second at a time, while the watch file is there.
 * Returns 0 when it is gone (superseded). */
static int watcher_wait(struct watcher *wr, unsigned seconds)
{
	for (unsigned i = 0; i < seconds; i++) {
		sleep(1);
		json_t *still = watch_load(wr->j.site->state_dir, wr->id);
		if (!still)
			return 0;
		json_decref(still);
	}
	return 1;
}

/* Records the watcher's process in the watch file (under the lock). */
static int watcher_claim(struct watcher *wr, struct buf *err)
{
	struct proc_info me;
	json_object_set_new(wr->w, "pid", json_integer(getpid()));
	json_object_set_new(wr->w, "start",
			    json_integer(proc_read(getpid(), &me) == 0 ? (json_int_t)me.start : 0));
	return watch_save(wr->j.site->state_dir, wr->id, wr->w, err);
}

/* The watch's rounds, to its end or its first failure. */
static void watcher_rounds(struct watcher *wr)
{
	time_t until = (time_t)json_integer_value(json_object_get(wr->w, "until"));
	unsigned every = wr->j.env->watch_interval_seconds ? wr->j.env->watch_interval_seconds : 1;
	for (;;) {
		time_t now = time(NULL);
		unsigned left = now < until ? (unsigned)(until - now) : 0;
		if (left && !watcher_wait(wr, every < left ? every : left))
			return; /* superseded: its record is written */
		struct buf why = BUF_INIT;
		int ok = watcher_still_live(wr, &why) ? watcher_check(wr, &why) == 0 : -1;
		/* A lock that cannot be had now: a deploy runs, which supersedes
		 * the watch; else the next round tries again. */
		int lock = ok == 1 && left ? -1 : watcher_lock(wr);
		if (lock > 0 && ok == -1)
			watcher_end(wr, OUTCOME_SUPERSEDED, why.data);
		else if (lock > 0 && !ok)
			watcher_failed(wr, &why);
		else if (lock > 0)
			watcher_end(wr, OUTCOME_CONFIRMED, NULL);
		watcher_unlock(wr);
		buf_free(&why);
		if (lock >= 0)
			return;
	}
}

int deploy_watch(const struct deploy_site *site, const char *id, FILE *out, struct buf *err)
{
	struct watcher wr = {.id = id, .w = watch_load(site->state_dir, id)};
	if (!wr.w)
		return 0; /* ended, or superseded, before this watcher began */
	int rc = watcher_open(&wr, site, out, err);
	int lock = rc == 0 ? watcher_lock(&wr) : 0;
	if (lock > 0 && watcher_claim(&wr, err) < 0)
		rc = -1;
	watcher_unlock(&wr);
	if (rc == 0 && lock > 0) {
		fprintf(out, "watch %s: watching %s in %s\n", id, wr.j.unit->name, wr.j.env->name);
		watcher_rounds(&wr);
	}
	for (size_t i = 0; wr.spans && i < wr.j.nparts; i++)
		access_span_end(&wr.spans[i]);
	free(wr.spans);
	job_close(&wr.j);
	json_decref(wr.w);
	return rc;
}

/* ---- After a crash, and for status ---------------------------------------- */

struct reconciling {
	const struct deploy_site *site;
	FILE *out;
};

/* A watch whose watcher is gone: started again while its time lasts,
 * else closed as abandoned. One that no watcher claimed yet is left alone
 * while its watcher may still be waiting for the deploy lock. */
static void reconcile_watch(const char *id, void *arg)
{
	struct reconciling *rc = arg;
	const struct deploy_site *site = rc->site;
	json_t *w = watch_load(site->state_dir, id);
	pid_t pid = (pid_t)json_integer_value(json_object_get(w, "pid"));
	time_t now = time(NULL),
	       started = (time_t)json_integer_value(json_object_get(w, "started")),
	       until = (time_t)json_integer_value(json_object_get(w, "until"));
	unsigned long long start =
	    (unsigned long long)json_integer_value(json_object_get(w, "start"));
	unsigned grace = site->rules->deploy.lock_wait_seconds + 60;
	struct buf err = BUF_INIT;
	if (!w || (pid && proc_alive(pid, start)) || (!pid && now < started + (time_t)grace)) {
		/* a watcher runs, or may */
	} else if (now < until) {
		fprintf(rc->out, "gitgate: the watch %s lost its watcher: watching again\n", id);
		if (watcher_start(site, id, &err) < 0)
			fprintf(rc->out, "warning: gitgate: %s\n", err.data);
	} else {
		json_t *record = watch_record(w);
		if (watch_close(
			site->state_dir, w, record, OUTCOME_ABANDONED,
			"its watcher stopped and its time ran out before anyone watched again",
			NULL, &err) == 0)
			watch_remove(site->state_dir, id);
		else
			fprintf(rc->out, "warning: gitgate: %s\n", err.data);
		json_decref(record);
	}
	json_decref(w);
	buf_free(&err);
}

void watches_reconcile(const struct deploy_site *site, FILE *out)
{
	struct reconciling rc = {site, out};
	each_watch(site->state_dir, reconcile_watch, &rc);
}

struct finding {
	const char *unit, *environment;
	struct deploy_watching *out;
	int found;
};

static void find_watch(const char *id, void *arg)
{
	struct finding *f = arg;
	if (f->found)
		return;
	json_t *w = watch_load(f->out->state_dir, id);
	const char *unit = text_of(w, "unit"), *env = text_of(w, "environment");
	if (unit && env && !strcmp(unit, f->unit) && !strcmp(env, f->environment)) {
		f->found = 1;
		snprintf(f->out->deploy, sizeof(f->out->deploy), "%s", text_of(w, "deploy"));
		f->out->until = (time_t)json_integer_value(json_object_get(w, "until"));
	}
	json_decref(w);
}

int deploy_watching(const struct deploy_site *site, const struct unit *unit,
		    const char *environment, struct deploy_watching *out)
{
	out->state_dir = site->state_dir;
	struct finding f = {unit->name, environment, out, 0};
	each_watch(site->state_dir, find_watch, &f);
	return f.found;
}
