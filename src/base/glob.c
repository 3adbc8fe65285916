/*
 * glob: gitignore-style matching. See glob.h.
 *
 * The matcher is a small backtracking wildcard engine: "*" and "?" stop at
 * "/", "**" between slashes spans whole directories. Patterns come from the
 * repository owner's configuration, but paths come from pushes: like git's
 * wildmatch, it gives up on a star as soon as no longer match of it can
 * help (see enum wild), so the work grows with the path's length times the
 * pattern's, not exponentially with the number of stars.
 */
#include "glob.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hashset.h"

/* One character of a bracket expression, "\\" escaping the next; NULL at
 * the end of the pattern. */
static const char *bracket_char(const char *p, unsigned char *c)
{
	if (*p == '\\')
		p++;
	if (!*p)
		return NULL;
	*c = (unsigned char)*p;
	return p + 1;
}

/* The one grammar of "[...]", for the syntax check and the matcher alike,
 * so that neither reads past what the other accepted: "!" or "^" first
 * negates, a "]" first is literal, "\\" escapes, "a-z" is a range. Returns
 * the closing "]", or NULL when there is none; *hit says whether c is in the
 * set (never "/", which only a literal slash matches). */
static const char *bracket_scan(const char *open, char c, int *hit)
{
	const char *p = open + 1;
	int negate = *p == '!' || *p == '^', in = 0;
	if (negate)
		p++;
	for (int first = 1; first || *p != ']'; first = 0) {
		unsigned char lo, hi;
		p = bracket_char(p, &lo);
		if (!p)
			return NULL;
		hi = lo;
		if (p[0] == '-' && p[1] && p[1] != ']' && !(p = bracket_char(p + 1, &hi)))
			return NULL;
		if ((unsigned char)c >= lo && (unsigned char)c <= hi)
			in = 1;
	}
	*hit = c != '/' && in != negate;
	return p;
}

/* What wildmatch found. The two aborts say that no enclosing star can do
 * better by taking more of the path, so it stops instead of trying: the
 * path ran out under the pattern (no star can help), or a single "*" reached
 * a "/" it cannot cross (only an enclosing "**" can help, by starting the
 * rest in a later folder). Without them, every star retried every position
 * of every star after it, which is exponential in the number of stars. */
enum wild { WILD_NOMATCH, WILD_MATCH, WILD_ABORT_ALL, WILD_ABORT_TO_DOUBLESTAR };

static enum wild wildmatch(const char *start, const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (!*s && *p != '*')
			return WILD_ABORT_ALL;
		switch (*p) {
		case '?':
			if (*s == '/')
				return WILD_NOMATCH;
			break;
		case '[': {
			int hit = 0;
			p = bracket_scan(p, *s, &hit);
			if (!p || !hit)
				return WILD_NOMATCH;
			break;
		}
		case '*':
			if (p[1] == '*' && (p == start || p[-1] == '/') &&
			    (p[2] == '/' || p[2] == '\0')) {
				if (p[2] == '\0')
					return WILD_MATCH;
				const char *rest = p + 3;
				for (const char *t = s;;) {
					enum wild w = wildmatch(start, rest, t);
					if (w == WILD_MATCH || w == WILD_ABORT_ALL)
						return w;
					t = strchr(t, '/');
					if (!t)
						return WILD_ABORT_ALL;
					t++;
				}
			}
			while (p[1] == '*')
				p++;
			for (const char *t = s;; t++) {
				enum wild w = wildmatch(start, p + 1, t);
				if (w != WILD_NOMATCH)
					return w;
				if (!*t)
					return WILD_ABORT_ALL;
				if (*t == '/')
					return WILD_ABORT_TO_DOUBLESTAR;
			}
		case '\\':
			p++;
			/* fall through */
		default:
			if (*p != *s)
				return WILD_NOMATCH;
		}
	}
	return *s ? WILD_NOMATCH : WILD_MATCH;
}

static const char *check_syntax(const char *body)
{
	if (!*body)
		return "empty pattern";
	for (const char *p = body; *p; p++) {
		if (*p == '\\') {
			if (!p[1])
				return "pattern ends with a lone backslash";
			p++;
		} else if (*p == '[') {
			int hit;
			p = bracket_scan(p, '\0', &hit);
			if (!p)
				return "unclosed '[' in pattern";
		}
	}
	return NULL;
}

int glob_compile(struct glob *g, const char *pattern, const char **why)
{
	memset(g, 0, sizeof(*g));
	const char *p = pattern;
	if (*p == '!') {
		g->negated = 1;
		p++;
	}
	if (*p == '/') {
		g->anchored = 1;
		p++;
	}
	size_t len = strlen(p);
	if (len && p[len - 1] == '/') {
		g->dir_only = 1;
		len--;
	}
	char *body = xstrndup(p, len);
	if (strchr(body, '/'))
		g->anchored = 1;
	const char *problem = check_syntax(body);
	if (problem) {
		free(body);
		*why = problem;
		return -1;
	}
	g->text = xstrdup(pattern);
	g->body = body;
	return 0;
}

void glob_free(struct glob *g)
{
	free(g->text);
	free(g->body);
	memset(g, 0, sizeof(*g));
}

static int match_candidate(const struct glob *g, const char *path, size_t len)
{
	char stack[512];
	char *candidate = len < sizeof(stack) ? stack : xmalloc(len + 1);
	memcpy(candidate, path, len);
	candidate[len] = '\0';
	const char *subject = candidate;
	if (!g->anchored) {
		const char *slash = strrchr(candidate, '/');
		if (slash)
			subject = slash + 1;
	}
	int hit = wildmatch(g->body, g->body, subject) == WILD_MATCH;
	if (candidate != stack)
		free(candidate);
	return hit;
}

int glob_match_one(const struct glob *g, const char *path, size_t len, int dir)
{
	return (dir || !g->dir_only) && match_candidate(g, path, len);
}

int glob_match(const struct glob *g, const char *path)
{
	/* Every leading directory of the path is a candidate, as in .gitignore. */
	for (const char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/'))
		if (match_candidate(g, path, (size_t)(slash - path)))
			return 1;
	return !g->dir_only && match_candidate(g, path, strlen(path));
}

/* ---- A list's table ------------------------------------------------------
 *
 * What a pattern of the table matches, by the kind of its key: a name (a
 * folder's or the file's own) equal to it, a whole path (a folder or the
 * file) equal to it, or a name ending in it. The _DIR kinds match folders
 * only (a pattern with a trailing slash). The table holds, for each kind
 * and key, the last pattern of the list with them: the one that decides
 * among them.
 */
enum { KEY_NAME, KEY_NAME_DIR, KEY_PATH, KEY_PATH_DIR, KEY_END, KEY_END_DIR };

static int literal(const char *s)
{
	return !strpbrk(s, "*?[\\");
}

/* The table's kind and key for g, or -1 when g is tried one by one. */
static int table_kind(const struct glob *g, const char **key)
{
	const char *body = g->body;
	*key = body;
	if (literal(body))
		return (g->anchored ? KEY_PATH : KEY_NAME) + g->dir_only;
	/* "*.log": a name's ending (never "/": an unanchored body has none). */
	if (!g->anchored && body[0] == '*' && body[1] && literal(body + 1)) {
		*key = body + 1;
		return KEY_END + g->dir_only;
	}
	return -1;
}

static uint64_t entry_hash(unsigned kind, const char *key, size_t len)
{
	return hashset_key(key, len) * 31 + kind;
}

/* The slot of kind and key: the entry that holds them, or the empty slot
 * where they go. The table is never full (see table_grow). */
static struct glob_entry *table_slot(const struct globlist *list, unsigned kind, const char *key,
				     size_t len)
{
	size_t mask = list->table_cap - 1;
	for (size_t i = entry_hash(kind, key, len) & mask;; i = (i + 1) & mask) {
		struct glob_entry *e = &list->table[i];
		if (!e->key || (e->kind == kind && e->len == len && !memcmp(e->key, key, len)))
			return e;
	}
}

static void table_put(struct globlist *list, unsigned kind, const char *key, size_t index)
{
	size_t len = strlen(key);
	struct glob_entry *e = table_slot(list, kind, key, len);
	if (!e->key)
		list->table_n++;
	*e = (struct glob_entry){.key = key, .len = len, .kind = kind, .index = index};
}

/* Keeps the table at most half full, a power of two. */
static void table_grow(struct globlist *list)
{
	if (2 * (list->table_n + 1) <= list->table_cap)
		return;
	struct glob_entry *old = list->table;
	size_t old_cap = list->table_cap;
	list->table_cap = old_cap ? 2 * old_cap : 16;
	list->table = xcalloc(list->table_cap, sizeof(*list->table));
	list->table_n = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			table_put(list, old[i].kind, old[i].key, old[i].index);
	free(old);
}

int globlist_add(struct globlist *list, const char *pattern, const char **why)
{
	struct glob g;
	if (glob_compile(&g, pattern, why) < 0)
		return -1;
	/* The table's keys point into the bodies, which never move. */
	size_t index = list->n;
	*ARRAY_PUSH(list->items, list->n, list->cap) = g;
	const char *key;
	int kind = table_kind(&list->items[index], &key);
	if (kind < 0) {
		*ARRAY_PUSH(list->others, list->nothers, list->cap_others) = index;
	} else {
		table_grow(list);
		table_put(list, (unsigned)kind, key, index);
	}
	return 0;
}

/* The last pattern of kind and key, raised into *best. */
static void table_find(const struct globlist *list, unsigned kind, const char *key, size_t len,
		       size_t *best)
{
	if (!list->table_cap)
		return;
	const struct glob_entry *e = table_slot(list, kind, key, len);
	if (e->key && (*best == SIZE_MAX || e->index > *best))
		*best = e->index;
}

/* The table's patterns that match one candidate of the path: a folder
 * (path[0..len), dir) or the path itself. name is its last name. */
static void table_candidate(const struct globlist *list, const char *path, size_t len,
			    const char *name, int dir, size_t *best)
{
	size_t name_len = (size_t)(path + len - name);
	table_find(list, KEY_NAME, name, name_len, best);
	table_find(list, KEY_PATH, path, len, best);
	for (size_t k = 0; k < name_len; k++)
		table_find(list, KEY_END, name + k, name_len - k, best);
	if (!dir)
		return;
	table_find(list, KEY_NAME_DIR, name, name_len, best);
	table_find(list, KEY_PATH_DIR, path, len, best);
	for (size_t k = 0; k < name_len; k++)
		table_find(list, KEY_END_DIR, name + k, name_len - k, best);
}

/* The last pattern that matches path[0..len) itself (a folder when dir),
 * or SIZE_MAX: the table's, then the others, last first, while they could
 * still decide. name is the candidate's last name. */
static size_t decide(const struct globlist *list, const char *path, size_t len, const char *name,
		     int dir)
{
	size_t best = SIZE_MAX;
	table_candidate(list, path, len, name, dir, &best);
	for (size_t i = list->nothers; i-- > 0;) {
		size_t index = list->others[i];
		if (best != SIZE_MAX && index < best)
			break;
		if (glob_match_one(&list->items[index], path, len, dir)) {
			best = index;
			break;
		}
	}
	return best;
}

const struct glob *globlist_match(const struct globlist *list, const char *path)
{
	/* Each folder on the way down, then the path: a folder that is
	 * matched holds everything below it, as git does not look inside it. */
	const char *name = path;
	for (const char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
		size_t best = decide(list, path, (size_t)(slash - path), name, 1);
		if (best != SIZE_MAX && !list->items[best].negated)
			return &list->items[best];
		name = slash + 1;
	}
	size_t best = decide(list, path, strlen(path), name, 0);
	if (best == SIZE_MAX || list->items[best].negated)
		return NULL;
	return &list->items[best];
}

void globlist_free(struct globlist *list)
{
	for (size_t i = 0; i < list->n; i++)
		glob_free(&list->items[i]);
	free(list->items);
	free(list->table);
	free(list->others);
	memset(list, 0, sizeof(*list));
}
