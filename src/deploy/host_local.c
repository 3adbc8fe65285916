/*
 * host_local: the host backend for this machine (host.h). Files and
 * symlinks are this machine's; the supervised app is started by detach.h
 * in a session of its own whose pid is the app's and its process group's,
 * its output through a log writer of the same group into the slot's log,
 * STATE/SLOT.log, and its pid beside its start time in STATE/SLOT.pid.
 *
 * The app is gitgate's child but never waited for (it is meant to outlive
 * gitgate); a gitgate that is still there when it exits reaps it from
 * app_running or app_stop. A pid alone is not trusted: it may have been
 * reused since the pid file was written. The start time recorded beside it
 * must match before the process counts as the app, or is signalled.
 */
#include "host.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "detach.h"
#include "proc.h"
#include "slot.h"
#include "state.h"

/* How long a group that got SIGKILL has to be gone. */
#define SETTLE_MS 5000
#define POLL_US 10000

static int local_run(struct host *h, const struct host_command *c, struct run_result *r,
		     struct buf *err)
{
	(void)h;
	struct run_options o = {.argv = c->argv,
				.env = c->env,
				.env_clear = c->env_clear,
				.cwd = c->cwd,
				.out = c->out,
				.err = c->err,
				.limit_ms = c->limit_ms,
				.grace_ms = c->grace_ms};
	return run(r, &o, err);
}

static int local_read_file(struct host *h, const char *path, struct buf *out, int *found,
			   struct buf *err)
{
	(void)h;
	return state_read_regular(path, out, found, err);
}

static int local_replace_file(struct host *h, const char *path, const char *data, size_t len,
			      struct buf *err)
{
	(void)h;
	if (data)
		return state_replace(path, data, len, err);
	if (unlink(path) == 0 || errno == ENOENT)
		return 0;
	buf_printf(err, "cannot remove %s: %s", path, strerror(errno));
	return -1;
}

static int local_link(struct host *h, const char *path, const char *target, struct buf *err)
{
	(void)h;
	return slot_symlink(path, target, err);
}

/* No copies: the exports are pruned where they are made (release.h). */
static int local_prune(struct host *h, const char *root, size_t keep, const char *const *in_use,
		       size_t nin_use, size_t *removed, struct buf *err)
{
	(void)h, (void)root, (void)keep, (void)in_use, (void)nin_use, (void)err;
	*removed = 0;
	return 0;
}

/* ---- the supervised app ------------------------------------------------ */

/* STATE/SLOT.pid, STATE/SLOT.log. */
static void app_file(struct buf *out, const struct host_app *app, const char *suffix)
{
	buf_clear(out);
	buf_printf(out, "%s/%s%s", app->state_dir, app->slot, suffix);
}

/* Collects the exit status of pid if it is gitgate's own child that has
 * exited, so that it does not linger as a zombie in its group. */
static void reap(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, WNOHANG) < 0 && errno == EINTR)
		;
}

/* Does any process that is not a zombie remain in the group? Zombies
 * whose parent has not reaped them (or an init that reaps slowly) still
 * count for kill(2), so /proc is read when kill says there is someone. */
static int group_alive(pid_t pgid)
{
	reap(pgid);
	if (kill(-pgid, 0) < 0 && errno == ESRCH)
		return 0;
	DIR *d = opendir("/proc");
	if (!d)
		return 1;
	int alive = 0;
	struct dirent *e;
	while (!alive && (e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		struct proc_info p;
		alive = proc_read((pid_t)atoi(e->d_name), &p) == 0 && p.pgrp == pgid &&
			p.state != 'Z' && p.state != 'X';
	}
	closedir(d);
	return alive;
}

static int wait_group_gone(pid_t pgid, unsigned ms)
{
	struct deadline until;
	deadline_start_ms(&until, ms ? ms : 1);
	while (group_alive(pgid)) {
		if (deadline_passed(&until))
			return 0;
		usleep(POLL_US);
	}
	return 1;
}

struct pid_record {
	pid_t pid;
	unsigned long long start;
};

/* Reads the app's pid file: *found 0 when there is none. */
static int pid_file_read(const struct host_app *app, struct pid_record *out, int *found,
			 struct buf *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	app_file(&path, app, ".pid");
	int rc = 0, pid = 0;
	*found = buf_read_file(&text, path.data) == 0;
	if (!*found && errno != ENOENT) {
		buf_printf(err, "cannot read %s: %s", path.data, strerror(errno));
		rc = -1;
	} else if (*found && (sscanf(text.data, "%d %llu", &pid, &out->start) != 2 || pid <= 1)) {
		buf_printf(err, "%s: not a pid file of gitgate's", path.data);
		rc = -1;
	}
	out->pid = (pid_t)pid;
	buf_free(&path);
	buf_free(&text);
	return rc;
}

enum pid_status {
	PID_ALIVE,  /* the process that was started, still running */
	PID_GONE,   /* it has exited: no process, or its zombie */
	PID_REUSED, /* another process has that pid now */
};

static enum pid_status pid_status(const struct pid_record *r)
{
	struct proc_info p;
	if (proc_read(r->pid, &p) < 0)
		return PID_GONE;
	if (p.start != r->start)
		return PID_REUSED;
	if (p.state == 'Z' || p.state == 'X') {
		reap(r->pid);
		return PID_GONE;
	}
	return PID_ALIVE;
}

static int local_app_running(struct host *h, const struct host_app *app, int *running,
			     struct buf *err)
{
	(void)h;
	struct pid_record r;
	int found;
	*running = 0;
	if (pid_file_read(app, &r, &found, err) < 0)
		return -1;
	*running = found && pid_status(&r) == PID_ALIVE;
	return 0;
}

/* Is the app's port free? Whatever listens there is another process: an
 * app started now could not listen, and the health check would ask that
 * process instead. Bound on every address (0.0.0.0), as it is taken on
 * any of them. */
static int port_free(const struct host_app *app, struct buf *err)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_port = htons((uint16_t)app->port),
				   .sin_addr.s_addr = htonl(INADDR_ANY)};
	if (fd < 0) {
		buf_printf(err, "cannot make a socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	if (rc < 0)
		buf_printf(err, "port %u of the %s slot is taken by another process (%s)",
			   app->port, app->slot, strerror(errno));
	close(fd);
	return rc;
}

/* Writes the started app's pid file; the app is killed when it cannot be. */
static int pid_file_write(const struct host_app *app, pid_t pid, struct buf *err)
{
	struct buf path = BUF_INIT, line = BUF_INIT;
	struct proc_info info;
	/* Unreaped, it is there to read, if only as a zombie of gitgate's. */
	if (proc_read(pid, &info) < 0)
		buf_printf(err, "cannot read the app's /proc/%d", (int)pid);
	else
		buf_printf(&line, "%d %llu\n", (int)pid, info.start);
	app_file(&path, app, ".pid");
	int rc = line.len ? state_replace(path.data, line.data, line.len, err) : -1;
	if (rc < 0) {
		kill(-pid, SIGKILL);
		wait_group_gone(pid, SETTLE_MS);
	}
	buf_free(&path);
	buf_free(&line);
	return rc;
}

static int local_app_start(struct host *h, const struct host_app *app, const struct host_command *c,
			   struct buf *err)
{
	int running;
	if (local_app_running(h, app, &running, err) < 0)
		return -1;
	if (running) {
		buf_printf(err, "the %s slot is already running", app->slot);
		return -1;
	}
	if (port_free(app, err) < 0)
		return -1;
	struct buf dir = BUF_INIT, log = BUF_INIT;
	buf_printf(&dir, "%s-%s", app->root, app->slot);
	app_file(&log, app, ".log");
	struct detach_options o = {
	    .argv = c->argv,
	    .env = c->env,
	    .env_clear = c->env_clear,
	    .cwd = dir.data,
	    .log = {log.data, app->log_max_bytes, app->log_keep},
	};
	pid_t pid;
	int rc = detach_start(&pid, &o, err) == 0 ? pid_file_write(app, pid, err) : -1;
	buf_free(&dir);
	buf_free(&log);
	return rc;
}

static int local_app_stop(struct host *h, const struct host_app *app, unsigned grace_ms,
			  struct buf *err)
{
	(void)h;
	struct pid_record r;
	int found;
	if (pid_file_read(app, &r, &found, err) < 0)
		return -1;
	/* A pid that is another process's now is never signalled; one that is
	 * gone may still lead a group of leftovers, which its number reaches:
	 * the kernel gives no new process that number while the group lives. */
	if (found && pid_status(&r) != PID_REUSED && group_alive(r.pid)) {
		kill(-r.pid, SIGTERM);
		kill(-r.pid, SIGCONT); /* a stopped process acts on SIGTERM only then */
		if (!wait_group_gone(r.pid, grace_ms)) {
			kill(-r.pid, SIGKILL);
			if (!wait_group_gone(r.pid, SETTLE_MS)) {
				buf_printf(err, "the %s slot's process group %d outlived SIGKILL",
					   app->slot, (int)r.pid);
				return -1;
			}
		}
	}
	if (found) {
		struct buf path = BUF_INIT;
		app_file(&path, app, ".pid");
		unlink(path.data);
		buf_free(&path);
	}
	return 0;
}

/* The export is here already: the slot points at it, once the app
 * before is stopped. */
static int local_receive(struct host *h, const struct host_release *r, struct buf *where,
			 struct buf *said, struct buf *err)
{
	(void)said;
	buf_clear(where);
	buf_adds(where, r->dir);
	if (r->stop && local_app_stop(h, r->stop, r->stop_grace_ms, err) < 0)
		return -1;
	return r->link ? slot_symlink(r->link, r->dir, err) : 0;
}

static void local_app_log(struct host *h, const struct host_app *app, struct buf *out)
{
	(void)h;
	app_file(out, app, ".log");
}

static int local_check(struct host *h, struct health_spec *spec, const char **deps,
		       struct health_report *out, struct buf *err)
{
	(void)h, (void)deps;
	return health_run(out, spec, err);
}

static int local_log_mark(struct host *h, const char *path, struct logpos *pos, struct buf *err)
{
	(void)h;
	struct logfollow f;
	if (logfollow_open_end(&f, path, err) < 0)
		return -1;
	logfollow_position(&f, pos);
	logfollow_close(&f);
	return 0;
}

static int local_log_follow(struct host *h, const char *path, struct logpos *pos,
			    logfollow_line_fn line, void *arg, struct buf *err)
{
	(void)h;
	struct logfollow f;
	if (logfollow_open_at(&f, path, pos, err) < 0)
		return -1;
	long n = logfollow_read(&f, line, arg, err);
	logfollow_position(&f, pos);
	logfollow_close(&f);
	return n < 0 ? -1 : 0;
}

static void local_close(struct host *h)
{
	sandbox_choice_free(&h->sandbox);
	free(h);
}

static const struct host_ops local_ops = {
    .run = local_run,
    .read_file = local_read_file,
    .replace_file = local_replace_file,
    .link = local_link,
    .receive = local_receive,
    .prune = local_prune,
    .app_start = local_app_start,
    .app_running = local_app_running,
    .app_stop = local_app_stop,
    .app_log = local_app_log,
    .check = local_check,
    .log_mark = local_log_mark,
    .log_follow = local_log_follow,
    .close = local_close,
};

struct host *host_local_open(const struct deploy_policy *policy)
{
	struct host *h = xcalloc(1, sizeof(*h));
	h->ops = &local_ops;
	if (policy)
		sandbox_choose(&h->sandbox, policy);
	else
		h->sandbox.why = (struct buf)BUF_INIT;
	return h;
}
