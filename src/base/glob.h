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

struct globlist {
	struct glob *items;
	size_t n, cap;
};

/* Returns 0, or -1 with *why set to a static description of the problem. */
int glob_compile(struct glob *g, const char *pattern, const char **why);
void glob_free(struct glob *g);
/* Does the pattern match this path (a file path, relative to the top)? */
int glob_match(const struct glob *g, const char *path);

/* Adds one pattern; returns -1 with *why set when it is malformed. */
int globlist_add(struct globlist *list, const char *pattern, const char **why);
/* The last pattern that matches decides; "!" patterns re-include. Returns
 * the deciding pattern, or NULL when the path is not matched. */
const struct glob *globlist_match(const struct globlist *list, const char *path);
void globlist_free(struct globlist *list);

#endif
