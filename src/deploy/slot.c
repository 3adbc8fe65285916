/*
 * slot: see slot.h. What runs in a slot and where its symlink points are
 * its host's (host.h); what the slots hold is recorded here.
 */
#include "slot.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compose.h"
#include "detach.h"
#include "host.h"
#include "state.h"

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

/* Slot c's app as its host supervises it. */
static struct host_app app_of(const struct slot_target *t, enum slot_color c)
{
	return (struct host_app){.root = t->root,
				 .slot = names[c],
				 .state_dir = t->state_dir,
				 .port = t->ports[c],
				 .log_max_bytes = t->log_max_bytes,
				 .log_keep = t->log_keep};
}

int slot_assign(const struct slot_target *t, enum slot_color c, const struct host_release *r,
		int stop, const char *revision, struct buf *where, struct buf *said,
		struct buf *err)
{
	struct slot_state st;
	if (slot_state_load(&st, t, err) < 0)
		return -1;
	int rc = -1;
	struct buf dir = BUF_INIT;
	slot_dir(&dir, t, c);
	struct host_app app = app_of(t, c);
	struct host_release linked = *r;
	linked.link = dir.data;
	linked.stop = stop ? &app : NULL;
	linked.stop_grace_ms = t->grace_ms;
	struct slot_info *s = &st.slots[c];
	if (st.live == c) {
		buf_printf(err, "the %s slot is live: it is not given another release", names[c]);
		goto done;
	}
	/* A remote host may have stopped the app and made the link when its
	 * command fails here (a time limit, a connection lost, this process
	 * killed): the slot holds no known release until it is recorded, so
	 * that nothing takes it for the one it held (a rollback refuses it). */
	if (t->host->address && s->release) {
		free(s->release);
		free(s->revision);
		s->release = s->revision = NULL;
		s->running = 0;
		if (state_save(t, &st, err) < 0)
			goto done;
	}
	if (host_receive(t->host, &linked, where, said, err) == 0) {
		free(s->release);
		free(s->revision);
		s->release = xstrdup(r->id);
		s->revision = xstrdup(revision);
		s->since = time(NULL);
		s->running = s->running && !stop;
		rc = state_save(t, &st, err);
	}
done:
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

int slot_mark_running(const struct slot_target *t, enum slot_color c, int running, struct buf *err)
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

/* ---- the app ----------------------------------------------------------- */

int slot_running(const struct slot_target *t, enum slot_color c, int *running, struct buf *err)
{
	if (t->compose)
		return compose_running(t->compose, t->host, names[c], running, err);
	struct host_app app = app_of(t, c);
	return host_app_running(t->host, &app, running, err);
}

void slot_app_log(const struct slot_target *t, enum slot_color c, struct buf *out)
{
	struct host_app app = app_of(t, c);
	host_app_log(t->host, &app, out);
}

/* The state folder, where the log must exist before anything starts. */
static int make_state_dir(const struct slot_target *t, struct buf *err)
{
	if (mkdir(t->state_dir, 0755) == 0 || errno == EEXIST)
		return 0;
	buf_printf(err, "cannot create %s: %s", t->state_dir, strerror(errno));
	return -1;
}

int slot_start(const struct slot_target *t, enum slot_color c, const struct slot_command *cmd,
	       struct buf *err)
{
	struct host_app app = app_of(t, c);
	struct host_command hc = {.argv = cmd->argv, .env = cmd->env, .env_clear = cmd->env_clear};
	if (make_state_dir(t, err) < 0 || host_app_start(t->host, &app, &hc, err) < 0)
		return -1;
	return slot_mark_running(t, c, 1, err);
}

int slot_stop(const struct slot_target *t, enum slot_color c, struct buf *err)
{
	struct host_app app = app_of(t, c);
	if (t->compose ? compose_stop(t->compose, t->host, names[c], t->grace_ms, err) < 0
		       : host_app_stop(t->host, &app, t->grace_ms, err) < 0)
		return -1;
	return slot_mark_running(t, c, 0, err);
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
	struct host_command hc = {
	    .argv = cmd->argv,
	    .env = cmd->env,
	    .env_clear = cmd->env_clear,
	    .cwd = dir.data,
	    .out = {.kind = RUN_OUT_APPEND, .path = log.data},
	    .err = {.kind = RUN_OUT_APPEND, .path = log.data},
	    .limit_ms = t->limit_ms,
	    .grace_ms = t->grace_ms,
	};
	struct detach_log capped = {log.data, t->log_max_bytes, t->log_keep};
	int rc = detach_log_rotate_full(&capped, err);
	if (rc == 0 && host_run_checked(t->host, &hc, err) < 0) {
		buf_printf(err, " for the %s slot (see %s)", names[c], log.data);
		rc = -1;
	}
	if (rc == 0)
		rc = slot_mark_running(t, c, starting, err);
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
