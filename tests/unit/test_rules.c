#include <criterion/criterion.h>

#include "helpers.h"

#define MINIMAL                                                                                    \
	"[project argo]\npath = argo/\n"                                                           \
	"[project alpine-backend]\npath = alpine-backend\n"                                        \
	"[project alpine-frontend]\npath = alpine-frontend/\n"                                     \
	"[unit alpine-analytics]\nprojects = alpine-backend alpine-frontend\naliases = alpine\n"   \
	"[shared]\npath = packages/\n"

static char *load_errors(const char *text)
{
	struct rules rules;
	struct buf errors = BUF_INIT;
	int rc = load_rules_text(&rules, text, &errors);
	rules_free(&rules);
	cr_assert_eq(rc, -1, "expected an error for:\n%s", text);
	return errors.data;
}

static void assert_error(const char *text, const char *expected)
{
	char *errors = load_errors(text);
	cr_assert_not_null(strstr(errors, expected), "wanted '%s' in:\n%s", expected, errors);
	free(errors);
}

Test(rules, the_default_rules_file_loads)
{
	struct rules rules;
	struct buf errors = BUF_INIT, path = BUF_INIT;
	buf_printf(&path, "%s/rules.ini", getenv("GITGATE_SOURCE"));
	cr_assert_eq(rules_load(&rules, path.data, &errors), 0, "%s", errors.data);
	cr_assert_eq(rules.nprojects, 3);
	cr_assert_str_eq(rules_find_unit(&rules, "alpine")->name, "alpine-analytics");
	cr_assert_str_eq(rules_project_of(&rules, "argo/x.py")->unit->name, "argo");
	cr_assert(rules_is_shared(&rules, "packages/ui/index.js"));
	cr_assert_not_null(globlist_match(&rules.forbidden, "argo/config.json"));
	cr_assert_null(globlist_match(&rules.forbidden, "alpine-backend/config.json"));
	rules_free(&rules);
	buf_free(&path);
}

Test(rules, units_group_coupled_projects_and_others_stand_alone)
{
	struct rules rules;
	struct buf errors = BUF_INIT;
	cr_assert_eq(load_rules_text(&rules, MINIMAL, &errors), 0, "%s", errors.data);
	cr_assert_eq(rules.nunits, 2);
	cr_assert_eq(rules_project_of(&rules, "alpine-backend/a")->unit,
		     rules_project_of(&rules, "alpine-frontend/b")->unit);
	cr_assert_str_eq(rules_project_of(&rules, "alpine-backend/a")->path, "alpine-backend/");
	cr_assert_null(rules_project_of(&rules, "README.md"));
	rules_free(&rules);
}

Test(rules, a_missing_file_is_named)
{
	struct rules rules;
	struct buf errors = BUF_INIT;
	cr_assert_eq(rules_load(&rules, "/nonexistent/rules.ini", &errors), -1);
	cr_assert_str_eq(errors.data,
			 "/nonexistent/rules.ini: cannot read rules: No such file or directory\n");
	rules_free(&rules);
	buf_free(&errors);
}

Test(rules, errors_name_file_and_line)
{
	char *errors = load_errors("; comment\n[gitgate]\nallow_marker = x\nbogus = 1\n");
	cr_assert_not_null(strstr(errors, ":4: unknown key 'bogus' in [gitgate]"), "%s", errors);
	cr_assert_eq(strncmp(errors, "/tmp/gitgate-test-", 18), 0, "%s", errors);
	free(errors);
}

Test(rules, unknown_section)
{
	assert_error("[gitgate]\n\n[deploy-everything]\nx = 1\n",
		     ":3: unknown section [deploy-everything]");
}

Test(rules, empty_sections_are_still_checked)
{
	assert_error("[project argo]\n", ":1: project 'argo' has no path");
	assert_error("[nonsense]\n", ":1: unknown section [nonsense]");
}

Test(rules, bad_pattern_gives_pcre2_message_and_offset)
{
	assert_error("[scan x]\nfiles = *\npattern = ok\npattern = (unclosed\n",
		     ":4: bad pattern '(unclosed': missing closing parenthesis at offset 9");
}

Test(rules, duplicate_project)
{
	assert_error("[project a]\npath = a/\n[project a]\npath = b/\n",
		     ":3: duplicate project 'a' (first defined on line 1)");
}

Test(rules, overlapping_paths)
{
	assert_error("[project a]\npath = apps/\n[project b]\npath = apps/b/\n",
		     ":3: project 'b' path 'apps/b/' overlaps project 'a' path 'apps/' (line 1)");
	assert_error("[shared]\npath = packages/\n[project p]\npath = packages/p/\n",
		     ":3: project 'p' path 'packages/p/' overlaps the shared path 'packages/'");
}

Test(rules, bad_glob)
{
	assert_error("[forbidden]\npaths = ok.txt bad[\n",
		     ":2: bad glob 'bad[': unclosed '[' in pattern");
}

Test(rules, bad_severity_and_numbers)
{
	assert_error("[isolation]\nseverity = maybe\n", ":2: 'maybe' is not a severity");
	assert_error("[gitgate]\nmatch_limit = lots\n", ":2: match_limit must be a whole number");
	assert_error("[gitgate]\nmax_line_bytes = -5\n",
		     ":2: max_line_bytes must be a whole number");
}

Test(rules, units_must_name_known_projects_once)
{
	assert_error("[project a]\npath = a/\n[unit u]\nprojects = a ghost\n",
		     ":3: unit 'u' names unknown project 'ghost'");
	assert_error("[project a]\npath = a/\n[unit u]\nprojects = a\n[unit v]\nprojects = a\n",
		     ":5: project 'a' is in unit 'u' and in unit 'v'");
}

Test(rules, scan_needs_files_and_patterns)
{
	assert_error("[scan s]\nfiles = *\n", ":1: scan 's' has no pattern");
	assert_error("[scan s]\npattern = x\n", ":1: scan 's' has no files");
}

Test(rules, syntax_errors_and_keys_outside_sections)
{
	assert_error("[gitgate]\nthis line has no equals sign\n",
		     ":2: expected '[section]' or 'key = value'");
	assert_error("loose = 1\n", ":1: 'loose' stands before any [section]");
}

Test(rules, every_error_is_reported_in_one_pass)
{
	char *errors = load_errors("[isolation]\nseverity = x\n[forbidden]\npaths = [\n");
	cr_assert_not_null(strstr(errors, ":2:"));
	cr_assert_not_null(strstr(errors, ":4:"));
	free(errors);
}

Test(rules, semicolons_in_patterns_are_not_comments)
{
	struct rules rules;
	struct buf errors = BUF_INIT;
	cr_assert_eq(load_rules_text(&rules, "[scan s]\nfiles = *\npattern = a ;b\n", &errors), 0);
	cr_assert_str_eq(rules.scans[0].patterns[0].source, "a ;b");
	rules_free(&rules);
}

Test(rules, a_directory_or_an_empty_path_is_never_a_policy)
{
	struct rules rules;
	struct buf errors = BUF_INIT;
	char dir[] = "/tmp/gitgate-rules-dir-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(rules_load(&rules, dir, &errors), -1);
	rules_free(&rules);
	cr_assert_not_null(strstr(errors.data, "it is a directory"), "%s", errors.data);
	cr_assert_not_null(strstr(errors.data, dir), "%s", errors.data);
	rmdir(dir);
	buf_clear(&errors);
	cr_assert_eq(rules_load(&rules, "", &errors), -1);
	rules_free(&rules);
	cr_assert_not_null(strstr(errors.data, "rules path is empty"), "%s", errors.data);
	buf_free(&errors);
}

Test(rules, a_file_that_defines_no_check_is_refused)
{
	assert_error("", "defines no check");
	assert_error("; only a comment\n", "defines no check");
	assert_error("[gitgate]\nallow_marker = ok\n[push]\ndeploy_branch = main\n",
		     "defines no check");
}
