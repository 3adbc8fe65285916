/*
 * findings: what the checks found, and the counts a report and an exit
 * status are made from.
 *
 * Every check adds to one findings list; nothing prints on its own. The list
 * also carries the client-side skip list (GITGATE_SKIP), so a skipped rule is
 * dropped in one place whatever check produced it.
 */
#ifndef GITGATE_FINDINGS_H
#define GITGATE_FINDINGS_H

#include <stddef.h>

#include "severity.h"

/* The rule ids gitgate's own checks give (a [scan NAME] section gives its
 * own, "debug-code" and "secret" in the default rules). */
#define RULE_ISOLATION "isolation"
#define RULE_VERSION_BUMP "version-bump"
#define RULE_FORBIDDEN_PATH "forbidden-path"
#define RULE_PROTECTED_BRANCH "protected-branch"
#define RULE_NON_COMMIT_REF "non-commit-ref"
#define RULE_DEPLOY_REF "deploy-ref"
#define RULE_SERVER_REF "server-ref"

struct finding {
	char *rule;
	enum severity severity;
	char *commit;  /* 40 hex, or NULL for the index */
	char *subject; /* the commit's subject line, for grouping in text */
	char *path;    /* bytes as git has them */
	size_t line;   /* 0 when the finding is about the path as a whole */
	size_t column; /* 1-based byte offset, 0 when line is 0 */
	char *match;   /* the offending text (bytes), or NULL */
	char *message;
	char *hint;
};

struct findings {
	struct finding *items;
	size_t n, cap;
	size_t errors, warnings;
	size_t commits, files;
	char **skip;
	size_t nskip, skip_cap;
	size_t skipped;
};

/* Adds a copy of f unless its rule is skipped or its severity is off. */
void findings_add(struct findings *list, const struct finding *f);
/* Parses "rule,rule" (GITGATE_SKIP's syntax). */
void findings_skip_rules(struct findings *list, const char *csv);
int findings_is_skipped(const struct findings *list, const char *rule);
/* Gives dst the same skip list as src. */
void findings_copy_skips(struct findings *dst, const struct findings *src);
/* Moves every finding and count of src to the end of dst; src is emptied. */
void findings_take(struct findings *dst, struct findings *src);
void findings_free(struct findings *list);
/* What a rule is about, in a sentence, for code-scanning UIs; NULL for a
 * rule gitgate does not know (a scan section's own). */
const char *findings_rule_description(const char *rule);

#endif
