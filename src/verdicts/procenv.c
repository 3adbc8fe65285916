/*
 * procenv: see procenv.h.
 */
#include "procenv.h"

#include <pwd.h>
#include <stdio.h>
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

/* The platform, its name for the repository, and what it holds the hook
 * to. */
static void read_platform(struct procenv *env)
{
	struct buf name = BUF_INIT, why = BUF_INIT;
	if (platform_detect(variable, &env->platform, &why) > 0) {
		if (platform_repository(env->platform, variable, &name, &why) > 0)
			env->repository = buf_detach(&name);
		env->time_bounded = platform_time_bounded(env->platform, variable);
		env->error_prefix = platform_error_prefix(env->platform, variable);
	}
	if (why.len)
		env->repository_why = buf_detach(&why);
	buf_free(&name);
	buf_free(&why);
}

/* SSH_CONNECTION: "CLIENT-ADDRESS CLIENT-PORT SERVER-ADDRESS SERVER-PORT". */
static void read_ssh(struct procenv *env)
{
	const char *conn = nonempty("SSH_CONNECTION");
	char host[256];
	unsigned port;
	if (conn && sscanf(conn, "%*s %*s %255s %u", host, &port) == 2 &&
	    strspn(host, "0123456789abcdefABCDEF.:") == strlen(host)) {
		env->ssh_host = xstrdup(host);
		env->ssh_port = port;
	}
}

int procenv_ask(const struct procenv *env, struct buf *prefix)
{
	if (!env->platform || strcmp(env->platform->name, "gitolite") || !env->os_user)
		return 0;
	buf_clear(prefix);
	buf_adds(prefix, "ssh ");
	if (env->ssh_port && env->ssh_port != 22)
		buf_printf(prefix, "-p %u ", env->ssh_port);
	/* Over HTTP there is no address to say: the pusher knows the host. */
	buf_printf(prefix, "%s@%s gitgate", env->os_user, env->ssh_host ? env->ssh_host : "HOST");
	return 1;
}

int procenv_ask_by_ref(const struct procenv *env)
{
	return env->platform && strcmp(env->platform->name, "gitolite");
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
	read_platform(env);
	read_ssh(env);
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
	free(env->repository);
	free(env->repository_why);
	free(env->ssh_host);
	memset(env, 0, sizeof(*env));
}

int procenv_wants_color(const struct procenv *env, FILE *out)
{
	return env->color_allowed && isatty(fileno(out));
}
