/*
 * deploy_policy: the questions the deploy engine asks of the deploy
 * sections of a loaded rules.ini ([deploy], [environment NAME], [target
 * PROJECT ENVIRONMENT]; their structs are in rules.h, their tables and
 * checks in deploy_load.c).
 *
 * Everything here is read-only over a policy that loaded without error, so
 * the answers can lean on what loading checked: every target's project and
 * environment exist, a unit's projects have targets in the same
 * environments, "requires" has no cycle.
 *
 * Time: the freeze calendar and deploy_hours are kept in [deploy]
 * freeze_timezone. "UTC" is built in; any other zone is read from the TZ
 * database (TZDIR, else /usr/share/zoneinfo) by glibc itself: TZ is set to
 * the zone for one localtime_r and put back, under a lock. That is the only
 * way glibc offers to read a zone other than the process's own, and TZ is
 * process-wide: ask before starting threads that read the environment or
 * the local time (the deploy engine asks first, among its cheap refusals).
 * A zone that cannot be read is an error, never UTC in disguise.
 */
#ifndef GITGATE_DEPLOY_POLICY_H
#define GITGATE_DEPLOY_POLICY_H

#include <stddef.h>
#include <time.h>

#include "rules.h"

/* The variables gitgate sets for a target's commands, the only names a
 * command in rules.ini may use (deploy/command.c fills them in and puts
 * them in the command's environment), NULL-terminated: PORT SLOT REVISION
 * UNIT PROJECT ENVIRONMENT ROOT. */
extern const char *const deploy_variables[];
/* The days of [deploy] freeze_days, by tm_wday: "sun" .. "sat". */
extern const char *const deploy_day_names[7];

const struct deploy_environment *deploy_policy_find_environment(const struct rules *r,
								const char *name);
const struct deploy_target *deploy_policy_find_target(const struct rules *r, const char *project,
						      const char *environment);
/* The unit's targets in env, one per project in the unit's order: sets *out
 * to an array to free() (NULL when there are none) and returns how many. */
size_t deploy_policy_unit_targets(const struct rules *r, const struct unit *unit,
				  const struct deploy_environment *env,
				  const struct deploy_target ***out);
/* Has the unit (NULL: any unit) a target in env? */
int deploy_policy_unit_deploys_to(const struct rules *r, const struct unit *unit,
				  const struct deploy_environment *env);
/* The environments the unit has targets in, in the order a deploy visits
 * them: an environment after the one it requires, and of those ready, the
 * auto ones first, then file order. *out as above. A NULL unit is every
 * unit: the environments any of them has targets in. */
size_t deploy_policy_unit_environments(const struct rules *r, const struct unit *unit,
				       const struct deploy_environment ***out);

/* A push to DEPLOY_REF_PREFIX ENVIRONMENT deploys a revision that is on the
 * deploy branch already to that environment (with the push's options). */
#define DEPLOY_REF_PREFIX "refs/deploy/"

/* Refs only the server writes; a push to one is refused. DEPLOYS_REF holds
 * what the read-only commands say of the last deploys (ask.h). */
#define GITGATE_REF_PREFIX "refs/gitgate/"
#define DEPLOYS_REF GITGATE_REF_PREFIX "deploys"

/* The branch whose pushes deploy: [deploy] branch, else [push] deploy_branch. */
const char *deploy_policy_branch(const struct rules *r);
/* Its ref: "refs/heads/" and the branch, appended to out. */
void deploy_policy_branch_ref(const struct rules *r, struct buf *out);

/* The local time at `when` in [deploy] freeze_timezone. */
int deploy_policy_local_time(const struct rules *r, time_t when, struct tm *out, struct buf *err);
/* Is `when` on a freeze day in env (NULL: any environment that freezes)?
 * Sets *frozen; returns -1 with why in err when the zone cannot be read. */
int deploy_policy_is_frozen(const struct rules *r, const struct deploy_environment *env,
			    time_t when, int *frozen, struct buf *err);
/* Is name a zone freeze_timezone may hold: "UTC", or a TZif file under the
 * TZ database? Returns 0, or -1 with what is wrong in why. */
int deploy_policy_check_zone(const char *name, struct buf *why);

/* Is `when` within env's deploy_hours (none: always), in [deploy]
 * freeze_timezone? Sets *inside; returns -1 with why in err when the zone
 * cannot be read. */
int deploy_policy_in_hours(const struct rules *r, const struct deploy_environment *env, time_t when,
			   int *inside, struct buf *err);
/* "09:00-16:00 22:00-02:00", or "any time". */
void deploy_policy_hours_describe(struct buf *out, const struct deploy_hours *hours);
/* Do two targets share a machine: both this one, or a host in common
 * (hosts as loaded: `host` is among them)? */
int deploy_policy_same_machine(const struct deploy_target *a, const struct deploy_target *b);

/* env's users, or everyone when it lists none. */
int deploy_policy_user_may_deploy(const struct deploy_environment *env, const char *user);
/* [deploy] emergency_users: who may deploy through a freeze (and past gate 9). */
int deploy_policy_user_may_use_emergency(const struct rules *r, const char *user);

/* A remote target's host as rules.ini writes it, USER@HOST[:PORT] (an IPv6
 * HOST in brackets; PORT 1 to 65535, 22 when not given). Sets *user and
 * *host (to free) and *port when out is not NULL; returns 0, or -1 with
 * what is wrong in why. The one reader of that syntax: the loader checks
 * with it, the ssh connection connects with it. */
int deploy_policy_parse_host(const char *spec, char **user, char **host, unsigned *port,
			     struct buf *why);

/* HTTP statuses as [target] health_status writes them: codes (200) and
 * classes (2xx), between blanks or commas. Sets ok[N] to 1 for each status
 * N they take, 0 for the others; returns 0, or -1 with what is wrong in why.
 * The one reader of that syntax: the loader checks with it, and the health
 * check can judge with it. */
int deploy_policy_parse_statuses(const char *text, unsigned char ok[600], struct buf *why);

#endif
