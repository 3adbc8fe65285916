/*
 * push_log: see push_log.h.
 */
#include "push_log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escape.h"
#include "state.h"

json_t *push_log_text(const char *s)
{
	struct buf b = BUF_INIT;
	escape_bytes(&b, s, strlen(s));
	json_t *j = json_stringn(b.data ? b.data : "", b.len);
	buf_free(&b);
	return j;
}

json_t *push_log_entry(const struct identity *who)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	return json_pack("{s:s,s:o,s:o}", "time", when, "user", push_log_text(who->name),
			 "user_source", push_log_text(who->source));
}

json_t *push_log_ref(const char *ref, const char *old_id, const char *new_id)
{
	return json_pack("{s:o,s:s,s:s}", "ref", push_log_text(ref), "old", old_id, "new", new_id);
}

int push_log_write(const char *folder, const char *name, const json_t *entry, struct buf *err)
{
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/%s", folder, name);
	char *line = entry ? json_dumps(entry, JSON_COMPACT) : NULL;
	int rc = -1;
	if (line)
		rc = state_append_jsonl(path.data, line, err);
	else
		buf_printf(err, "cannot write %s: the record could not be made", path.data);
	free(line);
	buf_free(&path);
	return rc;
}

int push_log_append(const char *folder, const struct identity *who, const struct hook_input *input,
		    struct buf *err)
{
	json_t *refs = json_array();
	for (size_t i = 0; i < input->n; i++) {
		const struct hook_update *u = &input->updates[i];
		json_array_append_new(refs, push_log_ref(u->ref, u->old_id, u->new_id));
	}
	json_t *entry = push_log_entry(who);
	json_object_set_new(entry, "refs", refs);
	int rc = push_log_write(folder, "pushes.jsonl", entry, err);
	json_decref(entry);
	return rc;
}
