/*
 * hashset: see hashset.h.
 */
#include "hashset.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define FIRST_CAP 1024

uint64_t hashset_key(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ? h : 1;
}

void hashset_add(struct hashset *set, uint64_t key)
{
	if ((set->n + 1) * 2 > set->cap) {
		struct hashset bigger = {
		    xcalloc(set->cap ? set->cap * 2 : FIRST_CAP, sizeof(uint64_t)),
		    set->cap ? set->cap * 2 : FIRST_CAP, 0};
		for (size_t i = 0; i < set->cap; i++)
			if (set->slots[i])
				hashset_add(&bigger, set->slots[i]);
		free(set->slots);
		*set = bigger;
	}
	size_t i = key & (set->cap - 1);
	while (set->slots[i] && set->slots[i] != key)
		i = (i + 1) & (set->cap - 1);
	if (!set->slots[i]) {
		set->slots[i] = key;
		set->n++;
	}
}

int hashset_has(const struct hashset *set, uint64_t key)
{
	if (!set->cap)
		return 0;
	size_t i = key & (set->cap - 1);
	while (set->slots[i]) {
		if (set->slots[i] == key)
			return 1;
		i = (i + 1) & (set->cap - 1);
	}
	return 0;
}

void hashset_clear(struct hashset *set)
{
	if (set->cap)
		memset(set->slots, 0, set->cap * sizeof(uint64_t));
	set->n = 0;
}

void hashset_free(struct hashset *set)
{
	free(set->slots);
	memset(set, 0, sizeof(*set));
}

static size_t without_line_end(const char *text, size_t len)
{
	if (len && text[len - 1] == '\n')
		len--;
	if (len && text[len - 1] == '\r')
		len--;
	return len;
}

void hashset_add_lines(struct hashset *set, const char *text, size_t len)
{
	const char *end = text + len;
	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = nl ? (size_t)(nl - text + 1) : (size_t)(end - text);
		hashset_add(set, hashset_key(text, without_line_end(text, n)));
		text += n;
	}
}

int hashset_has_line(const struct hashset *set, const char *line, size_t len)
{
	return hashset_has(set, hashset_key(line, without_line_end(line, len)));
}
