/*
 * glob: gitignore-style matching. See glob.h.
 *
 * The matcher is a small backtracking wildcard engine: "*" and "?" stop at
 * "/", "**" between slashes spans whole directories. Patterns come from the
 * repository owner's configuration, not from pushed content, and are short,
 * so backtracking cost is bounded in practice.
 */
#include "glob.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

static int match_bracket(const char **pp, char c)
{
	const char *p = *pp + 1;
	int negate = 0, matched = 0;
	if (*p == '!' || *p == '^') {
		negate = 1;
		p++;
	}
	int first = 1;
	while (*p && (first || *p != ']')) {
		char lo = *p;
		if (lo == '\\' && p[1])
			lo = *++p;
		char hi = lo;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			hi = p[2];
			if (hi == '\\' && p[3])
				hi = p[3], p++;
			p += 2;
		}
		if (c >= lo && c <= hi)
			matched = 1;
		p++;
		first = 0;
	}
	*pp = p; /* at the closing ']' */
	return c != '/' && matched != negate;
}

static int wildmatch(const char *start, const char *p, const char *s)
{
	for (; *p; p++, s++) {
		switch (*p) {
		case '?':
			if (!*s || *s == '/')
				return 0;
			break;
		case '[':
			if (!*s || !match_bracket(&p, *s))
				return 0;
			break;
		case '*':
			if (p[1] == '*' && (p == start || p[-1] == '/') &&
			    (p[2] == '/' || p[2] == '\0')) {
				if (p[2] == '\0')
					return 1;
				const char *rest = p + 3;
				for (const char *t = s;;) {
					if (wildmatch(start, rest, t))
						return 1;
					t = strchr(t, '/');
					if (!t)
						return 0;
					t++;
				}
			}
			while (p[1] == '*')
				p++;
			for (const char *t = s;; t++) {
				if (wildmatch(start, p + 1, t))
					return 1;
				if (!*t || *t == '/')
					return 0;
			}
		case '\\':
			p++;
			/* fall through */
		default:
			if (*p != *s)
				return 0;
		}
	}
	return *s == '\0';
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
			const char *q = p + 1;
			if (*q == '!' || *q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q && *q != ']')
				q++;
			if (!*q)
				return "unclosed '[' in pattern";
			p = q;
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
	int hit = wildmatch(g->body, g->body, subject);
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
