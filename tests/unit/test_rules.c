/* rules: rules.ini loaded through the section tables, and every error with file:line. */
#include <criterion/criterion.h>

#include "helpers.h"
#include "schema.h"

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

static void load_ok(struct rules *rules, const char *text)
{
	struct buf errors = BUF_INIT;
	cr_assert_eq(load_rules_text(rules, text, &errors), 0, "%s", errors.data);
	buf_free(&errors);
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

Test(rules, a_file_that_is_not_rules_ini_shows_its_first_problems_only)
{
	struct buf text = BUF_INIT;
	buf_adds(&text, "[gitgate]\n");
	for (int i = 0; i < SCHEMA_PROBLEMS_SHOWN + 30; i++)
		buf_printf(&text, "bogus%d = 1\n", i);
	char *errors = load_errors(text.data);
	size_t lines = 0;
	for (const char *p = errors; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, SCHEMA_PROBLEMS_SHOWN + 1, "%s", errors);
	cr_assert_not_null(strstr(errors, ":2: unknown key 'bogus0'"), "%s", errors);
	cr_assert_not_null(strstr(errors, "more problems follow; the first 50 are shown"), "%s",
			   errors);
	cr_assert_null(strstr(errors, "bogus50"), "%s", errors);
	free(errors);
	buf_free(&text);
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

/* One notion of a section header: a UTF-8 BOM before line 1 is not part of
 * the line, and any isspace() character around "[...]" is trimmed, as inih
 * trims it. Either used to put keys in the wrong place. */
Test(rules, a_bom_before_the_first_section_is_not_a_key)
{
	struct rules rules;
	load_ok(&rules, "\xEF\xBB\xBF[gitgate]\nallow_marker = ok-here\n"
			"[forbidden]\npaths = a\n");
	cr_assert_str_eq(rules.allow_marker, "ok-here");
	rules_free(&rules);
	assert_error("\xEF\xBB\xBFloose = 1\n[forbidden]\npaths = a\n",
		     ":1: 'loose' stands before any [section]");
}

Test(rules, a_vertical_tab_before_a_header_still_starts_the_section)
{
	struct rules rules;
	load_ok(&rules, "[scan a]\nfiles = *.js\npattern = aaa\n"
			"\v[scan b]\f\r\nfiles = *.py\npattern = bbb\n");
	cr_assert_eq(rules.nscans, 2);
	cr_assert_eq(rules.scans[0].npatterns, 1);
	cr_assert_str_eq(rules.scans[1].name, "b");
	cr_assert_eq(rules.scans[1].npatterns, 1);
	cr_assert_str_eq(rules.scans[1].patterns[0].source, "bbb");
	cr_assert_eq(rules.scans[1].patterns[0].line, 6);
	rules_free(&rules);
}

Test(rules, every_malformed_line_is_reported)
{
	const char *text = "[forbidden]\npaths = a\nno equals\n[unclosed\n  indented\n";
	assert_error(text, ":3: expected '[section]' or 'key = value'");
	assert_error(text, ":4: expected '[section]' or 'key = value'");
	assert_error(text, ":5: expected '[section]' or 'key = value'");
}

Test(rules, a_header_takes_as_many_names_as_its_section_says)
{
	assert_error("[forbidden]\npaths = a\n[project]\n",
		     ":3: section [project] must be written [project NAME]");
	assert_error("[forbidden]\npaths = a\n[scan a b]\n",
		     ":3: section [scan a b] must be written [scan NAME]");
	assert_error("[forbidden]\npaths = a\n[push main]\n",
		     ":3: section [push main] must be written [push]");
	assert_error("[project a!]\npath = a/\n",
		     ":1: project name 'a!' may use only letters, digits, '-', '_' and '.'");
}

Test(rules, defaults_fill_what_the_file_does_not_say)
{
	struct rules rules;
	load_ok(&rules, "[scan s]\nfiles = *\npattern = x\n");
	cr_assert_str_eq(rules.allow_marker, "gitgate:allow");
	cr_assert_eq(rules.max_line_bytes, 1024 * 1024);
	cr_assert_eq(rules.match_limit, 1000000u);
	cr_assert_eq(rules.isolation, SEVERITY_ERROR);
	cr_assert_eq(rules.version_bump, SEVERITY_WARNING);
	cr_assert_eq(rules.push.deadline_seconds, 20);
	cr_assert_str_eq(rules.scans[0].rule_id, "s");
	cr_assert_eq(rules.scans[0].severity, SEVERITY_ERROR);
	cr_assert(rules_ref_is_protected(&rules, "refs/heads/main"));
	rules_free(&rules);
}

Test(rules, protected_given_empty_protects_nothing_and_absent_the_deploy_branch)
{
	struct rules rules;
	load_ok(&rules, "[forbidden]\npaths = a\n[push]\ndeploy_branch = prod\n");
	cr_assert(rules_ref_is_protected(&rules, "refs/heads/prod"));
	cr_assert_not(rules_ref_is_protected(&rules, "refs/heads/main"));
	rules_free(&rules);
	load_ok(&rules, "[forbidden]\npaths = a\n[push]\nprotected =\n"
			"deploy_branch = prod\n");
	cr_assert_eq(rules.push.protected_refs.n, 0);
	rules_free(&rules);
	load_ok(&rules, "[forbidden]\npaths = a\n[push]\nprotected = dev refs/tags/v1\n");
	cr_assert(rules_ref_is_protected(&rules, "refs/heads/dev"));
	cr_assert(rules_ref_is_protected(&rules, "refs/tags/v1"));
	cr_assert_not(rules_ref_is_protected(&rules, "refs/heads/main"));
	rules_free(&rules);
}

/* A section whose header holds a NAME and an argument, "[target PROJECT
 * ENVIRONMENT]", through a table made for this test alone: what the deploy
 * sections will be. */
struct test_target {
	char *project, *environment;
	int line;
	char *root;
	unsigned port;
	char *log; /* an included table's */
	unsigned seconds;
};

struct test_targets {
	struct test_target *items;
	size_t n, cap;
};

static const struct schema_key test_included_keys[] = {
    {SCHEMA_KEY("log", SCHEMA_TEXT, struct test_target, log), .def = "/var/log/a"},
    {SCHEMA_INT_KEY("seconds", struct test_target, seconds), .min = 1, .max = 9, .def = "3"},
    {SCHEMA_END}};

static const struct schema_key test_target_keys[] = {
    {SCHEMA_KEY("root", SCHEMA_TEXT, struct test_target, root)},
    {SCHEMA_INT_KEY("port", struct test_target, port), .min = 1, .max = 65535, .def = "8000"},
    {SCHEMA_INCLUDE_KEYS(test_included_keys)},
    {SCHEMA_END}};

static const struct schema_section test_target_section[] = {
    {.name = "target",
     .args = {"PROJECT", "ENVIRONMENT"},
     .keys = test_target_keys,
     SCHEMA_ARRAY(struct test_targets, items, n, cap, struct test_target),
     .name_at = offsetof(struct test_target, project),
     .arg_at = offsetof(struct test_target, environment),
     .line_at = offsetof(struct test_target, line)}};

static int load_targets(struct test_targets *targets, const char *text, struct buf *errors)
{
	const char *path = write_temp(text);
	FILE *in = fopen(path, "r");
	cr_assert_not_null(in);
	memset(targets, 0, sizeof(*targets));
	struct schema_load ld = {.file = "t.ini",
				 .errors = errors,
				 .sections = test_target_section,
				 .nsections = 1,
				 .target = targets};
	int rc = schema_read(&ld, in);
	fclose(in);
	unlink(path);
	return rc;
}

static void assert_target_error(const char *text, const char *expected)
{
	struct test_targets targets;
	struct buf errors = BUF_INIT;
	cr_assert_eq(load_targets(&targets, text, &errors), -1, "expected an error for:\n%s", text);
	schema_free(test_target_section, 1, &targets);
	cr_assert_not_null(strstr(errors.data, expected), "wanted '%s' in:\n%s", expected,
			   errors.data);
	buf_free(&errors);
}

Test(schema, a_header_with_a_name_and_an_argument_splits_into_both)
{
	struct test_targets targets;
	struct buf errors = BUF_INIT;
	cr_assert_eq(load_targets(&targets,
				  "[target argo production]\nroot = /root/argo-production\n"
				  "[ target\targo  staging ]\nport = 9000\n",
				  &errors),
		     0, "%s", errors.data);
	cr_assert_eq(targets.n, 2);
	cr_assert_str_eq(targets.items[0].project, "argo");
	cr_assert_str_eq(targets.items[0].environment, "production");
	cr_assert_str_eq(targets.items[0].root, "/root/argo-production");
	cr_assert_eq(targets.items[0].port, 8000);
	cr_assert_eq(targets.items[0].line, 1);
	cr_assert_str_eq(targets.items[1].environment, "staging");
	cr_assert_null(targets.items[1].root);
	cr_assert_eq(targets.items[1].port, 9000);
	cr_assert_eq(targets.items[1].line, 3);
	schema_free(test_target_section, 1, &targets);
	cr_assert_eq(targets.n, 0);
	buf_free(&errors);
}

Test(schema, both_words_of_a_two_word_header_are_checked)
{
	assert_target_error("[target argo]\n",
			    "t.ini:1: section [target argo] must be written [target PROJECT "
			    "ENVIRONMENT]");
	assert_target_error("[target a b c]\n", ":1: section [target a b c] must be written");
	assert_target_error("[target ar/go prod]\n",
			    ":1: target project 'ar/go' may use only letters, digits");
	assert_target_error("[target argo pr:od]\n",
			    ":1: target environment 'pr:od' may use only letters, digits");
	assert_target_error("[target a b]\n[target a c]\n[target a b]\n",
			    ":3: duplicate target 'a b' (first defined on line 1)");
	assert_target_error("[target a b]\nport = 0\n",
			    ":2: port must be a whole number from 1 to 65535, not '0'");
	assert_target_error("[target a b]\nhost = x\n",
			    ":2: unknown key 'host' in [target a b]: expected one of root, port, "
			    "log, seconds\n");
	assert_target_error("[deploy]\n",
			    ":1: unknown section [deploy]: expected target PROJECT ENVIRONMENT");
}

/* An included table's keys are the section's own: read, defaulted, checked,
 * listed and freed; the entry that includes them is no key. */
Test(schema, a_section_takes_the_keys_of_a_table_it_includes)
{
	struct test_targets targets;
	struct buf errors = BUF_INIT;
	cr_assert_eq(load_targets(&targets, "[target a b]\nseconds = 7\n[target a c]\n", &errors),
		     0, "%s", errors.data);
	cr_assert_eq(targets.items[0].seconds, 7);
	cr_assert_str_eq(targets.items[0].log, "/var/log/a");
	cr_assert_eq(targets.items[1].seconds, 3);
	cr_assert_str_eq(targets.items[1].log, "/var/log/a");
	schema_free(test_target_section, 1, &targets);
	buf_free(&errors);
	assert_target_error("[target a b]\nseconds = 10\n",
			    ":2: seconds must be a whole number from 1 to 9, not '10'");
	assert_target_error("[target a b]\n = x\n", ":2: unknown key '' in [target a b]");
}
