/*
 * changes: see changes.h.
 */
#include "changes.h"

#include <stdlib.h>
#include <string.h>

struct file_change *changeset_add(struct changeset *cs)
{
	struct file_change *fc = ARRAY_PUSH(cs->items, cs->n, cs->cap);
	memset(fc, 0, sizeof(*fc));
	return fc;
}

void changeset_free(struct changeset *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->items[i].old_oid);
		free(cs->items[i].new_oid);
		free(cs->items[i].old_path);
		free(cs->items[i].path);
	}
	free(cs->items);
	memset(cs, 0, sizeof(*cs));
}

int mode_is_regular_file(unsigned mode)
{
	return (mode & 0170000) == 0100000;
}

int change_has_new_side(const struct file_change *change)
{
	return change->status != 'D';
}

const struct file_change *changeset_find(const struct changeset *cs, const char *path)
{
	for (size_t i = 0; i < cs->n; i++)
		if (!strcmp(cs->items[i].path, path))
			return &cs->items[i];
	return NULL;
}
