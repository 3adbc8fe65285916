/*
 * host: where one part of a deploy lives -- a target's slots, its
 * releases, its app -- behind one interface, as libgit2's transports are:
 * a table of operations, each backend a file of its own. The engine and
 * the modules under it (slot, switch) call host_* and never ask which
 * backend they hold.
 *
 *   local  this machine: files, symlinks, logs, processes supervised here by
 *          their pid files in the target's state folder (host_local.c)
 *   ssh    a remote host through one OpenSSH master, nothing of gitgate
 *          installed there (host_ssh.c, over remote.h's constant scripts;
 *          the app's pid file and log in ROOT-run/ there)
 *
 * The unit tests drive the engine through a third backend of their own,
 * in memory, that can fail any operation (tests/unit/fake_host.c).
 *
 * Every operation returns 0, or -1 with why in err, as below the deploy
 * layer. A host also says how the pushed code's commands run there: in
 * the sandbox or not (sandbox.h), chosen once when it is opened.
 */
#ifndef GITGATE_HOST_H
#define GITGATE_HOST_H

#include <stddef.h>

#include "accesslog.h"
#include "buf.h"
#include "health.h"
#include "run.h"
#include "sandbox.h"

struct host;

/* A command to run on a host: argv in cwd (NULL: gitgate's folder here,
 * the login folder there) with env as run.h takes it ("NAME=value" over
 * gitgate's own environment; alone with env_clear), its output to out and
 * err, under limit_ms (0: none) over its whole process group. */
struct host_command {
	const char *const *argv;
	const char *const *env;
	int env_clear;
	const char *cwd;
	struct run_output out, err;
	unsigned limit_ms, grace_ms;
};

/* One slot's app, supervised on the host: it runs in ROOT-SLOT on port;
 * the backend keeps its pid file and log where its hosts keep them
 * (state_dir here, ROOT-run there), the log capped as slot.h says. */
struct host_app {
	const char *root;
	const char *slot; /* "blue" or "green" */
	const char *state_dir;
	unsigned port;
	unsigned long long log_max_bytes;
	unsigned log_keep;
};

/* A release to make available on a host: the export here, and an earlier
 * export of the same target that was sent there (the newest a slot holds),
 * which a remote host may build it on: only what differs then travels. */
struct host_release {
	const char *root;		/* the target's root there */
	const char *dir, *id;		/* the export here */
	const char *base_dir, *base_id; /* NULL: none */
	const char *link;		/* a symlink to point at it (as link does); NULL: none */
	/* The app to stop there before link is made (as app_stop does, with
	 * stop_grace_ms); NULL: none. A remote host stops it while the
	 * release travels, in the same trip. */
	const struct host_app *stop;
	unsigned stop_grace_ms;
	unsigned limit_ms;
};

struct host_ops {
	/* Runs c there; 0 with how it ended in *r (whatever its exit code),
	 * -1 when it could not be run or the host could not be reached. */
	int (*run)(struct host *h, const struct host_command *c, struct run_result *r,
		   struct buf *err);
	/* The file at path into out; *found 0 (and out empty) when there is none. */
	int (*read_file)(struct host *h, const char *path, struct buf *out, int *found,
			 struct buf *err);
	/* Replaces the file at path with data, atomically; data NULL removes it. */
	int (*replace_file)(struct host *h, const char *path, const char *data, size_t len,
			    struct buf *err);
	/* Makes path a symlink to target, swapped atomically; refuses to
	 * replace anything but a symlink. */
	int (*link)(struct host *h, const char *path, const char *target, struct buf *err);
	/* The release r made available there: where gets the folder a slot
	 * points at (r->dir itself on this machine, a copy in ROOT-releases/ID
	 * on a remote host), said how it got there when it travelled; then
	 * r->stop is stopped and r->link points at it, in the same trip to a
	 * remote host. */
	int (*receive)(struct host *h, const struct host_release *r, struct buf *where,
		       struct buf *said, struct buf *err);
	/* A release receive will be asked for next (r as it will be given,
	 * but for its link): the backend may begin on it in the background
	 * while the engine does other work there; receive finishes it, and
	 * nothing is lost when it never comes. NULL: nothing to begin. */
	void (*offer)(struct host *h, const struct host_release *r);
	/* Removes the oldest of the copies receive made until keep are left,
	 * never one in in_use; *removed counts them. It may go on in the
	 * background until settle. */
	int (*prune)(struct host *h, const char *root, size_t keep, const char *const *in_use,
		     size_t nin_use, size_t *removed, struct buf *err);
	/* The job is done with the host: what it still does for this process
	 * in the background (a remote host's prune goes on there while the
	 * watch begins here) is waited for, and what the job held there let
	 * go (the port forwards); 0, or -1 with why that work failed in err.
	 * NULL: nothing is ever left. host_close does it too, and says
	 * nothing. */
	int (*settle)(struct host *h, struct buf *err);
	/* Starts c (its argv and env; it runs in ROOT-SLOT) detached, in a
	 * session of its own, recorded in its pid file. Refuses when it is
	 * running already, or when another process holds its port. */
	int (*app_start)(struct host *h, const struct host_app *app, const struct host_command *c,
			 struct buf *err);
	/* *running: the app recorded in its pid file runs (a reused pid never
	 * counts). */
	int (*app_running)(struct host *h, const struct host_app *app, int *running,
			   struct buf *err);
	/* SIGTERM to its process group, SIGKILL after grace_ms; nothing
	 * running is no error. */
	int (*app_stop)(struct host *h, const struct host_app *app, unsigned grace_ms,
			struct buf *err);
	/* Where the supervised app's output goes there: its log's path. */
	void (*app_log)(struct host *h, const struct host_app *app, struct buf *out);
	/* URLs that checks will ask for soon (NULL ones skipped): a remote
	 * host may make them reachable now, in one go; check says any
	 * trouble. NULL: nothing to do. */
	void (*reach)(struct host *h, const char *const *urls, size_t n);
	/* Runs a health check of what runs there (health.h), reached from
	 * here; the report names every check as the host sees it. */
	int (*check)(struct host *h, struct health_spec *spec, const char **deps,
		     struct health_report *out, struct buf *err);
	/* Where the log at path ends now, for log_follow to read only what is
	 * written after (a missing file: from its start once it appears). */
	int (*log_mark)(struct host *h, const char *path, struct logpos *pos, struct buf *err);
	/* The whole lines written to path since *pos, each to line(arg, ...),
	 * the new file from its start after a rotation or a truncation; *pos
	 * then stands after the last whole line. */
	int (*log_follow)(struct host *h, const char *path, struct logpos *pos,
			  logfollow_line_fn line, void *arg, struct buf *err);
	void (*close)(struct host *h);
};

struct host {
	const struct host_ops *ops;
	/* USER@HOST[:PORT] as the rules name it; NULL for this machine. */
	const char *address;
	/* Whether the app's commands run in the sandbox here, and the paths
	 * sandbox_argv needs (NULL: this machine's). */
	struct sandbox_choice sandbox;
	const struct sandbox_host *sandbox_host;
};

/* What opening a host needs: the ssh options of its target. */
struct host_options {
	const char *known_hosts, *identity;
	const char *control_dir; /* where the ssh masters' sockets live */
	const struct deploy_policy *policy;
};

/* Opens a host's backend: the deploy_site's choice (host_ssh_open, or a
 * test's). Returns 0 with *out set, or -1 with why in err. */
typedef int (*host_open_fn)(struct host **out, const char *address, const struct host_options *o,
			    struct buf *err);

/* This machine (host_local.c), its sandbox chosen by policy. */
struct host *host_local_open(const struct deploy_policy *policy);
/* A remote host through ssh (host_ssh.c). */
int host_ssh_open(struct host **out, const char *address, const struct host_options *o,
		  struct buf *err);

static inline int host_run(struct host *h, const struct host_command *c, struct run_result *r,
			   struct buf *err)
{
	return h->ops->run(h, c, r, err);
}
static inline int host_read_file(struct host *h, const char *path, struct buf *out, int *found,
				 struct buf *err)
{
	return h->ops->read_file(h, path, out, found, err);
}
static inline int host_replace_file(struct host *h, const char *path, const char *data, size_t len,
				    struct buf *err)
{
	return h->ops->replace_file(h, path, data, len, err);
}
static inline int host_link(struct host *h, const char *path, const char *target, struct buf *err)
{
	return h->ops->link(h, path, target, err);
}
static inline int host_receive(struct host *h, const struct host_release *r, struct buf *where,
			       struct buf *said, struct buf *err)
{
	return h->ops->receive(h, r, where, said, err);
}
static inline void host_offer(struct host *h, const struct host_release *r)
{
	if (h->ops->offer)
		h->ops->offer(h, r);
}
static inline int host_prune(struct host *h, const char *root, size_t keep,
			     const char *const *in_use, size_t nin_use, size_t *removed,
			     struct buf *err)
{
	return h->ops->prune(h, root, keep, in_use, nin_use, removed, err);
}
static inline int host_settle(struct host *h, struct buf *err)
{
	return h->ops->settle ? h->ops->settle(h, err) : 0;
}
static inline int host_app_start(struct host *h, const struct host_app *app,
				 const struct host_command *c, struct buf *err)
{
	return h->ops->app_start(h, app, c, err);
}
static inline int host_app_running(struct host *h, const struct host_app *app, int *running,
				   struct buf *err)
{
	return h->ops->app_running(h, app, running, err);
}
static inline int host_app_stop(struct host *h, const struct host_app *app, unsigned grace_ms,
				struct buf *err)
{
	return h->ops->app_stop(h, app, grace_ms, err);
}
static inline void host_app_log(struct host *h, const struct host_app *app, struct buf *out)
{
	h->ops->app_log(h, app, out);
}
static inline void host_reach(struct host *h, const char *const *urls, size_t n)
{
	if (h->ops->reach)
		h->ops->reach(h, urls, n);
}
static inline int host_check(struct host *h, struct health_spec *spec, const char **deps,
			     struct health_report *out, struct buf *err)
{
	return h->ops->check(h, spec, deps, out, err);
}
static inline int host_log_mark(struct host *h, const char *path, struct logpos *pos,
				struct buf *err)
{
	return h->ops->log_mark(h, path, pos, err);
}
static inline int host_log_follow(struct host *h, const char *path, struct logpos *pos,
				  logfollow_line_fn line, void *arg, struct buf *err)
{
	return h->ops->log_follow(h, path, pos, line, arg, err);
}
/* Closes h and frees it (NULL: nothing). */
void host_close(struct host *h);
/* The host's name in messages: its address, or "this machine". */
const char *host_name(const struct host *h);

/* Runs c on h: 0 when it ran and exited 0, else -1 with how it ended in
 * err (the caller's output sinks keep what it said). */
int host_run_checked(struct host *h, const struct host_command *c, struct buf *err);

#endif
