/*
 * rules: the policy, loaded from one rules.ini and validated as a whole.
 *
 * Everything a check needs to know about the team's rules lives here:
 * projects and the deploy units they form, the isolation and version-bump
 * rules, the paths that must never be committed, and the scan sections
 * (file globs, PCRE2 patterns). Loading never stops at the first problem:
 * every error is collected as "file:line: what is wrong", so a user fixes a
 * broken file in one pass.
 *
 * rules_load.c holds what the file may say (one table of keys per section,
 * read through schema.h) and the checks across sections; rules.c answers
 * the checks' questions.
 */
#ifndef GITGATE_RULES_H
#define GITGATE_RULES_H

#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "buf.h"
#include "glob.h"
#include "severity.h"

/* Words of a list key; `given` says the key was there, even with no word,
 * which is how "protected =" differs from no "protected" at all. */
struct strlist {
	char **items;
	size_t n, cap;
	int given;
};

struct project {
	char *name;
	char *path; /* always ends with "/" */
	char *description;
	const struct unit *unit;
	int line;
};

struct unit {
	char *name;
	struct strlist aliases;
	struct strlist projects;
	int line;
};

struct pattern {
	char *source;
	pcre2_code *code;
	int jit_ready; /* JIT is compiled once a pattern has matched enough lines to pay for it */
	unsigned long uses;
	pcre2_code *buffer_code; /* the same pattern over whole files (scan.c) */
	int line;
};

struct scan_rule {
	char *name;
	char *rule_id;
	enum severity severity;
	struct globlist files, exclude;
	struct pattern *patterns;
	size_t npatterns, patterns_cap;
	char *message;
	char *hint;
	int line;
};

/* Commit-time policy: read by pre-commit and `gitgate check --staged`. */
struct commit_policy {
	unsigned deadline_seconds; /* a longer check is refused, never passed */
};

/* Push-time policy: read by pre-receive on the server and by pre-push. */
struct push_policy {
	/* Full ref names; force pushes and deletion refused. Unless given, the
	 * deploy branch alone. */
	struct strlist protected_refs;
	char *deploy_branch;
	char *baseline; /* a revision: commits reachable from it are accepted */
	unsigned deadline_seconds;
	struct strlist bypass_users;   /* who may use `git push -o gitgate.bypass=RULE:REASON` */
	enum severity non_commit_refs; /* a ref to a blob or tree: its content goes unchecked */
};

struct rules {
	char *file;
	char *allow_marker;
	size_t max_line_bytes;
	uint32_t match_limit;
	enum severity isolation;
	char *shared_path;
	enum severity version_bump;
	enum severity forbidden_severity;
	struct globlist forbidden;
	struct project *projects;
	size_t nprojects, projects_cap;
	struct unit *units;
	size_t nunits, units_cap;
	struct scan_rule *scans;
	size_t nscans, scans_cap;
	struct commit_policy commit;
	struct push_policy push;
};

/* Loads and validates a rules file. On failure returns -1 and appends one
 * "file:line: problem" line per error to `errors`. */
int rules_load(struct rules *rules, const char *path, struct buf *errors);
void rules_free(struct rules *rules);

const struct project *rules_project_of(const struct rules *rules, const char *path);
int rules_is_shared(const struct rules *rules, const char *path);
/* A unit by its name or one of its aliases, or a project's own unit. */
const struct unit *rules_find_unit(const struct rules *rules, const char *name);
/* Is this full ref name ("refs/heads/main") protected? */
int rules_ref_is_protected(const struct rules *rules, const char *ref);
int rules_user_may_bypass(const struct rules *rules, const char *user);

#endif
