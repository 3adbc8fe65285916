/*
 * gitgate logs [DEPLOY-ID]: a deploy's log, every command's output; the
 * newest deploy's by default.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "server.h"
#include "status.h"

/* Deploy ids sort by time: the newest log is the greatest name. */
static int newest_log(struct buf *id, const char *dir_path)
{
	DIR *dir = opendir(dir_path);
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		size_t len = strlen(e->d_name);
		if (len > 4 && !strcmp(e->d_name + len - 4, ".log") &&
		    (!id->len || strncmp(e->d_name, id->data, len - 4) > 0)) {
			buf_clear(id);
			buf_add(id, e->d_name, len - 4);
		}
	}
	if (dir)
		closedir(dir);
	return id->len ? 0 : -1;
}

int cmd_logs(int argc, char **argv)
{
	if (argc > 2 || (argc == 2 && (argv[1][0] == '-' || strchr(argv[1], '/')))) {
		fprintf(stderr, "usage: gitgate logs [DEPLOY-ID]\n");
		return STATUS_USAGE;
	}
	struct server server;
	int status = server_open(&server);
	if (status)
		return status;
	struct buf dir = BUF_INIT, id = BUF_INIT, path = BUF_INIT;
	buf_printf(&dir, "%s/logs", server.state_dir.data);
	if (argc == 2)
		buf_adds(&id, argv[1]);
	if (!id.len && newest_log(&id, dir.data) < 0) {
		fprintf(stderr, "gitgate logs: no deploy has run yet\n");
		status = STATUS_USAGE;
	} else {
		buf_printf(&path, "%s/%s.log", dir.data, id.data);
		FILE *f = fopen(path.data, "r");
		char chunk[4096];
		size_t n;
		if (!f) {
			fprintf(stderr, "gitgate logs: no log for deploy %s (%s)\n", id.data,
				path.data);
			status = STATUS_USAGE;
		}
		while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, stdout);
		if (f)
			fclose(f);
	}
	buf_free(&dir);
	buf_free(&id);
	buf_free(&path);
	server_close(&server);
	return status;
}
