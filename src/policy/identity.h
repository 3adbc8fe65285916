/*
 * identity: who pushes or deploys, as the git server says, and where that
 * name came from.
 *
 * [push] identity names the one source gitgate believes:
 *   auto       the hosting platform's own variable (platform.h): gitolite's
 *              GL_USER, GitLab's GL_USERNAME, Gitea's and Forgejo's
 *              GITEA_PUSHER_NAME, GitHub Enterprise's GITHUB_USER_LOGIN;
 *              none set: the OS user the hook runs as
 *   os         the OS user the hook runs as
 *   gitolite   GL_USER, gitlab GL_USERNAME, gitea GITEA_PUSHER_NAME, github
 *              GITHUB_USER_LOGIN (platform.h): only that platform's
 *              variable, and none is a refusal
 *   env:NAME   the variable NAME, which the admin vouches for (a pusher
 *              could set GITGATE_USER or REMOTE_USER themselves)
 * A deploy key (GitLab's GL_ID=key-N, Gitea's GITEA_DEPLOY_KEY_ID) is no
 * person: its name is "key:N", and no user list ever matches it.
 *
 * Resolving reads variables through a lookup the caller gives (the hooks
 * pass getenv, through verdicts/procenv.c, the one reader of the process
 * environment); a variable that is missing when the mode needs it, or a
 * name that is not one (empty, control bytes, spaces, not UTF-8), is an
 * error, and the caller refuses.
 */
#ifndef GITGATE_IDENTITY_H
#define GITGATE_IDENTITY_H

#include "buf.h"
#include "platform.h"

enum identity_mode {
	IDENTITY_AUTO,
	IDENTITY_OS,
	IDENTITY_GITOLITE,
	IDENTITY_GITLAB,
	IDENTITY_GITEA,
	IDENTITY_GITHUB,
	IDENTITY_ENV,
};

struct identity_policy {
	enum identity_mode mode;
	char *variable; /* env:NAME: NAME */
};

/* Who, and where the name came from: "alice" from "gitolite GL_USER". */
struct identity {
	char *name;   /* a deploy key: "key:N" */
	char *source; /* "gitolite GL_USER", "gitlab GL_ID", "env GITGATE_USER", "os" */
};

/* A value of [push] identity, for the schema (SCHEMA_CUSTOM). */
int identity_policy_parse(const char *key, const char *value, void *slot, struct buf *why);
void identity_policy_release(void *slot);
/* The value as rules.ini writes it: "auto", "gitolite", "env:NAME". */
void identity_policy_describe(struct buf *out, const struct identity_policy *p);

/* The value of a variable, or NULL when unset. */
typedef env_lookup identity_lookup;

/* Who acts, by p's mode (NULL: auto): variables through lookup, os_user
 * (the OS user, NULL when unknown) for the os mode and auto's fallback.
 * Returns 0 with out filled (free it with identity_free), or -1 with why. */
int identity_resolve(const struct identity_policy *p, identity_lookup lookup, const char *os_user,
		     struct identity *out, struct buf *why);
/* The identity of `gitgate deploy` and `rollback`, run by a person: the
 * variable of env:NAME when p says so, else the OS user. No platform's
 * variable counts here: a shell sets any of them. */
int identity_resolve_command(const struct identity_policy *p, identity_lookup lookup,
			     const char *os_user, struct identity *out, struct buf *why);
void identity_free(struct identity *id);

/* Is name a deploy key's ("key:N")? No user list matches one. */
int identity_is_key(const char *name);

#endif
