/*
 * hashset: a set of 64-bit keys (line hashes, abbreviated object ids),
 * open addressing, for membership tests on hot paths. A line is known by
 * its 64-bit hash alone; a collision would take a new line for an old one
 * with a chance of about one in 2^64 per pair.
 */
#ifndef GITGATE_HASHSET_H
#define GITGATE_HASHSET_H

#include <stddef.h>
#include <stdint.h>

struct hashset {
	uint64_t *slots; /* 0 marks an empty slot; keys are never 0 */
	size_t cap, n;
};

void hashset_add(struct hashset *set, uint64_t key);
int hashset_has(const struct hashset *set, uint64_t key);
void hashset_clear(struct hashset *set);
void hashset_free(struct hashset *set);
/* FNV-1a of the bytes, never 0. */
uint64_t hashset_key(const void *data, size_t len);
/* A text's lines as keys (line ends, LF or CRLF, are not part of a line):
 * what a merge's other parents already hold. */
void hashset_add_lines(struct hashset *set, const char *text, size_t len);
int hashset_has_line(const struct hashset *set, const char *line, size_t len);

#endif
