/*
 * deploy_load: what the deploy sections of rules.ini may say, and the checks
 * across them. See deploy_load.h, rules.h for the structs and the README's
 * rules tables.
 *
 * Most keys are plain kinds (text, numbers, words, globs, patterns). The
 * rest are read by parsers through SCHEMA_CUSTOM: a command (command_load.h:
 * split into words as a shell would, every $NAME one of gitgate's own
 * variables, so a typo is caught at load and not in the middle of a
 * deploy; deploy/command.c fills them in), and here the two ports, the
 * switch and the freeze days. Each parser reads a whole value into a
 * struct of its own and replaces the slot only when the value is good.
 * Values that the deploy layer reads itself (health_status, health_body)
 * are kept in the form it takes, checked here the way it reads them.
 *
 * deploy_load_finish checks what needs the whole file -- names that point
 * at other sections, "requires" cycles, coupled projects that must deploy
 * to the same environments, a target without a way to start or to be
 * checked -- pointing each problem at the header of the section at fault.
 */
#include "deploy_load.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command_load.h"
#include "compose_load.h"
#include "confirm_load.h"
#include "deploy_policy.h"

/* ---- Values ------------------------------------------------------------ */

static int check_absolute_path(const char *key, const char *value, struct buf *why)
{
	size_t len = strlen(value);
	int ok = len > 1 && value[0] == '/' && value[len - 1] != '/' && !strchr(value, '$');
	for (const char *p = value; ok && *p; p++)
		ok = !iscntrl((unsigned char)*p);
	if (ok)
		return 0;
	buf_printf(why,
		   "%s '%s' must be an absolute path like /srv/app, without a trailing '/' (taken "
		   "as written: no $VARIABLES)",
		   key, value);
	return -1;
}

static int env_name_ok(const char *name, size_t len)
{
	if (!len || isdigit((unsigned char)name[0]))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return 0;
	return 1;
}

static int check_env_names(const char *key, const char *value, struct buf *why)
{
	const char *p = value, *word;
	for (size_t n; (n = schema_word_next(&p, &word));) {
		if (env_name_ok(word, n))
			continue;
		buf_printf(why,
			   "%s: '%.*s' is not an environment variable name (letters, digits, '_')",
			   key, (int)n, word);
		return -1;
	}
	return 0;
}

static int check_timezone(const char *key, const char *value, struct buf *why)
{
	struct buf zone = BUF_INIT;
	int rc = deploy_policy_check_zone(value, &zone);
	if (rc < 0)
		buf_printf(why, "%s: %s", key, zone.data);
	buf_free(&zone);
	return rc;
}

/* What keeps url from being one gitgate can use (NULL: nothing): http or
 * https, a host, an optional port -- which is $PORT when port_var, so that
 * each slot is checked on its own port -- and no '$' anywhere else. */
static const char *url_problem(const char *url, int port_var)
{
	for (const char *c = url; *c; c++)
		if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c))
			return "it holds a blank or a control character";
	const char *p = url;
	if (!strncasecmp(p, "http://", 7))
		p += 7;
	else if (!strncasecmp(p, "https://", 8))
		p += 8;
	else
		return "it must start with http:// or https://";
	const char *end = p + strcspn(p, "/?#"), *host_end = p;
	if (memchr(p, '@', (size_t)(end - p)))
		return "a user or password does not belong in rules.ini";
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));
		if (!close)
			return "an IPv6 host needs its ']'";
		host_end = close + 1;
	} else {
		while (host_end < end &&
		       (isalnum((unsigned char)*host_end) || strchr(".-_", *host_end)))
			host_end++;
	}
	if (host_end == p)
		return "it names no host";
	int uses_port_var = 0;
	if (host_end < end) {
		if (*host_end != ':')
			return "its host holds a character no host name has";
		const char *port = host_end + 1;
		size_t len = (size_t)(end - port);
		char *stop;
		unsigned long n = strtoul(port, &stop, 10);
		uses_port_var = port_var && ((len == 5 && !strncmp(port, "$PORT", 5)) ||
					     (len == 7 && !strncmp(port, "${PORT}", 7)));
		if (!uses_port_var &&
		    (stop != end || !isdigit((unsigned char)*port) || n < 1 || n > 65535))
			return port_var ? "its port must be $PORT" : "its port must be 1 to 65535";
	}
	if (strchr(end, '$'))
		return "a '$' is taken as written here; the only variable is $PORT, as the port";
	if (port_var && !uses_port_var)
		return "its port must be $PORT, so that each slot is checked on its own port";
	return NULL;
}

static int url_check(const char *key, const char *value, int port_var, struct buf *why)
{
	const char *problem = url_problem(value, port_var);
	if (!problem)
		return 0;
	buf_printf(why, "%s '%s' is not a URL gitgate can use: %s", key, value, problem);
	return -1;
}

static int check_url(const char *key, const char *value, struct buf *why)
{
	return url_check(key, value, 0, why);
}

static int check_health_url(const char *key, const char *value, struct buf *why)
{
	return url_check(key, value, 1, why);
}

static int check_statuses(const char *key, const char *value, struct buf *why)
{
	unsigned char ok[600];
	struct buf what = BUF_INIT;
	int rc = deploy_policy_parse_statuses(value, ok, &what);
	if (rc < 0)
		buf_printf(why, "%s: %s", key, what.data);
	buf_free(&what);
	return rc;
}

/* ssh_known_hosts, ssh_identity: absolute, and as OpenSSH reads them in
 * an -o option: no blank (one separates files), no '%' (a token there) and
 * no quote. */
static int check_ssh_path(const char *key, const char *value, struct buf *why)
{
	if (check_absolute_path(key, value, why) < 0)
		return -1;
	if (!value[strcspn(value, " \t%\"'")])
		return 0;
	buf_printf(why, "%s '%s': OpenSSH takes no blank, '%%' or quote in this path", key, value);
	return -1;
}

/* Runs check over each word of value. Returns how many there are, or -1
 * with the first problem in why. */
static int check_each_word(const char *key, const char *value,
			   int (*check)(const char *key, const char *word, struct buf *why),
			   struct buf *why)
{
	const char *p = value, *word;
	int n = 0;
	for (size_t len; (len = schema_word_next(&p, &word)); n++) {
		char *one = xstrndup(word, len);
		int rc = check(key, one, why);
		free(one);
		if (rc < 0)
			return -1;
	}
	return n;
}

static int check_host(const char *key, const char *host, struct buf *why)
{
	struct buf what = BUF_INIT;
	int rc = deploy_policy_parse_host(host, NULL, NULL, NULL, &what);
	if (rc < 0)
		buf_printf(why, "%s: %s", key, what.data);
	buf_free(&what);
	return rc;
}

/* host and hosts: USER@HOST[:PORT] each. */
static int check_hosts(const char *key, const char *value, struct buf *why)
{
	int n = check_each_word(key, value, check_host, why);
	if (n < 0)
		return -1;
	if (n != 1 && !strcmp(key, "host")) {
		buf_printf(why, "host names one USER@HOST[:PORT]; several go in hosts = A B ...");
		return -1;
	}
	return 0;
}

/* ---- Parsers: SCHEMA_CUSTOM --------------------------------------------- */

static int ports_parse(const char *key, const char *value, void *slot, struct buf *why)
{
	unsigned got[3] = {0};
	size_t n = 0;
	const char *p = value, *word;
	int ok = 1;
	for (size_t len; ok && (len = schema_word_next(&p, &word));) {
		char *end;
		unsigned long v = strtoul(word, &end, 10);
		ok = n < 2 && isdigit((unsigned char)*word) && end == word + len && v >= 1 &&
		     v <= 65535;
		got[n++] = (unsigned)v;
	}
	if (!ok || n != 2 || got[0] == got[1]) {
		buf_printf(why,
			   "%s must be two different port numbers from 1 to 65535 (blue's, then "
			   "green's), not '%s'",
			   key, value);
		return -1;
	}
	memcpy(slot, got, 2 * sizeof(got[0]));
	return 0;
}

static void switch_release(void *slot)
{
	struct deploy_switch *s = slot;
	free(s->text);
	free(s->path);
	command_load_release(&s->command);
	memset(s, 0, sizeof(*s));
}

static int switch_parse(const char *key, const char *value, void *slot, struct buf *why)
{
	struct deploy_switch sw = {0};
	const char *kind, *rest = value;
	size_t kind_len = schema_word_next(&rest, &kind);
	rest += strspn(rest, " \t");
	if (!kind_len) {
		switch_release(slot);
		return 0;
	}
	if (kind_len == 7 && !strncmp(kind, "command", 7)) {
		sw.kind = DEPLOY_SWITCH_COMMAND;
		if (!*rest) {
			buf_printf(why, "%s 'command' needs the command to run after it", key);
			return -1;
		}
		if (command_load_parse(key, rest, &sw.command, why) < 0)
			return -1;
	} else if ((kind_len == 5 && !strncmp(kind, "nginx", 5)) ||
		   (kind_len == 4 && !strncmp(kind, "link", 4))) {
		sw.kind = *kind == 'n' ? DEPLOY_SWITCH_NGINX : DEPLOY_SWITCH_LINK;
		if (check_absolute_path(*kind == 'n' ? "switch nginx FILE" : "switch link PATH",
					rest, why) < 0)
			return -1;
		sw.path = xstrdup(rest);
	} else {
		buf_printf(why, "%s must be 'nginx FILE', 'link PATH' or 'command ...', not '%.*s'",
			   key, (int)kind_len, kind);
		return -1;
	}
	switch_release(slot);
	sw.text = xstrdup(value);
	*(struct deploy_switch *)slot = sw;
	return 0;
}

static int days_parse(const char *key, const char *value, void *slot, struct buf *why)
{
	unsigned days = 0;
	const char *p = value, *word;
	for (size_t len; (len = schema_word_next(&p, &word));) {
		int day = -1;
		for (int i = 0; i < 7 && day < 0; i++)
			if (len == 3 && !strncasecmp(word, deploy_day_names[i], 3))
				day = i;
		if (day < 0) {
			buf_printf(why, "%s: '%.*s' is not a day: use mon tue wed thu fri sat sun",
				   key, (int)len, word);
			return -1;
		}
		days |= 1u << day;
	}
	*(unsigned *)slot = days;
	return 0;
}

static int sandbox_parse(const char *key, const char *value, void *slot, struct buf *why)
{
	static const char *const names[] = {"auto", "yes", "no"};
	for (int i = 0; i < 3; i++)
		if (!strcasecmp(value, names[i])) {
			*(enum deploy_sandbox *)slot = (enum deploy_sandbox)i;
			return 0;
		}
	buf_printf(why, "%s '%s': use yes, no or auto (yes where bubblewrap works)", key, value);
	return -1;
}

/* sandbox_writable: absolute paths, each a folder the sandbox binds. */
static int check_paths(const char *key, const char *value, struct buf *why)
{
	return check_each_word(key, value, check_absolute_path, why) < 0 ? -1 : 0;
}

/* ---- Tables ------------------------------------------------------------- */

#define D struct deploy_policy
const struct schema_key deploy_load_keys[] = {
    {SCHEMA_KEY("branch", SCHEMA_TEXT, D, branch), .check = schema_check_branch},
    {SCHEMA_KEY("state_dir", SCHEMA_TEXT, D, state_dir), .check = check_absolute_path},
    {SCHEMA_KEY("confirm_phrase", SCHEMA_TEXT, D, confirm_phrase),
     .def = "deploy fully to production"},
    {SCHEMA_CUSTOM_KEY("freeze_days", D, freeze_days, days_parse, NULL), .def = "fri"},
    {SCHEMA_KEY("freeze_timezone", SCHEMA_TEXT, D, freeze_timezone), .def = "UTC",
     .check = check_timezone},
    {SCHEMA_KEY("emergency_users", SCHEMA_WORDS, D, emergency_users)},
    {SCHEMA_INT_KEY("keep_releases", D, keep_releases), .min = 2, .max = 1000, .def = "5"},
    {SCHEMA_INT_KEY("lock_wait_seconds", D, lock_wait_seconds), .min = 0, .max = 86400,
     .def = "600"},
    /* From 64 KiB (a pipe's worth: a smaller cap would cut most of what
     * an app writes at once) to 1 TiB. */
    {SCHEMA_INT_KEY("app_log_max_bytes", D, app_log_max_bytes), .min = 65536, .max = 1ULL << 40,
     .def = "10485760"},
    {SCHEMA_INT_KEY("app_log_keep", D, app_log_keep), .min = 1, .max = 100, .def = "1"},
    {SCHEMA_KEY("exclude", SCHEMA_GLOBS, D, exclude)},
    {SCHEMA_KEY("env_placeholders", SCHEMA_WORDS, D, env_placeholders)},
    {SCHEMA_CUSTOM_KEY("notify_command", D, notify_command, command_load_parse,
		       command_load_release)},
    {SCHEMA_KEY("notify_url", SCHEMA_TEXT, D, notify_url), .check = check_url},
    {SCHEMA_CUSTOM_KEY("nginx", D, nginx, command_load_parse, command_load_release),
     .def = "nginx"},
    {SCHEMA_KEY("nginx_pid_file", SCHEMA_TEXT, D, nginx_pid_file), .def = "/run/nginx.pid",
     .check = check_absolute_path},
    {SCHEMA_INT_KEY("notify_timeout_seconds", D, notify_timeout_seconds), .min = 1, .max = 3600,
     .def = "10"},
    {SCHEMA_KEY("ssh_known_hosts", SCHEMA_TEXT, D, ssh_known_hosts), .check = check_ssh_path},
    {SCHEMA_KEY("ssh_identity", SCHEMA_TEXT, D, ssh_identity), .check = check_ssh_path},
    {SCHEMA_CUSTOM_KEY("sandbox", D, sandbox, sandbox_parse, NULL), .def = "auto"},
    {SCHEMA_KEY("sandbox_bwrap", SCHEMA_TEXT, D, sandbox_bwrap), .def = "/usr/bin/bwrap",
     .check = check_absolute_path},
    {SCHEMA_KEY("sandbox_network", SCHEMA_BOOL, D, sandbox_network), .def = "yes"},
    {SCHEMA_KEY("sandbox_user", SCHEMA_TEXT, D, sandbox_user), .check = schema_check_name},
    {SCHEMA_KEY("sandbox_writable", SCHEMA_WORDS, D, sandbox_writable), .check = check_paths},
    {SCHEMA_CUSTOM_KEY("compose_command", D, compose_command, command_load_program,
		       command_load_release)},
    {SCHEMA_END}};
#undef D

#define E struct deploy_environment
const struct schema_key deploy_load_environment_keys[] = {
    {SCHEMA_KEY("auto", SCHEMA_BOOL, E, auto_deploy), .def = "no"},
    {SCHEMA_KEY("requires", SCHEMA_TEXT, E, requires), .check = schema_check_name},
    {SCHEMA_KEY("confirm", SCHEMA_BOOL, E, confirm), .def = "no"},
    {SCHEMA_INT_KEY("health_level", E, health_level), .min = 1, .max = 3, .def = "3"},
    {SCHEMA_KEY("users", SCHEMA_WORDS, E, users)},
    {SCHEMA_KEY("freeze", SCHEMA_BOOL, E, freeze), .def = "yes"},
    {SCHEMA_INCLUDE_KEYS(confirm_load_environment_keys)},
    {SCHEMA_END}};
#undef E

#define T struct deploy_target
#define COMMAND(key, field)                                                                        \
	{                                                                                          \
		SCHEMA_CUSTOM_KEY(key, T, field, command_load_parse, command_load_release)         \
	}
const struct schema_key deploy_load_target_keys[] = {
    {SCHEMA_KEY("root", SCHEMA_TEXT, T, root), .check = check_absolute_path},
    {SCHEMA_CUSTOM_KEY("ports", T, ports, ports_parse, NULL)},
    {SCHEMA_KEY("env_file", SCHEMA_TEXT, T, env_file), .check = check_absolute_path},
    {SCHEMA_KEY("env_required", SCHEMA_WORDS, T, env_required), .check = check_env_names},
    {SCHEMA_CUSTOM_KEY("env_command", T, env_command, command_load_env, command_load_release)},
    COMMAND("install", install),
    COMMAND("test", test),
    COMMAND("lint", lint),
    COMMAND("build", build),
    COMMAND("migrate", migrate),
    COMMAND("run", run),
    COMMAND("start", start),
    COMMAND("stop", stop),
    {SCHEMA_KEY("compose", SCHEMA_TEXT, T, compose), .check = compose_load_check_file},
    {SCHEMA_CUSTOM_KEY("compose_command", T, compose_command, command_load_program,
		       command_load_release)},
    {SCHEMA_CUSTOM_KEY("switch", T, live_switch, switch_parse, switch_release)},
    {SCHEMA_KEY("live_url", SCHEMA_TEXT, T, live_url), .check = check_url},
    {SCHEMA_KEY("health_url", SCHEMA_TEXT, T, health_url), .check = check_health_url},
    {SCHEMA_KEY("health_status", SCHEMA_TEXT, T, health_status), .def = "2xx",
     .check = check_statuses},
    {SCHEMA_PATTERNS_KEY("health_body", T, health_body, nhealth_body, health_body_cap)},
    {SCHEMA_INT_KEY("health_latency_ms", T, health_latency_ms), .min = 1, .max = 600000,
     .def = "1000"},
    {SCHEMA_KEY("health_dependencies", SCHEMA_WORDS, T, health_dependencies),
     .check = check_env_names},
    COMMAND("health_command", health_command),
    {SCHEMA_INT_KEY("health_timeout_ms", T, health_timeout_ms), .min = 1, .max = 600000,
     .def = "5000"},
    {SCHEMA_INT_KEY("health_retries", T, health_retries), .min = 0, .max = 1000, .def = "10"},
    {SCHEMA_INT_KEY("health_interval_ms", T, health_interval_ms), .min = 0, .max = 600000,
     .def = "2000"},
    {SCHEMA_INT_KEY("health_successes", T, health_successes), .min = 1, .max = 100, .def = "3"},
    {SCHEMA_INT_KEY("health_deadline_seconds", T, health_deadline_seconds), .min = 1, .max = 3600,
     .def = "120"},
    {SCHEMA_INT_KEY("command_timeout_seconds", T, command_timeout_seconds), .min = 1, .max = 86400,
     .def = "900"},
    {SCHEMA_KEY("host", SCHEMA_TEXT, T, host), .check = check_hosts},
    {SCHEMA_KEY("hosts", SCHEMA_WORDS, T, hosts), .check = check_hosts},
    {SCHEMA_KEY("ssh_known_hosts", SCHEMA_TEXT, T, ssh_known_hosts), .check = check_ssh_path},
    {SCHEMA_KEY("ssh_identity", SCHEMA_TEXT, T, ssh_identity), .check = check_ssh_path},
    {SCHEMA_KEY("sandbox_writable", SCHEMA_WORDS, T, sandbox_writable), .check = check_paths},
    {SCHEMA_INCLUDE_KEYS(confirm_load_target_keys)},
    {SCHEMA_END}};
#undef COMMAND
#undef T

/* ---- Across sections ---------------------------------------------------- */

static void environments_check(struct schema_load *ld, struct rules *r)
{
	struct deploy_policy *d = &r->deploy;
	for (size_t i = 0; i < d->nenvironments; i++) {
		struct deploy_environment *e = &d->environments[i];
		if (e->requires) {
			e->required = deploy_policy_find_environment(r, e->requires);
			if (!e->required)
				schema_problem(ld, e->line,
					       "environment '%s' requires unknown environment '%s'",
					       e->name, e->requires);
		}
		if (e->confirm && (!d->confirm_phrase || !*d->confirm_phrase))
			schema_problem(ld, e->line,
				       "environment '%s' has confirm = yes, but [deploy] "
				       "confirm_phrase is empty: nothing could confirm a deploy",
				       e->name);
	}
}

/* A cycle is reported once, at the header of its last environment. */
static void requires_cycles_check(struct schema_load *ld, struct rules *r)
{
	struct deploy_policy *d = &r->deploy;
	for (size_t i = 0; i < d->nenvironments; i++) {
		const struct deploy_environment *start = &d->environments[i], *e = start->required;
		size_t steps = 0, last = i;
		for (; e && e != start && steps < d->nenvironments; e = e->required, steps++)
			if ((size_t)(e - d->environments) > last)
				last = (size_t)(e - d->environments);
		if (e != start || last != i)
			continue;
		struct buf cycle = BUF_INIT;
		buf_adds(&cycle, start->name);
		do {
			e = e->required;
			buf_printf(&cycle, " -> %s", e->name);
		} while (e != start);
		schema_problem(ld, start->line, "environments require each other in a cycle: %s",
			       cycle.data);
		buf_free(&cycle);
	}
}

static void target_resolve(struct schema_load *ld, struct rules *r, struct deploy_target *t,
			   const char *name)
{
	for (size_t k = 0; k < r->nprojects; k++)
		if (!strcmp(r->projects[k].name, t->project))
			t->project_of = &r->projects[k];
	if (!t->project_of) {
		const struct unit *u = rules_find_unit(r, t->project);
		struct buf hint = BUF_INIT;
		if (u) {
			buf_printf(&hint, "; '%s' is unit '%s': name its projects,", t->project,
				   u->name);
			for (size_t k = 0; k < u->projects.n; k++)
				buf_printf(&hint, " %s", u->projects.items[k]);
		}
		schema_problem(ld, t->line, "%s names unknown project '%s'%s", name, t->project,
			       hint.len ? hint.data : "");
		buf_free(&hint);
	}
	t->env = deploy_policy_find_environment(r, t->environment);
	if (!t->env)
		schema_problem(ld, t->line,
			       "%s names unknown environment '%s' (no [environment %s])", name,
			       t->environment, t->environment);
}

static void target_required_check(struct schema_load *ld, const struct deploy_target *t,
				  const char *name)
{
	if (!t->root)
		schema_problem(ld, t->line, "%s has no root (its slots are ROOT-blue, ROOT-green)",
			       name);
	if (!t->ports[0])
		schema_problem(ld, t->line, "%s has no ports (two: blue's, then green's)", name);
	if (t->live_switch.kind == DEPLOY_SWITCH_NONE)
		schema_problem(ld, t->line,
			       "%s has no switch: nginx FILE, link PATH or command ... moves "
			       "traffic to the new slot",
			       name);
	if (!t->run.argv && !t->start.argv && !t->compose)
		schema_problem(ld, t->line,
			       "%s has neither run, start/stop nor compose: say how its app is "
			       "started",
			       name);
	if (t->run.argv && (t->start.argv || t->stop.argv))
		schema_problem(ld, t->line,
			       "%s has run and start/stop: gitgate supervises it (run) or your "
			       "start/stop do, not both",
			       name);
	if (t->start.argv && !t->stop.argv)
		schema_problem(ld, t->line, "%s has start but no stop", name);
	if (t->stop.argv && !t->start.argv && !t->run.argv)
		schema_problem(ld, t->line, "%s has stop but no start", name);
}

static void target_env_check(struct schema_load *ld, const struct rules *r,
			     const struct deploy_target *t, const char *name)
{
	if (t->env && t->env->health_level >= 2 && !t->health_url)
		schema_problem(ld, t->line,
			       "%s has no health_url, which health level %u of environment '%s' "
			       "needs",
			       name, t->env->health_level, t->environment);
	if ((t->env_required.n || t->health_dependencies.n) && !t->env_file && !t->env_command.argv)
		schema_problem(ld, t->line,
			       "%s names variables (env_required, health_dependencies) but no "
			       "env_file or env_command to read them from",
			       name);
	if (t->nhealth_body > 1)
		schema_problem(ld, t->health_body[1].line,
			       "%s has a second health_body; the health check takes one pattern "
			       "(join them: a|b for either, (?s)(?=.*a)(?=.*b) for both)",
			       name);
	for (size_t k = 0; k < t->health_dependencies.n; k++)
		if (!strlist_has(&t->env_required, t->health_dependencies.items[k]))
			schema_problem(ld, t->line,
				       "%s: health dependency '%s' is not in env_required (gate 7 "
				       "must see it set)",
				       name, t->health_dependencies.items[k]);
	const struct deploy_environment *req = t->env ? t->env->required : NULL;
	if (req && !deploy_policy_find_target(r, t->project, req->name))
		schema_problem(ld, t->line,
			       "%s: environment '%s' requires '%s', where project '%s' has no "
			       "target",
			       name, t->environment, req->name, t->project);
}

/* A target's hosts: `host` or `hosts`, never both, each host once. */
static void target_hosts_check(struct schema_load *ld, struct deploy_target *t, const char *name)
{
	if (t->host && t->hosts.n) {
		schema_problem(ld, t->line, "%s has host and hosts: one host, or a list", name);
		return;
	}
	if (t->host)
		strlist_add(&t->hosts, t->host);
	for (size_t i = 0; i < t->hosts.n; i++)
		for (size_t k = 0; k < i; k++)
			if (!strcmp(t->hosts.items[i], t->hosts.items[k]))
				schema_problem(ld, t->line, "%s names host %s twice", name,
					       t->hosts.items[i]);
	if (!t->hosts.n && (t->ssh_known_hosts || t->ssh_identity))
		schema_problem(ld, t->line,
			       "%s has ssh_known_hosts or ssh_identity but no host to use them for",
			       name);
}

/* Targets on one machine: no port or root twice. */
static void target_clash_check(struct schema_load *ld, const struct deploy_policy *d, size_t i,
			       const char *name)
{
	const struct deploy_target *t = &d->targets[i];
	for (size_t j = 0; j < i; j++) {
		const struct deploy_target *o = &d->targets[j];
		if (!deploy_policy_same_machine(t, o))
			continue;
		for (size_t a = 0; a < 2; a++)
			for (size_t b = 0; b < 2; b++)
				if (t->ports[a] && t->ports[a] == o->ports[b])
					schema_problem(ld, t->line,
						       "%s uses port %u, as target '%s %s' does "
						       "(line %d)",
						       name, t->ports[a], o->project,
						       o->environment, o->line);
		if (t->root && o->root && !strcmp(t->root, o->root))
			schema_problem(ld, t->line, "%s has the root of target '%s %s' (line %d)",
				       name, o->project, o->environment, o->line);
	}
}

static void targets_check(struct schema_load *ld, struct rules *r)
{
	struct deploy_policy *d = &r->deploy;
	for (size_t i = 0; i < d->ntargets; i++) {
		struct deploy_target *t = &d->targets[i];
		struct buf name = BUF_INIT;
		buf_printf(&name, "target '%s %s'", t->project, t->environment);
		target_resolve(ld, r, t, name.data);
		target_hosts_check(ld, t, name.data);
		target_required_check(ld, t, name.data);
		target_env_check(ld, r, t, name.data);
		target_clash_check(ld, d, i, name.data);
		compose_load_check_target(ld, t, name.data);
		buf_free(&name);
	}
}

/* Coupled projects deploy together: where one has a target, all must. */
static void units_check(struct schema_load *ld, const struct rules *r)
{
	for (size_t i = 0; i < r->nunits; i++) {
		const struct unit *u = &r->units[i];
		for (size_t e = 0; u->projects.n > 1 && e < r->deploy.nenvironments; e++) {
			const char *env = r->deploy.environments[e].name;
			const struct deploy_target *has = NULL;
			for (size_t k = 0; k < u->projects.n && !has; k++)
				has = deploy_policy_find_target(r, u->projects.items[k], env);
			for (size_t k = 0; has && k < u->projects.n; k++)
				if (!deploy_policy_find_target(r, u->projects.items[k], env))
					schema_problem(
					    ld, has->line,
					    "unit '%s' deploys its projects together, but "
					    "project '%s' has no target in environment '%s' "
					    "(project '%s' has)",
					    u->name, u->projects.items[k], env, has->project);
		}
	}
}

void deploy_load_finish(struct schema_load *ld, struct rules *r)
{
	struct deploy_policy *d = &r->deploy;
	if (!d->branch && r->push.deploy_branch)
		d->branch = xstrdup(r->push.deploy_branch);
	if (!d->env_placeholders.given) {
		static const char *const placeholders[] = {"changeme", "xxx", "todo", "<...>",
							   "your-..."};
		for (size_t i = 0; i < sizeof(placeholders) / sizeof(placeholders[0]); i++)
			strlist_add(&d->env_placeholders, placeholders[i]);
	}
	environments_check(ld, r);
	requires_cycles_check(ld, r);
	targets_check(ld, r);
	units_check(ld, r);
	confirm_load_finish(ld, r);
}
