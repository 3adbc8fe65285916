/*
 * push_log: see push_log.h.
 */
#include "push_log.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pusher.h"

static json_t *parse_updates(const char *lines)
{
	json_t *refs = json_array();
	while (*lines) {
		size_t len = strcspn(lines, "\n");
		char *line = xstrndup(lines, len);
		char *old_id = strtok(line, " "), *new_id = strtok(NULL, " "),
		     *ref = strtok(NULL, "");
		if (old_id && new_id && ref) {
			json_t *name = json_string(ref);
			if (!name) /* not UTF-8: keep the bytes visible, never lose the entry */
				name = json_string("(ref name is not UTF-8)");
			json_array_append_new(refs, json_pack("{s:o,s:s,s:s}", "ref", name, "old",
							      old_id, "new", new_id));
		}
		free(line);
		lines += len + (lines[len] == '\n');
	}
	return refs;
}

int push_log_append(const char *lines, struct buf *err)
{
	const char *gitdir = getenv("GIT_DIR");
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/gitgate", gitdir && *gitdir ? gitdir : ".");
	mkdir(path.data, 0775);
	buf_adds(&path, "/pushes.jsonl");
	char when[32];
	time_t now = time(NULL);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_t *entry = json_pack("{s:s,s:s,s:o}", "time", when, "user", pusher_name(), "refs",
				  parse_updates(lines));
	int rc = 0;
	FILE *f = fopen(path.data, "a");
	if (!f || json_dumpf(entry, f, JSON_COMPACT) < 0 || fputc('\n', f) == EOF) {
		buf_printf(err, "cannot write %s: %s", path.data, strerror(errno));
		rc = -1;
	}
	if (f && fclose(f) != 0 && !rc) {
		buf_printf(err, "cannot write %s: %s", path.data, strerror(errno));
		rc = -1;
	}
	json_decref(entry);
	buf_free(&path);
	return rc;
}
