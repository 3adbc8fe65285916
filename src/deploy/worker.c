/*
 * worker: see worker.h.
 */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deploy.h"
#include "deploy_policy.h"
#include "history.h"
#include "layout.h"
#include "proc.h"
#include "queue.h"
#include "state.h"
#include "trigger.h"

/* How long the processes a dead worker left may take to go, once killed. */
#define LEFTOVERS_MS 5000

/* Has the job's revision a record in env since the job was queued (its
 * deploy there ended, or reconcile closed it)? */
static int recorded_since_queued(const struct server *s, const struct job *job, const char *env)
{
	char queued[32];
	struct tm tm;
	strftime(queued, sizeof(queued), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&job->queued, &tm));
	json_t *records = NULL;
	struct buf err = BUF_INIT;
	size_t skipped, i;
	json_t *r;
	int found = 0;
	if (history_read(&records, s->state_dir.data, strcmp(job->unit, "all") ? job->unit : NULL,
			 env, 64, &skipped, &err) == 0)
		json_array_foreach(records, i, r)
		{
			const char *to = json_string_value(json_object_get(r, "to"));
			const char *started = json_string_value(json_object_get(r, "started"));
			found |= to && started && !strcmp(to, job->revision) &&
				 strcmp(started, queued) >= 0;
		}
	json_decref(records);
	buf_free(&err);
	return found;
}

/* What a worker killed under its job was running (a test, a build, a
 * switch command: each in a process group of its own, in the worker's
 * session, and no longer under its time limit) is killed, and awaited: a
 * switch command left running could move traffic after reconcile put it
 * back. Only while that session is still the dead worker's (proc.h). The
 * slots' apps have sessions of their own. */
static void stop_leftovers(const struct job *job)
{
	if (proc_end_session(job->worker, job->worker_start, LEFTOVERS_MS) < 0)
		fprintf(stderr, "gitgate: what the dead worker %d ran did not end in %u ms\n",
			(int)job->worker, LEFTOVERS_MS);
}

/* Every dead worker's leftovers, before anything is undone. */
static int stop_all_leftovers(const struct server *s, struct buf *err)
{
	struct job *jobs;
	size_t n;
	if (queue_list(&jobs, &n, s->state_dir.data, NULL, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (jobs[i].worker && queue_job_orphaned(&jobs[i]))
			stop_leftovers(&jobs[i]);
	queue_jobs_free(jobs, n);
	return 0;
}

/* A job that never deploys still gets its record: superseded, or abandoned
 * in the environment its worker died in: the first of its environments
 * where its deploy has no record. None, when each has one (reconcile
 * recorded the deploy that died after its switch). */
static int close_job(const struct server *s, const struct job *job, enum history_outcome why,
		     worker_recorded_fn recorded, struct buf *err)
{
	const char *env = job->nenvironments ? job->environments[0] : NULL;
	if (why == OUTCOME_ABANDONED) {
		stop_leftovers(job);
		env = NULL;
		for (size_t e = 0; !env && e < job->nenvironments; e++)
			if (!recorded_since_queued(s, job, job->environments[e]))
				env = job->environments[e];
		if (!env)
			return queue_remove(s->state_dir.data, job->id, err);
	}
	json_t *record = history_record_new(job->id, "deploy", job->unit, NULL, env, job->user,
					    job->user_source, NULL, job->revision);
	history_record_finish(record, why);
	int rc = history_append(s->state_dir.data, record, err);
	json_decref(record);
	if (rc == 0 && recorded)
		recorded(s);
	return rc == 0 ? queue_remove(s->state_dir.data, job->id, err) : -1;
}

/* The job's unit (or, for "all", every unit) into each of its
 * environments in order; a unit that does not deploy to one goes no
 * further. */
static void deploy_environments(const struct server *s, const struct job *job, FILE *progress)
{
	const struct rules *r = &s->rules;
	int all = !strcmp(job->unit, "all");
	size_t nunits = all ? r->nunits : 1;
	struct deploy_request *reqs = xcalloc(nunits, sizeof(*reqs));
	unsigned char *stopped = xcalloc(nunits, 1), *deployed = xcalloc(nunits, 1);
	struct deploy_site site = deploy_site_of(s);
	for (size_t e = 0; e < job->nenvironments; e++) {
		const struct deploy_environment *env =
		    deploy_policy_find_environment(r, job->environments[e]);
		size_t n = 0, *which = xcalloc(nunits, sizeof(*which));
		for (size_t u = 0; u < nunits; u++) {
			int there =
			    !all || (env && deploy_policy_unit_deploys_to(r, &r->units[u], env));
			/* A deploy ref names every unit: those that run the
			 * revision there already have nothing to deploy. */
			if (all && there && deploy_live_at(&site, &r->units[u], env, job->revision))
				fprintf(progress, "gitgate: %s in %s runs %.12s already\n",
					r->units[u].name, env->name, job->revision);
			else if (!stopped[u] && there)
				which[n++] = u;
		}
		for (size_t i = 0; i < n; i++)
			reqs[i] = (struct deploy_request){
			    .unit = all ? r->units[which[i]].name : job->unit,
			    .environment = job->environments[e],
			    .revision = job->revision,
			    .phrase = job->phrase,
			    .emergency = job->emergency,
			    .user = job->user,
			    .user_source = job->user_source,
			    .ask = {job->ask, job->repository, job->ask_ref}};
		if (n)
			deploy_run(&site, reqs, n, progress, deployed);
		for (size_t i = 0; i < n; i++)
			stopped[which[i]] = !deployed[i];
		free(which);
	}
	free(reqs);
	free(stopped);
	free(deployed);
}

static int run_job(const struct server *s, struct job *job, worker_recorded_fn recorded,
		   struct buf *err)
{
	if (queue_claim(s->state_dir.data, job, err) < 0)
		return -1;
	if (layout_make_logs(s->state_dir.data, err) < 0)
		return -1;
	struct buf path = BUF_INIT;
	layout_logs(&path, s->state_dir.data, job->id, ".progress");
	/* "e" (close-on-exec): no command the deploy runs inherits it. */
	FILE *progress = fopen(path.data, "ae");
	if (!progress) {
		buf_printf(err, "cannot write %s: %s", path.data, strerror(errno));
		buf_free(&path);
		return -1;
	}
	setvbuf(progress, NULL, _IOLBF, 0);
	deploy_environments(s, job, progress);
	fclose(progress);
	buf_free(&path);
	/* Before the job leaves the queue, which ends the pusher's wait. */
	if (recorded)
		recorded(s);
	return queue_remove(s->state_dir.data, job->id, err);
}

int worker_run(const struct server *s, int catch_up, worker_recorded_fn recorded, struct buf *err)
{
	/* A pusher that hangs up must not take the worker down with a write. */
	signal(SIGPIPE, SIG_IGN);
	struct buf lock_path = BUF_INIT;
	layout_worker_lock(&lock_path, s->state_dir.data);
	struct state_holder me = {.pid = getpid(), .user = "worker", .since = time(NULL)};
	struct state_lock lock;
	int rc = state_lock(&lock, lock_path.data, &me, s->rules.deploy.lock_wait_seconds, err);
	buf_free(&lock_path);
	if (rc < 0)
		return -1;
	/* A deploy that died after its switch is undone before anything new
	 * runs, once nothing the dead worker ran is left to act. */
	struct deploy_site site = deploy_site_of(s);
	rc = stop_all_leftovers(s, err);
	if (rc == 0)
		rc = deploy_reconcile(&site, stdout, err);
	/* A tip whose push ended before post-receive queued it. */
	if (rc == 0)
		rc = trigger_unqueued(s, catch_up, stdout, err);
	for (; rc == 0;) {
		struct job *jobs;
		size_t n;
		struct buf notes = BUF_INIT;
		int listed = queue_list(&jobs, &n, s->state_dir.data, &notes, err);
		if (notes.len)
			fprintf(stderr, "gitgate: %s", notes.data);
		buf_free(&notes);
		if (listed < 0) {
			rc = -1;
			break;
		}
		for (size_t i = 0; rc == 0 && i < n; i++) {
			if (jobs[i].worker && queue_job_orphaned(&jobs[i]))
				rc = close_job(s, &jobs[i], OUTCOME_ABANDONED, recorded, err);
			else if (queue_newer_of_unit(jobs, n, i) >= 0)
				rc = close_job(s, &jobs[i], OUTCOME_SUPERSEDED, recorded, err);
			else
				rc = run_job(s, &jobs[i], recorded, err);
		}
		queue_jobs_free(jobs, n);
		if (rc < 0 || !n)
			break;
	}
	state_unlock(&lock);
	return rc;
}
