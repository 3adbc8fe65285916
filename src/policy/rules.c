/*
 * rules: the questions checks ask of a loaded policy. See rules.h; loading
 * is in rules_load.c.
 *
 * Every answer is a walk over a few entries written by hand in rules.ini,
 * so plain loops are fast enough and keep the answers obviously right.
 */
#include "rules.h"

#include <string.h>

const struct project *rules_project_of(const struct rules *r, const char *path)
{
	for (size_t i = 0; i < r->nprojects; i++)
		if (!strncmp(path, r->projects[i].path, strlen(r->projects[i].path)))
			return &r->projects[i];
	return NULL;
}

int rules_is_shared(const struct rules *r, const char *path)
{
	return r->shared_path && !strncmp(path, r->shared_path, strlen(r->shared_path));
}

int strlist_has(const struct strlist *list, const char *s)
{
	for (size_t i = 0; s && i < list->n; i++)
		if (!strcmp(list->items[i], s))
			return 1;
	return 0;
}

int strlist_has_user(const struct strlist *list, const char *user)
{
	return !identity_is_key(user) && strlist_has(list, user);
}

void strlist_add(struct strlist *list, const char *s)
{
	*ARRAY_PUSH(list->items, list->n, list->cap) = xstrdup(s);
}

const struct unit *rules_find_unit(const struct rules *r, const char *name)
{
	for (size_t i = 0; i < r->nunits; i++)
		if (!strcmp(r->units[i].name, name) || strlist_has(&r->units[i].aliases, name))
			return &r->units[i];
	return NULL;
}

const struct project *rules_find_project(const struct rules *r, const char *name)
{
	for (size_t i = 0; i < r->nprojects; i++)
		if (!strcmp(r->projects[i].name, name))
			return &r->projects[i];
	return NULL;
}

int rules_ref_is_protected(const struct rules *r, const char *ref)
{
	return strlist_has(&r->push.protected_refs, ref);
}

int rules_user_may_bypass(const struct rules *r, const char *user)
{
	return strlist_has_user(&r->push.bypass_users, user);
}
