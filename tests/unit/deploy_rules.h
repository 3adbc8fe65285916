/* Shared by the tests of the deploy sections of rules.ini: the team's
 * projects, environments and targets as rules.ini text, and the asserts on
 * what loading them says. */
#ifndef GITGATE_TEST_DEPLOY_RULES_H
#define GITGATE_TEST_DEPLOY_RULES_H

#include <criterion/criterion.h>
#include <time.h>

#include "helpers.h"

#define PROJECTS                                                                                   \
	"[project argo]\npath = argo/\n"                                                           \
	"[project alpine-backend]\npath = alpine-backend/\n"                                       \
	"[project alpine-frontend]\npath = alpine-frontend/\n"                                     \
	"[unit alpine-analytics]\nprojects = alpine-backend alpine-frontend\naliases = alpine\n"

#define ENVIRONMENTS                                                                               \
	"[environment staging]\nauto = yes\nhealth_level = 1\n"                                    \
	"[environment production]\nrequires = staging\nconfirm = yes\nhealth_level = 1\n"

/* A target that needs nothing more: root, two ports, run, a switch. */
#define TARGET(project, env, ports)                                                                \
	"[target " project " " env "]\nroot = /srv/" project "-" env "\nports = " ports            \
	"\nrun = app --port $PORT\nswitch = link /srv/" project "-" env "-live\n"

#define ALL_TARGETS                                                                                \
	TARGET("argo", "staging", "8010 8011")                                                     \
	TARGET("argo", "production", "8000 8001")                                                  \
	TARGET("alpine-backend", "staging", "8110 8111")                                           \
	TARGET("alpine-backend", "production", "8100 8101")                                        \
	TARGET("alpine-frontend", "staging", "3010 3011")                                          \
	TARGET("alpine-frontend", "production", "3000 3001")

#define VALID PROJECTS ENVIRONMENTS ALL_TARGETS

static inline void load_ok(struct rules *rules, const char *text)
{
	struct buf errors = BUF_INIT;
	cr_assert_eq(load_rules_text(rules, text, &errors), 0, "%s\nin:\n%s", errors.data, text);
	buf_free(&errors);
}

/* The line of text on which `at` first stands. */
static inline int line_of(const char *text, const char *at)
{
	const char *where = strstr(text, at);
	cr_assert_not_null(where, "'%s' is not in the text", at);
	int line = 1;
	for (const char *p = text; p < where; p++)
		line += *p == '\n';
	return line;
}

/* text fails to load, and one of the errors, "FILE:LINE: ...", is on the
 * line of `at` and says message. */
static inline void assert_error_at(const char *text, const char *at, const char *message)
{
	struct rules rules;
	struct buf errors = BUF_INIT, where = BUF_INIT;
	cr_assert_eq(load_rules_text(&rules, text, &errors), -1, "expected an error for:\n%s",
		     text);
	rules_free(&rules);
	buf_printf(&where, ":%d: ", line_of(text, at));
	int found = 0;
	for (char *line = errors.data; line && *line && !found;) {
		char *end = strchr(line, '\n');
		if (end)
			*end = '\0';
		char *colon = strstr(line, where.data);
		found = colon && strstr(colon, message);
		if (end)
			*end = '\n';
		line = end ? end + 1 : NULL;
	}
	cr_assert(found, "wanted '%s' on line %d in:\n%s", message, line_of(text, at), errors.data);
	cr_assert_eq(strncmp(errors.data, "/tmp/gitgate-test-", 18), 0, "%s", errors.data);
	buf_free(&errors);
	buf_free(&where);
}

/* A line of a target that is wrong in itself: the error is on that line. */
static inline void assert_line_error(const char *line, const char *message)
{
	struct buf text = BUF_INIT;
	buf_printf(&text, PROJECTS ENVIRONMENTS "[target argo staging]\n%s\n", line);
	assert_error_at(text.data, line, message);
	buf_free(&text);
}

static inline time_t utc(int year, int month, int day, int hour, int minute)
{
	struct tm tm = {.tm_year = year - 1900,
			.tm_mon = month - 1,
			.tm_mday = day,
			.tm_hour = hour,
			.tm_min = minute};
	return timegm(&tm);
}

#endif
