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

#include <stdlib.h>
#include <string.h>

#include "remote.h"
#include "ssh.h"

struct ssh_host {
	struct host host; /* first: a struct host * is a struct ssh_host * */
	struct ssh ssh;
	struct remote_sandbox jail;
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

/* ROOT-releases: the host's copies of the releases. */
static void releases_there(struct buf *out, const char *root)
{
	buf_clear(out);
	buf_printf(out, "%s-releases", root);
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
				       .limit_ms = r->limit_ms};
	int rc = remote_receive_release(ssh_of(h), &there, said, err);
	buf_clear(where);
	buf_printf(where, "%s/%s", releases.data, r->id);
	buf_free(&releases);
	return rc;
}

static int ssh_host_prune(struct host *h, const char *root, size_t keep, const char *const *in_use,
			  size_t nin_use, size_t *removed, struct buf *err)
{
	struct buf releases = BUF_INIT;
	releases_there(&releases, root);
	int rc =
	    remote_prune_releases(ssh_of(h), releases.data, keep, in_use, nin_use, removed, err);
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
	buf_printf(&a->pid_file, "%s-run/%s.pid", app->root, app->slot);
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
	ssh_close(&s->ssh);
	remote_sandbox_free(&s->jail);
	sandbox_choice_free(&h->sandbox);
	free(s);
}

static const struct host_ops ssh_ops = {
    .run = ssh_host_run,
    .read_file = ssh_host_read_file,
    .replace_file = ssh_host_replace_file,
    .link = ssh_host_link,
    .receive = ssh_host_receive,
    .prune = ssh_host_prune,
    .app_start = ssh_host_app_start,
    .app_running = ssh_host_app_running,
    .app_stop = ssh_host_app_stop,
    .app_log = ssh_host_app_log,
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
