/*
 * findings: see findings.h.
 */
#include "findings.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "deploy_policy.h"

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int findings_is_skipped(const struct findings *list, const char *rule)
{
	for (size_t i = 0; i < list->nskip; i++)
		if (!strcmp(list->skip[i], rule))
			return 1;
	return 0;
}

void findings_add(struct findings *list, const struct finding *f)
{
	if (f->severity == SEVERITY_OFF)
		return;
	if (findings_is_skipped(list, f->rule)) {
		list->skipped++;
		return;
	}
	struct finding *copy = ARRAY_PUSH(list->items, list->n, list->cap);
	copy->rule = xstrdup(f->rule);
	copy->severity = f->severity;
	copy->commit = dup_or_null(f->commit);
	copy->subject = dup_or_null(f->subject);
	copy->path = dup_or_null(f->path);
	copy->line = f->line;
	copy->column = f->column;
	copy->match = dup_or_null(f->match);
	copy->message = xstrdup(f->message);
	copy->hint = dup_or_null(f->hint);
	if (f->severity == SEVERITY_ERROR)
		list->errors++;
	else
		list->warnings++;
}

void findings_skip_rules(struct findings *list, const char *csv)
{
	while (csv && *csv) {
		size_t n = strcspn(csv, ", ");
		if (n)
			*ARRAY_PUSH(list->skip, list->nskip, list->skip_cap) = xstrndup(csv, n);
		csv += n;
		while (*csv == ',' || *csv == ' ')
			csv++;
	}
}

void findings_copy_skips(struct findings *dst, const struct findings *src)
{
	for (size_t i = 0; i < src->nskip; i++)
		*ARRAY_PUSH(dst->skip, dst->nskip, dst->skip_cap) = xstrdup(src->skip[i]);
}

void findings_take(struct findings *dst, struct findings *src)
{
	for (size_t i = 0; i < src->n; i++)
		*ARRAY_PUSH(dst->items, dst->n, dst->cap) = src->items[i];
	dst->errors += src->errors;
	dst->warnings += src->warnings;
	dst->commits += src->commits;
	dst->files += src->files;
	dst->skipped += src->skipped;
	src->n = src->errors = src->warnings = src->commits = src->files = src->skipped = 0;
}

void findings_free(struct findings *list)
{
	for (size_t i = 0; i < list->n; i++) {
		struct finding *f = &list->items[i];
		free(f->rule);
		free(f->commit);
		free(f->subject);
		free(f->path);
		free(f->match);
		free(f->message);
		free(f->hint);
	}
	free(list->items);
	for (size_t i = 0; i < list->nskip; i++)
		free(list->skip[i]);
	free(list->skip);
	memset(list, 0, sizeof(*list));
}

const char *findings_rule_description(const char *rule)
{
	static const char *const known[][2] = {
	    {RULE_ISOLATION, "A commit changes more than one deploy unit"},
	    {RULE_VERSION_BUMP, "A shared package changed without raising its version"},
	    {"debug-code", "Debug code in an added line"},
	    {RULE_FORBIDDEN_PATH, "A file that must never be committed"},
	    {"secret", "What looks like a secret in an added line"},
	    {RULE_PROTECTED_BRANCH, "A force push to, or the deletion of, a protected branch"},
	    {RULE_NON_COMMIT_REF,
	     "A ref that points at a blob or a tree, whose content is not checked"},
	    {RULE_DEPLOY_REF, "A deploy ref that names no environment, or a commit off the "
			      "deploy branch"},
	    {RULE_SERVER_REF, "A push to a ref only the server writes (" GITGATE_REF_PREFIX ")"},
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(known[i][0], rule))
			return known[i][1];
	return NULL;
}
