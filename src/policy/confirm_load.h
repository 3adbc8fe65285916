/*
 * confirm_load: the keys of confirmed deploys in rules.ini -- the canary,
 * the watch and deploy_hours in [environment NAME], the logs a check reads
 * in [target PROJECT ENVIRONMENT] -- as schema tables that deploy_load.c's
 * tables include, and the checks across them once the file is read. Only
 * deploy_load.c uses this header.
 */
#ifndef GITGATE_CONFIRM_LOAD_H
#define GITGATE_CONFIRM_LOAD_H

#include "rules.h"
#include "schema.h"

/* struct deploy_environment's and struct deploy_target's. */
extern const struct schema_key confirm_load_environment_keys[], confirm_load_target_keys[];

/* What needs the whole file (every target resolved to its environment):
 * a canary with a switch other than nginx, a watch interval longer than
 * the watch, logs with nothing to read or no check that reads them; and
 * error_pattern's default where error_log is given. */
void confirm_load_finish(struct schema_load *ld, struct rules *r);

#endif
