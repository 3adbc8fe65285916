/* confirm rules: the keys of confirmed deploys (canary, watch, logs, deploy_hours) loaded,
 * checked with file:line, and the deploy hours judged in the configured time zone. */
#include <criterion/criterion.h>

#include "deploy_policy.h"
#include "deploy_rules.h"

/* One environment, staging (health level `level`, then env_lines), and
 * argo's target there (a link switch, run; then target_lines). */
static char *confirm_text(unsigned level, const char *env_lines, const char *target_lines)
{
	struct buf text = BUF_INIT;
	buf_printf(
	    &text,
	    PROJECTS "[environment staging]\nhealth_level = %u\n%s" TARGET(
		"argo", "staging", "8010 8011") "health_url = http://127.0.0.1:$PORT/health\n%s",
	    level, env_lines, target_lines);
	return buf_detach(&text);
}

static void assert_confirm_error(unsigned level, const char *env_lines, const char *target_lines,
				 const char *at, const char *message)
{
	char *text = confirm_text(level, env_lines, target_lines);
	assert_error_at(text, at, message);
	free(text);
}

static void load_confirm(struct rules *r, unsigned level, const char *env_lines,
			 const char *target_lines)
{
	char *text = confirm_text(level, env_lines, target_lines);
	load_ok(r, text);
	free(text);
}

/* Each of values, as `key = VALUE` in the environment (or the target), is
 * refused on its line with message. */
static void assert_values_refused(const char *key, const char *const *values, size_t n,
				  int in_target, const char *message)
{
	for (size_t i = 0; i < n; i++) {
		struct buf line = BUF_INIT;
		buf_printf(&line, "%s = %s\n", key, values[i]);
		assert_confirm_error(3, in_target ? "" : line.data, in_target ? line.data : "",
				     line.data, message);
		buf_free(&line);
	}
}
#define N(a) (sizeof(a) / sizeof((a)[0]))

Test(confirm_rules, defaults_mean_no_canary_no_watch_and_any_hour)
{
	struct rules r;
	load_confirm(&r, 1, "", "");
	const struct deploy_environment *e = &r.deploy.environments[0];
	cr_assert_eq(e->canary.n, 0);
	cr_assert_eq(e->canary_step_seconds, 60);
	cr_assert_eq(e->watch_seconds, 0);
	cr_assert_eq(e->watch_interval_seconds, 30);
	cr_assert_eq(e->watch_rollback, 1);
	cr_assert_eq(e->hours.n, 0);
	const struct deploy_target *t = &r.deploy.targets[0];
	cr_assert_eq(t->error_rate_max, 500, "5%% in hundredths");
	cr_assert_eq(t->error_min_requests, 20);
	cr_assert_null(t->error_log);
	cr_assert_eq(t->nerror_pattern, 0, "no access log, no pattern");
	cr_assert_eq(t->nhealth_log_pattern, 0);
	rules_free(&r);
}

Test(confirm_rules, the_default_rules_file_watches_production_an_hour_and_staging_15_minutes)
{
	struct rules r;
	struct buf errors = BUF_INIT, path = BUF_INIT;
	buf_printf(&path, "%s/rules.ini", getenv("GITGATE_SOURCE"));
	cr_assert_eq(rules_load(&r, path.data, &errors), 0, "%s", errors.data);
	const struct deploy_environment *production =
	    deploy_policy_find_environment(&r, "production");
	const struct deploy_environment *staging = deploy_policy_find_environment(&r, "staging");
	cr_assert_eq(production->watch_seconds, 3600);
	cr_assert_eq(staging->watch_seconds, 900);
	cr_assert(production->watch_rollback && staging->watch_rollback);
	cr_assert_leq(production->watch_interval_seconds, 60);
	rules_free(&r);
	buf_free(&errors);
	buf_free(&path);
}

Test(confirm_rules, values_are_stored_as_the_engine_reads_them)
{
	struct rules r;
	load_confirm(
	    &r, 3,
	    "canary = 5 25 60\ncanary_step_seconds = 90\nwatch_seconds = 900\n"
	    "watch_interval_seconds = 15\nwatch_rollback = no\n"
	    "deploy_hours = 09:00-11:30 22:15-02:00\n",
	    "switch = nginx /etc/nginx/argo.upstream\nerror_log = /var/log/nginx/argo.log\n"
	    "error_rate_max = 0.5%\nerror_min_requests = 100\n"
	    "health_log_pattern = Traceback|CRITICAL\nhealth_log_pattern = (?i)panic\n"
	    "health_log_file = /var/log/argo-$SLOT.log\n");
	const struct deploy_environment *e = &r.deploy.environments[0];
	cr_assert_eq(e->canary.n, 3);
	cr_assert_eq(e->canary.percents[0], 5);
	cr_assert_eq(e->canary.percents[2], 60);
	cr_assert_eq(e->canary_step_seconds, 90);
	cr_assert_eq(e->watch_seconds, 900);
	cr_assert_eq(e->watch_interval_seconds, 15);
	cr_assert_eq(e->watch_rollback, 0);
	cr_assert_eq(e->hours.n, 2);
	cr_assert_eq(e->hours.spans[0].from, 9 * 60);
	cr_assert_eq(e->hours.spans[0].to, 11 * 60 + 30);
	cr_assert_eq(e->hours.spans[1].from, 22 * 60 + 15);
	cr_assert_eq(e->hours.spans[1].to, 2 * 60);
	const struct deploy_target *t = &r.deploy.targets[0];
	cr_assert_str_eq(t->error_log, "/var/log/nginx/argo.log");
	cr_assert_eq(t->error_rate_max, 50);
	cr_assert_eq(t->error_min_requests, 100);
	cr_assert_eq(t->nerror_pattern, 1, "the default, since error_log is given");
	cr_assert_str_eq(t->error_pattern[0].source, DEPLOY_ERROR_PATTERN);
	cr_assert_not_null(t->error_pattern[0].code);
	cr_assert_eq(t->nhealth_log_pattern, 2);
	cr_assert_str_eq(t->health_log_pattern[1].source, "(?i)panic");
	cr_assert_str_eq(t->health_log_file, "/var/log/argo-$SLOT.log");
	rules_free(&r);
	load_confirm(
	    &r, 1, "watch_seconds = 60\n",
	    "error_log = /l\nerror_pattern = \" (5\\d\\d|429)\\b\nerror_rate_max = 12.25\n");
	cr_assert_eq(r.deploy.targets[0].nerror_pattern, 1, "given, so no default");
	cr_assert_str_eq(r.deploy.targets[0].error_pattern[0].source, "\" (5\\d\\d|429)\\b");
	cr_assert_eq(r.deploy.targets[0].error_rate_max, 1225);
	rules_free(&r);
	load_confirm(&r, 1, "canary = 10\ncanary =\ndeploy_hours = 00:00-24:00\n", "");
	cr_assert_eq(r.deploy.environments[0].canary.n, 0, "an empty value turns it off");
	cr_assert_eq(r.deploy.environments[0].hours.spans[0].to, 24 * 60);
	rules_free(&r);
}

Test(confirm_rules, a_canary_is_rising_percents_from_1_to_99)
{
	static const char *const bad[] = {"0",	 "100",	  "50 10", "10 10",
					  "10x", "-5 10", "1.5",   "1 2 3 4 5 6 7 8 9 10 11"};
	assert_values_refused("canary", bad, N(bad), 0, "canary: '");
	assert_confirm_error(1, "canary = 10 5\n", "", "canary = 10 5",
			     "canary: '5' is not a percent from 1 to 99 above the step before");
	assert_confirm_error(1, "canary = 1 2 3 4 5 6 7 8 9 10 11\n", "", "canary = 1 2",
			     "'11' is one step too many (at most 10)");
	assert_confirm_error(1, "canary_step_seconds = 0\n", "", "canary_step_seconds",
			     "canary_step_seconds must be a whole number from 1 to 86400");
}

Test(confirm_rules, a_canary_needs_the_nginx_switch)
{
	assert_confirm_error(1, "canary = 10 50\n", "", "[target argo staging]",
			     "target 'argo staging': environment 'staging' has canary = 10 50, "
			     "which only switch = nginx FILE can give");
	assert_confirm_error(1, "canary = 10\n", "switch = command /bin/true\n",
			     "[target argo staging]",
			     "this target's switch is 'command /bin/true'");
	struct rules r;
	load_confirm(&r, 1, "canary = 10 50\n", "switch = nginx /etc/nginx/a.upstream\n");
	rules_free(&r);
}

Test(confirm_rules, the_watch_checks_within_its_time)
{
	assert_confirm_error(1, "watch_seconds = 60\nwatch_interval_seconds = 61\n", "",
			     "[environment staging]",
			     "environment 'staging' has watch_interval_seconds = 61, longer than "
			     "watch_seconds = 60: the watch would end before its first check");
	assert_confirm_error(1, "watch_seconds = 604801\n", "", "watch_seconds",
			     "watch_seconds must be a whole number from 0 to 604800");
	assert_confirm_error(1, "watch_interval_seconds = 0\n", "", "watch_interval_seconds",
			     "from 1 to 86400");
	assert_confirm_error(1, "watch_rollback = maybe\n", "", "watch_rollback",
			     "watch_rollback must be yes or no, not 'maybe'");
	struct rules r;
	load_confirm(&r, 1, "watch_seconds = 60\nwatch_interval_seconds = 60\n", "");
	rules_free(&r);
	load_confirm(&r, 1, "watch_interval_seconds = 600\n", "");
	rules_free(&r);
}

Test(confirm_rules, deploy_hours_are_spans_of_hh_mm)
{
	static const char *const bad[] = {"9-16",	 "09:00",	 "25:00-26:00",
					  "09:60-10:00", "24:00-01:00",	 "09:00-09:00",
					  "9:00-16:00",	 "09:00-16:00x", "a-b"};
	assert_values_refused("deploy_hours", bad, N(bad), 0, "deploy_hours: '");
	assert_confirm_error(1, "deploy_hours = 09:00-9:00\n", "", "deploy_hours",
			     "deploy_hours: '09:00-9:00' is not a span of hours like 09:00-16:00 "
			     "(HH:MM-HH:MM in [deploy] freeze_timezone");
	assert_confirm_error(1, "deploy_hours = 10:00-10:00\n", "", "deploy_hours",
			     "'10:00-10:00' starts where it ends");
	assert_confirm_error(1,
			     "deploy_hours = 00:00-01:00 01:00-02:00 02:00-03:00 03:00-04:00 "
			     "04:00-05:00 05:00-06:00 06:00-07:00 07:00-08:00 08:00-09:00\n",
			     "", "deploy_hours", "'08:00-09:00' is one span too many (at most 8)");
}

Test(confirm_rules, error_rates_are_percents_and_counts)
{
	static const char *const bad[] = {"101", "5.", "0.125", "-1", "abc", "", "1e2", "5%%"};
	assert_values_refused("error_rate_max", bad, N(bad), 1,
			      "error_rate_max must be a percent from 0 to 100");
	assert_confirm_error(1, "", "error_min_requests = 0\n", "error_min_requests",
			     "error_min_requests must be a whole number from 1 to 1000000000");
}

Test(confirm_rules, a_bad_pattern_says_what_pcre2_says_on_its_line)
{
	assert_confirm_error(1, "watch_seconds = 60\n", "error_log = /l\nerror_pattern = 5(\\d\n",
			     "error_pattern", "bad pattern '5(\\d': missing closing parenthesis");
	assert_confirm_error(3, "", "health_log_pattern = [CRIT\n", "health_log_pattern",
			     "bad pattern '[CRIT': missing terminating ] for character class at "
			     "offset 5");
}

Test(confirm_rules, log_paths_are_absolute_with_only_gitgates_variables)
{
	static const char *const bad[] = {"var/log/a.log", "/var/log/$HOME.log", "/var/log/a b",
					  "/var/log/",	   "/var/log/'a'",	 "/var/log/a\\b"};
	assert_values_refused(
	    "health_log_file", bad, N(bad), 1,
	    "must be the absolute path of a file, without blanks or quotes, whose "
	    "only $VARIABLES are gitgate's");
	assert_confirm_error(1, "watch_seconds = 60\n", "error_log = logs/access.log\n",
			     "error_log",
			     "error_log 'logs/access.log' must be the absolute path of a file");
	assert_confirm_error(3, "", "health_log_pattern = x\nhealth_log_file = /l/$HOME\n",
			     "health_log_file", "unknown variable $HOME");
}

Test(confirm_rules, logs_need_something_to_read_and_a_check_that_reads_them)
{
	assert_confirm_error(1, "watch_seconds = 60\n",
			     "error_log = /l\nerror_pattern = a\nerror_pattern = b\n",
			     "error_pattern = b", "has a second error_pattern");
	assert_confirm_error(1, "watch_seconds = 60\n", "error_pattern = \" 5\n", "error_pattern",
			     "target 'argo staging' has error_pattern but no error_log to match it "
			     "in");
	assert_confirm_error(1, "", "error_log = /var/log/nginx/access.log\n",
			     "[target argo staging]",
			     "has error_log, which the canary's and the watch's checks read, but "
			     "environment 'staging' has neither canary nor watch_seconds");
	assert_confirm_error(3, "", "health_log_file = /var/log/argo.log\n",
			     "[target argo staging]",
			     "has health_log_file but no health_log_pattern to look for in it");
	assert_confirm_error(3, "", "run =\nstart = up\nstop = down\nhealth_log_pattern = x\n",
			     "[target argo staging]",
			     "has health_log_pattern but no log to read: only a supervised app's "
			     "(run) log and a Compose project's containers' are gitgate's; name "
			     "the app's in health_log_file");
	assert_confirm_error(2, "", "health_log_pattern = CRITICAL\n", "[target argo staging]",
			     "has health_log_pattern, which health level 3, a canary and a watch "
			     "check, but environment 'staging' has level 2 and neither");
	struct rules r;
	load_confirm(&r, 1, "watch_seconds = 60\n", "health_log_pattern = CRITICAL\n");
	rules_free(&r);
	load_confirm(&r, 3, "",
		     "run =\nstart = up\nstop = down\nhealth_log_pattern = x\n"
		     "health_log_file = /var/log/argo-$SLOT.log\n");
	rules_free(&r);
	load_confirm(&r, 1, "canary = 50\n",
		     "switch = nginx /etc/a\nerror_log = /var/log/nginx/access.log\n");
	rules_free(&r);
}

Test(confirm_rules, an_unknown_key_lists_the_confirm_keys_too)
{
	assert_confirm_error(
	    1, "watch = 60\n", "", "watch = 60",
	    "unknown key 'watch' in [environment staging]: expected one of auto, "
	    "requires, confirm, health_level, users, freeze, deploy_hours, canary, "
	    "canary_step_seconds, watch_seconds, watch_interval_seconds, "
	    "watch_rollback");
	assert_confirm_error(1, "", "error_rate = 5\n", "error_rate = 5",
			     "health_log_pattern, health_log_file, error_log, error_pattern, "
			     "error_rate_max, error_min_requests");
}

/* ---- deploy_hours in time ---------------------------------------------- */

static int inside_at(const struct rules *r, time_t when)
{
	int inside = -1;
	struct buf err = BUF_INIT;
	cr_assert_eq(deploy_policy_in_hours(r, &r->deploy.environments[0], when, &inside, &err), 0,
		     "%s", err.data);
	buf_free(&err);
	return inside;
}

Test(confirm_rules, hours_take_their_start_and_leave_their_end)
{
	struct rules r;
	load_confirm(&r, 1, "deploy_hours = 09:00-16:00\n", "");
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 8, 59)), 0);
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 9, 0)), 1, "the start is in");
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 15, 59)), 1);
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 16, 0)), 0, "the end is out");
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 0, 0)), 0);
	rules_free(&r);
	load_confirm(&r, 1, "", "");
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 3, 0)), 1, "no deploy_hours: any time");
	rules_free(&r);
	load_confirm(&r, 1, "deploy_hours = 00:00-24:00\n", "");
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 23, 59)), 1);
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 0, 0)), 1);
	rules_free(&r);
}

Test(confirm_rules, hours_may_run_through_midnight_and_come_in_several_spans)
{
	struct rules r;
	load_confirm(&r, 1, "deploy_hours = 06:00-07:00 22:00-02:00\n", "");
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 21, 59)), 0);
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 22, 0)), 1);
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 23, 59)), 1);
	cr_assert_eq(inside_at(&r, utc(2025, 1, 16, 0, 0)), 1);
	cr_assert_eq(inside_at(&r, utc(2025, 1, 16, 1, 59)), 1);
	cr_assert_eq(inside_at(&r, utc(2025, 1, 16, 2, 0)), 0);
	cr_assert_eq(inside_at(&r, utc(2025, 1, 16, 6, 30)), 1, "the second span");
	cr_assert_eq(inside_at(&r, utc(2025, 1, 16, 7, 0)), 0);
	struct buf shown = BUF_INIT;
	deploy_policy_hours_describe(&shown, &r.deploy.environments[0].hours);
	cr_assert_str_eq(shown.data, "06:00-07:00 22:00-02:00");
	buf_clear(&shown);
	deploy_policy_hours_describe(&shown, &(struct deploy_hours){.n = 0});
	cr_assert_str_eq(shown.data, "any time");
	buf_free(&shown);
	rules_free(&r);
}

/* 09:00-16:00 in Berlin is 08:00-15:00 UTC in winter and 07:00-14:00 UTC
 * in summer; the process's own TZ plays no part. */
Test(confirm_rules, hours_follow_the_freeze_timezone_and_its_summer_time)
{
	struct buf why = BUF_INIT;
	if (deploy_policy_check_zone("Europe/Berlin", &why) < 0)
		cr_skip_test("no tzdata: %s", why.data);
	buf_free(&why);
	setenv("TZ", "America/New_York", 1);
	struct rules r;
	char *text = confirm_text(1, "deploy_hours = 09:00-16:00\n", "");
	struct buf full = BUF_INIT;
	buf_printf(&full, "[deploy]\nfreeze_timezone = Europe/Berlin\n%s", text);
	load_ok(&r, full.data);
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 7, 59)), 0, "08:59 in Berlin");
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 8, 0)), 1, "09:00 in Berlin");
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 14, 59)), 1, "15:59 in Berlin");
	cr_assert_eq(inside_at(&r, utc(2025, 1, 15, 15, 0)), 0, "16:00 in Berlin");
	cr_assert_eq(inside_at(&r, utc(2025, 7, 15, 7, 0)), 1, "09:00 in Berlin's summer");
	cr_assert_eq(inside_at(&r, utc(2025, 7, 15, 14, 0)), 0, "16:00 in Berlin's summer");
	cr_assert_str_eq(getenv("TZ"), "America/New_York", "TZ is put back");
	unsetenv("TZ");
	rules_free(&r);
	buf_free(&full);
	free(text);
}
