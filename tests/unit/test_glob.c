/* glob: .gitignore-style patterns, their one bracket grammar and their refusals. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "glob.h"

static int matches(const char *pattern, const char *path)
{
	struct glob g;
	const char *why;
	cr_assert_eq(glob_compile(&g, pattern, &why), 0, "pattern %s", pattern);
	int hit = glob_match(&g, path);
	glob_free(&g);
	return hit;
}

Test(glob, basename_patterns_match_at_any_depth)
{
	cr_assert(matches("*.log", "app.log"));
	cr_assert(matches("*.log", "argo/logs/app.log"));
	cr_assert_not(matches("*.log", "app.log.txt"));
	cr_assert(matches(".env.local", "alpine-backend/.env.local"));
}

Test(glob, slash_anchors_at_the_top)
{
	cr_assert(matches("argo/config.json", "argo/config.json"));
	cr_assert_not(matches("argo/config.json", "x/argo/config.json"));
	cr_assert(matches("/backups/", "backups/db.sql"));
	cr_assert_not(matches("/backups/", "argo/backups/db.sql"));
}

Test(glob, trailing_slash_matches_folders_only)
{
	cr_assert(matches("node_modules/", "alpine-frontend/node_modules/react/index.js"));
	cr_assert_not(matches("node_modules/", "node_modules"));
	cr_assert(matches("venv/", "argo/venv/bin/python"));
}

Test(glob, a_folder_match_covers_everything_below)
{
	cr_assert(matches("build", "build/out/a.js"));
	cr_assert(matches("__pycache__/", "argo/__pycache__/x.cpython-311.pyc"));
}

Test(glob, star_does_not_cross_slashes_but_double_star_does)
{
	cr_assert_not(matches("argo/*.py", "argo/scripts/x.py"));
	cr_assert(matches("argo/**/*.py", "argo/scripts/deep/x.py"));
	cr_assert(matches("argo/**/*.py", "argo/x.py"));
	cr_assert(matches("**/secrets.txt", "a/b/secrets.txt"));
	cr_assert(matches("docs/**", "docs/a/b.md"));
}

Test(glob, question_mark_and_brackets)
{
	cr_assert(matches("file?.txt", "file1.txt"));
	cr_assert_not(matches("file?.txt", "file10.txt"));
	cr_assert(matches("*.[jt]s", "a.ts"));
	cr_assert_not(matches("*.[!jt]s", "a.ts"));
	cr_assert(matches("v[0-9].txt", "v7.txt"));
}

Test(glob, backslash_escapes_a_wildcard)
{
	cr_assert(matches("a\\*b", "a*b"));
	cr_assert_not(matches("a\\*b", "axb"));
}

Test(glob, malformed_patterns_are_rejected_with_a_reason)
{
	struct glob g;
	const char *why = NULL;
	cr_assert_eq(glob_compile(&g, "src/[abc", &why), -1);
	cr_assert_str_eq(why, "unclosed '[' in pattern");
	cr_assert_eq(glob_compile(&g, "x\\", &why), -1);
	cr_assert_eq(glob_compile(&g, "/", &why), -1);
}

Test(glob, last_matching_pattern_decides_and_negation_reincludes)
{
	struct globlist list = {0};
	const char *why;
	cr_assert_eq(globlist_add(&list, "*.json", &why), 0);
	cr_assert_eq(globlist_add(&list, "!package.json", &why), 0);
	cr_assert_not_null(globlist_match(&list, "a/b.json"));
	cr_assert_null(globlist_match(&list, "packages/ui/package.json"));
	cr_assert_null(globlist_match(&list, "a.js"));
	globlist_free(&list);
}

/* The syntax check and the matcher read "[...]" with one grammar: "\" escapes
 * inside brackets too, so "x[a\]" is unclosed rather than matched past its
 * end (it was a heap over-read once the check had let it through); a "]"
 * first is literal; valid brackets match as they always did. */
static const struct {
	const char *pattern, *path;
	int hit;
} bracket_cases[] = {
    {"[\\]]", "]", 1},
    {"[\\]]", "\\", 0},
    {"x[a\\]]", "x]", 1},
    {"x[a\\]]", "xa", 1},
    {"[\\!]x", "!x", 1},
    {"[a\\-z]", "-", 1},
    {"[a\\-z]", "m", 0},
    {"[]a]", "]", 1},
    {"[]a]", "a", 1},
    {"[]a]", "b", 0},
    {"[!]]", "a", 1},
    {"[!]]", "]", 0},
    {"[^]]x", "ax", 1},
    {"[a-]", "-", 1},
    {"v[0-9].txt", "v0.txt", 1},
    {"v[0-9].txt", "va.txt", 0},
    {"[a-cx-z]", "y", 1},
    {"[a-cx-z]", "m", 0},
    {"*.[ch]", "src/base/glob.c", 1},
    {"a[/]b", "a/b", 0},
    {"[!a]", "/", 0},
    {"*.py[cod]", "x/y.pyc", 1},
};

Test(glob, one_bracket_grammar_for_the_check_and_the_match)
{
	for (size_t i = 0; i < sizeof(bracket_cases) / sizeof(bracket_cases[0]); i++)
		cr_assert_eq(matches(bracket_cases[i].pattern, bracket_cases[i].path),
			     bracket_cases[i].hit, "'%s' on '%s'", bracket_cases[i].pattern,
			     bracket_cases[i].path);
}

static const struct {
	const char *pattern, *why;
} refused_cases[] = {
    {"x[a\\]", "unclosed '[' in pattern"},
    {"[a\\", "unclosed '[' in pattern"},
    {"[a-\\", "unclosed '[' in pattern"},
    {"[", "unclosed '[' in pattern"},
    {"[!", "unclosed '[' in pattern"},
    {"[]", "unclosed '[' in pattern"},
    {"[!]", "unclosed '[' in pattern"},
    {"a[b", "unclosed '[' in pattern"},
    {"x\\", "pattern ends with a lone backslash"},
    {"*.log\\", "pattern ends with a lone backslash"},
};

Test(glob, unterminated_brackets_and_trailing_backslashes_are_refused)
{
	for (size_t i = 0; i < sizeof(refused_cases) / sizeof(refused_cases[0]); i++) {
		struct glob g;
		const char *why = NULL;
		cr_assert_eq(glob_compile(&g, refused_cases[i].pattern, &why), -1, "'%s'",
			     refused_cases[i].pattern);
		cr_assert_str_eq(why, refused_cases[i].why, "'%s'", refused_cases[i].pattern);
	}
}

/* Found by tests/fuzz/fuzz_glob: each star used to retry every position of
 * every star after it, so "*a*a*a*a*a*a*a*b" took seconds on 60 a's and a
 * pushed path could stall a hook. A star now gives up once a longer match
 * cannot help (the path ran out, or a "/" stopped a single "*"), as git's
 * wildmatch does; what matches is unchanged. */
static const struct {
	const char *pattern, *path;
	int hit;
} star_cases[] = {
    {"*a*b", "xaxbxab", 1},
    {"*a*b", "xaxbxa", 0},
    {"a*/b", "axx/c/b", 0},
    {"a*/*b", "axx/cb", 1},
    {"*/*b", "a/xb/c", 1},
    {"**/a*b/c", "x/ab/y/ab/c", 1},
    {"**/a*b/c", "x/ab/y/ab/d", 0},
    {"a/**/b*c", "a/x/bxc", 1},
    {"a/**/b*c", "a/b/x/c", 0},
    {"*x*", "x", 1},
    {"*x*", "", 0},
    {"**/x", "x", 1},
};

Test(glob, many_stars_cost_no_more_than_the_path_is_long, .timeout = 10)
{
	for (size_t i = 0; i < sizeof(star_cases) / sizeof(star_cases[0]); i++)
		cr_assert_eq(matches(star_cases[i].pattern, star_cases[i].path), star_cases[i].hit,
			     "'%s' on '%s'", star_cases[i].pattern, star_cases[i].path);
	char path[2001];
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	cr_assert_not(matches("*a*a*a*a*a*a*a*a*a*a*b", path));
	cr_assert(matches("*a*a*a*a*a*a*a*a*a*a*", path));
	for (size_t i = 4; i < sizeof(path) - 1; i += 5)
		path[i] = '/';
	cr_assert_not(matches("/**/a*a*a*/**/a*a*a*b/**/c", path));
}

/* The last pattern of the list that matches path[0..len) itself. */
static const struct glob *last_match(const struct globlist *list, const char *path, size_t len,
				     int dir)
{
	for (size_t i = list->n; i-- > 0;)
		if (glob_match_one(&list->items[i], path, len, dir))
			return &list->items[i];
	return NULL;
}

/* The list as git's rule says it, pattern by pattern: each folder from the
 * top, then the path, decided by the last pattern that matches it; a folder
 * that is matched decides for everything below it. */
static const struct glob *one_by_one(const struct globlist *list, const char *path)
{
	for (const char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
		const struct glob *g = last_match(list, path, (size_t)(slash - path), 1);
		if (g && !g->negated)
			return g;
	}
	const struct glob *g = last_match(list, path, strlen(path), 0);
	return g && !g->negated ? g : NULL;
}

/* git's own rule: a file below a folder that is matched cannot be
 * re-included; a folder re-included is looked into again. */
Test(glob, nothing_below_a_matched_folder_is_re_included)
{
	struct globlist list = {0};
	const char *why;
	cr_assert_eq(globlist_add(&list, "build/", &why), 0);
	cr_assert_eq(globlist_add(&list, "!build/keep.txt", &why), 0);
	cr_assert_not_null(globlist_match(&list, "build/keep.txt"));
	cr_assert_eq(globlist_add(&list, "!build/", &why), 0);
	cr_assert_null(globlist_match(&list, "build/keep.txt"));
	cr_assert_eq(globlist_add(&list, "*.txt", &why), 0);
	cr_assert_not_null(globlist_match(&list, "build/keep.txt"));
	globlist_free(&list);
}

static unsigned next_random(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) & 0x7fff;
}

/* The table (names, paths, endings) and the patterns tried one by one
 * decide exactly as the plain rule: thousands of random lists of every kind
 * of pattern (negated, anchored, folders only, wildcards) over random
 * paths, seeded so a failure repeats. */
Test(glob, a_list_decides_as_its_patterns_one_by_one_would)
{
	static const char *const names[] = {"a",       "b",	  "ab",		  "log",
					    "app.log", "x.py",	  "node_modules", "build",
					    ".env",    "a.b.log", "argo",	  "b.log"};
	static const char *const forms[] = {"%s",     "%s/",  "/%s",  "/%s/",  "!%s",	 "!%s/",
					    "*%s",    "*.%s", "!*%s", "%s/%s", "%s/%s/", "!%s/%s",
					    "%s/*",   "*%s/", "%s*",  "?%s",   "**/%s",	 "%s/**/%s",
					    "[ab]%s", "*",    "%s/**"};
	const size_t nn = sizeof(names) / sizeof(*names), nf = sizeof(forms) / sizeof(*forms);
	unsigned seed = 12345;
#define NEXT() next_random(&seed)
	for (int round = 0; round < 400; round++) {
		struct globlist list = {0};
		size_t n = 1 + NEXT() % 12;
		for (size_t i = 0; i < n; i++) {
			char pattern[128];
			snprintf(pattern, sizeof(pattern), forms[NEXT() % nf], names[NEXT() % nn],
				 names[NEXT() % nn]);
			const char *why;
			cr_assert_eq(globlist_add(&list, pattern, &why), 0, "%s", pattern);
		}
		for (int k = 0; k < 40; k++) {
			char path[256] = "";
			size_t depth = 1 + NEXT() % 4;
			for (size_t d = 0; d < depth; d++) {
				if (d)
					strcat(path, "/");
				strcat(path, names[NEXT() % nn]);
			}
			cr_assert_eq(globlist_match(&list, path), one_by_one(&list, path),
				     "round %d, path %s", round, path);
		}
		globlist_free(&list);
	}
#undef NEXT
}
