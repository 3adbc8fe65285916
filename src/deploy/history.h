/*
 * history: the record of every deploy and rollback, one JSON object a line
 * in STATE_DIR/history.jsonl, appended whole or not at all (state.h).
 *
 * A record is built as the deploy goes (history_record_new, a gate at a
 * time, the health checks, the outcome) and appended once, when it is
 * final. It holds at least what the README's record table names: id, kind
 * (deploy | rollback), unit, project, environment, user (and user_source,
 * where the name came from: identity.h), from, to (full
 * revisions), options, emergency, gates (number, name, result, seconds,
 * detail), health, outcome (deployed, failed, refused, rolled-back,
 * superseded, abandoned), started, finished. Values of secrets never reach
 * it: callers pass names, not values, and what a command printed (a
 * failure's detail) is masked, the whole record once more before it is
 * appended or sent (history_record_mask).
 *
 * A confirmed deploy adds to its record, and to the history after it:
 *   - "canary" in the deploy record, one object a step, in order:
 *       {"percent": 10, "started": "2026-01-10T10:00:00Z", "seconds": 60.0,
 *        "requests": 412, "errors": 3, "ok": true, "why": null}
 *     (why: what failed, e.g. errorrate_describe's words); a failing step
 *     ends the deploy rolled-back;
 *   - a "watch" record when its watch ends (no "id" of its own):
 *       {"kind": "watch", "deploy": ID, "unit", "project", "environment",
 *        "to": the deploy's revision, "started", "until": when it was to end,
 *        "finished", "outcome": "confirmed" | "rolled-back" | "superseded" |
 *        "abandoned", "why": the check that failed, or the deploy that
 *        superseded it (or null),
 *        "checks": [{"at": "2026-01-10T10:01:00Z", "ok": true,
 *                    "latency_ms": 12, "what": "GET http://...", "why": null,
 *                    "requests": 40, "errors": 0}, ...]}
 *     (latency_ms: the check's slowest request, or its connect; requests and
 *     errors: the error rate's counts since the watch began, when error_log
 *     is read); a watch may hold a "canary" too, read as the deploy's;
 *   - a "signoff" record (history_signoff_new; no "id" of its own):
 *       {"kind": "signoff", "deploy": ID, "by": USER, "by_source": SOURCE,
 *        "note": text or null, "at": "2026-01-10T11:00:00Z"}
 * Times are UTC, as "started" is. history_read_deploy reads them all back
 * for one deploy; the health confirmation report (confirmation.h) is made
 * of them.
 *
 * Reading streams the file and keeps only the last N matching records, so
 * a long history costs time, never memory.
 */
#ifndef GITGATE_HISTORY_H
#define GITGATE_HISTORY_H

#include <jansson.h>
#include <time.h>

#include "buf.h"
#include "mask.h"

enum history_outcome {
	OUTCOME_DEPLOYED,
	OUTCOME_FAILED,
	OUTCOME_REFUSED,
	OUTCOME_ROLLED_BACK, /* gate 11 failed: the switch was undone */
	OUTCOME_SUPERSEDED,  /* a newer revision of the unit was queued behind it */
	OUTCOME_ABANDONED,   /* its worker died; closed by the next run */
	OUTCOME_CONFIRMED,   /* a watch: the release stayed healthy to its end */
};

/* What a gate (or a step) said: it passed, its check failed, it had
 * nothing to check, or a rule refused the deploy before anything was
 * checked (no phrase, the freeze, who may deploy, the hours). */
enum gate_result { GATE_PASSED, GATE_FAILED, GATE_SKIPPED, GATE_REFUSED };

/* A deploy id: "YYYYMMDD-HHMMSS-XXXX" (UTC, then the second's fraction in
 * 65,536ths, 4 hex digits): sorted as made (gitgate logs takes the newest
 * by name), and unique unless two are made within 16 µs. */
void history_new_id(struct buf *out);
/* A new record: kind "deploy" or "rollback"; project may be NULL for a
 * unit of several projects. "started" is now. */
json_t *history_record_new(const char *id, const char *kind, const char *unit, const char *project,
			   const char *environment, const char *user, const char *user_source,
			   const char *from, const char *to);
void history_record_gate(json_t *record, int number, const char *name, enum gate_result result,
			 double seconds, const char *detail);
/* Sets the record's from and to: what a job reads once it holds its lock
 * may differ from what it knew when it began. */
void history_record_revisions(json_t *record, const char *from, const char *to);
/* Hides the mask's values in every string of the record (see mask.h). */
void history_record_mask(json_t *record, const struct mask *m);
/* Sets the outcome and "finished" (now). */
void history_record_finish(json_t *record, enum history_outcome outcome);
const char *history_outcome_name(enum history_outcome outcome);
/* A time as the records write it: "2026-01-10T10:00:00Z" (UTC). */
json_t *history_time_json(time_t when);
/* The record's text at key, appended escaped (escape.h): whoever could
 * write the file, or push, chose it; none when it has no text there. */
void history_record_text(struct buf *out, const json_t *record, const char *key, const char *none);
/* Who asked for the record's deploy, as a person reads it: "alice
 * (gitolite GL_USER)", escaped (escape.h) as any text from a file is;
 * older records, without user_source, say the name alone. */
void history_record_who(struct buf *out, const json_t *record);
const char *history_gate_result_name(enum gate_result result);

/* Appends the record to STATE_DIR/history.jsonl. Returns 0 or -1 (err). */
int history_append(const char *state_dir, const json_t *record, struct buf *err);
/* The last `max` records (oldest first) whose unit and environment match
 * (NULL matches any), into a new JSON array in *out, read from the file's
 * end back (the lines before them are not read). A line read that is not
 * JSON is skipped and counted in *skipped. Returns 0, or -1 (err) when the
 * file exists but cannot be read; a missing file is an empty history. */
int history_read(json_t **out, const char *state_dir, const char *unit, const char *environment,
		 size_t max, size_t *skipped, struct buf *err);

/* Every record of one deploy, oldest first: its own ("id") and those that
 * name it ("deploy": a watch, a sign-off), into a new JSON array in *out
 * (empty when there is none). Returns 0, or -1 (err) as history_read. */
int history_read_deploy(json_t **out, const char *state_dir, const char *id, size_t *skipped,
			struct buf *err);
/* A sign-off of deploy id by who (as identity.h names people), with a note
 * or none; "at" is now. */
json_t *history_signoff_new(const char *id, const char *by, const char *by_source,
			    const char *note);

/* Has one of the last 64 records of unit in environment (NULL: any) field
 * (a string) equal to value? One record a deploy: what closes a deploy
 * that died asks for its "id" first; catching up with the branch asks
 * whether a revision was ever deployed ("to"). */
int history_has(const char *state_dir, const char *unit, const char *environment, const char *field,
		const char *value);

#endif
