/*
 * deploy_load: the deploy sections of rules.ini as schema tables, and the
 * checks across them once the whole file is read. Only rules_load.c uses
 * this header: it lists the sections and calls deploy_load_finish.
 */
#ifndef GITGATE_DEPLOY_LOAD_H
#define GITGATE_DEPLOY_LOAD_H

#include "rules.h"
#include "schema.h"

/* [deploy] (struct deploy_policy), [environment NAME] (struct
 * deploy_environment), [target PROJECT ENVIRONMENT] (struct deploy_target). */
extern const struct schema_key deploy_load_keys[], deploy_load_environment_keys[],
    deploy_load_target_keys[];

/* Fills the defaults that come from other sections, resolves names, and
 * reports what no single line shows. Needs the units complete. */
void deploy_load_finish(struct schema_load *ld, struct rules *r);

#endif
