/*
 * platform: the hosting platforms a server's hooks run under (gitolite,
 * GitLab, Gitea and Forgejo, GitHub Enterprise), and what each tells a
 * hook through the environment, once, here:
 *
 *   platform   pusher              deploy key            repository's name
 *   gitolite   GL_USER             -                     GL_REPO
 *   gitlab     GL_USERNAME         GL_ID=key-N           GL_PROJECT_PATH
 *   gitea      GITEA_PUSHER_NAME   GITEA_DEPLOY_KEY_ID   GITEA_REPO_USER_NAME/GITEA_REPO_NAME
 *   github     GITHUB_USER_LOGIN   -                     GITHUB_REPO_NAME
 *
 * and when its hooks are held to a time limit: GitLab's web actions
 * (GL_PROTOCOL=web: a merge, a web edit, run inside a request bounded by
 * Gitaly's call timeouts), whose web page shows only lines that start with
 * "GL-HOOK-ERR:"; GitHub Enterprise's pre-receive hooks, always (5 s).
 *
 * Variables are read through a lookup the caller gives (the hooks pass
 * getenv, through verdicts/procenv.c); nothing here reads the environment.
 */
#ifndef GITGATE_PLATFORM_H
#define GITGATE_PLATFORM_H

#include "buf.h"

/* The value of a variable, or NULL when unset. */
typedef const char *(*env_lookup)(const char *name);

struct platform {
	const char *name;	    /* as [push] identity names it: "gitolite" */
	const char *user_variable;  /* the pusher's name */
	const char *key_variable;   /* says a deploy key pushed, or NULL */
	const char *repo_variable;  /* the repository's name */
	const char *owner_variable; /* its owner, written before "/" (Gitea), or NULL */
	/* Hooks run under a time limit: always, or while web_variable is
	 * web_value (GitLab's web actions). */
	int always_bounded;
	const char *web_variable, *web_value;
	const char *web_error_prefix; /* the only lines its web page shows begin so */
};

extern const struct platform platforms[];
extern const size_t nplatforms;

/* The platform [push] identity calls name ("gitlab"), or NULL. */
const struct platform *platform_named(const char *name);
/* Is its pusher's or deploy key's variable set (non-empty)? */
int platform_pusher_is_set(const struct platform *pf, env_lookup lookup);
/* The one platform whose variables (any of them) are set: 1 with *out, 0
 * when none is, -1 with why when two are (no one platform ran the hook). */
int platform_detect(env_lookup lookup, const struct platform **out, struct buf *why);
/* The repository's name as pf gives it ("group/project", "owner/repo"):
 * 1 with name filled, 0 when pf gives none, -1 with why when what it gives
 * is not a name gitgate can use as a folder's (empty parts, ".", "..", a
 * leading "/", control bytes). */
int platform_repository(const struct platform *pf, env_lookup lookup, struct buf *name,
			struct buf *why);
/* Is a hook of pf held to a time limit now (GitLab's web, GitHub
 * Enterprise)? */
int platform_time_bounded(const struct platform *pf, env_lookup lookup);
/* The prefix the platform's web page needs on a line to show it
 * ("GL-HOOK-ERR: " for a GitLab web action), or NULL when its output is
 * shown as it is. */
const char *platform_error_prefix(const struct platform *pf, env_lookup lookup);

#endif
