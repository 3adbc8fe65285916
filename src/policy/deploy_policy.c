/*
 * deploy_policy: the deploy engine's questions to the policy. See
 * deploy_policy.h.
 *
 * As in rules.c, every answer walks a handful of sections written by hand,
 * so plain loops keep the answers obviously right.
 */
#include "deploy_policy.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const char *const deploy_variables[] = {"PORT",	   "SLOT",	  "REVISION", "UNIT",
					"PROJECT", "ENVIRONMENT", "ROOT",     NULL};

const char *const deploy_day_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

const struct deploy_environment *deploy_policy_find_environment(const struct rules *r,
								const char *name)
{
	for (size_t i = 0; i < r->deploy.nenvironments; i++)
		if (!strcmp(r->deploy.environments[i].name, name))
			return &r->deploy.environments[i];
	return NULL;
}

const struct deploy_target *deploy_policy_find_target(const struct rules *r, const char *project,
						      const char *environment)
{
	for (size_t i = 0; i < r->deploy.ntargets; i++) {
		const struct deploy_target *t = &r->deploy.targets[i];
		if (!strcmp(t->project, project) && !strcmp(t->environment, environment))
			return t;
	}
	return NULL;
}

size_t deploy_policy_unit_targets(const struct rules *r, const struct unit *unit,
				  const struct deploy_environment *env,
				  const struct deploy_target ***out)
{
	size_t n = 0;
	*out = NULL;
	for (size_t i = 0; i < unit->projects.n; i++) {
		const struct deploy_target *t =
		    deploy_policy_find_target(r, unit->projects.items[i], env->name);
		if (!t)
			continue;
		if (!*out)
			*out = xcalloc(unit->projects.n, sizeof(**out));
		(*out)[n++] = t;
	}
	return n;
}

int deploy_policy_unit_deploys_to(const struct rules *r, const struct unit *unit,
				  const struct deploy_environment *env)
{
	if (!unit) {
		for (size_t i = 0; i < r->nunits; i++)
			if (deploy_policy_unit_deploys_to(r, &r->units[i], env))
				return 1;
		return 0;
	}
	for (size_t i = 0; i < unit->projects.n; i++)
		if (deploy_policy_find_target(r, unit->projects.items[i], env->name))
			return 1;
	return 0;
}

/* Is the i-th environment next in line: one the unit deploys to, not yet
 * visited, whose required environment is visited or not the unit's? */
static int environment_ready(const struct deploy_policy *d, size_t i, const char *wanted,
			     const char *done)
{
	const struct deploy_environment *e = &d->environments[i];
	if (!wanted[i] || done[i])
		return 0;
	if (!e->required)
		return 1;
	size_t req = (size_t)(e->required - d->environments);
	return done[req] || !wanted[req];
}

const char *deploy_policy_branch(const struct rules *r)
{
	return r->deploy.branch ? r->deploy.branch : r->push.deploy_branch;
}

void deploy_policy_branch_ref(const struct rules *r, struct buf *out)
{
	buf_printf(out, "refs/heads/%s", deploy_policy_branch(r));
}

size_t deploy_policy_unit_environments(const struct rules *r, const struct unit *unit,
				       const struct deploy_environment ***out)
{
	const struct deploy_policy *d = &r->deploy;
	size_t total = d->nenvironments, n = 0;
	char *wanted = xcalloc(total + 1, 1), *done = xcalloc(total + 1, 1);
	for (size_t i = 0; i < total; i++)
		wanted[i] = (char)deploy_policy_unit_deploys_to(r, unit, &d->environments[i]);
	*out = NULL;
	for (;;) {
		size_t pick = total;
		for (size_t i = 0; i < total && pick == total; i++)
			if (environment_ready(d, i, wanted, done) && d->environments[i].auto_deploy)
				pick = i;
		for (size_t i = 0; i < total && pick == total; i++)
			if (environment_ready(d, i, wanted, done))
				pick = i;
		if (pick == total)
			break;
		if (!*out)
			*out = xcalloc(total, sizeof(**out));
		(*out)[n++] = &d->environments[pick];
		done[pick] = 1;
	}
	free(wanted);
	free(done);
	return n;
}

int deploy_policy_check_zone(const char *name, struct buf *why)
{
	if (!strcmp(name, "UTC"))
		return 0;
	int plain = *name && *name != '/' && !strstr(name, "..") && !strstr(name, "//");
	for (const char *p = name; plain && *p; p++)
		plain = isalnum((unsigned char)*p) || strchr("/_-+", *p);
	if (!plain) {
		buf_printf(why, "'%s' is not a time zone name like UTC or Europe/Berlin", name);
		return -1;
	}
	const char *dir = getenv("TZDIR");
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	char magic[4] = {0};
	FILE *f = fopen(path.data, "rb");
	int ok =
	    f && fread(magic, 1, sizeof(magic), f) == sizeof(magic) && !memcmp(magic, "TZif", 4);
	if (!ok)
		buf_printf(why, "no time zone '%s' (%s: %s; is tzdata installed?)", name, path.data,
			   !f	       ? strerror(errno)
			   : ferror(f) ? "cannot be read"
				       : "not a TZif file");
	if (f)
		fclose(f);
	buf_free(&path);
	return ok ? 0 : -1;
}

static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;

int deploy_policy_local_time(const struct rules *r, time_t when, struct tm *out, struct buf *err)
{
	const char *zone = r->deploy.freeze_timezone;
	if (!strcmp(zone, "UTC")) {
		if (gmtime_r(&when, out))
			return 0;
		buf_printf(err, "time out of range");
		return -1;
	}
	if (deploy_policy_check_zone(zone, err) < 0)
		return -1;
	struct buf tz = BUF_INIT;
	buf_printf(&tz, ":%s", zone);
	pthread_mutex_lock(&zone_lock);
	const char *was = getenv("TZ");
	char *saved = was ? xstrdup(was) : NULL;
	setenv("TZ", tz.data, 1);
	tzset();
	struct tm *got = localtime_r(&when, out);
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	pthread_mutex_unlock(&zone_lock);
	free(saved);
	buf_free(&tz);
	if (!got) {
		buf_printf(err, "time out of range");
		return -1;
	}
	return 0;
}

int deploy_policy_is_frozen(const struct rules *r, const struct deploy_environment *env,
			    time_t when, int *frozen, struct buf *err)
{
	struct tm local;
	*frozen = 0;
	if ((env && !env->freeze) || !r->deploy.freeze_days)
		return 0;
	if (deploy_policy_local_time(r, when, &local, err) < 0)
		return -1;
	*frozen = (r->deploy.freeze_days >> local.tm_wday) & 1;
	return 0;
}

int deploy_policy_in_hours(const struct rules *r, const struct deploy_environment *env, time_t when,
			   int *inside, struct buf *err)
{
	struct tm local;
	*inside = 1;
	if (!env->hours.n)
		return 0;
	if (deploy_policy_local_time(r, when, &local, err) < 0)
		return -1;
	unsigned minute = (unsigned)(local.tm_hour * 60 + local.tm_min);
	*inside = 0;
	for (size_t i = 0; i < env->hours.n; i++) {
		unsigned from = env->hours.spans[i].from, to = env->hours.spans[i].to;
		*inside |=
		    from < to ? minute >= from && minute < to : minute >= from || minute < to;
	}
	return 0;
}

void deploy_policy_hours_describe(struct buf *out, const struct deploy_hours *hours)
{
	for (size_t i = 0; i < hours->n; i++)
		buf_printf(out, "%s%02u:%02u-%02u:%02u", i ? " " : "", hours->spans[i].from / 60,
			   hours->spans[i].from % 60, hours->spans[i].to / 60,
			   hours->spans[i].to % 60);
	if (!hours->n)
		buf_adds(out, "any time");
}

int deploy_policy_same_machine(const struct deploy_target *a, const struct deploy_target *b)
{
	if (!a->hosts.n || !b->hosts.n)
		return !a->hosts.n && !b->hosts.n;
	for (size_t i = 0; i < a->hosts.n; i++)
		for (size_t k = 0; k < b->hosts.n; k++) {
			char *ua = NULL, *ha = NULL, *ub = NULL, *hb = NULL;
			unsigned pa, pb;
			struct buf ignored = BUF_INIT;
			int same = deploy_policy_parse_host(a->hosts.items[i], &ua, &ha, &pa,
							    &ignored) == 0 &&
				   deploy_policy_parse_host(b->hosts.items[k], &ub, &hb, &pb,
							    &ignored) == 0 &&
				   !strcmp(ha, hb) && pa == pb;
			free(ua);
			free(ha);
			free(ub);
			free(hb);
			buf_free(&ignored);
			if (same)
				return 1;
		}
	return 0;
}

int deploy_policy_user_may_deploy(const struct deploy_environment *env, const char *user)
{
	return !env->users.n || strlist_has_user(&env->users, user);
}

int deploy_policy_user_may_use_emergency(const struct rules *r, const char *user)
{
	return strlist_has_user(&r->deploy.emergency_users, user);
}

int deploy_policy_parse_statuses(const char *text, unsigned char ok[600], struct buf *why)
{
	static const char *const separators = " \t,";
	size_t taken = 0;
	memset(ok, 0, 600);
	for (const char *s = text + strspn(text, separators); *s; s += strspn(s, separators)) {
		size_t len = strcspn(s, separators);
		int is_class = len == 3 && s[0] >= '1' && s[0] <= '5' &&
			       tolower((unsigned char)s[1]) == 'x' &&
			       tolower((unsigned char)s[2]) == 'x';
		int is_code = len == 3 && s[0] >= '1' && s[0] <= '5' &&
			      isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]);
		if (!is_class && !is_code) {
			buf_printf(why, "'%.*s' is neither a code (200) nor a class (2xx)",
				   (int)len, s);
			return -1;
		}
		int first = (s[0] - '0') * 100 + (is_code ? (s[1] - '0') * 10 + s[2] - '0' : 0);
		memset(ok + first, 1, is_code ? 1 : 100);
		taken++;
		s += len;
	}
	if (taken)
		return 0;
	buf_adds(why, "no code or class given, like 2xx");
	return -1;
}

int deploy_policy_parse_host(const char *spec, char **user, char **host, unsigned *port,
			     struct buf *why)
{
	const char *at = strchr(spec, '@'), *h = at ? at + 1 : NULL, *end;
	if (user)
		*user = *host = NULL;
	if (port)
		*port = 22;
	if (!at || at == spec) {
		buf_printf(why, "'%s' must be USER@HOST[:PORT]", spec);
		return -1;
	}
	for (const char *p = spec; p < at; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p)) {
			buf_printf(why, "'%s': a user name is letters, digits, '.', '_', '-'",
				   spec);
			return -1;
		}
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end || end == h + 1) {
			buf_printf(why, "'%s': an IPv6 host needs its ']'", spec);
			return -1;
		}
		h++;
	} else {
		end = h + strcspn(h, ":");
	}
	for (const char *p = h; p < end; p++)
		if (!isalnum((unsigned char)*p) && !strchr(h[-1] == '[' ? ".:" : ".-", *p)) {
			buf_printf(why, "'%s': a host is a name or an address", spec);
			return -1;
		}
	if (end == h || *h == '-') {
		buf_printf(why, "'%s' names no host", spec);
		return -1;
	}
	const char *rest = end + (*end == ']');
	if (*rest == ':') {
		char *stop;
		unsigned long n = strtoul(rest + 1, &stop, 10);
		if (!isdigit((unsigned char)rest[1]) || *stop || n < 1 || n > 65535) {
			buf_printf(why, "'%s': the port must be 1 to 65535", spec);
			return -1;
		}
		if (port)
			*port = (unsigned)n;
	} else if (*rest) {
		buf_printf(why, "'%s' must be USER@HOST[:PORT]", spec);
		return -1;
	}
	if (user) {
		*user = xstrndup(spec, (size_t)(at - spec));
		*host = xstrndup(h, (size_t)(end - h));
	}
	return 0;
}
