/* scan: PCRE2 over added lines, the allow marker, limits that become findings. */
#include <criterion/criterion.h>

#include "helpers.h"
#include "scan.h"

static struct rules rules;
static struct scanner scanner;
static struct scan_selection selection;
static struct findings findings;

static void setup(void)
{
	struct buf errors = BUF_INIT;
	const char *text = "[gitgate]\nmax_line_bytes = 64\nmatch_limit = 1000\n"
			   "[scan js]\nrule = debug-code\nfiles = *.js\nexclude = *.min.js\n"
			   "pattern = \\bconsole\\.log\\s*\\(\npattern = \\bTODO\\b\n"
			   "[scan slow]\nfiles = *.slow\npattern = ^(a+)+$\n";
	cr_assert_eq(load_rules_text(&rules, text, &errors), 0, "%s", errors.data);
	cr_assert_eq(scanner_init(&scanner, &rules), 0);
	memset(&findings, 0, sizeof(findings));
}

static void teardown(void)
{
	scanner_free(&scanner);
	scan_selection_free(&selection);
	findings_free(&findings);
	rules_free(&rules);
}

static size_t scan(const char *path, const char *text, size_t len)
{
	struct scan_place where = {.path = path, .line = 7};
	scan_select(&rules, path, &selection);
	return scan_line(&scanner, &selection, &where, text, len, &findings);
}

TestSuite(scan, .init = setup, .fini = teardown);

Test(scan, finds_the_pattern_with_its_column)
{
	cr_assert_eq(scan("a/b.js", "  console.log(x)", 16), 1);
	cr_assert_eq(findings.items[0].line, 7);
	cr_assert_eq(findings.items[0].column, 3);
	cr_assert_str_eq(findings.items[0].match, "console.log(");
	cr_assert_str_eq(findings.items[0].rule, "debug-code");
}

Test(scan, files_outside_the_globs_are_not_scanned)
{
	cr_assert_eq(scan("README.md", "TODO", 4), 0);
	cr_assert_eq(scan("dist/app.min.js", "TODO", 4), 0);
}

Test(scan, allow_marker_exempts_the_line)
{
	const char *line = "console.log(x) // gitgate:allow";
	cr_assert_eq(scan("a.js", line, strlen(line)), 0);
}

Test(scan, crlf_and_missing_newline_are_ordinary)
{
	cr_assert_eq(scan("a.js", "x // TODO\r", 10), 1);
	cr_assert_eq(findings.items[0].column, 6);
	cr_assert_eq(scan("a.js", "clean\r", 6), 0);
}

Test(scan, invalid_utf8_is_matched_safely)
{
	cr_assert_eq(scan("a.js", "\xff\xfe TODO \xc3", 10), 1);
}

Test(scan, a_long_line_is_reported_not_skipped)
{
	char line[200];
	memset(line, 'x', sizeof(line));
	cr_assert_eq(scan("a.js", line, sizeof(line)), 1);
	cr_assert_not_null(strstr(findings.items[0].message, "only the first 64 were scanned"));
	memcpy(line + 150, "TODO", 4);
	findings_free(&findings);
	cr_assert_eq(scan("a.js", line, sizeof(line)), 1, "the match lies past the limit");
	memcpy(line + 10, " TODO ", 6);
	findings_free(&findings);
	cr_assert_eq(scan("a.js", line, sizeof(line)), 2);
}

Test(scan, hitting_the_match_limit_is_a_finding)
{
	char line[40];
	memset(line, 'a', sizeof(line));
	line[sizeof(line) - 1] = 'b';
	cr_assert_eq(scan("x.slow", line, sizeof(line)), 1);
	cr_assert_not_null(strstr(findings.items[0].message, "could not be checked"), "%s",
			   findings.items[0].message);
}

Test(scan, skipped_rules_produce_nothing_and_are_counted)
{
	findings_skip_rules(&findings, "secret, debug-code");
	cr_assert_eq(scan("a.js", "TODO", 4), 0);
	cr_assert_eq(findings.skipped, 1);
}

Test(scan, results_stay_the_same_once_patterns_are_jit_compiled)
{
	size_t hits = 0;
	for (int i = 0; i < 300; i++) {
		char line[64];
		/* Every line holds the literal TODO, so every line reaches PCRE2. */
		int len = snprintf(line, sizeof(line),
				   i % 7 ? "const TODOx%d = 1;" : "x%d(); // TODO", i);
		hits += scan("a.js", line, (size_t)len);
	}
	cr_assert_eq(hits, 43);
	cr_assert_eq(rules.scans[0].patterns[1].jit_ready != 0, 1, "JIT was never tried");
}

static int may_match(const char *path, const char *text)
{
	scan_select(&rules, path, &selection);
	return scan_buffer_may_match(&scanner, &selection, text, strlen(text));
}

Test(scan, a_whole_file_may_match_by_its_literals_and_long_lines)
{
	char text[400];
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	for (size_t i = 60; i < sizeof(text) - 1; i += 61)
		text[i] = '\n';
	cr_assert_not(may_match("a.js", text), "short lines, no literal");
	memcpy(text + 100, " TODO ", 6);
	cr_assert(may_match("a.js", text));
	cr_assert_not(may_match("a.js", "TODOS and console.logs\n"), "literals, yet no match");
	text[121] = 'x'; /* joins two lines */
	memcpy(text + 100, "xxxxxx", 6);
	cr_assert(may_match("a.js", text), "a line over max_line_bytes is a finding");
	cr_assert(scan_buffer_may_hold_literals(&scanner, &selection, "TODOS", 5));
	cr_assert_not(scan_buffer_may_hold_literals(&scanner, &selection, "T0D0", 4));
	scan_select(&rules, "x.slow", &selection);
	cr_assert(scan_buffer_may_hold_literals(&scanner, &selection, "T0D0", 4),
		  "a pattern without literals may match anything");
}

Test(scan, a_line_without_the_literals_is_not_matched)
{
	cr_assert_eq(scan("a.js", "console . log(x) // TOD0", 24), 0);
	cr_assert_eq(rules.scans[0].patterns[0].uses, 0, "PCRE2 ran on a line without literals");
	cr_assert_eq(scan("a.js", "x = console.log (1)", 19), 1);
}
