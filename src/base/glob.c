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

#include <stdlib.h>
#include <string.h>

#include "buf.h"

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

int glob_match(const struct glob *g, const char *path)
{
	/* Every leading directory of the path is a candidate, as in .gitignore. */
	for (const char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/'))
		if (match_candidate(g, path, (size_t)(slash - path)))
			return 1;
	return !g->dir_only && match_candidate(g, path, strlen(path));
}

int globlist_add(struct globlist *list, const char *pattern, const char **why)
{
	struct glob g;
	if (glob_compile(&g, pattern, why) < 0)
		return -1;
	*ARRAY_PUSH(list->items, list->n, list->cap) = g;
	return 0;
}

const struct glob *globlist_match(const struct globlist *list, const char *path)
{
	for (size_t i = list->n; i-- > 0;)
		if (glob_match(&list->items[i], path))
			return list->items[i].negated ? NULL : &list->items[i];
	return NULL;
}

void globlist_free(struct globlist *list)
{
	for (size_t i = 0; i < list->n; i++)
		glob_free(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}
