/*
 * confirm_load: the keys of confirmed deploys. See confirm_load.h, rules.h
 * for the structs and the README's rules tables.
 *
 * A deploy is complete once it is confirmed: its canary steps (the new slot
 * gets a share of the requests, step after step, while checks run), the
 * watch after gate 11, and the logs those checks read. And it may start
 * only within deploy_hours. Each value is read whole here and replaces the
 * slot only when good; what depends on other keys and sections -- the
 * switch a canary needs, a log nothing would read -- is judged once the
 * whole file is read, pointing at the section at fault, as deploy_load.c
 * does.
 */
#include "confirm_load.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "deploy_policy.h"
#include "words.h"

/* ---- Values ------------------------------------------------------------ */

/* canary = 10 50: whole percents from 1 to 99, each above the one before;
 * an empty value is no canary. */
static int canary_parse(const char *key, const char *value, void *slot, struct buf *why)
{
	struct deploy_canary c = {.n = 0};
	const char *p = value, *word;
	for (size_t len; (len = schema_word_next(&p, &word));) {
		char *end;
		unsigned long v = strtoul(word, &end, 10);
		int ok = isdigit((unsigned char)*word) && end == word + len && v >= 1 && v <= 99 &&
			 (!c.n || v > c.percents[c.n - 1]);
		if (!ok || c.n == DEPLOY_CANARY_MAX) {
			buf_printf(why,
				   "%s: '%.*s' %s; write the new slot's share of requests at each "
				   "step, in percent, rising: canary = 10 50",
				   key, (int)len, word,
				   !ok ? "is not a percent from 1 to 99 above the step before"
				       : "is one step too many (at most 10)");
			return -1;
		}
		c.percents[c.n++] = (unsigned)v;
	}
	*(struct deploy_canary *)slot = c;
	return 0;
}

/* "HH:MM" (len bytes at s) as minutes after midnight, or -1. 24:00 is
 * taken only as the end of a span. */
static int clock_minutes(const char *s, size_t len, int end)
{
	if (len != 5 || s[2] != ':')
		return -1;
	for (size_t i = 0; i < 5; i++)
		if (i != 2 && !isdigit((unsigned char)s[i]))
			return -1;
	int hours = (s[0] - '0') * 10 + (s[1] - '0'), minutes = (s[3] - '0') * 10 + (s[4] - '0');
	if (minutes > 59 || hours > 24 || (hours == 24 && (minutes || !end)))
		return -1;
	return hours * 60 + minutes;
}

/* deploy_hours = 09:00-16:00 [22:00-02:00 ...]; empty: any time. */
static int hours_parse(const char *key, const char *value, void *slot, struct buf *why)
{
	struct deploy_hours h = {.n = 0};
	const char *p = value, *word;
	for (size_t len; (len = schema_word_next(&p, &word));) {
		const char *dash = memchr(word, '-', len);
		int from = dash ? clock_minutes(word, (size_t)(dash - word), 0) : -1;
		int to = dash ? clock_minutes(dash + 1, len - (size_t)(dash - word) - 1, 1) : -1;
		const char *problem = from < 0 || to < 0 ? "is not a span of hours like 09:00-16:00"
				      : from == to	 ? "starts where it ends"
				      : h.n == DEPLOY_HOURS_MAX ? "is one span too many (at most 8)"
								: NULL;
		if (problem) {
			buf_printf(why,
				   "%s: '%.*s' %s (HH:MM-HH:MM in [deploy] freeze_timezone, the "
				   "end out; 22:00-06:00 runs through midnight)",
				   key, (int)len, word, problem);
			return -1;
		}
		h.spans[h.n].from = (unsigned)from;
		h.spans[h.n++].to = (unsigned)to;
	}
	*(struct deploy_hours *)slot = h;
	return 0;
}

/* error_rate_max = 5, 0.5 or 2.25% (at most two decimals, 0 to 100), kept
 * in hundredths of a percent. */
static int rate_parse(const char *key, const char *value, void *slot, struct buf *why)
{
	const char *p = value;
	unsigned long whole = 0, hundredths = 0;
	size_t digits = 0, decimals = 0;
	for (; isdigit((unsigned char)*p) && digits < 4; p++, digits++)
		whole = whole * 10 + (unsigned long)(*p - '0');
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p) && decimals < 2; p++, decimals++)
			hundredths = hundredths * 10 + (unsigned long)(*p - '0');
	if (decimals == 1)
		hundredths *= 10;
	p += *p == '%';
	unsigned long total = whole * 100 + hundredths;
	if (!digits || *p || (value[digits] == '.' && !decimals) || total > 10000) {
		buf_printf(why,
			   "%s must be a percent from 0 to 100 (at most two decimals: 0.5), not "
			   "'%s'",
			   key, value);
		return -1;
	}
	*(unsigned *)slot = (unsigned)total;
	return 0;
}

/* health_log_file, error_log: an absolute path, one word, in which only
 * gitgate's own $VARIABLES stand ($SLOT: a log for each slot), filled in
 * as in a command. */
static int check_log_path(const char *key, const char *value, struct buf *why)
{
	char **argv = NULL;
	size_t argc = 0, len = strlen(value);
	struct buf err = BUF_INIT;
	int ok = len > 1 && value[0] == '/' && value[len - 1] != '/' &&
		 !value[strcspn(value, " \t'\"\\")];
	for (const char *c = value; ok && *c; c++)
		ok = !iscntrl((unsigned char)*c);
	if (ok)
		ok = words_split(value, deploy_variables, &argv, &argc, &err) == 0 && argc == 1;
	if (!ok)
		buf_printf(why,
			   "%s '%s' must be the absolute path of a file, without blanks or quotes, "
			   "whose only $VARIABLES are gitgate's ($SLOT, $PORT, $ROOT ...)%s%s",
			   key, value, err.len ? ": " : "", err.len ? err.data : "");
	strvec_free(argv);
	buf_free(&err);
	return ok ? 0 : -1;
}

/* ---- Tables ------------------------------------------------------------- */

#define E struct deploy_environment
const struct schema_key confirm_load_environment_keys[] = {
    {SCHEMA_CUSTOM_KEY("deploy_hours", E, hours, hours_parse, NULL)},
    {SCHEMA_CUSTOM_KEY("canary", E, canary, canary_parse, NULL)},
    {SCHEMA_INT_KEY("canary_step_seconds", E, canary_step_seconds), .min = 1, .max = 86400,
     .def = "60"},
    {SCHEMA_INT_KEY("watch_seconds", E, watch_seconds), .min = 0, .max = 7 * 86400, .def = "0"},
    {SCHEMA_INT_KEY("watch_interval_seconds", E, watch_interval_seconds), .min = 1, .max = 86400,
     .def = "30"},
    {SCHEMA_KEY("watch_rollback", SCHEMA_BOOL, E, watch_rollback), .def = "yes"},
    {SCHEMA_END}};
#undef E

#define T struct deploy_target
const struct schema_key confirm_load_target_keys[] = {
    {SCHEMA_PATTERNS_KEY("health_log_pattern", T, health_log_pattern, nhealth_log_pattern,
			 health_log_pattern_cap)},
    {SCHEMA_KEY("health_log_file", SCHEMA_TEXT, T, health_log_file), .check = check_log_path},
    {SCHEMA_KEY("error_log", SCHEMA_TEXT, T, error_log), .check = check_log_path},
    {SCHEMA_PATTERNS_KEY("error_pattern", T, error_pattern, nerror_pattern, error_pattern_cap)},
    {SCHEMA_CUSTOM_KEY("error_rate_max", T, error_rate_max, rate_parse, NULL), .def = "5"},
    {SCHEMA_INT_KEY("error_min_requests", T, error_min_requests), .min = 1, .max = 1000000000,
     .def = "20"},
    {SCHEMA_END}};
#undef T

/* ---- Across sections ---------------------------------------------------- */

static void environment_check(struct schema_load *ld, const struct deploy_environment *e)
{
	if (e->watch_seconds && e->watch_interval_seconds > e->watch_seconds)
		schema_problem(ld, e->line,
			       "environment '%s' has watch_interval_seconds = %u, longer than "
			       "watch_seconds = %u: the watch would end before its first check",
			       e->name, e->watch_interval_seconds, e->watch_seconds);
}

/* The canary weighs both slots in nginx's upstream: no other switch can. */
static void target_canary_check(struct schema_load *ld, const struct deploy_target *t,
				const char *name)
{
	const struct deploy_environment *e = t->env;
	enum deploy_switch_kind kind = t->live_switch.kind;
	if (!e || !e->canary.n || kind == DEPLOY_SWITCH_NGINX || kind == DEPLOY_SWITCH_NONE)
		return;
	struct buf steps = BUF_INIT;
	for (size_t i = 0; i < e->canary.n; i++)
		buf_printf(&steps, "%s%u", i ? " " : "", e->canary.percents[i]);
	schema_problem(ld, t->line,
		       "%s: environment '%s' has canary = %s, which only switch = nginx FILE can "
		       "give (both slots in the upstream, weighted); this target's switch is '%s'",
		       name, e->name, steps.data, t->live_switch.text);
	buf_free(&steps);
}

static void error_pattern_default(struct schema_load *ld, struct deploy_target *t)
{
	int code;
	PCRE2_SIZE offset;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)DEPLOY_ERROR_PATTERN, PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &offset, NULL);
	if (!re) {
		schema_problem(ld, t->line, "the default error_pattern does not compile");
		return;
	}
	struct pattern *p = ARRAY_PUSH(t->error_pattern, t->nerror_pattern, t->error_pattern_cap);
	memset(p, 0, sizeof(*p));
	p->source = xstrdup(DEPLOY_ERROR_PATTERN);
	p->code = re;
}

/* A log key with nothing to read, or that no check would ever read. */
static void target_logs_check(struct schema_load *ld, struct deploy_target *t, const char *name)
{
	const struct deploy_environment *e = t->env;
	int watched = e && (e->watch_seconds || e->canary.n);
	if (t->nerror_pattern > 1)
		schema_problem(ld, t->error_pattern[1].line,
			       "%s has a second error_pattern; an access log line is an error by "
			       "one pattern (join them: a|b)",
			       name);
	if (t->nerror_pattern && !t->error_log)
		schema_problem(ld, t->error_pattern[0].line,
			       "%s has error_pattern but no error_log to match it in", name);
	if (t->error_log && e && !watched)
		schema_problem(ld, t->line,
			       "%s has error_log, which the canary's and the watch's checks read, "
			       "but environment '%s' has neither canary nor watch_seconds",
			       name, e->name);
	if (t->health_log_file && !t->nhealth_log_pattern)
		schema_problem(ld, t->line,
			       "%s has health_log_file but no health_log_pattern to look for in it",
			       name);
	if (t->nhealth_log_pattern && !t->run.argv && !t->compose && !t->health_log_file)
		schema_problem(ld, t->line,
			       "%s has health_log_pattern but no log to read: only a supervised "
			       "app's (run) log and a Compose project's containers' are gitgate's; "
			       "name the app's in health_log_file",
			       name);
	if (t->nhealth_log_pattern && e && e->health_level < 3 && !watched)
		schema_problem(ld, t->line,
			       "%s has health_log_pattern, which health level 3, a canary and a "
			       "watch check, but environment '%s' has level %u and neither",
			       name, e->name, e->health_level);
	if (t->error_log && !t->nerror_pattern)
		error_pattern_default(ld, t);
}

void confirm_load_finish(struct schema_load *ld, struct rules *r)
{
	struct deploy_policy *d = &r->deploy;
	for (size_t i = 0; i < d->nenvironments; i++)
		environment_check(ld, &d->environments[i]);
	for (size_t i = 0; i < d->ntargets; i++) {
		struct deploy_target *t = &d->targets[i];
		struct buf name = BUF_INIT;
		buf_printf(&name, "target '%s %s'", t->project, t->environment);
		target_canary_check(ld, t, name.data);
		target_logs_check(ld, t, name.data);
		buf_free(&name);
	}
}
