/* health: levels 1 to 3 against a real HTTP server on 127.0.0.1
 * (tests/health_server.py, one per test), retries, the deadline, secrets
 * kept out, and the report as text and JSON. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "health.h"
#include "run.h"

static struct run_process server = {.pid = -1};
static unsigned port;	     /* the server's */
static int closed_fd = -1;   /* bound and never listening: connections are refused */
static unsigned closed_port; /* its port */
static struct health_report report;
static pcre2_code *pattern;

static void server_start(void)
{
	struct buf script = BUF_INIT, err = BUF_INIT;
	const char *source = getenv("GITGATE_SOURCE");
	cr_assert_not_null(source, "GITGATE_SOURCE is not set");
	buf_printf(&script, "%s/tests/health_server.py", source);
	const char *argv[] = {"python3", script.data, "--seconds", "60", NULL};
	struct run_options opts = {.argv = argv, .out = {.kind = RUN_OUT_PIPE}, .limit_ms = 90000};
	cr_assert_eq(run_start(&server, &opts, &err), 0, "%s", err.data);
	cr_assert_eq(fscanf(server.out, "%u", &port), 1, "the server did not say its port");
	buf_free(&script);
	buf_free(&err);
}

static void closed_port_reserve(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	closed_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(closed_fd, 0);
	cr_assert_eq(bind(closed_fd, (struct sockaddr *)&addr, len), 0);
	cr_assert_eq(getsockname(closed_fd, (struct sockaddr *)&addr, &len), 0);
	closed_port = ntohs(addr.sin_port);
}

static void setup(void)
{
	server_start();
	closed_port_reserve();
}

static void teardown(void)
{
	health_report_free(&report);
	pcre2_code_free(pattern);
	if (closed_fd >= 0)
		close(closed_fd);
	if (server.pid > 0) {
		struct run_result r;
		struct buf err = BUF_INIT;
		kill(server.pid, SIGTERM);
		run_finish(&r, &server, &err);
		buf_free(&err);
	}
}

TestSuite(health, .init = setup, .fini = teardown, .timeout = 30);

/* http://127.0.0.1:PORT/path on the test's server; a few stay valid at once. */
static const char *url(const char *path)
{
	static char ring[4][128];
	static unsigned next;
	char *u = ring[next++ % 4];
	snprintf(u, sizeof(ring[0]), "http://127.0.0.1:%u%s", port, path);
	return u;
}

static const pcre2_code *compile(const char *text)
{
	int code;
	PCRE2_SIZE offset;
	pattern = pcre2_compile((PCRE2_SPTR)text, PCRE2_ZERO_TERMINATED, 0, &code, &offset, NULL);
	cr_assert_not_null(pattern);
	return pattern;
}

/* Runs spec into report; returns whether it passed. */
static int check(const struct health_spec *spec)
{
	struct buf err = BUF_INIT;
	cr_assert_eq(health_run(&report, spec, &err), 0, "%s", err.data);
	buf_free(&err);
	cr_assert_gt(report.n, 0);
	return report.passed;
}

/* spec must be refused before anything runs, saying `what`. */
static void must_refuse(const struct health_spec *spec, const char *what)
{
	struct buf err = BUF_INIT;
	cr_assert_eq(health_run(&report, spec, &err), -1);
	cr_assert_not_null(strstr(err.data, what), "%s", err.data);
	cr_assert_eq(report.n, 0);
	buf_free(&err);
}

static const struct health_check_result *item(size_t i)
{
	cr_assert_lt(i, report.n);
	return &report.items[i];
}

/* The check's `what` is format with the port filled in. */
static void assert_what(size_t i, const char *format, unsigned port_in_it)
{
	char want[128];
	snprintf(want, sizeof(want), format, port_in_it);
	cr_assert_str_eq(item(i)->what, want);
}

static void assert_failed_with(size_t i, const char *why)
{
	cr_assert_not(item(i)->ok, "%s passed", item(i)->what);
	cr_assert_str_eq(item(i)->why, why);
}

static unsigned ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned)((t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* The text report into *text, to free. (Returning open_memstream's
 * buffer instead has gcc -O2 take it for a pointer into this frame.) */
static void text_of_report(char **text)
{
	size_t len = 0;
	FILE *out = open_memstream(text, &len);
	health_report_text(out, &report);
	fclose(out);
}

static char *json_of_report(void)
{
	json_t *j = health_report_json(&report);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}

Test(health, level_1_an_open_port_passes)
{
	struct health_spec spec = {.level = 1, .port = port};
	cr_assert(check(&spec));
	cr_assert_eq(report.n, 1);
	assert_what(0, "tcp 127.0.0.1:%u", port);
	cr_assert(item(0)->ok);
	cr_assert_null(item(0)->why);
	cr_assert_eq(report.attempts, 1);
}

Test(health, level_1_a_closed_port_is_refused)
{
	struct health_spec spec = {.level = 1, .host = "127.0.0.1", .port = closed_port};
	cr_assert_not(check(&spec));
	assert_failed_with(0, "connection refused");
}

Test(health, level_2_status_and_body_pass)
{
	const char *urls[] = {url("/ok")};
	struct health_spec spec = {
	    .level = 2, .urls = urls, .nurls = 1, .body = compile("\"status\":\\s*\"ok\"")};
	cr_assert(check(&spec));
	assert_what(0, "GET http://127.0.0.1:%u/ok", port);
}

Test(health, level_2_a_wrong_status_fails_and_a_listed_one_passes)
{
	const char *urls[] = {url("/fail")};
	struct health_spec spec = {.level = 2, .urls = urls, .nurls = 1};
	cr_assert_not(check(&spec));
	assert_failed_with(0, "HTTP 503");
	health_report_free(&report);
	spec.status = "200, 503";
	cr_assert(check(&spec));
	health_report_free(&report);
	spec.status = "5xx";
	cr_assert(check(&spec));
	health_report_free(&report);
	spec.status = "204 4xx";
	cr_assert_not(check(&spec));
}

Test(health, level_2_a_body_that_does_not_match_fails)
{
	const char *urls[] = {url("/ok")};
	struct health_spec spec = {.level = 2, .urls = urls, .nurls = 1, .body = compile("down")};
	cr_assert_not(check(&spec));
	assert_failed_with(0, "body does not match");
}

Test(health, level_2_a_request_past_its_timeout_fails)
{
	const char *urls[] = {url("/slow?ms=3000")};
	struct health_spec spec = {.level = 2, .urls = urls, .nurls = 1, .timeout_ms = 300};
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_not(check(&spec));
	cr_assert_lt(ms_since(&t0), 2000);
	assert_failed_with(0, "timed out after 300 ms");
	cr_assert_geq(item(0)->ms, 300);
}

Test(health, level_2_every_url_is_checked)
{
	const char *urls[] = {url("/ok"), url("/fail"), url("/ok")};
	struct health_spec spec = {.level = 2, .urls = urls, .nurls = 3};
	cr_assert_not(check(&spec));
	cr_assert_eq(report.n, 3);
	cr_assert(item(0)->ok);
	assert_failed_with(1, "HTTP 503");
	cr_assert(item(2)->ok);
}

Test(health, a_redirect_is_not_followed)
{
	const char *urls[] = {url("/redirect")};
	struct health_spec spec = {.level = 2, .urls = urls, .nurls = 1};
	cr_assert_not(check(&spec));
	assert_failed_with(0, "HTTP 302");
}

Test(health, a_body_over_the_cap_fails)
{
	const char *urls[] = {url("/big")};
	struct health_spec spec = {.level = 2, .urls = urls, .nurls = 1};
	cr_assert_not(check(&spec));
	assert_failed_with(0, "body larger than 1 MiB");
}

Test(health, a_proxy_in_the_environment_is_not_used)
{
	char proxy[64];
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%u", closed_port);
	setenv("http_proxy", proxy, 1);
	setenv("HTTP_PROXY", proxy, 1);
	setenv("ALL_PROXY", proxy, 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	const char *urls[] = {url("/ok")};
	struct health_spec spec = {.level = 2, .urls = urls, .nurls = 1};
	cr_assert(check(&spec), "%s", item(0)->why);
}

Test(health, a_user_and_password_in_a_url_are_not_shown)
{
	char with_secret[128];
	snprintf(with_secret, sizeof(with_secret), "http://admin:s3cret@127.0.0.1:%u/ok", port);
	const char *urls[] = {with_secret};
	struct health_spec spec = {.level = 2, .urls = urls, .nurls = 1};
	cr_assert(check(&spec));
	assert_what(0, "GET http://127.0.0.1:%u/ok", port);
}

Test(health, level_3_a_slow_response_fails_the_latency_bound)
{
	const char *urls[] = {url("/slow?ms=300")};
	struct health_spec spec = {.level = 3, .urls = urls, .nurls = 1, .latency_ms = 100};
	cr_assert_not(check(&spec));
	cr_assert_not(item(0)->ok);
	cr_assert_eq(strncmp(item(0)->why, "latency ", 8), 0, "%s", item(0)->why);
	const char *bound = strstr(item(0)->why, " ms > 100 ms");
	cr_assert_not_null(bound, "%s", item(0)->why);
	cr_assert_eq(bound[strlen(" ms > 100 ms")], '\0');
	cr_assert_geq(atoi(item(0)->why + 8), 300);
}

Test(health, level_2_has_no_latency_bound)
{
	const char *urls[] = {url("/slow?ms=300")};
	struct health_spec spec = {.level = 2, .urls = urls, .nurls = 1, .latency_ms = 100};
	cr_assert(check(&spec));
}

Test(health, level_3_a_closed_dependency_fails_without_its_password)
{
	char database[128], redis[64];
	snprintf(database, sizeof(database), "postgres://admin:s3cret@127.0.0.1:%u/app",
		 closed_port);
	snprintf(redis, sizeof(redis), "redis://127.0.0.1:%u", port);
	const char *urls[] = {url("/ok")};
	const char *deps[] = {database, redis};
	struct health_spec spec = {
	    .level = 3, .urls = urls, .nurls = 1, .dependency_urls = deps, .ndeps = 2};
	cr_assert_not(check(&spec));
	cr_assert_eq(report.n, 3);
	cr_assert(item(0)->ok);
	assert_what(1, "tcp postgres://127.0.0.1:%u", closed_port);
	assert_failed_with(1, "connection refused");
	assert_what(2, "tcp redis://127.0.0.1:%u", port);
	cr_assert(item(2)->ok);
	char *text, *json = json_of_report();
	text_of_report(&text);
	cr_assert_null(strstr(text, "s3cret"), "%s", text);
	cr_assert_null(strstr(text, "admin"), "%s", text);
	cr_assert_null(strstr(json, "s3cret"), "%s", json);
	cr_assert_null(strstr(json, "admin"), "%s", json);
	free(text);
	free(json);
}

Test(health, level_3_a_command_that_exits_1_fails)
{
	const char *urls[] = {url("/ok")};
	const char *command[] = {"sh", "-c", "exit 1", NULL};
	struct health_spec spec = {.level = 3, .urls = urls, .nurls = 1, .command = command};
	cr_assert_not(check(&spec));
	cr_assert_eq(report.n, 2);
	cr_assert_str_eq(item(1)->what, "run sh -c exit 1");
	assert_failed_with(1, "exited with 1");
}

Test(health, level_3_a_command_that_exits_0_in_its_env_and_folder_passes)
{
	const char *urls[] = {url("/ok")};
	const char *command[] = {"sh", "-c", "test \"$HEALTH_WORD\" = yes && test \"$(pwd)\" = /",
				 NULL};
	const char *env[] = {"HEALTH_WORD=yes", NULL};
	struct health_spec spec = {.level = 3,
				   .urls = urls,
				   .nurls = 1,
				   .command = command,
				   .command_env = env,
				   .command_cwd = "/"};
	cr_assert(check(&spec), "%s", report.n > 1 ? item(1)->why : "");
}

Test(health, level_3_a_command_past_its_limit_is_stopped)
{
	const char *urls[] = {url("/ok")};
	const char *command[] = {"sleep", "10", NULL};
	struct health_spec spec = {
	    .level = 3, .urls = urls, .nurls = 1, .command = command, .command_limit_ms = 200};
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_not(check(&spec));
	cr_assert_lt(ms_since(&t0), 3000);
	assert_failed_with(1, "timed out after 200 ms");
}

Test(health, a_command_that_cannot_start_fails_the_check)
{
	const char *urls[] = {url("/ok")};
	const char *command[] = {"gitgate-no-such-health-command", NULL};
	struct health_spec spec = {.level = 3, .urls = urls, .nurls = 1, .command = command};
	cr_assert_not(check(&spec));
	cr_assert_not_null(strstr(item(1)->why, "cannot run"), "%s", item(1)->why);
}

Test(health, retries_reach_the_successes_in_a_row)
{
	const char *urls[] = {url("/flaky?fail=2")};
	struct health_spec spec = {
	    .level = 2, .urls = urls, .nurls = 1, .successes = 2, .retries = 3, .interval_ms = 50};
	cr_assert(check(&spec));
	cr_assert_eq(report.attempts, 4); /* fail, fail, pass, pass */
	cr_assert(item(0)->ok);
}

Test(health, retries_run_out)
{
	const char *urls[] = {url("/flaky?fail=3")};
	struct health_spec spec = {
	    .level = 2, .urls = urls, .nurls = 1, .retries = 2, .interval_ms = 10};
	cr_assert_not(check(&spec));
	cr_assert_eq(report.attempts, 3);
	cr_assert_not(report.deadline_reached);
	assert_failed_with(0, "HTTP 503");
}

/* The way to the app gone (spec.reachable says so after the second failed
 * attempt): the check ends then, says so, and asks nothing more. */
static int reachable_twice(void *asked)
{
	return ++*(int *)asked < 2;
}

Test(health, a_way_to_the_app_that_is_gone_ends_the_retries)
{
	const char *urls[] = {url("/fail")};
	int asked = 0;
	struct health_spec spec = {.level = 2,
				   .urls = urls,
				   .nurls = 1,
				   .retries = 1000,
				   .interval_ms = 10,
				   .reachable = reachable_twice,
				   .reachable_ctx = &asked};
	cr_assert_not(check(&spec));
	cr_assert(report.unreachable);
	cr_assert_eq(report.attempts, 2);
	cr_assert_eq(asked, 2);
	cr_assert_not(report.deadline_reached);
}

Test(health, the_deadline_stops_the_attempts)
{
	const char *urls[] = {url("/fail")};
	struct health_spec spec = {.level = 2,
				   .urls = urls,
				   .nurls = 1,
				   .retries = 1000,
				   .interval_ms = 100,
				   .deadline_ms = 600};
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_not(check(&spec));
	cr_assert_lt(ms_since(&t0), 1500);
	cr_assert(report.deadline_reached);
	cr_assert_geq(report.attempts, 2);
	cr_assert_leq(report.attempts, 7);
	assert_failed_with(0, "HTTP 503");
}

Test(health, the_deadline_cuts_a_request_short)
{
	const char *urls[] = {url("/slow?ms=5000")};
	struct health_spec spec = {
	    .level = 2, .urls = urls, .nurls = 1, .timeout_ms = 10000, .deadline_ms = 400};
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_not(check(&spec));
	cr_assert_lt(ms_since(&t0), 2000);
	cr_assert(report.deadline_reached);
	cr_assert_eq(strncmp(item(0)->why, "stopped at the deadline after ", 30), 0, "%s",
		     item(0)->why);
}

Test(health, a_spec_without_what_its_level_needs_is_refused)
{
	struct health_spec spec = {.level = 4};
	must_refuse(&spec, "there are levels 1, 2 and 3");
	spec = (struct health_spec){.level = 1};
	must_refuse(&spec, "needs a port");
	spec = (struct health_spec){.level = 2};
	must_refuse(&spec, "needs at least one URL");
	const char *urls[] = {url("/ok")};
	spec = (struct health_spec){.level = 2, .urls = urls, .nurls = 1, .status = "ok"};
	must_refuse(&spec, "\"ok\" is neither a code (200) nor a class (2xx)");
	spec.status = " , ";
	must_refuse(&spec, "no code or class");
	const char *ftp[] = {"ftp://127.0.0.1/health"};
	spec = (struct health_spec){.level = 2, .urls = ftp, .nurls = 1};
	must_refuse(&spec, "health URL 1 is ftp, not http or https");
	const char *file[] = {"file:///etc/passwd"};
	spec.urls = file;
	must_refuse(&spec, "not http or https");
	const char *deps[] = {"redis://127.0.0.1:6379", "unknown://user:pw@h"};
	spec = (struct health_spec){
	    .level = 3, .urls = urls, .nurls = 1, .dependency_urls = deps, .ndeps = 2};
	must_refuse(&spec, "unknown://h dependency URL has no port");
	struct buf err = BUF_INIT;
	cr_assert_eq(health_run(&report, &spec, &err), -1);
	cr_assert_null(strstr(err.data, "pw"), "%s", err.data);
	cr_assert_not_null(strstr(err.data, "(dependency 2)"), "%s", err.data);
	buf_free(&err);
}

static void assert_dependency(const char *url_text, const char *host, unsigned want_port,
			      const char *shown)
{
	struct health_dependency d;
	struct buf err = BUF_INIT;
	cr_assert_eq(health_dependency_parse(&d, url_text, &err), 0, "%s", err.data);
	cr_assert_str_eq(d.host, host);
	cr_assert_eq(d.port, want_port);
	cr_assert_str_eq(d.shown, shown);
	health_dependency_free(&d);
	buf_free(&err);
}

Test(health, a_dependency_url_gets_its_scheme_s_port_and_loses_its_secrets)
{
	assert_dependency("postgres://app:s3cret@db.internal/app?sslmode=require", "db.internal",
			  5432, "postgres://db.internal:5432");
	assert_dependency("postgresql://db:6543/app", "db", 6543, "postgresql://db:6543");
	assert_dependency("redis://:s3cret@cache", "cache", 6379, "redis://cache:6379");
	assert_dependency("rediss://cache/0", "cache", 6380, "rediss://cache:6380");
	assert_dependency("mysql://root:pw@[::1]/shop", "[::1]", 3306, "mysql://[::1]:3306");
	assert_dependency("amqp://guest:guest@mq", "mq", 5672, "amqp://mq:5672");
	assert_dependency("https://api.example.com/v1", "api.example.com", 443,
			  "https://api.example.com:443");
	struct health_dependency d;
	struct buf err = BUF_INIT;
	cr_assert_eq(health_dependency_parse(&d, "postgres:///app?host=/run/postgresql", &err), -1);
	cr_assert_eq(health_dependency_parse(&d, "not a url at all: s3cret", &err), -1);
	cr_assert_null(strstr(err.data, "s3cret"), "%s", err.data);
	buf_free(&err);
}

Test(health, the_text_report_is_a_summary_and_a_check_a_line)
{
	const char *urls[] = {url("/ok"), url("/fail")};
	struct health_spec spec = {.level = 2, .urls = urls, .nurls = 2};
	cr_assert_not(check(&spec));
	char *text;
	text_of_report(&text);
	char *line2 = strchr(text, '\n') + 1, *line3 = strchr(line2, '\n') + 1;
	cr_assert_eq(strncmp(text, "health level 2: FAILED after 1 attempt, ", 40), 0, "%s", text);
	char want[128];
	snprintf(want, sizeof(want), " ms  GET http://127.0.0.1:%u/ok\n", port);
	cr_assert_eq(strncmp(line2, "  ok     ", 9), 0, "%s", text);
	cr_assert_eq(strncmp(strstr(line2, " ms  "), want, strlen(want)), 0, "%s", text);
	snprintf(want, sizeof(want), " ms  GET http://127.0.0.1:%u/fail: HTTP 503\n", port);
	cr_assert_eq(strncmp(line3, "  failed ", 9), 0, "%s", text);
	cr_assert_str_eq(strstr(line3, " ms  "), want, "%s", text);
	free(text);
}

Test(health, the_json_report_has_each_check)
{
	const char *urls[] = {url("/ok"), url("/fail")};
	struct health_spec spec = {.level = 2, .urls = urls, .nurls = 2};
	cr_assert_not(check(&spec));
	json_t *j = health_report_json(&report);
	cr_assert_eq(json_integer_value(json_object_get(j, "level")), 2);
	cr_assert(json_is_false(json_object_get(j, "passed")));
	cr_assert_eq(json_integer_value(json_object_get(j, "attempts")), 1);
	cr_assert(json_is_integer(json_object_get(j, "ms")));
	cr_assert(json_is_false(json_object_get(j, "deadline_reached")));
	json_t *checks = json_object_get(j, "checks");
	cr_assert_eq(json_array_size(checks), 2);
	json_t *ok = json_array_get(checks, 0), *failed = json_array_get(checks, 1);
	cr_assert_str_eq(json_string_value(json_object_get(ok, "what")), item(0)->what);
	cr_assert(json_is_integer(json_object_get(ok, "ms")));
	cr_assert(json_is_true(json_object_get(ok, "ok")));
	cr_assert_null(json_object_get(ok, "why"));
	cr_assert(json_is_false(json_object_get(failed, "ok")));
	cr_assert_str_eq(json_string_value(json_object_get(failed, "why")), "HTTP 503");
	json_t *for_the_record = health_report_checks_json(&report);
	cr_assert(json_equal(for_the_record, checks));
	json_decref(for_the_record);
	json_decref(j);
}
