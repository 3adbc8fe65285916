/* report: findings as text, JSON and SARIF. */
#include <criterion/criterion.h>
#include <jansson.h>

#include "report.h"

static struct findings sample(void)
{
	struct findings f = {0};
	struct finding a = {.rule = "debug-code",
			    .severity = SEVERITY_ERROR,
			    .path = "argo/a b\033[2J.py",
			    .line = 12,
			    .column = 5,
			    .match = "console.log(",
			    .message = "debug code",
			    .hint = "remove it"};
	struct finding b = {.rule = "version-bump",
			    .severity = SEVERITY_WARNING,
			    .commit = "0123456789012345678901234567890123456789",
			    .path = "packages/\xff.json",
			    .message = "not raised"};
	findings_add(&f, &a);
	findings_add(&f, &b);
	f.files = 3;
	return f;
}

static char *render(enum report_format format, int color)
{
	struct findings f = sample();
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	report_write(out, format, &f, color);
	fclose(out);
	findings_free(&f);
	return text;
}

Test(report, text_has_location_rule_and_escaped_bytes)
{
	char *text = render(REPORT_TEXT, 0);
	cr_assert_not_null(strstr(text, "error: argo/a b\\e[2J.py:12:5: debug-code: debug code\n"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "    | console.log(\n"));
	cr_assert_not_null(strstr(text, "hint: remove it\n"));
	cr_assert_not_null(strstr(text, "warning: commit 012345678901: 0 errors, 1 warning\n"),
			   "%s", text);
	cr_assert_not_null(
	    strstr(text, "warning:   packages/\\xff.json: version-bump: not raised\n"));
	cr_assert_null(strchr(text, '\033'), "no raw escape reaches the terminal");
	free(text);
}

Test(report, colour_only_when_asked)
{
	char *text = render(REPORT_TEXT, 1);
	cr_assert_not_null(strstr(text, "\033[1;31merror:"));
	free(text);
}

Test(report, json_follows_the_contract)
{
	char *text = render(REPORT_JSON, 0);
	json_error_t error;
	json_t *root = json_loads(text, 0, &error);
	cr_assert_not_null(root, "%s", error.text);
	cr_assert_eq(json_integer_value(json_object_get(root, "version")), 1);
	cr_assert(json_is_false(json_object_get(root, "passed")));
	json_t *first = json_array_get(json_object_get(root, "findings"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(first, "rule")), "debug-code");
	cr_assert_str_eq(json_string_value(json_object_get(first, "severity")), "error");
	cr_assert(json_is_null(json_object_get(first, "commit")));
	cr_assert_str_eq(json_string_value(json_object_get(first, "path")), "argo/a b\033[2J.py");
	cr_assert_eq(json_integer_value(json_object_get(first, "line")), 12);
	cr_assert_eq(json_integer_value(json_object_get(first, "column")), 5);
	cr_assert_str_eq(json_string_value(json_object_get(first, "match")), "console.log(");
	json_t *second = json_array_get(json_object_get(root, "findings"), 1);
	cr_assert_str_eq(json_string_value(json_object_get(second, "path")), "packages/\\xff.json");
	cr_assert(json_is_null(json_object_get(second, "line")));
	json_t *summary = json_object_get(root, "summary");
	cr_assert_eq(json_integer_value(json_object_get(summary, "errors")), 1);
	cr_assert_eq(json_integer_value(json_object_get(summary, "warnings")), 1);
	cr_assert_eq(json_integer_value(json_object_get(summary, "files")), 3);
	json_decref(root);
	free(text);
}

Test(report, sarif_is_2_1_0_with_rules_and_locations)
{
	char *text = render(REPORT_SARIF, 0);
	json_error_t error;
	json_t *root = json_loads(text, 0, &error);
	cr_assert_not_null(root, "%s", error.text);
	cr_assert_str_eq(json_string_value(json_object_get(root, "version")), "2.1.0");
	json_t *run = json_array_get(json_object_get(root, "runs"), 0);
	json_t *rules =
	    json_object_get(json_object_get(json_object_get(run, "tool"), "driver"), "rules");
	cr_assert_eq(json_array_size(rules), 2);
	cr_assert_str_eq(
	    json_string_value(json_object_get(
		json_object_get(json_array_get(rules, 0), "shortDescription"), "text")),
	    "Debug code in an added line");
	json_t *result = json_array_get(json_object_get(run, "results"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(result, "level")), "error");
	json_t *loc = json_object_get(json_array_get(json_object_get(result, "locations"), 0),
				      "physicalLocation");
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(loc, "artifactLocation"), "uri")),
	    "argo/a%20b%1B%5B2J.py");
	cr_assert_eq(
	    json_integer_value(json_object_get(json_object_get(loc, "region"), "startLine")), 12);
	json_t *second = json_array_get(json_object_get(run, "results"), 1);
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(second, "properties"), "commit")),
	    "0123456789012345678901234567890123456789");
	json_decref(root);
	free(text);
}

Test(report, commit_blocks_are_capped_with_a_count_of_the_rest)
{
	struct findings f = {0};
	char commit[41];
	for (int c = 0; c < 3; c++) {
		snprintf(commit, sizeof(commit), "%040d", c + 1);
		for (int i = 0; i < 4; i++) {
			struct finding x = {.rule = "debug-code",
					    .severity = SEVERITY_ERROR,
					    .commit = commit,
					    .subject = "subject",
					    .path = "a.js",
					    .line = (size_t)i + 1,
					    .column = 1,
					    .message = "m"};
			findings_add(&f, &x);
		}
	}
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	report_text_capped(out, &f, 0, 2, 2);
	fclose(out);
	cr_assert_not_null(
	    strstr(text, "error: commit 000000000000 (subject): 4 errors, 0 warnings\n"), "%s",
	    text);
	cr_assert_not_null(strstr(text, "error:   a.js:2:1: debug-code: m\n"));
	cr_assert_null(strstr(text, "a.js:3:1"), "%s", text);
	cr_assert_not_null(strstr(text, "error:   ...and 2 more in this commit\n"), "%s", text);
	cr_assert_not_null(strstr(text, "error: ...and 1 more commit with findings\n"), "%s", text);
	free(text);
	findings_free(&f);
}
