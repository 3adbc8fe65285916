/*
 * procenv: see procenv.h.
 */
#include "procenv.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* git passes at most this many push options (receive.maxPushOptions-like
 * bound here, so a hostile count cannot make us loop for long). */
#define MAX_PUSH_OPTIONS 1000

static const char *nonempty(const char *name)
{
	const char *value = getenv(name);
	return value && *value ? value : NULL;
}

/* A copy: getpwuid's record is overwritten by the next lookup. */
static char *os_user_name(void)
{
	struct passwd *pw = getpwuid(geteuid());
	return pw && pw->pw_name ? xstrdup(pw->pw_name) : NULL;
}

static const char *variable(const char *name)
{
	return getenv(name);
}

int procenv_pusher(const struct identity_policy *p, const struct procenv *env, struct identity *out,
		   struct buf *why)
{
	return identity_resolve(p, variable, env->os_user, out, why);
}

int procenv_command_user(const struct identity_policy *p, const struct procenv *env,
			 struct identity *out, struct buf *why)
{
	return identity_resolve_command(p, variable, env->os_user, out, why);
}

void procenv_read(struct procenv *env)
{
	memset(env, 0, sizeof(*env));
	env->skip = nonempty("GITGATE_SKIP");
	env->os_user = os_user_name();
	env->git_dir = nonempty("GIT_DIR");
	const char *term = getenv("TERM");
	env->color_allowed = !nonempty("NO_COLOR") && !(term && !strcmp(term, "dumb"));
	env->framework_push.remote = nonempty("PRE_COMMIT_REMOTE_NAME");
	env->framework_push.url = nonempty("PRE_COMMIT_REMOTE_URL");
	env->framework_push.local_ref = nonempty("PRE_COMMIT_LOCAL_BRANCH");
	env->framework_push.remote_ref = nonempty("PRE_COMMIT_REMOTE_BRANCH");
	env->framework_push.from = nonempty("PRE_COMMIT_FROM_REF");
	env->framework_push.to = nonempty("PRE_COMMIT_TO_REF");
	const char *count = nonempty("GIT_PUSH_OPTION_COUNT");
	long n = count ? strtol(count, NULL, 10) : 0;
	if (n < 0 || n > MAX_PUSH_OPTIONS)
		n = n < 0 ? 0 : MAX_PUSH_OPTIONS;
	env->push_options = xcalloc((size_t)n + 1, sizeof(*env->push_options));
	for (long i = 0; i < n; i++) {
		char name[40];
		snprintf(name, sizeof(name), "GIT_PUSH_OPTION_%ld", i);
		const char *value = getenv(name);
		if (value)
			env->push_options[env->npush_options++] = xstrdup(value);
	}
}

void procenv_free(struct procenv *env)
{
	for (size_t i = 0; i < env->npush_options; i++)
		free(env->push_options[i]);
	free(env->push_options);
	free(env->os_user);
	memset(env, 0, sizeof(*env));
}

int procenv_wants_color(const struct procenv *env, FILE *out)
{
	return env->color_allowed && isatty(fileno(out));
}
