/*
 * glob: gitignore-style path patterns, as rules.ini and .deployignore use.
 *
 * A pattern without a slash matches a name at any depth ("*.log"); one with
 * a slash is anchored at the top ("argo/config.json", "/backups/"); a
 * trailing slash matches directories only ("node_modules/"); "**" crosses
 * directories; "!" re-includes. A pattern that matches a directory matches
 * every path below it, as in .gitignore. "[abc]", "[a-z]" and "[!a]" match
 * one character (never "/"); "\" escapes the next character, inside
 * brackets too.
 *
 * A list of patterns is matched in time that does not grow with its length
 * for the patterns people write most: a name or path without wildcards
 * ("node_modules/", "argo/config.json") and a name's ending ("*.log") are
 * found in a table by each of the path's names, folders and endings; only
 * the other patterns are tried one by one, and only those that could still
 * decide (later in the list than what the table found).
 */
#ifndef GITGATE_GLOB_H
#define GITGATE_GLOB_H

#include <stddef.h>

struct glob {
	char *text; /* as written, for messages */
	char *body; /* what is matched: no leading "/", "!" or trailing "/" */
	int negated;
	int anchored;
	int dir_only;
};

/* A pattern in globlist's table: its kind and key (within the pattern's
 * body), and the last pattern of the list with that kind and key. */
struct glob_entry {
	const char *key;
	size_t len;
	unsigned kind;
	size_t index;
};

struct globlist {
	struct glob *items;
	size_t n, cap;
	struct glob_entry *table; /* open addressing; NULL key: empty */
	size_t table_cap, table_n;
	size_t *others; /* the indexes of the patterns tried one by one, ascending */
	size_t nothers, cap_others;
};

/* Returns 0, or -1 with *why set to a static description of the problem. */
int glob_compile(struct glob *g, const char *pattern, const char **why);
void glob_free(struct glob *g);
/* Does the pattern match this path (a file path, relative to the top), or
 * one of its folders? */
int glob_match(const struct glob *g, const char *path);
/* Does the pattern match path[0..len) itself, a folder when dir, not
 * counting the folders above it? */
int glob_match_one(const struct glob *g, const char *path, size_t len, int dir);

/* Adds one pattern; returns -1 with *why set when it is malformed. */
int globlist_add(struct globlist *list, const char *pattern, const char **why);
/* As git decides: each folder of the path from the top, then the path
 * itself, is decided by the last pattern that matches it; "!" patterns
 * re-include, but nothing below a folder that is matched can be re-included
 * ("build/" then "!build/keep.txt" keeps build/keep.txt matched). Returns
 * the deciding pattern, or NULL when the path is not matched. */
const struct glob *globlist_match(const struct globlist *list, const char *path);
void globlist_free(struct globlist *list);

#endif
