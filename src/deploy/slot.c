/*
 * slot: see slot.h. The supervised app is started by detach.h: in a
 * session of its own whose pid is the app's and its process group's, its
 * output through a log writer of the same group into the slot's log. It
 * is gitgate's child but never waited for (it is meant to outlive
 * gitgate); a gitgate that is still there when it exits reaps it from
 * slot_running or slot_stop.
 */
#include "slot.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "detach.h"
#include "proc.h"
#include "remote.h"
#include "run.h"
#include "state.h"

/* How long a group that got SIGKILL has to be gone. */
#define SETTLE_MS 5000
#define POLL_US 10000

static const char *const names[] = {"blue", "green"};

const char *slot_name(enum slot_color c)
{
	return c == SLOT_BLUE || c == SLOT_GREEN ? names[c] : "none";
}

enum slot_color slot_other(enum slot_color c)
{
	return c == SLOT_BLUE ? SLOT_GREEN : SLOT_BLUE;
}

void slot_dir(struct buf *out, const struct slot_target *t, enum slot_color c)
{
	buf_clear(out);
	buf_printf(out, "%s-%s", t->root, slot_name(c));
}

/* STATE/<name><suffix>: slots.json, blue.pid, green.log. */
static void state_file(struct buf *out, const struct slot_target *t, const char *name,
		       const char *suffix)
{
	buf_clear(out);
	buf_printf(out, "%s/%s%s", t->state_dir, name, suffix);
}

/* ---- slots.json -------------------------------------------------------- */

static json_t *time_json(time_t t)
{
	char text[32];
	struct tm utc;
	gmtime_r(&t, &utc);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
	return json_string(text);
}

static time_t time_from_json(const json_t *j)
{
	struct tm utc = {0};
	const char *text = json_string_value(j);
	if (!text || !strptime(text, "%Y-%m-%dT%H:%M:%SZ", &utc))
		return 0;
	return timegm(&utc);
}

static enum slot_color color_from_json(const json_t *j)
{
	const char *name = json_string_value(j);
	for (int c = SLOT_BLUE; name && c <= SLOT_GREEN; c++)
		if (!strcmp(name, names[c]))
			return (enum slot_color)c;
	return SLOT_NONE;
}

static char *string_from_json(const json_t *j)
{
	const char *s = json_string_value(j);
	return s ? xstrdup(s) : NULL;
}

int slot_state_load(struct slot_state *out, const struct slot_target *t, struct buf *err)
{
	memset(out, 0, sizeof(*out));
	out->live = SLOT_NONE;
	struct buf path = BUF_INIT, text = BUF_INIT;
	state_file(&path, t, "slots", ".json");
	int rc = 0;
	if (buf_read_file(&text, path.data) < 0) {
		if (errno != ENOENT) {
			buf_printf(err, "cannot read %s: %s", path.data, strerror(errno));
			rc = -1;
		}
		goto done;
	}
	json_error_t je;
	json_t *root = json_loadb(text.data, text.len, 0, &je);
	if (!json_is_object(root)) {
		buf_printf(err, "%s:%d: not a slot record: %s", path.data, je.line,
			   root ? "not an object" : je.text);
		json_decref(root);
		rc = -1;
		goto done;
	}
	out->live = color_from_json(json_object_get(root, "live"));
	out->switched = time_from_json(json_object_get(root, "switched"));
	for (int c = SLOT_BLUE; c <= SLOT_GREEN; c++) {
		json_t *slot = json_object_get(root, names[c]);
		struct slot_info *s = &out->slots[c];
		s->release = string_from_json(json_object_get(slot, "release"));
		s->revision = string_from_json(json_object_get(slot, "revision"));
		s->since = time_from_json(json_object_get(slot, "since"));
		s->running = json_is_true(json_object_get(slot, "running"));
		s->port = (unsigned)json_integer_value(json_object_get(slot, "port"));
	}
	json_decref(root);
done:
	buf_free(&path);
	buf_free(&text);
	return rc;
}

void slot_state_free(struct slot_state *st)
{
	for (int c = SLOT_BLUE; c <= SLOT_GREEN; c++) {
		free(st->slots[c].release);
		free(st->slots[c].revision);
	}
	memset(st, 0, sizeof(*st));
	st->live = SLOT_NONE;
}

static json_t *slot_json(const struct slot_info *s)
{
	if (!s->release)
		return json_null();
	json_t *j = json_object();
	json_object_set_new(j, "release", json_string(s->release));
	json_object_set_new(j, "revision", s->revision ? json_string(s->revision) : json_null());
	json_object_set_new(j, "since", time_json(s->since));
	json_object_set_new(j, "running", json_boolean(s->running));
	if (s->port)
		json_object_set_new(j, "port", json_integer(s->port));
	return j;
}

static int state_save(const struct slot_target *t, const struct slot_state *st, struct buf *err)
{
	json_t *root = json_object();
	json_object_set_new(root, "live",
			    st->live == SLOT_NONE ? json_null() : json_string(names[st->live]));
	json_object_set_new(root, "switched", st->switched ? time_json(st->switched) : json_null());
	for (int c = SLOT_BLUE; c <= SLOT_GREEN; c++)
		json_object_set_new(root, names[c], slot_json(&st->slots[c]));
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	struct buf data = BUF_INIT, path = BUF_INIT;
	buf_printf(&data, "%s\n", text);
	free(text);
	state_file(&path, t, "slots", ".json");
	int rc = state_replace(path.data, data.data, data.len, err);
	buf_free(&data);
	buf_free(&path);
	return rc;
}

/* ---- symlinks ---------------------------------------------------------- */

int slot_symlink(const char *path, const char *target, struct buf *err)
{
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISLNK(st.st_mode)) {
		buf_printf(err, "%s is not a symlink: gitgate replaces only links", path);
		return -1;
	}
	struct buf tmp = BUF_INIT, dir = BUF_INIT;
	buf_printf(&tmp, "%s.gitgate-new-%d", path, (int)getpid());
	int rc = -1;
	/* A first deploy makes what the root needs, as Capistrano does. */
	if (state_make_parent(path, err) < 0)
		goto done;
	unlink(tmp.data); /* a leftover of a gitgate with this pid that died */
	if (symlink(target, tmp.data) < 0) {
		buf_printf(err, "cannot create the symlink %s: %s", tmp.data, strerror(errno));
		goto done;
	}
	if (rename(tmp.data, path) < 0) {
		buf_printf(err, "cannot rename %s to %s: %s", tmp.data, path, strerror(errno));
		unlink(tmp.data);
		goto done;
	}
	/* The rename survives a crash only once its folder is synced. */
	const char *slash = strrchr(path, '/');
	if (slash)
		buf_add(&dir, path, slash == path ? 1 : (size_t)(slash - path));
	else
		buf_adds(&dir, ".");
	int fd = open(dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		buf_printf(err, "cannot sync %s: %s", dir.data, strerror(errno));
	else
		rc = 0;
	if (fd >= 0)
		close(fd);
done:
	buf_free(&tmp);
	buf_free(&dir);
	return rc;
}

int slot_assign(const struct slot_target *t, enum slot_color c, const char *release_id,
		const char *release_dir, const char *revision, struct buf *err)
{
	struct slot_state st;
	if (slot_state_load(&st, t, err) < 0)
		return -1;
	int rc = -1;
	struct buf dir = BUF_INIT;
	slot_dir(&dir, t, c);
	if (st.live == c) {
		buf_printf(err, "the %s slot is live: it is not given another release", names[c]);
	} else if ((t->ssh ? remote_link(t->ssh, dir.data, release_dir, err)
			   : slot_symlink(dir.data, release_dir, err)) == 0) {
		struct slot_info *s = &st.slots[c];
		free(s->release);
		free(s->revision);
		s->release = xstrdup(release_id);
		s->revision = xstrdup(revision);
		s->since = time(NULL);
		rc = state_save(t, &st, err);
	}
	buf_free(&dir);
	slot_state_free(&st);
	return rc;
}

int slot_set_live(const struct slot_target *t, enum slot_color c, struct buf *err)
{
	struct slot_state st;
	if (slot_state_load(&st, t, err) < 0)
		return -1;
	st.live = c;
	st.switched = time(NULL);
	int rc = state_save(t, &st, err);
	slot_state_free(&st);
	return rc;
}

/* Records slot c as running (on its port) or stopped. */
static int mark_running(const struct slot_target *t, enum slot_color c, int running,
			struct buf *err)
{
	struct slot_state st;
	if (slot_state_load(&st, t, err) < 0)
		return -1;
	st.slots[c].running = running;
	if (running)
		st.slots[c].port = t->ports[c];
	int rc = state_save(t, &st, err);
	slot_state_free(&st);
	return rc;
}

/* ---- processes --------------------------------------------------------- */

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

/* Reads STATE/<color>.pid: 1 with out filled, 0 when there is none, -1
 * with the reason in err. */
static int pid_file_read(const struct slot_target *t, enum slot_color c, struct pid_record *out,
			 struct buf *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	state_file(&path, t, names[c], ".pid");
	int rc = 1, pid = 0;
	if (buf_read_file(&text, path.data) < 0) {
		rc = errno == ENOENT ? 0 : -1;
		if (rc < 0)
			buf_printf(err, "cannot read %s: %s", path.data, strerror(errno));
	} else if (sscanf(text.data, "%d %llu", &pid, &out->start) != 2 || pid <= 1) {
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

/* A remote slot's app: ROOT-run/<color>.pid and .log on its host. */
struct remote_slot {
	struct buf dir, pid_file, log;
	struct remote_app app;
};

static void remote_slot_open(struct remote_slot *r, const struct slot_target *t, enum slot_color c)
{
	*r = (struct remote_slot){BUF_INIT, BUF_INIT, BUF_INIT, {0}};
	slot_dir(&r->dir, t, c);
	buf_printf(&r->pid_file, "%s-run/%s.pid", t->root, names[c]);
	buf_printf(&r->log, "%s-run/%s.log", t->root, names[c]);
	r->app = (struct remote_app){r->dir.data, r->pid_file.data, r->log.data, t->log_max_bytes,
				     t->log_keep};
}

static void remote_slot_close(struct remote_slot *r)
{
	buf_free(&r->dir);
	buf_free(&r->pid_file);
	buf_free(&r->log);
}

int slot_running(const struct slot_target *t, enum slot_color c, pid_t *pid, struct buf *err)
{
	if (t->ssh) {
		struct remote_slot r;
		remote_slot_open(&r, t, c);
		int rc = remote_app_running(t->ssh, &r.app, err);
		remote_slot_close(&r);
		*pid = 0;
		return rc;
	}
	struct pid_record r;
	int found = pid_file_read(t, c, &r, err);
	if (found <= 0)
		return found;
	*pid = r.pid;
	return pid_status(&r) == PID_ALIVE;
}

/* The state folder, where the log must exist before anything starts. */
static int make_state_dir(const struct slot_target *t, struct buf *err)
{
	if (mkdir(t->state_dir, 0755) == 0 || errno == EEXIST)
		return 0;
	buf_printf(err, "cannot create %s: %s", t->state_dir, strerror(errno));
	return -1;
}

/* The slot's log as the target caps it. */
static struct detach_log app_log(const struct slot_target *t, const char *path)
{
	return (struct detach_log){path, t->log_max_bytes, t->log_keep};
}

/* Is the slot's port free? Its app is stopped, so whatever listens there
 * is another process: an app started now could not listen, and the health
 * check would ask that process instead. Bound on every address (0.0.0.0),
 * as it is taken on any of them. */
static int port_free(const struct slot_target *t, enum slot_color c, struct buf *err)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_port = htons((uint16_t)t->ports[c]),
				   .sin_addr.s_addr = htonl(INADDR_ANY)};
	if (fd < 0) {
		buf_printf(err, "cannot make a socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	if (rc < 0)
		buf_printf(err, "port %u of the %s slot is taken by another process (%s)",
			   t->ports[c], names[c], strerror(errno));
	close(fd);
	return rc;
}

int slot_start(const struct slot_target *t, enum slot_color c, const struct slot_command *cmd,
	       struct buf *err)
{
	pid_t pid;
	int running = slot_running(t, c, &pid, err);
	if (running > 0)
		buf_printf(err, "the %s slot is already running (pid %d)", names[c], (int)pid);
	/* A remote host's ports are not this machine's to probe: there a taken
	 * port shows in the slot's health check. */
	if (running != 0 || (!t->ssh && port_free(t, c, err) < 0) || make_state_dir(t, err) < 0)
		return -1;
	if (t->ssh) {
		struct remote_slot r;
		remote_slot_open(&r, t, c);
		int rc = remote_app_start(t->ssh, &r.app, cmd->argv, cmd->env, err);
		remote_slot_close(&r);
		return rc < 0 ? -1 : mark_running(t, c, 1, err);
	}
	struct buf dir = BUF_INIT, log = BUF_INIT, pid_path = BUF_INIT, line = BUF_INIT;
	slot_dir(&dir, t, c);
	state_file(&log, t, names[c], ".log");
	state_file(&pid_path, t, names[c], ".pid");
	struct detach_options o = {.argv = cmd->argv,
				   .env = cmd->env,
				   .env_clear = cmd->env_clear,
				   .cwd = dir.data,
				   .log = app_log(t, log.data)};
	struct proc_info info;
	int rc = -1;
	if (detach_start(&pid, &o, err) == 0) {
		/* Unreaped, it is there to read, if only as a zombie of gitgate's. */
		if (proc_read(pid, &info) < 0)
			buf_printf(err, "cannot read the app's /proc/%d", (int)pid);
		else
			buf_printf(&line, "%d %llu\n", (int)pid, info.start);
		if (!line.len || state_replace(pid_path.data, line.data, line.len, err) < 0) {
			kill(-pid, SIGKILL);
			wait_group_gone(pid, SETTLE_MS);
		} else {
			rc = mark_running(t, c, 1, err);
		}
	}
	buf_free(&dir);
	buf_free(&log);
	buf_free(&pid_path);
	buf_free(&line);
	return rc;
}

int slot_stop(const struct slot_target *t, enum slot_color c, struct buf *err)
{
	if (t->ssh) {
		struct remote_slot rs;
		remote_slot_open(&rs, t, c);
		int rc = remote_app_stop(t->ssh, &rs.app, t->grace_ms, err);
		remote_slot_close(&rs);
		return rc < 0 ? -1 : mark_running(t, c, 0, err);
	}
	struct pid_record r;
	int found = pid_file_read(t, c, &r, err);
	if (found < 0)
		return -1;
	/* A pid that is another process's now is never signalled; one that is
	 * gone may still lead a group of leftovers, which its number reaches:
	 * the kernel gives no new process that number while the group lives. */
	if (found && pid_status(&r) != PID_REUSED && group_alive(r.pid)) {
		kill(-r.pid, SIGTERM);
		kill(-r.pid, SIGCONT); /* a stopped process acts on SIGTERM only then */
		if (!wait_group_gone(r.pid, t->grace_ms)) {
			kill(-r.pid, SIGKILL);
			if (!wait_group_gone(r.pid, SETTLE_MS)) {
				buf_printf(err, "the %s slot's process group %d outlived SIGKILL",
					   names[c], (int)r.pid);
				return -1;
			}
		}
	}
	if (found) {
		struct buf path = BUF_INIT;
		state_file(&path, t, names[c], ".pid");
		unlink(path.data);
		buf_free(&path);
	}
	return mark_running(t, c, 0, err);
}

/* Runs the user's own start or stop command for slot c, in the slot
 * folder, its output appended to the slot's log (rotated first when full:
 * the command's own output is bounded by its time limit). */
static int slot_command_run(const struct slot_target *t, enum slot_color c,
			    const struct slot_command *cmd, int starting, struct buf *err)
{
	if (make_state_dir(t, err) < 0)
		return -1;
	struct buf dir = BUF_INIT, log = BUF_INIT;
	slot_dir(&dir, t, c);
	state_file(&log, t, names[c], ".log");
	struct run_options o = {
	    .argv = cmd->argv,
	    .env = cmd->env,
	    .env_clear = cmd->env_clear,
	    .cwd = dir.data,
	    .out = {.kind = RUN_OUT_APPEND, .path = log.data},
	    .err = {.kind = RUN_OUT_APPEND, .path = log.data},
	    .limit_ms = t->limit_ms,
	    .grace_ms = t->grace_ms,
	};
	struct detach_log capped = app_log(t, log.data);
	struct remote_command remote = {0};
	int rc = detach_log_rotate_full(&capped, err);
	if (rc == 0 && t->ssh &&
	    (rc = remote_command_make(&remote, t->ssh, cmd->argv, cmd->env, dir.data, t->limit_ms,
				      err)) == 0)
		remote_command_options(&o, &remote);
	struct run_result r;
	if (rc == 0)
		rc = run(&r, &o, err);
	remote_command_free(&remote);
	if (rc == 0 && r.code != 0) {
		buf_printf(err, "%s for the %s slot ", cmd->argv[0], names[c]);
		run_describe(err, &r);
		buf_printf(err, " (see %s)", log.data);
		rc = -1;
	}
	if (rc == 0)
		rc = mark_running(t, c, starting, err);
	buf_free(&dir);
	buf_free(&log);
	return rc;
}

int slot_start_command(const struct slot_target *t, enum slot_color c,
		       const struct slot_command *cmd, struct buf *err)
{
	return slot_command_run(t, c, cmd, 1, err);
}

int slot_stop_command(const struct slot_target *t, enum slot_color c,
		      const struct slot_command *cmd, struct buf *err)
{
	return slot_command_run(t, c, cmd, 0, err);
}
