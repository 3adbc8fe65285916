/*
 * gitgate logs [DEPLOY-ID] [--follow]: a deploy's log, each gate's line
 * after its commands' output; the newest deploy's by default. --follow
 * prints it as it grows until the deploy has ended.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "history.h"
#include "logs.h"
#include "server.h"
#include "status.h"

#define FOLLOW_POLL_MS 200
/* How far back in the history --follow looks for the deploy's record. */
#define FOLLOW_RECORDS 50

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
	return ended || !logs_deploying(s->state_dir.data);
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
	struct buf id = BUF_INIT, err = BUF_INIT;
	FILE *f;
	if (logs_open(server.state_dir.data, wanted, &id, &f, &err) < 0) {
		fprintf(stderr, "gitgate logs: %s\n", err.data);
		status = STATUS_USAGE;
	} else {
		follow(&server, f, follows ? id.data : NULL);
		fclose(f);
	}
	buf_free(&id);
	buf_free(&err);
	server_close(&server);
	return status;
}
