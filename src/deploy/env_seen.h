/*
 * env_seen: the env files this process's last deploy read whole, kept for
 * what it writes after it (the deploys ref): their values, and the unit and
 * environment whose every target's env file is among them (its gate 7
 * passed; each gate 7 forgets what the one before kept). In memory only: a secret is never written
 * to keep it. A server opened (server.h) holds one; its deploy_site points at it.
 */
#ifndef GITGATE_ENV_SEEN_H
#define GITGATE_ENV_SEEN_H

#include "mask.h"
#include "strvec.h"

struct env_seen {
	struct mask values;
	struct strvec pairs; /* "UNIT\nENV" */
};

/* Keeps values as the env files of unit in environment, read whole. */
void env_seen_add(struct env_seen *s, const char *unit, const char *environment,
		  const struct mask *values);
/* The values kept, into m, when unit in environment was read whole here:
 * 1; else 0, m as it was (s NULL: nothing kept). */
int env_seen_mask(const struct env_seen *s, const char *unit, const char *environment,
		  struct mask *m);
void env_seen_free(struct env_seen *s);

#endif
