/*
 * rules_load: what rules.ini may say, as tables, and the checks across
 * sections once the whole file is read. See rules.h and schema.h.
 *
 * The tables below are the whole grammar of the file: a section's keys, their
 * kinds and defaults, where each value lands in struct rules. The order of
 * the sections is the order "unknown section" lists them in; the deploy
 * sections' tables are in deploy_load.c. What a single
 * line cannot show -- overlapping paths, units naming unknown projects, a
 * scan without patterns, a file that checks nothing -- is checked in
 * rules_finish, pointing at the line of the later of two conflicting
 * entries.
 */
#include "rules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deploy_load.h"
#include "schema.h"

static int check_not_empty(const char *key, const char *value, struct buf *why)
{
	if (*value)
		return 0;
	buf_printf(why, "%s must not be empty", key);
	return -1;
}

static int plain_folder(const char *value)
{
	return *value && value[0] != '/' && !strpbrk(value, "*?[");
}

static int check_project_path(const char *key, const char *value, struct buf *why)
{
	(void)key;
	if (plain_folder(value) && !strstr(value, ".."))
		return 0;
	buf_printf(why,
		   "project path '%s' must be a plain folder relative to the top, like 'argo/'",
		   value);
	return -1;
}

static int check_shared_path(const char *key, const char *value, struct buf *why)
{
	(void)key;
	if (plain_folder(value))
		return 0;
	buf_printf(why, "shared path '%s' must be a plain folder like 'packages/'", value);
	return -1;
}

static int check_rule_id(const char *key, const char *value, struct buf *why)
{
	(void)key;
	if (schema_name_ok(value))
		return 0;
	buf_printf(why, "rule id '%s' " SCHEMA_NAME_RULE, value);
	return -1;
}

static const struct schema_key gitgate_keys[] = {
    {SCHEMA_KEY("allow_marker", SCHEMA_TEXT, struct rules, allow_marker), .def = "gitgate:allow",
     .check = check_not_empty},
    {SCHEMA_INT_KEY("max_line_bytes", struct rules, max_line_bytes), .min = 1, .max = 256ull << 20,
     .def = "1048576"},
    {SCHEMA_INT_KEY("match_limit", struct rules, match_limit), .min = 1, .max = UINT32_MAX,
     .def = "1000000"},
    {SCHEMA_END}};

static const struct schema_key project_keys[] = {
    {SCHEMA_KEY("path", SCHEMA_FOLDER, struct project, path), .check = check_project_path},
    {SCHEMA_KEY("description", SCHEMA_TEXT, struct project, description)},
    {SCHEMA_END}};

static const struct schema_key unit_keys[] = {
    {SCHEMA_KEY("projects", SCHEMA_WORDS, struct unit, projects)},
    {SCHEMA_KEY("aliases", SCHEMA_WORDS, struct unit, aliases)},
    {SCHEMA_END}};

static const struct schema_key isolation_keys[] = {
    {SCHEMA_KEY("severity", SCHEMA_SEVERITY, struct rules, isolation), .def = "error"},
    {SCHEMA_END}};

static const struct schema_key shared_keys[] = {
    {SCHEMA_KEY("path", SCHEMA_FOLDER, struct rules, shared_path), .check = check_shared_path},
    {SCHEMA_KEY("version_bump", SCHEMA_SEVERITY, struct rules, version_bump), .def = "warn"},
    {SCHEMA_END}};

static const struct schema_key forbidden_keys[] = {
    {SCHEMA_KEY("severity", SCHEMA_SEVERITY, struct rules, forbidden_severity), .def = "error"},
    {SCHEMA_KEY("paths", SCHEMA_GLOBS, struct rules, forbidden)},
    {SCHEMA_END}};

static const struct schema_key commit_keys[] = {
    {SCHEMA_INT_KEY("deadline_seconds", struct commit_policy, deadline_seconds), .min = 1,
     .max = 3600, .def = "10"},
    {SCHEMA_END}};

static const struct schema_key push_keys[] = {
    {SCHEMA_KEY("protected", SCHEMA_REFS, struct push_policy, protected_refs)},
    {SCHEMA_KEY("deploy_branch", SCHEMA_TEXT, struct push_policy, deploy_branch), .def = "main",
     .check = schema_check_branch},
    {SCHEMA_KEY("baseline", SCHEMA_TEXT, struct push_policy, baseline)},
    {SCHEMA_INT_KEY("deadline_seconds", struct push_policy, deadline_seconds), .min = 1,
     .max = 3600, .def = "20"},
    {SCHEMA_KEY("bypass_users", SCHEMA_WORDS, struct push_policy, bypass_users)},
    {SCHEMA_CUSTOM_KEY("identity", struct push_policy, identity, identity_policy_parse,
		       identity_policy_release),
     .def = "auto"},
    {SCHEMA_KEY("non_commit_refs", SCHEMA_SEVERITY, struct push_policy, non_commit_refs),
     .def = "error"},
    {SCHEMA_END}};

/* "rule" defaults to the section's NAME, set in scans_check. */
static const struct schema_key scan_keys[] = {
    {SCHEMA_KEY("rule", SCHEMA_TEXT, struct scan_rule, rule_id), .check = check_rule_id},
    {SCHEMA_KEY("severity", SCHEMA_SEVERITY, struct scan_rule, severity), .def = "error"},
    {SCHEMA_KEY("files", SCHEMA_GLOBS, struct scan_rule, files)},
    {SCHEMA_KEY("exclude", SCHEMA_GLOBS, struct scan_rule, exclude)},
    {SCHEMA_PATTERNS_KEY("pattern", struct scan_rule, patterns, npatterns, patterns_cap)},
    {SCHEMA_KEY("message", SCHEMA_TEXT, struct scan_rule, message)},
    {SCHEMA_KEY("hint", SCHEMA_TEXT, struct scan_rule, hint)},
    {SCHEMA_END}};

#define NAMED(E) .name_at = offsetof(E, name), .line_at = offsetof(E, line)

static const struct schema_section rules_sections[] = {
    {.name = "gitgate", .keys = gitgate_keys},
    {.name = "project",
     .args = {"NAME"},
     .keys = project_keys,
     SCHEMA_ARRAY(struct rules, projects, nprojects, projects_cap, struct project),
     NAMED(struct project)},
    {.name = "unit",
     .args = {"NAME"},
     .keys = unit_keys,
     SCHEMA_ARRAY(struct rules, units, nunits, units_cap, struct unit),
     NAMED(struct unit)},
    {.name = "isolation", .keys = isolation_keys},
    {.name = "shared", .keys = shared_keys},
    {.name = "forbidden", .keys = forbidden_keys},
    {.name = "commit", .keys = commit_keys, .at = offsetof(struct rules, commit)},
    {.name = "push", .keys = push_keys, .at = offsetof(struct rules, push)},
    {.name = "scan",
     .args = {"NAME"},
     .keys = scan_keys,
     SCHEMA_ARRAY(struct rules, scans, nscans, scans_cap, struct scan_rule),
     NAMED(struct scan_rule)},
    {.name = "deploy", .keys = deploy_load_keys, .at = offsetof(struct rules, deploy)},
    {.name = "environment",
     .args = {"NAME"},
     .keys = deploy_load_environment_keys,
     SCHEMA_ARRAY(struct rules, deploy.environments, deploy.nenvironments, deploy.environments_cap,
		  struct deploy_environment),
     NAMED(struct deploy_environment)},
    {.name = "target",
     .args = {"PROJECT", "ENVIRONMENT"},
     .keys = deploy_load_target_keys,
     SCHEMA_ARRAY(struct rules, deploy.targets, deploy.ntargets, deploy.targets_cap,
		  struct deploy_target),
     .name_at = offsetof(struct deploy_target, project),
     .arg_at = offsetof(struct deploy_target, environment),
     .line_at = offsetof(struct deploy_target, line)},
};
#define NSECTIONS (sizeof(rules_sections) / sizeof(rules_sections[0]))

static int paths_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	return !strncmp(a, b, la < lb ? la : lb);
}

static void projects_check(struct schema_load *ld, struct rules *r)
{
	for (size_t i = 0; i < r->nprojects; i++) {
		struct project *p = &r->projects[i];
		if (!p->path) {
			schema_problem(ld, p->line, "project '%s' has no path", p->name);
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (r->projects[j].path && paths_overlap(r->projects[j].path, p->path))
				schema_problem(ld, p->line,
					       "project '%s' path '%s' overlaps project '%s' path "
					       "'%s' (line %d)",
					       p->name, p->path, r->projects[j].name,
					       r->projects[j].path, r->projects[j].line);
		if (r->shared_path && paths_overlap(r->shared_path, p->path))
			schema_problem(ld, p->line,
				       "project '%s' path '%s' overlaps the shared path '%s'",
				       p->name, p->path, r->shared_path);
	}
}

/* Each project belongs to one unit: the one that names it, or its own. */
static void units_complete(struct schema_load *ld, struct rules *r)
{
	size_t explicit_units = r->nunits;
	for (size_t i = 0; i < explicit_units; i++) {
		struct unit *u = &r->units[i];
		if (!u->projects.n)
			schema_problem(ld, u->line, "unit '%s' lists no projects", u->name);
		for (size_t j = 0; j < u->aliases.n; j++) {
			const struct unit *other = rules_find_unit(r, u->aliases.items[j]);
			if (other != u)
				schema_problem(
				    ld, u->line,
				    "alias '%s' of unit '%s' is already the name of unit "
				    "'%s'",
				    u->aliases.items[j], u->name, other->name);
		}
	}
	const char **owner = xcalloc(r->nprojects, sizeof(*owner));
	for (size_t i = 0; i < explicit_units; i++) {
		struct unit *u = &r->units[i];
		for (size_t j = 0; j < u->projects.n; j++) {
			size_t k;
			for (k = 0; k < r->nprojects; k++)
				if (!strcmp(r->projects[k].name, u->projects.items[j]))
					break;
			if (k == r->nprojects)
				schema_problem(ld, u->line, "unit '%s' names unknown project '%s'",
					       u->name, u->projects.items[j]);
			else if (owner[k])
				schema_problem(ld, u->line,
					       "project '%s' is in unit '%s' and in unit '%s'",
					       u->projects.items[j], owner[k], u->name);
			else
				owner[k] = u->name;
		}
	}
	for (size_t k = 0; k < r->nprojects; k++) {
		if (owner[k])
			continue;
		if (rules_find_unit(r, r->projects[k].name)) {
			schema_problem(ld, r->projects[k].line,
				       "project '%s' has the name of a unit it is not in",
				       r->projects[k].name);
			continue;
		}
		struct unit *u = ARRAY_PUSH(r->units, r->nunits, r->units_cap);
		memset(u, 0, sizeof(*u));
		u->name = xstrdup(r->projects[k].name);
		strlist_add(&u->projects, u->name);
		u->line = r->projects[k].line;
	}
	free(owner);
	for (size_t i = 0; i < r->nunits; i++)
		for (size_t j = 0; j < r->units[i].projects.n; j++)
			for (size_t k = 0; k < r->nprojects; k++)
				if (!strcmp(r->projects[k].name, r->units[i].projects.items[j]))
					r->projects[k].unit = &r->units[i];
}

static void scans_check(struct schema_load *ld, struct rules *r)
{
	for (size_t i = 0; i < r->nscans; i++) {
		struct scan_rule *s = &r->scans[i];
		if (!s->rule_id)
			s->rule_id = xstrdup(s->name);
		if (!s->npatterns)
			schema_problem(ld, s->line, "scan '%s' has no pattern", s->name);
		if (!s->files.n)
			schema_problem(
			    ld, s->line,
			    "scan '%s' has no files: add 'files = *.js' (or '*' for all)", s->name);
	}
}

static void rules_finish(struct schema_load *ld, struct rules *r)
{
	projects_check(ld, r);
	units_complete(ld, r);
	if (!r->push.protected_refs.given) {
		struct buf ref = BUF_INIT;
		buf_printf(&ref, "refs/heads/%s", r->push.deploy_branch);
		strlist_add(&r->push.protected_refs, ref.data);
		buf_free(&ref);
	}
	if (!r->nprojects && !r->forbidden.n && !r->nscans)
		schema_problem(
		    ld, 0,
		    "defines no check (no [project], no [forbidden] paths, no [scan]): a "
		    "rules file that allows everything is refused; is it empty or cut "
		    "short?");
	scans_check(ld, r);
	deploy_load_finish(ld, r);
}

/* Only a regular file that can be read is a policy: a directory (what a
 * bind mount of a missing file makes) or an empty path must never load as
 * "no rules". */
static FILE *open_rules_file(struct schema_load *ld, const char *path)
{
	struct stat st;
	if (!*path) {
		schema_problem(ld, 0, "the rules path is empty (check git config gitgate.rules)");
		return NULL;
	}
	FILE *in = fopen(path, "r");
	if (!in) {
		schema_problem(ld, 0, "cannot read rules: %s", strerror(errno));
		return NULL;
	}
	int stat_rc = fstat(fileno(in), &st);
	if (stat_rc < 0 || !S_ISREG(st.st_mode)) {
		schema_problem(ld, 0, "cannot read rules: %s",
			       stat_rc < 0	     ? strerror(errno)
			       : S_ISDIR(st.st_mode) ? "it is a directory, not a file"
						     : "not a regular file");
		fclose(in);
		return NULL;
	}
	return in;
}

int rules_load(struct rules *rules, const char *path, struct buf *errors)
{
	memset(rules, 0, sizeof(*rules));
	rules->file = xstrdup(path);
	struct schema_load ld = {.file = rules->file,
				 .errors = errors,
				 .sections = rules_sections,
				 .nsections = NSECTIONS,
				 .target = rules};
	FILE *in = open_rules_file(&ld, path);
	if (!in)
		return -1;
	schema_read(&ld, in);
	fclose(in);
	rules_finish(&ld, rules);
	return ld.failed ? -1 : 0;
}

void rules_free(struct rules *rules)
{
	schema_free(rules_sections, NSECTIONS, rules);
	free(rules->file);
	memset(rules, 0, sizeof(*rules));
}
