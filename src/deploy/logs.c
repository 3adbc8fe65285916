/*
 * logs: see logs.h.
 */
#include "logs.h"

#include <ctype.h>
#include <dirent.h>
#include <string.h>

#include "layout.h"
#include "state.h"

/* Deploy ids sort by time: the newest log is the greatest name among those
 * that are a deploy's (they start with the date; worker.log is not one). */
static int newest_log(struct buf *id, const char *dir_path)
{
	DIR *dir = opendir(dir_path);
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		size_t len = strlen(e->d_name);
		if (len > 4 && !strcmp(e->d_name + len - 4, ".log") &&
		    isdigit((unsigned char)e->d_name[0]) &&
		    (!id->len || strncmp(e->d_name, id->data, len - 4) > 0)) {
			buf_clear(id);
			buf_add(id, e->d_name, len - 4);
		}
	}
	if (dir)
		closedir(dir);
	return id->len ? 0 : -1;
}

int logs_open(const char *state_dir, const char *id, struct buf *id_out, FILE **out,
	      struct buf *err)
{
	struct buf dir = BUF_INIT, path = BUF_INIT;
	layout_logs(&dir, state_dir, NULL, NULL);
	buf_clear(id_out);
	if (id)
		buf_adds(id_out, id);
	int rc = -1;
	*out = NULL;
	if (!id_out->len && newest_log(id_out, dir.data) < 0) {
		buf_adds(err, "no deploy has run yet");
	} else {
		layout_logs(&path, state_dir, id_out->data, ".log");
		*out = fopen(path.data, "r");
		if (!*out)
			buf_printf(err, "no log for deploy %s (%s)", id_out->data, path.data);
		else
			rc = 0;
	}
	buf_free(&dir);
	buf_free(&path);
	return rc;
}

static int lock_held(const char *path)
{
	struct state_holder holder;
	struct buf err = BUF_INIT;
	int held = state_lock_holder(&holder, path, &err) > 0;
	if (held)
		state_holder_free(&holder);
	buf_free(&err);
	return held;
}

int logs_deploying(const char *state_dir)
{
	struct buf path = BUF_INIT;
	layout_worker_lock(&path, state_dir);
	int running = lock_held(path.data);
	buf_clear(&path);
	layout_locks(&path, state_dir, NULL, NULL);
	DIR *dir = opendir(path.data);
	struct dirent *e;
	while (!running && dir && (e = readdir(dir))) {
		size_t len = strlen(e->d_name);
		if (len <= 5 || strcmp(e->d_name + len - 5, ".lock"))
			continue;
		struct buf lock = BUF_INIT;
		buf_printf(&lock, "%s/%s", path.data, e->d_name);
		running = lock_held(lock.data);
		buf_free(&lock);
	}
	if (dir)
		closedir(dir);
	buf_free(&path);
	return running;
}
