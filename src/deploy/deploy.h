/*
 * deploy: one unit into one environment, through the team's eleven gates
 * (deployment-rules.md, DESIGN §6.2), with blue/green slots.
 *
 * The order is the cheapest refusal first: the phrase (gate 10), the freeze
 * calendar, who may deploy; then the lock (one deploy per unit and
 * environment); then gates 1 and 2 (what changed, one unit), 7 (the env
 * file), 8 (the scans, with no push-time bypass), 3, 4 and 5 (the
 * project's commands in a fresh export), 6 (the required environment live
 * at this revision and healthy), 9 (what is live here healthy now); then
 * the inactive slot is started and checked, migrated, switched to, and
 * gate 11 checks the live URL: if it fails, the switch is undone and the
 * old slot, which stayed up, checked again. Every gate is recorded with its
 * seed number, result, time and detail, and the record goes to the history
 * when it is final.
 *
 * Coupled projects (a unit of several) are one step: every project's slot
 * is prepared and checked before any switches, they switch together, and
 * they switch back together.
 */
#ifndef GITGATE_DEPLOY_H
#define GITGATE_DEPLOY_H

#include <git2.h>
#include <jansson.h>
#include <stdio.h>

#include "buf.h"
#include "rules.h"
#include "status.h"

/* The server a deploy runs on. */
struct deploy_site {
	git_repository *repo;
	const struct rules *rules;
	const char *state_dir; /* [deploy] state_dir, or BARE_REPO/gitgate */
};

struct deploy_request {
	const char *unit;	 /* a unit's name or alias, or a project's name */
	const char *environment; /* an environment's name */
	const char *revision;	 /* anything git rev-parse takes; NULL: the deploy branch */
	const char *phrase;	 /* the confirmation phrase as given, or NULL */
	const char *emergency;	 /* the reason, or NULL */
	const char *user;
};

/* Runs the deploy, printing a line a gate to out, and the closing block.
 * The deploy id goes to id. Returns STATUS_PASSED (deployed), STATUS_REJECTED
 * (a gate said no, or it was rolled back), STATUS_USAGE (an unknown unit or
 * environment, a bad revision) or STATUS_FAULT (the record or the lock
 * could not be written). */
enum gitgate_status deploy_run(const struct deploy_site *site, const struct deploy_request *req,
			       FILE *out, struct buf *id);
/* Back to the other slot of each target (its release stayed, warm): started
 * again if it was stopped, checked, switched to, checked live. Recorded as
 * kind "rollback". revision, phrase and emergency are not used. */
enum gitgate_status deploy_rollback(const struct deploy_site *site,
				    const struct deploy_request *req, FILE *out, struct buf *id);

/* gitgate health: what is live in the environment, checked at its health
 * level (or level, when not 0) through the same spec as the gates: a table
 * per target on out, or (reports not NULL) a report per target appended to
 * the JSON array reports. STATUS_PASSED when everything is live and
 * healthy, STATUS_REJECTED when not. */
enum gitgate_status deploy_health(const struct deploy_site *site, const struct deploy_request *req,
				  unsigned level, json_t *reports, FILE *out);

/* After a crash: every target whose deploy died between its switch and gate
 * 11 goes back to its old slot, and that deploy is recorded as abandoned.
 * Returns 0, or -1 with the reason in err. */
int deploy_reconcile(const struct deploy_site *site, FILE *out, struct buf *err);

#endif
