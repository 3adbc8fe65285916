/* checks: isolation, forbidden paths and version bumps over hand-made changesets. */
#include <criterion/criterion.h>

#include "checks.h"
#include "helpers.h"

#define OLD_PKG "1111111111111111111111111111111111111111"
#define NEW_PKG "2222222222222222222222222222222222222222"

static struct rules rules;
static struct findings findings;
static struct changeset cs;
static struct buf err;
static const char *old_json, *new_json;

static int fake_read(void *ctx, const char *oid, struct buf *out)
{
	(void)ctx;
	const char *text = !strcmp(oid, OLD_PKG)   ? old_json
			   : !strcmp(oid, NEW_PKG) ? new_json
						   : NULL;
	if (!text)
		return -1;
	buf_adds(out, text);
	return 0;
}

static struct check_context ctx = {
    .rules = &rules, .findings = &findings, .blobs = {NULL, fake_read}};

static void setup(void)
{
	struct buf errors = BUF_INIT, path = BUF_INIT;
	buf_printf(&path, "%s/rules.ini", getenv("GITGATE_SOURCE"));
	cr_assert_eq(rules_load(&rules, path.data, &errors), 0, "%s", errors.data);
	buf_free(&path);
	memset(&findings, 0, sizeof(findings));
	memset(&cs, 0, sizeof(cs));
	ctx.is_merge = ctx.is_root = 0;
}

static void teardown(void)
{
	findings_free(&findings);
	changeset_free(&cs);
	rules_free(&rules);
	buf_free(&err);
}

static void change(char status, const char *old_path, const char *path)
{
	struct file_change *fc = changeset_add(&cs);
	fc->status = status;
	fc->old_mode = status == 'A' ? 0 : 0100644;
	fc->new_mode = status == 'D' ? 0 : 0100644;
	fc->old_oid = xstrdup(OLD_PKG);
	fc->new_oid = xstrdup(NEW_PKG);
	fc->old_path = old_path ? xstrdup(old_path) : NULL;
	fc->path = xstrdup(path);
}

TestSuite(checks, .init = setup, .fini = teardown);

Test(checks, one_unit_passes_isolation)
{
	change('M', NULL, "argo/a.py");
	change('A', NULL, "argo/b.py");
	change('M', NULL, "README.md");
	change('M', NULL, "packages/ui/x.js");
	check_isolation(&ctx, &cs);
	cr_assert_eq(findings.n, 0);
}

Test(checks, coupled_projects_are_one_unit)
{
	change('M', NULL, "alpine-backend/api.py");
	change('M', NULL, "alpine-frontend/app.tsx");
	check_isolation(&ctx, &cs);
	cr_assert_eq(findings.n, 0);
}

Test(checks, argo_and_alpine_together_are_refused)
{
	change('M', NULL, "argo/a.py");
	change('M', NULL, "alpine-frontend/app.tsx");
	check_isolation(&ctx, &cs);
	cr_assert_eq(findings.n, 1);
	cr_assert_str_eq(findings.items[0].rule, "isolation");
	cr_assert_eq(findings.errors, 1);
	cr_assert_not_null(strstr(findings.items[0].message, "'argo'"));
	cr_assert_not_null(strstr(findings.items[0].message, "'alpine-analytics'"));
}

Test(checks, a_rename_counts_for_both_sides)
{
	change('R', "argo/lib.py", "alpine-backend/lib.py");
	check_isolation(&ctx, &cs);
	cr_assert_eq(findings.n, 1);
}

Test(checks, a_merge_counts_only_what_it_writes_and_a_root_commit_nothing)
{
	change('M', NULL, "argo/a.py");
	change('M', NULL, "alpine-frontend/app.tsx");
	change('M', NULL, "alpine-backend/api.js");
	unsigned char brought_in[] = {0, 1, 0}, both_written[] = {1, 0, 1};
	ctx.is_merge = 1;
	ctx.merge_writes = brought_in;
	check_isolation(&ctx, &cs);
	cr_assert_eq(findings.n, 0, "a merge that writes in one unit passes");
	ctx.merge_writes = both_written;
	check_isolation(&ctx, &cs);
	cr_assert_eq(findings.n, 1, "a merge that writes argo and alpine is refused");
	findings_free(&findings);
	ctx.is_merge = 0;
	ctx.merge_writes = NULL;
	ctx.is_root = 1;
	check_isolation(&ctx, &cs);
	cr_assert_eq(findings.n, 0);
}

Test(checks, forbidden_paths_are_refused_but_deleting_them_is_fine)
{
	change('A', NULL, "alpine-backend/.env.local");
	change('A', NULL, "argo/venv/lib/site.py");
	change('D', NULL, "argo/config.json");
	change('A', NULL, "argo/config.json.example");
	check_forbidden_paths(&ctx, &cs);
	cr_assert_eq(findings.n, 2);
	cr_assert_str_eq(findings.items[0].path, "alpine-backend/.env.local");
	cr_assert_str_eq(findings.items[1].path, "argo/venv/lib/site.py");
}

Test(checks, a_package_change_without_version_bump_warns)
{
	change('M', NULL, "packages/ui/button.js");
	cr_assert_eq(check_version_bumps(&ctx, &cs, &err), 0, "%s", err.data);
	cr_assert_eq(findings.n, 1);
	cr_assert_eq(findings.warnings, 1);
	cr_assert_str_eq(findings.items[0].path, "packages/ui/package.json");
}

Test(checks, a_raised_version_passes)
{
	old_json = "{\"name\":\"ui\",\"version\":\"1.2.3\"}";
	new_json = "{\"name\":\"ui\",\"version\":\"1.10.0\"}";
	change('M', NULL, "packages/ui/button.js");
	change('M', NULL, "packages/ui/package.json");
	cr_assert_eq(check_version_bumps(&ctx, &cs, &err), 0, "%s", err.data);
	cr_assert_eq(findings.n, 0);
}

Test(checks, an_unchanged_or_lowered_version_warns)
{
	old_json = "{\"version\":\"2.0.0\"}";
	new_json = "{\"version\":\"2.0.0-rc.1\", \"description\": \"changed\"}";
	change('M', NULL, "packages/ui/package.json");
	cr_assert_eq(check_version_bumps(&ctx, &cs, &err), 0, "%s", err.data);
	cr_assert_eq(findings.n, 1);
	cr_assert_not_null(strstr(findings.items[0].message, "stayed at 2.0.0-rc.1 (was 2.0.0)"));
}

Test(checks, a_malformed_package_json_is_a_finding)
{
	old_json = "{\"version\":\"1.0.0\"}";
	new_json = "{\"version\": \"1.0.1\",,}";
	change('M', NULL, "packages/ui/package.json");
	cr_assert_eq(check_version_bumps(&ctx, &cs, &err), 0, "%s", err.data);
	cr_assert_eq(findings.n, 1);
	cr_assert_not_null(strstr(findings.items[0].message, "not valid JSON"));
	findings_free(&findings);
	new_json = "{\"version\": \"one\"}";
	cr_assert_eq(check_version_bumps(&ctx, &cs, &err), 0, "%s", err.data);
	cr_assert_not_null(strstr(findings.items[0].message, "is not a semantic version"));
}

Test(checks, a_new_package_needs_no_bump_and_files_at_the_top_of_packages_are_neutral)
{
	new_json = "{\"version\":\"0.1.0\"}";
	change('A', NULL, "packages/new/package.json");
	change('A', NULL, "packages/new/index.js");
	change('M', NULL, "packages/README.md");
	cr_assert_eq(check_version_bumps(&ctx, &cs, &err), 0, "%s", err.data);
	cr_assert_eq(findings.n, 0);
}

Test(checks, an_unreadable_package_json_is_a_fault_not_a_finding)
{
	change('M', NULL, "packages/ui/package.json");
	free(cs.items[0].new_oid);
	cs.items[0].new_oid = xstrdup("3333333333333333333333333333333333333333");
	cr_assert_eq(check_version_bumps(&ctx, &cs, &err), -1);
	cr_assert_eq(findings.n, 0);
	cr_assert_not_null(strstr(err.data, "cannot read blob 3333"), "%s", err.data);
}

Test(checks, a_huge_package_json_is_not_parsed_and_says_so)
{
	static char huge[1100 * 1024];
	memset(huge, ' ', sizeof(huge) - 1);
	memcpy(huge, "{\"version\":\"2.0.0\",\"x\":[", 24);
	old_json = "{\"version\":\"1.0.0\"}";
	new_json = huge;
	change('M', NULL, "packages/ui/package.json");
	cr_assert_eq(check_version_bumps(&ctx, &cs, &err), 0, "%s", err.data);
	cr_assert_eq(findings.n, 1);
	cr_assert_not_null(strstr(findings.items[0].message, "parses package.json files of up to"),
			   "%s", findings.items[0].message);
}
