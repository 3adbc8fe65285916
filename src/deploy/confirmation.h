/*
 * confirmation: the health confirmation report of one deploy, and its
 * sign-off, as the team's rules ask: every check documented, 100% passed,
 * signed off.
 *
 * Everything in it comes from the deploy's records in the history
 * (history.h: its own, its watch's, its sign-offs'): who deployed what,
 * from which revision to which, each gate and step with its time, result
 * and detail, the health checks, the canary's steps, the watch's checks,
 * the outcome -- the watch's when it has ended, else the deploy's -- and
 * who signed it off. It is rendered as text, Markdown, one self-contained
 * HTML page (no script, no style or font from elsewhere; the gates'
 * timeline and the watch's latency drawn as inline SVG) or JSON.
 *
 * No secret reaches a report: records are masked when written, and once
 * more here (confirmation_mask) with the values of the env files of the
 * deploy's targets as they are now. Text from the records (names, details,
 * notes) is escaped for the format it goes into: control characters as
 * escape.h shows them, then Markdown's or HTML's own.
 *
 * A deploy is confirmed -- the report's verdict -- when its latest outcome
 * is "confirmed" (a watch that ended well) or "deployed" where the
 * environment has no watch, every check recorded passed, and someone
 * signed it off. A sign-off is taken only while the latest outcome is
 * "deployed" or "confirmed".
 */
#ifndef GITGATE_CONFIRMATION_H
#define GITGATE_CONFIRMATION_H

#include <jansson.h>
#include <stdio.h>

#include "buf.h"
#include "deploy.h"
#include "mask.h"

struct confirmation {
	json_t *records;       /* the deploy's, oldest first */
	json_t *deploy;	       /* its own record (kind deploy or rollback), in records */
	json_t *watch;	       /* the last watch record, or NULL */
	json_t *signoffs;      /* its sign-off records, oldest first (a new array) */
	json_t *canary;	       /* the canary's steps (the deploy's, else the watch's), or NULL */
	char *outcome;	       /* the latest: the watch's, else the deploy's */
	size_t checks, passed; /* health checks, canary steps and watch checks */
	int watched;	       /* the environment has a watch (the caller says, from rules.ini) */
};

/* Reads deploy id's records. Returns 0; 1 when the history has no record
 * with that id (said in err); -1 with why in err. */
int confirmation_read(struct confirmation *c, const char *state_dir, const char *id,
		      struct buf *err);
/* The same, from records already read (oldest first); takes a reference. */
int confirmation_from_records(struct confirmation *c, json_t *records, const char *id,
			      struct buf *err);
void confirmation_free(struct confirmation *c);

/* The values of the env file of each target of the deploy's unit in its
 * environment, read where the target lives (over ssh for a remote host),
 * added to m; when this process's deploy read them whole (site->seen),
 * those values, not read again. Returns 0, or -1 with why in err: a
 * report or a sign-off that cannot be masked is not made. */
int confirmation_env_mask(const struct deploy_site *site, const struct confirmation *c,
			  struct mask *m, struct buf *err);
/* Masks every record (history_record_mask). */
void confirmation_mask(struct confirmation *c, const struct mask *m);

/* Is the deploy confirmed (see above)? Says why not in why (may be NULL). */
int confirmation_complete(const struct confirmation *c, struct buf *why);
/* May it be signed off now? 1, or 0 with why. */
int confirmation_may_sign(const struct confirmation *c, struct buf *why);

enum confirmation_format {
	CONFIRMATION_TEXT,
	CONFIRMATION_MD,
	CONFIRMATION_HTML,
	CONFIRMATION_JSON
};
/* "text", "md", "html" or "json". Returns 0, or -1. */
int confirmation_format_parse(const char *name, enum confirmation_format *out);
/* The report, appended to out. */
void confirmation_render(struct buf *out, const struct confirmation *c,
			 enum confirmation_format format);

#endif
