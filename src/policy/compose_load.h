/*
 * compose_load: the checks of Compose targets (compose, compose_command)
 * and of env_command, at load with file:line. deploy_load.c's tables name
 * them (the commands' parsers are command_load.h's); deploy/compose.h runs
 * what they describe.
 */
#ifndef GITGATE_COMPOSE_LOAD_H
#define GITGATE_COMPOSE_LOAD_H

#include "rules.h"
#include "schema.h"

/* compose: a path inside the release (relative, no "..", as written). */
int compose_load_check_file(const char *key, const char *value, struct buf *why);
/* What a target with compose, compose_command or env_command must also be:
 * no run or start/stop beside compose, no compose_command without it, and
 * names Compose and Docker take (compose_name_ok). */
void compose_load_check_target(struct schema_load *ld, const struct deploy_target *t,
			       const char *name);

/* Is name a part of a Compose project's or an image's name: runs of
 * lowercase letters and digits, separated by '-' (one or more), or by one
 * '_', or (dots) by one '.'? Projects and environments are checked
 * without dots (a Compose project name has none), services with. */
int compose_name_ok(const char *name, size_t len, int dots);

#endif
