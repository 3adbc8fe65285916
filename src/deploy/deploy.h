/*
 * deploy: one unit into one environment, through the team's eleven gates
 * (the README's gate table), with blue/green slots.
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
 * number, result, time and detail, and the record goes to the history
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
#include <time.h>

#include "ask.h"
#include "buf.h"
#include "host.h"
#include "rules.h"
#include "server.h"
#include "slot.h"
#include "state.h"
#include "status.h"

/* The server a deploy runs on. */
struct deploy_site {
	git_repository *repo;
	const struct rules *rules;
	const char *state_dir; /* [deploy] state_dir, or BARE_REPO/gitgate */
	/* How a remote target's host is reached (host.h); NULL: over ssh. */
	host_open_fn open_host;
	/* The env files this process's deploys read (confirmation.h); NULL:
	 * none kept. */
	struct env_seen *seen;
};

/* The site of a server opened (server.h): its repository, rules and state
 * folder, its remote hosts reached over ssh. */
struct deploy_site deploy_site_of(const struct server *s);

struct deploy_request {
	const char *unit;	 /* a unit's name or alias, or a project's name */
	const char *environment; /* an environment's name */
	const char *revision;	 /* anything git rev-parse takes; NULL: the deploy branch */
	const char *phrase;	 /* the confirmation phrase as given, or NULL */
	const char *emergency;	 /* the reason, or NULL */
	const char *user;	 /* who asks; a deploy key is "key:N" (identity.h) */
	const char *user_source; /* where that name came from: "gitolite GL_USER", "os" */
	int dry_run;	/* deploy: check what can be checked and say the rest; change nothing */
	const char *to; /* rollback --to: a kept release's id or a revision */
	/* How the one who asked runs gitgate's read-only commands, for the
	 * hints (ask.h): a pusher without a shell, the platform's way. */
	struct ask ask;
};

/* STATE_DIR/targets/PROJECT-ENV: a target's own state (slot.h); for one of
 * its remote hosts (host not NULL), PROJECT-ENV@USER@HOST[:PORT]. */
void deploy_target_state_dir(struct buf *out, const struct deploy_site *site,
			     const struct deploy_target *t, const char *host);
/* What target t's slots hold on host (NULL: this machine), as its state
 * says; whether each app runs is asked on this machine, and on a remote
 * host is as the last deploy left it (no connection is opened). Returns
 * 0, or -1 with why in err. */
int deploy_target_read(const struct deploy_site *site, const struct deploy_target *t,
		       const char *host, struct slot_state *out, struct buf *err);
/* A Compose target's containers in slot c on this machine, a line each
 * into out: "SERVICE STATE (STATUS)" as Docker says them. Returns 0, or -1
 * with why in err (Docker could not be asked). */
int deploy_target_containers(const struct deploy_site *site, const struct deploy_target *t,
			     enum slot_color c, struct buf *out, struct buf *err);
/* Who deploys the unit into environment now: 1 with the lock's holder in
 * out (state_holder_free it), 0 when nobody does, -1 with why in err. */
int deploy_running(const struct deploy_site *site, const struct unit *unit, const char *environment,
		   struct state_holder *out, struct buf *err);
/* Does every target of the unit in env (on each of its hosts) serve
 * revision (full hex) live? */
int deploy_live_at(const struct deploy_site *site, const struct unit *unit,
		   const struct deploy_environment *env, const char *revision);

/* The full revision of the commit name names (anything git rev-parse
 * takes; NULL: the deploy branch's tip). Returns 0, or -1 with err. */
int deploy_resolve_revision(const struct deploy_site *site, const char *name,
			    char out[GIT_OID_HEXSZ + 1], struct buf *err);

/* Runs the deploys of reqs[0..n), one unit each, printing a line a gate to
 * out, and a closing block each. Several deploy together (every unit: a
 * shared package changed, or `deploy all`) as the team's rules ask: the gates up to
 * the tests (1, 2, 7, 8, 3) run for every unit before any goes on; when one
 * of them fails, none deploys and the others are recorded as refused,
 * naming it. Then each goes on in turn. deployed[i] (when not NULL) is set
 * to whether reqs[i] deployed. Returns the worst of the deploys' statuses:
 * STATUS_PASSED (deployed), STATUS_REJECTED (a gate said no, or it was
 * rolled back), STATUS_USAGE (an unknown unit or environment, a bad
 * revision) or STATUS_FAULT (the record or the lock could not be written). */
enum gitgate_status deploy_run(const struct deploy_site *site, const struct deploy_request *reqs,
			       size_t n, FILE *out, unsigned char *deployed);
/* Back to the other slot of each target (its release stayed, warm): started
 * again if it was stopped, checked, switched to, checked live. With
 * req->to, the release named (or the revision's newest kept release, or
 * the revision exported and built again) goes into that slot instead,
 * through the health checks, without its tests. Never migrates. Recorded as
 * kind "rollback"; revision, phrase and emergency are not used. */
enum gitgate_status deploy_rollback(const struct deploy_site *site,
				    const struct deploy_request *req, FILE *out);

/* gitgate health: what is live in the environment, checked at its health
 * level (or level, when not 0) through the same spec as the gates: a table
 * per target on out, or (reports not NULL) a report per target appended to
 * the JSON array reports. STATUS_PASSED when everything is live and
 * healthy, STATUS_REJECTED when not. */
enum gitgate_status deploy_health(const struct deploy_site *site, const struct deploy_request *req,
				  unsigned level, json_t *reports, FILE *out);

/* gitgate deploy --watch ID: the watcher of deploy ID's watch (watch.c),
 * to the watch's end. Returns 0, or -1 with why in err (it could not
 * begin; the watch stays for reconcile). */
int deploy_watch(const struct deploy_site *site, const char *id, FILE *out, struct buf *err);

/* The watch of unit in environment that runs now, if any. */
struct deploy_watching {
	const char *state_dir;
	char deploy[64]; /* the deploy it watches */
	time_t until;	 /* when it ends */
};
/* 1 with out filled, 0 when none runs. */
int deploy_watching(const struct deploy_site *site, const struct unit *unit,
		    const char *environment, struct deploy_watching *out);

/* After a crash: every target whose deploy died between its switch and gate
 * 11 goes back to its old slot, and that deploy is recorded as abandoned.
 * Returns 0, or -1 with the reason in err. */
int deploy_reconcile(const struct deploy_site *site, FILE *out, struct buf *err);
/* Part of deploy_reconcile: each watch whose watcher died is started again
 * while its time lasts, else recorded abandoned. */
void watches_reconcile(const struct deploy_site *site, FILE *out);

#endif
