/*
 * host_ssh: the host backend for a remote target's host (host.h), through
 * one OpenSSH master (ssh.h) and remote.h's constant scripts. Nothing of
 * gitgate is installed there. A release received is a copy in
 * ROOT-releases/ID; the supervised app's pid file and log are in ROOT-run/.
 *
 * ssh exits 255 when the connection failed or was lost: a command that
 * ended so is said to be the connection's failure, not the command's.
 */
#include "host.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"
#include "ssh.h"

/* A release offered (host.h): its plan (remote_release_plan) worked out
 * on a thread of its own while the connection does other work. */
struct offer {
	pthread_t thread;
	int running;
	char *dir, *id, *base_dir, *base_id;
	struct remote_plan plan;
	int rc;
	struct buf err;
};

struct ssh_host {
	struct host host; /* first: a struct host * is a struct ssh_host * */
	struct offer offer;
	struct ssh ssh;
	struct remote_sandbox jail;
	/* The releases a receive left there (in listed_dir), for the prune
	 * that follows to remove the oldest without asking again. */
	struct buf listed, listed_dir;
	/* A prune going on there while the deploy ends here (settle). */
	struct remote_running pruning;
	int prune_running;
};

static struct ssh *ssh_of(struct host *h)
{
	return &((struct ssh_host *)h)->ssh;
}

static int ssh_host_run(struct host *h, const struct host_command *c, struct run_result *r,
			struct buf *err)
{
	struct remote_command remote;
	if (remote_command_make(&remote, ssh_of(h), c->argv, c->env, c->cwd, c->limit_ms, err) < 0)
		return -1;
	struct run_options o = {
	    .out = c->out, .err = c->err, .limit_ms = c->limit_ms, .grace_ms = c->grace_ms};
	remote_command_options(&o, &remote);
	int rc = run(r, &o, err);
	remote_command_free(&remote);
	if (rc == 0 && r->code == 255 && !r->timed_out) {
		buf_printf(err, "the connection to %s failed or was lost (ssh exited with 255)",
			   h->address);
		rc = -1;
	}
	return rc;
}

static int ssh_host_read_file(struct host *h, const char *path, struct buf *out, int *found,
			      struct buf *err)
{
	buf_clear(out);
	int rc = remote_read_file(ssh_of(h), path, out, err);
	*found = rc > 0;
	return rc < 0 ? -1 : 0;
}

static int ssh_host_replace_file(struct host *h, const char *path, const char *data, size_t len,
				 struct buf *err)
{
	return remote_write_file(ssh_of(h), path, data, len, err);
}

static int ssh_host_link(struct host *h, const char *path, const char *target, struct buf *err)
{
	return remote_link(ssh_of(h), path, target, err);
}

/* ROOT-run/SLOT.pid: the pid file of a slot's app there. */
static void app_pid_file(struct buf *out, const struct host_app *app)
{
	buf_printf(out, "%s-run/%s.pid", app->root, app->slot);
}

/* ROOT-releases: the host's copies of the releases. */
static void releases_there(struct buf *out, const char *root)
{
	buf_clear(out);
	buf_printf(out, "%s-releases", root);
}

static void *offer_plan(void *arg)
{
	struct offer *o = arg;
	struct remote_release r = {
	    .dir = o->dir, .id = o->id, .base_dir = o->base_dir, .base_id = o->base_id};
	o->rc = remote_release_plan(&o->plan, &r, &o->err);
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int same_or_null(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* Is the offer (made) of release r? */
static int offer_of(const struct offer *o, const struct host_release *r)
{
	return o->running && !strcmp(o->dir, r->dir) && !strcmp(o->id, r->id) &&
	       same_or_null(o->base_dir, r->base_dir) && same_or_null(o->base_id, r->base_id);
}

/* The offer's thread waited for; 1 when its plan is r's, else 0 (freed). */
static int offer_end(struct offer *o, const struct host_release *r)
{
	if (!o->running)
		return 0;
	int mine = r && offer_of(o, r);
	pthread_join(o->thread, NULL);
	o->running = 0;
	mine = mine && o->rc == 0;
	if (!mine && o->rc == 0)
		remote_plan_free(&o->plan);
	free(o->dir);
	free(o->id);
	free(o->base_dir);
	free(o->base_id);
	buf_free(&o->err);
	return mine;
}

static void ssh_host_offer(struct host *h, const struct host_release *r)
{
	struct offer *o = &((struct ssh_host *)h)->offer;
	if (offer_of(o, r))
		return;
	offer_end(o, NULL);
	*o = (struct offer){.dir = xstrdup(r->dir),
			    .id = xstrdup(r->id),
			    .base_dir = dup_or_null(r->base_dir),
			    .base_id = dup_or_null(r->base_id),
			    .err = BUF_INIT};
	/* No thread: receive works the plan out itself. */
	o->running = pthread_create(&o->thread, NULL, offer_plan, o) == 0;
	if (!o->running) {
		free(o->dir);
		free(o->id);
		free(o->base_dir);
		free(o->base_id);
		buf_free(&o->err);
	}
}

static int ssh_host_receive(struct host *h, const struct host_release *r, struct buf *where,
			    struct buf *said, struct buf *err)
{
	struct buf releases = BUF_INIT;
	releases_there(&releases, r->root);
	struct remote_release there = {.dir = r->dir,
				       .id = r->id,
				       .base_dir = r->base_dir,
				       .base_id = r->base_id,
				       .releases_dir = releases.data,
				       .link = r->link,
				       .stop_grace_ms = r->stop_grace_ms,
				       .limit_ms = r->limit_ms};
	struct buf pid_file = BUF_INIT;
	if (r->stop) {
		app_pid_file(&pid_file, r->stop);
		there.stop_pid_file = pid_file.data;
	}
	struct ssh_host *s = (struct ssh_host *)h;
	buf_clear(&s->listed_dir);
	struct remote_plan plan;
	int rc = 0;
	if (offer_end(&s->offer, r))
		plan = s->offer.plan;
	else
		rc = remote_release_plan(&plan, &there, err);
	if (rc == 0)
		rc = remote_receive_release(ssh_of(h), &there, &plan, said, &s->listed, err);
	remote_plan_free(&plan);
	if (rc == 0)
		buf_adds(&s->listed_dir, releases.data);
	buf_clear(where);
	buf_printf(where, "%s/%s", releases.data, r->id);
	buf_free(&releases);
	buf_free(&pid_file);
	return rc;
}

static int prune_finish(struct ssh_host *s, struct buf *err)
{
	if (!s->prune_running)
		return 0;
	s->prune_running = 0;
	return remote_script_finish(&s->pruning, err) == 0 ? 0 : -1;
}

/* The job is over: its forwards are taken back while a prune still runs
 * there, then the prune is waited for. */
static int ssh_host_settle(struct host *h, struct buf *err)
{
	struct ssh_host *s = (struct ssh_host *)h;
	ssh_cancel_forwards(&s->ssh);
	return prune_finish(s, err);
}

/* Started there, finished by settle (the deploy's watch begins here
 * meanwhile), before the target's lock is given up. */
static int ssh_host_prune(struct host *h, const char *root, size_t keep, const char *const *in_use,
			  size_t nin_use, size_t *removed, struct buf *err)
{
	struct ssh_host *s = (struct ssh_host *)h;
	/* Another target's prune there, said here when it failed: this one
	 * starts all the same. */
	struct buf before = BUF_INIT;
	int failed = prune_finish(s, &before) < 0;
	struct buf releases = BUF_INIT;
	releases_there(&releases, root);
	int known = s->listed_dir.len && !strcmp(s->listed_dir.data, releases.data);
	const char *listed = !known ? NULL : s->listed.data ? s->listed.data : "";
	int rc = remote_prune_start(&s->pruning, ssh_of(h), releases.data, listed, keep, in_use,
				    nin_use, removed, err);
	s->prune_running = rc == 0;
	if (failed) {
		buf_printf(err, "%s%s", err->len ? "; " : "", before.data);
		rc = -1;
	}
	buf_free(&before);
	buf_clear(&s->listed_dir);
	buf_free(&releases);
	return rc;
}

/* The app of a slot there: ROOT-SLOT, ROOT-run/SLOT.pid and .log. */
struct app_there {
	struct buf dir, pid_file, log;
	struct remote_app app;
};

static void app_there_open(struct app_there *a, const struct host_app *app)
{
	*a = (struct app_there){BUF_INIT, BUF_INIT, BUF_INIT, {0}};
	buf_printf(&a->dir, "%s-%s", app->root, app->slot);
	app_pid_file(&a->pid_file, app);
	buf_printf(&a->log, "%s-run/%s.log", app->root, app->slot);
	a->app = (struct remote_app){a->dir.data, a->pid_file.data, a->log.data, app->log_max_bytes,
				     app->log_keep};
}

static void app_there_close(struct app_there *a)
{
	buf_free(&a->dir);
	buf_free(&a->pid_file);
	buf_free(&a->log);
}

/* A remote host's ports are not this machine's to probe: there a taken
 * port shows in the slot's health check. */
static int ssh_host_app_start(struct host *h, const struct host_app *app,
			      const struct host_command *c, struct buf *err)
{
	struct app_there a;
	app_there_open(&a, app);
	int rc = remote_app_start(ssh_of(h), &a.app, c->argv, c->env, err);
	app_there_close(&a);
	return rc;
}

static int ssh_host_app_running(struct host *h, const struct host_app *app, int *running,
				struct buf *err)
{
	struct app_there a;
	app_there_open(&a, app);
	int rc = remote_app_running(ssh_of(h), &a.app, err);
	app_there_close(&a);
	*running = rc > 0;
	return rc < 0 ? -1 : 0;
}

static int ssh_host_app_stop(struct host *h, const struct host_app *app, unsigned grace_ms,
			     struct buf *err)
{
	struct app_there a;
	app_there_open(&a, app);
	int rc = remote_app_stop(ssh_of(h), &a.app, grace_ms, err);
	app_there_close(&a);
	return rc;
}

static void ssh_host_app_log(struct host *h, const struct host_app *app, struct buf *out)
{
	(void)h;
	buf_clear(out);
	buf_printf(out, "%s-run/%s.log", app->root, app->slot);
}

static void ssh_host_reach(struct host *h, const char *const *urls, size_t n)
{
	ssh_reach_urls(ssh_of(h), urls, n);
}

/* health_spec.reachable: the connection's master still answers. */
static int connection_alive(void *ssh)
{
	return ssh_alive(ssh);
}

static int ssh_host_check(struct host *h, struct health_spec *spec, const char **deps,
			  struct health_report *out, struct buf *err)
{
	struct remote_health there;
	spec->reachable = connection_alive;
	spec->reachable_ctx = ssh_of(h);
	int rc = remote_health_prepare(&there, ssh_of(h), spec, deps, err);
	if (rc == 0)
		rc = health_run(out, spec, err);
	remote_health_free(&there);
	return rc;
}

/* What one check reads of a log there, at most: the rest waits for the
 * next check. */
#define LOG_READ_MAX (4u << 20)

static int ssh_host_log_mark(struct host *h, const char *path, struct logpos *pos, struct buf *err)
{
	return remote_log_end(ssh_of(h), path, pos, err);
}

static int ssh_host_log_follow(struct host *h, const char *path, struct logpos *pos,
			       logfollow_line_fn line, void *arg, struct buf *err)
{
	struct buf data = BUF_INIT;
	struct logpos at;
	int rc = remote_log_read(ssh_of(h), path, pos, LOG_READ_MAX, &at, &data, err);
	if (rc == 0) {
		/* The same line splitter as here, from where the host began. */
		struct logfollow f = {
		    .fd = -1, .pos = at, .read_to = at.offset, .partial = BUF_INIT};
		logfollow_feed(&f, data.data ? data.data : "", data.len, line, arg);
		*pos = f.pos;
		buf_free(&f.partial);
	}
	buf_free(&data);
	return rc;
}

static void ssh_host_close(struct host *h)
{
	struct ssh_host *s = (struct ssh_host *)h;
	struct buf ignored = BUF_INIT;
	prune_finish(s, &ignored);
	buf_free(&ignored);
	offer_end(&s->offer, NULL);
	ssh_close(&s->ssh);
	remote_sandbox_free(&s->jail);
	buf_free(&s->listed);
	buf_free(&s->listed_dir);
	sandbox_choice_free(&h->sandbox);
	free(s);
}

static const struct host_ops ssh_ops = {
    .run = ssh_host_run,
    .read_file = ssh_host_read_file,
    .replace_file = ssh_host_replace_file,
    .link = ssh_host_link,
    .receive = ssh_host_receive,
    .offer = ssh_host_offer,
    .prune = ssh_host_prune,
    .settle = ssh_host_settle,
    .app_start = ssh_host_app_start,
    .app_running = ssh_host_app_running,
    .app_stop = ssh_host_app_stop,
    .app_log = ssh_host_app_log,
    .reach = ssh_host_reach,
    .check = ssh_host_check,
    .log_mark = ssh_host_log_mark,
    .log_follow = ssh_host_log_follow,
    .close = ssh_host_close,
};

int host_ssh_open(struct host **out, const char *address, const struct host_options *o,
		  struct buf *err)
{
	struct ssh_host *s = xcalloc(1, sizeof(*s));
	struct ssh_options so = {
	    .known_hosts = o->known_hosts, .identity = o->identity, .control_dir = o->control_dir};
	if (ssh_open(&s->ssh, address, &so, err) < 0) {
		free(s);
		return -1;
	}
	s->host = (struct host){.ops = &ssh_ops, .address = address};
	/* Whether the app's commands run in the sandbox there, probed once. */
	if (o->policy->sandbox != DEPLOY_SANDBOX_NO &&
	    remote_sandbox_open(&s->jail, &s->ssh, err) < 0) {
		ssh_host_close(&s->host);
		return -1;
	}
	sandbox_choose_host(&s->host.sandbox, o->policy, &s->jail.host);
	s->host.sandbox_host = &s->jail.host;
	*out = &s->host;
	return 0;
}
