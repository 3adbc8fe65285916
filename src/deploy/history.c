/*
 * history: see history.h.
 */
#include "history.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"
#include "push_log.h"
#include "state.h"

#define HISTORY_FILE "history.jsonl"

static void utc_now(char *out, size_t size, const char *format)
{
	time_t now = time(NULL);
	struct tm tm;
	strftime(out, size, format, gmtime_r(&now, &tm));
}

json_t *history_time_json(time_t when)
{
	char text[32];
	struct tm tm;
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&when, &tm));
	return json_string(text);
}

void history_new_id(struct buf *out)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm tm;
	char when[32];
	strftime(when, sizeof(when), "%Y%m%d-%H%M%S", gmtime_r(&now.tv_sec, &tm));
	/* The second's fraction in 65,536ths: ids of one second sort as they
	 * were made, and two are the same only if made within 16 µs. */
	unsigned fraction = (unsigned)(((unsigned long long)now.tv_nsec << 16) / 1000000000ull);
	buf_printf(out, "%s-%04x", when, fraction);
}

void history_record_mask(json_t *record, const struct mask *m)
{
	const char *key;
	size_t i;
	json_t *value;
	if (!m->n)
		return;
	if (json_is_string(record) && json_string_length(record)) {
		struct buf masked = BUF_INIT;
		mask_text(m, json_string_value(record), json_string_length(record), &masked);
		json_string_setn(record, masked.data, masked.len);
		buf_free(&masked);
	} else if (json_is_object(record)) {
		json_object_foreach(record, key, value)
		{
			history_record_mask(value, m);
		}
	} else if (json_is_array(record)) {
		json_array_foreach(record, i, value)
		{
			history_record_mask(value, m);
		}
	}
}

/* A JSON string of text that may have come from outside, or null. */
static json_t *text_or_null(const char *s)
{
	return s ? push_log_text(s) : json_null();
}

json_t *history_record_new(const char *id, const char *kind, const char *unit, const char *project,
			   const char *environment, const char *user, const char *user_source,
			   const char *from, const char *to)
{
	char started[32];
	utc_now(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ");
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:{}, s:n, s:[], s:[], "
			 "s:n, s:s, s:n}",
			 "id", id, "kind", kind, "unit", text_or_null(unit), "project",
			 text_or_null(project), "environment", text_or_null(environment), "user",
			 text_or_null(user), "user_source", text_or_null(user_source), "from",
			 text_or_null(from), "to", text_or_null(to), "options", "emergency",
			 "gates", "health", "outcome", "started", started, "finished");
}

const char *history_gate_result_name(enum gate_result result)
{
	static const char *const names[] = {"passed", "failed", "skipped", "refused"};
	return names[result];
}

void history_record_text(struct buf *out, const json_t *record, const char *key, const char *none)
{
	const char *text = json_string_value(json_object_get(record, key));
	if (!text)
		text = none;
	escape_bytes(out, text, strlen(text));
}

void history_record_who(struct buf *out, const json_t *record)
{
	history_record_text(out, record, "user", "?");
	if (json_is_string(json_object_get(record, "user_source"))) {
		buf_adds(out, " (");
		history_record_text(out, record, "user_source", "");
		buf_adds(out, ")");
	}
}

const char *history_outcome_name(enum history_outcome outcome)
{
	static const char *const names[] = {"deployed",	  "failed",    "refused",  "rolled-back",
					    "superseded", "abandoned", "confirmed"};
	return names[outcome];
}

void history_record_gate(json_t *record, int number, const char *name, enum gate_result result,
			 double seconds, const char *detail)
{
	json_array_append_new(json_object_get(record, "gates"),
			      json_pack("{s:i, s:s, s:s, s:f, s:o}", "number", number, "name", name,
					"result", history_gate_result_name(result), "seconds",
					seconds, "detail", text_or_null(detail)));
}

void history_record_revisions(json_t *record, const char *from, const char *to)
{
	json_object_set_new(record, "from", text_or_null(from));
	json_object_set_new(record, "to", text_or_null(to));
}

void history_record_finish(json_t *record, enum history_outcome outcome)
{
	char finished[32];
	utc_now(finished, sizeof(finished), "%Y-%m-%dT%H:%M:%SZ");
	json_object_set_new(record, "outcome", json_string(history_outcome_name(outcome)));
	json_object_set_new(record, "finished", json_string(finished));
}

static void history_path(struct buf *out, const char *state_dir)
{
	buf_printf(out, "%s/%s", state_dir, HISTORY_FILE);
}

int history_append(const char *state_dir, const json_t *record, struct buf *err)
{
	struct buf path = BUF_INIT;
	history_path(&path, state_dir);
	char *line = json_dumps(record, JSON_COMPACT);
	int rc = line ? state_append_jsonl(path.data, line, err) : -1;
	if (!line)
		buf_adds(err, "cannot serialise a deploy record (out of memory)");
	free(line);
	buf_free(&path);
	return rc;
}

static int matches(const json_t *record, const char *key, const char *want)
{
	const char *have = json_string_value(json_object_get(record, key));
	return !want || (have && !strcmp(have, want));
}

/* What a read keeps: the last max records that match. */
struct wanted {
	const char *unit, *environment; /* NULL: any */
	const char *deploy;		/* not NULL: its records only, by "id" or "deploy" */
	size_t max;
};

static int wanted(const struct wanted *w, const json_t *record)
{
	if (w->deploy)
		return matches(record, "id", w->deploy) || matches(record, "deploy", w->deploy);
	return matches(record, "unit", w->unit) && matches(record, "environment", w->environment);
}

/* A read, newest record first. */
struct reading {
	const struct wanted *w;
	json_t *newest_first;
	size_t skipped;
};

static int read_line(const char *line, size_t len, void *arg)
{
	struct reading *r = arg;
	const struct wanted *w = r->w;
	/* Most lines name another deploy: those are not parsed. */
	if (w->deploy && !memmem(line, len, w->deploy, strlen(w->deploy)))
		return 1;
	json_t *record = json_loadb(line, len, 0, NULL);
	if (!json_is_object(record))
		r->skipped++;
	else if (wanted(w, record))
		json_array_append(r->newest_first, record);
	json_decref(record);
	return json_array_size(r->newest_first) < w->max;
}

/* The last w->max records wanted, read from the end back: the lines
 * before them are not read. */
static int records_read(json_t **out, const char *state_dir, const struct wanted *w,
			size_t *skipped, struct buf *err)
{
	struct buf path = BUF_INIT;
	history_path(&path, state_dir);
	struct reading r = {.w = w, .newest_first = json_array()};
	int rc = w->max ? state_lines_backward(path.data, read_line, &r, err) : 0;
	*out = json_array();
	for (size_t i = json_array_size(r.newest_first); i-- > 0;)
		json_array_append(*out, json_array_get(r.newest_first, i));
	json_decref(r.newest_first);
	*skipped = r.skipped;
	buf_free(&path);
	return rc;
}

int history_read(json_t **out, const char *state_dir, const char *unit, const char *environment,
		 size_t max, size_t *skipped, struct buf *err)
{
	struct wanted w = {.unit = unit, .environment = environment, .max = max};
	return records_read(out, state_dir, &w, skipped, err);
}

int history_read_deploy(json_t **out, const char *state_dir, const char *id, size_t *skipped,
			struct buf *err)
{
	struct wanted w = {.deploy = id, .max = (size_t)-1};
	return records_read(out, state_dir, &w, skipped, err);
}

json_t *history_signoff_new(const char *id, const char *by, const char *by_source, const char *note)
{
	char at[32];
	utc_now(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ");
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:s}", "kind", "signoff", "deploy",
			 text_or_null(id), "by", text_or_null(by), "by_source",
			 text_or_null(by_source), "note", text_or_null(note), "at", at);
}

int history_has(const char *state_dir, const char *unit, const char *environment, const char *field,
		const char *value)
{
	json_t *records = NULL, *r;
	struct buf err = BUF_INIT;
	size_t skipped, i;
	int found = 0;
	if (history_read(&records, state_dir, unit, environment, 64, &skipped, &err) == 0)
		json_array_foreach(records, i, r)
		{
			const char *have = json_string_value(json_object_get(r, field));
			found |= have && !strcmp(have, value);
		}
	json_decref(records);
	buf_free(&err);
	return found;
}
