/*
 * trigger: see trigger.h.
 */
#include "trigger.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deploy_policy.h"
#include "history.h"
#include "layout.h"
#include "queue.h"
#include "repo.h"
#include "run.h"
#include "state.h"
#include "tips.h"
#include "treediff.h"

#define FOLLOW_POLL_MS 100
/* A job no worker has taken for this long will not be taken. */
#define NO_WORKER_MS 10000

void trigger_read_push_options(struct trigger_options *o, char *const *options, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(options[i], "confirm=", 8))
			o->phrase = options[i] + 8;
		else if (!strncmp(options[i], "emergency=", 10))
			o->emergency = options[i] + 10;
		else if (!strcmp(options[i], "detach"))
			o->detach = 1;
	}
}

static void mark_unit(const struct rules *r, const char *path, unsigned char *changed, int *every)
{
	if (!path)
		return;
	if (rules_is_shared(r, path)) {
		*every = 1;
		return;
	}
	const struct project *p = rules_project_of(r, path);
	if (p)
		changed[p->unit - r->units] = 1;
}

/* Which units the update changed, one flag a unit; *every when that is
 * every unit as one: a shared package changed, or the branch is new
 * (nothing was deployed from it yet). */
static int units_changed(const struct server *s, const struct hook_update *u,
			 unsigned char *changed, int *every, struct buf *err)
{
	const struct rules *r = &s->rules;
	if (strspn(u->old_id, "0") == strlen(u->old_id)) {
		*every = 1;
		return 0;
	}
	git_oid old_oid, new_oid;
	git_commit *old_c = NULL, *new_c = NULL;
	git_tree *old_t = NULL, *new_t = NULL;
	struct changeset cs = {0};
	int rc = -1;
	if (git_oid_fromstr(&old_oid, u->old_id) < 0 || git_oid_fromstr(&new_oid, u->new_id) < 0 ||
	    git_commit_lookup(&old_c, s->repo, &old_oid) < 0 ||
	    git_commit_lookup(&new_c, s->repo, &new_oid) < 0 ||
	    git_commit_tree(&old_t, old_c) < 0 || git_commit_tree(&new_t, new_c) < 0) {
		repo_error(err, "cannot read the pushed commits");
	} else if (treediff_trees(s->repo, old_t, new_t, &cs, err) == 0) {
		for (size_t i = 0; i < cs.n; i++) {
			mark_unit(r, cs.items[i].old_path, changed, every);
			mark_unit(r, cs.items[i].path, changed, every);
		}
		rc = 0;
	}
	changeset_free(&cs);
	git_tree_free(old_t);
	git_tree_free(new_t);
	git_commit_free(old_c);
	git_commit_free(new_c);
	return rc;
}

/* Queues a job: unit (a unit's name, or "all") at revision, into the
 * environments given. Its id goes to id. */
static int enqueue_job(const struct server *s, const char *unit, const char *const *environments,
		       size_t n, const char *revision, const struct trigger_options *o,
		       struct buf *id, struct buf *err)
{
	struct job job = {.unit = (char *)unit,
			  .environments = (char **)environments,
			  .nenvironments = n,
			  .revision = (char *)revision,
			  .user = (char *)o->user,
			  .user_source = (char *)o->user_source,
			  .phrase = (char *)o->phrase,
			  .emergency = (char *)o->emergency,
			  .detach = o->detach,
			  .ask = (char *)o->ask.prefix,
			  .repository = (char *)o->ask.repository,
			  .ask_ref = o->ask.by_ref,
			  .queued = time(NULL)};
	history_new_id(id);
	job.id = id->data;
	return queue_add(s->state_dir.data, &job, err);
}

/* What a push without the phrase leaves undeployed in env, by name (NULL:
 * every unit that deploys there), and how to deploy it: by a push, or at
 * a shell on the server. */
static void say_not_deployed(const struct server *s, const struct unit *unit,
			     const struct deploy_environment *env, const struct ask *a, FILE *out)
{
	const struct rules *r = &s->rules;
	struct buf names = BUF_INIT;
	size_t n = 0;
	for (size_t u = 0; u < r->nunits; u++)
		if (unit ? &r->units[u] == unit
			 : deploy_policy_unit_deploys_to(r, &r->units[u], env))
			buf_printf(&names, "%s%s", n++ ? ", " : "", r->units[u].name);
	fprintf(out,
		"gitgate: %s %s not deployed to %s by this push (it needs the phrase); to do so: "
		"git push -o \"confirm=%s\" (or%s gitgate deploy %s to %s --confirm ...)\n",
		names.data ? names.data : "nothing", n == 1 ? "is" : "are", env->name,
		r->deploy.confirm_phrase, a->prefix || a->by_ref ? " on the server," : "",
		unit ? unit->name : "all", env->name);
	buf_free(&names);
}

/* Queues the unit's job (NULL: every unit's, as one) into the environments
 * a push reaches; says how to reach what the push could not. */
static int enqueue(const struct server *s, const struct unit *unit, const char *revision,
		   const struct trigger_options *o, struct buf *id, FILE *out, struct buf *err)
{
	const struct deploy_environment **envs = NULL;
	size_t n = deploy_policy_unit_environments(&s->rules, unit, &envs), reached = 0;
	const char *name = unit ? unit->name : "all";
	const char **names = xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++) {
		if (envs[i]->auto_deploy || (o->phrase && envs[i]->confirm))
			names[reached++] = envs[i]->name;
		else if (envs[i]->confirm)
			say_not_deployed(s, unit, envs[i], &o->ask, out);
	}
	int rc = reached ? enqueue_job(s, name, names, reached, revision, o, id, err) : 0;
	free(names);
	free(envs);
	return rc;
}

/* The worker runs apart from this hook: its own session (setsid), so a
 * pusher who hangs up or a hook that git stops takes nothing down with it. */
static int start_worker(const struct server *s, const char *worker, struct buf *err)
{
	if (layout_make_logs(s->state_dir.data, err) < 0)
		return -1;
	struct buf log = BUF_INIT;
	layout_logs(&log, s->state_dir.data, "worker.log", NULL);
	const char *argv[] = {"setsid", worker, "deploy", "--worker", NULL};
	struct run_options opts = {.argv = argv,
				   .out = {.kind = RUN_OUT_APPEND, .path = log.data},
				   .err = {.kind = RUN_OUT_APPEND, .path = log.data}};
	struct run_process p;
	int rc = run_start(&p, &opts, err);
	buf_free(&log);
	return rc;
}

/* Is the job still to come? Not when it left the queue (recorded), when
 * its worker died under it, or when no worker has been there to take it
 * for a while (the one started could not run). Says why it stops. */
static int job_pending(const struct server *s, const char *id, unsigned *idle_polls, FILE *out)
{
	struct job job;
	if (!queue_get(&job, s->state_dir.data, id))
		return 0;
	int pending = 1;
	if (job.worker && queue_job_orphaned(&job)) {
		fprintf(out,
			"gitgate: the deploy worker stopped before job %s ended; gitgate deploy "
			"--reconcile closes it (the last good release keeps serving)\n",
			id);
		pending = 0;
	} else if (!job.worker) {
		struct buf lock = BUF_INIT, err = BUF_INIT;
		struct state_holder holder;
		layout_worker_lock(&lock, s->state_dir.data);
		int held = state_lock_holder(&holder, lock.data, &err);
		if (held > 0)
			state_holder_free(&holder);
		*idle_polls = held > 0 ? 0 : *idle_polls + 1;
		if (*idle_polls * FOLLOW_POLL_MS > NO_WORKER_MS) {
			struct buf log = BUF_INIT;
			layout_logs(&log, s->state_dir.data, "worker.log", NULL);
			fprintf(out,
				"gitgate: no deploy worker took job %s; see %s and run gitgate "
				"deploy --worker\n",
				id, log.data);
			buf_free(&log);
			pending = 0;
		}
		buf_free(&lock);
		buf_free(&err);
	}
	queue_job_free(&job);
	return pending;
}

/* Prints what the job's progress file gains while the job is pending. */
static void follow(const struct server *s, const char *id, FILE *out)
{
	struct buf progress = BUF_INIT;
	layout_logs(&progress, s->state_dir.data, id, ".progress");
	FILE *f = NULL;
	char chunk[4096];
	unsigned idle_polls = 0;
	for (int pending = 1, last = 0; !last;) {
		last = !pending;
		if (!f)
			f = fopen(progress.data, "r");
		size_t n;
		while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, out);
		if (f)
			clearerr(f);
		fflush(out);
		if (!last) {
			pending = job_pending(s, id, &idle_polls, out);
			struct timespec pause = {0, FOLLOW_POLL_MS * 1000000L};
			if (pending)
				nanosleep(&pause, NULL);
		}
	}
	if (f)
		fclose(f);
	buf_free(&progress);
}

/* Queues the deploys of the deploy branch's update u (one job a changed
 * unit, or one for every unit), their ids added to ids (room for one a
 * unit), and notes the tip as queued. */
static int queue_update(const struct server *s, const struct hook_update *u,
			const struct trigger_options *o, char **ids, size_t *nids, FILE *out,
			struct buf *err)
{
	const struct rules *r = &s->rules;
	unsigned char *changed = xcalloc(r->nunits + 1, 1);
	int every = 0;
	int rc = units_changed(s, u, changed, &every, err);
	for (size_t i = 0; rc == 0 && i < (every ? 1 : r->nunits); i++) {
		struct buf id = BUF_INIT;
		if (every || changed[i])
			rc = enqueue(s, every ? NULL : &r->units[i], u->new_id, o, &id, out, err);
		if (id.len)
			ids[(*nids)++] = buf_detach(&id);
		buf_free(&id);
	}
	if (rc == 0)
		rc = tips_note_queued(s->state_dir.data, u->new_id, err);
	free(changed);
	return rc;
}

static void free_ids(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/* A push to refs/deploy/ENV (pre-receive made sure ENV is an environment
 * and the commit is on the deploy branch): every unit into ENV, those that
 * run it already skipped by the worker. */
static int queue_deploy_ref(const struct server *s, const struct hook_update *u,
			    const struct trigger_options *o, char **ids, size_t *nids, FILE *out,
			    struct buf *err)
{
	const char *env = u->ref + strlen(DEPLOY_REF_PREFIX);
	if (strncmp(u->ref, DEPLOY_REF_PREFIX, strlen(DEPLOY_REF_PREFIX)) ||
	    strspn(u->new_id, "0") == strlen(u->new_id) ||
	    !deploy_policy_find_environment(&s->rules, env))
		return 0;
	struct buf id = BUF_INIT;
	const char *environments[] = {env};
	int rc = enqueue_job(s, "all", environments, 1, u->new_id, o, &id, err);
	if (rc == 0)
		ids[(*nids)++] = buf_detach(&id);
	buf_free(&id);
	/* The ref only carries the push: gone once queued, the same push
	 * deploys again next time, rather than finding it up to date. */
	const char *argv[] = {"git", "update-ref", "-d", u->ref, u->new_id, NULL};
	struct run_options opts = {.argv = argv, .out = {.kind = RUN_OUT_DISCARD}};
	struct run_result git;
	struct buf why = BUF_INIT;
	if (rc == 0 && (run(&git, &opts, &why) < 0 || git.code != 0))
		fprintf(out, "warning: gitgate: %s stays; delete it before pushing there again\n",
			u->ref);
	buf_free(&why);
	return rc;
}

int trigger_push(const struct server *s, const struct hook_input *input,
		 const struct trigger_options *o, const char *worker, FILE *out, struct buf *err)
{
	const struct rules *r = &s->rules;
	if (!r->deploy.nenvironments)
		return 0;
	struct buf branch = BUF_INIT;
	deploy_policy_branch_ref(r, &branch);
	/* room for a job a unit, and one a deploy ref */
	char **ids = xcalloc(r->nunits + input->n + 1, sizeof(char *));
	size_t nids = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < input->n; i++) {
		const struct hook_update *u = &input->updates[i];
		if (!strcmp(u->ref, branch.data) && strspn(u->new_id, "0") != strlen(u->new_id))
			rc = queue_update(s, u, o, ids, &nids, out, err);
		else
			rc = queue_deploy_ref(s, u, o, ids, &nids, out, err);
	}
	buf_free(&branch);
	if (rc == 0 && nids)
		rc = start_worker(s, worker, err);
	if (rc == 0 && nids && o->detach) {
		struct buf logs = BUF_INIT, status = BUF_INIT;
		ask_command(&logs, &o->ask, "logs", NULL);
		ask_command(&status, &o->ask, "status", NULL);
		if (o->ask.by_ref)
			fprintf(out,
				"gitgate: deploying in the background; once it has ended: %s "
				"(each deploy's log is in logs/)\n",
				status.data);
		else
			fprintf(out, "gitgate: deploying in the background: %s, %s\n", logs.data,
				status.data);
		buf_free(&logs);
		buf_free(&status);
	}
	for (size_t i = 0; rc == 0 && !o->detach && i < nids; i++)
		follow(s, ids[i], out);
	free_ids(ids, nids);
	return rc;
}

void trigger_note_accepted(const struct server *s, const struct hook_input *input, const char *user,
			   const char *user_source, pid_t receiver, FILE *out)
{
	if (!s->rules.deploy.nenvironments)
		return;
	struct buf branch = BUF_INIT, err = BUF_INIT;
	deploy_policy_branch_ref(&s->rules, &branch);
	for (size_t i = 0; i < input->n; i++) {
		const struct hook_update *u = &input->updates[i];
		if (strcmp(u->ref, branch.data) || strspn(u->new_id, "0") == strlen(u->new_id))
			continue;
		if (tips_note_accepted(s->state_dir.data, u->old_id, u->new_id, user, user_source,
				       receiver, &err) < 0)
			fprintf(out,
				"warning: gitgate: %s (if this push is cut off before its deploys "
				"are queued, gitgate deploy --reconcile still finds it)\n",
				err.data);
		buf_clear(&err);
	}
	buf_free(&branch);
	buf_free(&err);
}

int trigger_unqueued(const struct server *s, int catch_up, FILE *out, struct buf *err)
{
	const struct rules *r = &s->rules;
	if (!r->deploy.nenvironments)
		return 0;
	struct buf ref = BUF_INIT, from = BUF_INIT, user = BUF_INIT, source = BUF_INIT;
	deploy_policy_branch_ref(r, &ref);
	git_oid tip;
	char tip_hex[GIT_OID_HEXSZ + 1];
	int rc = git_reference_name_to_id(&tip, s->repo, ref.data) == 0 ? 0 : -2;
	if (rc == 0) {
		git_oid_tostr(tip_hex, sizeof(tip_hex), &tip);
		rc =
		    tips_unqueued(s->state_dir.data, tip_hex, catch_up, &from, &user, &source, err);
	}
	/* A tip no hook noted that a deploy already took (gitgate deploy, or
	 * one that died and was closed as abandoned) is not caught up with:
	 * an abandoned deploy is never retried by itself. */
	if (rc == 1 && !user.len && history_has(s->state_dir.data, NULL, NULL, "to", tip_hex))
		rc = 0;
	if (rc == 1) {
		struct hook_update u = {.ref = ref.data};
		snprintf(u.old_id, sizeof(u.old_id), "%s", from.len ? from.data : "0");
		snprintf(u.new_id, sizeof(u.new_id), "%s", tip_hex);
		struct trigger_options o = {.user = user.len ? user.data : "reconcile",
					    .user_source = source.len ? source.data : NULL};
		if (!user.len)
			buf_adds(&user, "someone (the push was not noted)");
		fprintf(out,
			"gitgate: %.12s was pushed to %s by %s, but its push ended before its "
			"deploys were queued: deploying it to the auto environments\n",
			tip_hex, deploy_policy_branch(r), user.data);
		char **ids = xcalloc(r->nunits + 1, sizeof(char *));
		size_t nids = 0;
		rc = queue_update(s, &u, &o, ids, &nids, out, err);
		free_ids(ids, nids);
	}
	buf_free(&ref);
	buf_free(&from);
	buf_free(&user);
	buf_free(&source);
	return rc == -1 ? -1 : 0;
}

int trigger_deploy(const struct server *s, const char *unit, const char *environment,
		   const char *revision, const struct trigger_options *o, const char *worker,
		   FILE *out, struct buf *err)
{
	struct buf id = BUF_INIT;
	const char *environments[] = {environment};
	int rc = enqueue_job(s, unit, environments, 1, revision, o, &id, err);
	if (rc == 0)
		rc = start_worker(s, worker, err);
	if (rc == 0)
		fprintf(out,
			"gitgate: deploy job %s queued: %s to %s at %.12s; follow it with gitgate "
			"logs --follow, see it with gitgate status\n",
			id.data, unit, environment, revision);
	buf_free(&id);
	return rc;
}
