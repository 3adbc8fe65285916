/*
 * gitgate logs [DEPLOY-ID] [--follow]: a deploy's log, each gate's line
 * after its commands' output; the newest deploy's by default. --follow
 * prints it as it grows until the deploy has ended.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "history.h"
#include "layout.h"
#include "server.h"
#include "state.h"
#include "status.h"

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

#define FOLLOW_POLL_MS 200
/* How far back in the history --follow looks for the deploy's record. */
#define FOLLOW_RECORDS 50

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

/* Is a deploy's lock, or the worker's, held? */
static int deploy_running(const struct server *s)
{
	struct buf path = BUF_INIT;
	layout_worker_lock(&path, s->state_dir.data);
	int running = lock_held(path.data);
	buf_clear(&path);
	layout_locks(&path, s->state_dir.data, NULL, NULL);
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

/* Has the deploy ended: is its record among the newest in the history, or
 * is no deploy or worker running any more (one that died leaves no
 * record of its own; the next run closes it)? */
static int deploy_ended(const struct server *s, const char *id)
{
	json_t *records = NULL;
	size_t skipped, i;
	json_t *r;
	struct buf err = BUF_INIT;
	int ended = 0;
	if (history_read(&records, s->state_dir.data, NULL, NULL, FOLLOW_RECORDS, &skipped, &err) ==
	    0) {
		json_array_foreach(records, i, r)
		{
			const char *its = json_string_value(json_object_get(r, "id"));
			ended = ended || (its && !strcmp(its, id));
		}
	}
	json_decref(records);
	buf_free(&err);
	return ended || !deploy_running(s);
}

/* Prints the log; with id, as it grows, until that deploy has ended. */
static void follow(const struct server *s, FILE *f, const char *id)
{
	char chunk[4096];
	for (int last = 0;; clearerr(f)) {
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, stdout);
		fflush(stdout);
		if (last || !id)
			break;
		last = deploy_ended(s, id);
		struct timespec pause = {0, FOLLOW_POLL_MS * 1000000L};
		if (!last)
			nanosleep(&pause, NULL);
	}
}

int cmd_logs(int argc, char **argv)
{
	int follows = 0;
	const char *wanted = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--follow") || !strcmp(argv[i], "-f"))
			follows = 1;
		else if (!wanted && argv[i][0] != '-' && !strchr(argv[i], '/'))
			wanted = argv[i];
		else {
			fprintf(stderr, "usage: gitgate logs [DEPLOY-ID] [--follow]\n");
			return STATUS_USAGE;
		}
	}
	struct server server;
	int status = server_open(&server);
	if (status)
		return status;
	struct buf dir = BUF_INIT, id = BUF_INIT, path = BUF_INIT;
	layout_logs(&dir, server.state_dir.data, NULL, NULL);
	if (wanted)
		buf_adds(&id, wanted);
	if (!id.len && newest_log(&id, dir.data) < 0) {
		fprintf(stderr, "gitgate logs: no deploy has run yet\n");
		status = STATUS_USAGE;
	} else {
		buf_printf(&path, "%s/%s.log", dir.data, id.data);
		FILE *f = fopen(path.data, "r");
		if (!f) {
			fprintf(stderr, "gitgate logs: no log for deploy %s (%s)\n", id.data,
				path.data);
			status = STATUS_USAGE;
		} else {
			follow(&server, f, follows ? id.data : NULL);
			fclose(f);
		}
	}
	buf_free(&dir);
	buf_free(&id);
	buf_free(&path);
	server_close(&server);
	return status;
}
