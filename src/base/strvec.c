/*
 * strvec: see strvec.h.
 */
#include "strvec.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void strvec_push_owned(struct strvec *sv, char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? 2 * sv->cap : 8;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void strvec_push(struct strvec *sv, const char *s)
{
	strvec_push_owned(sv, xstrdup(s));
}

void strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	strvec_push_owned(sv, b.data ? buf_detach(&b) : xstrdup(""));
}

void strvec_push_all(struct strvec *sv, const char *const *words)
{
	for (; words && *words; words++)
		strvec_push(sv, *words);
}

char **strvec_detach(struct strvec *sv)
{
	char **v = sv->v ? sv->v : xcalloc(1, sizeof(*v));
	*sv = (struct strvec)STRVEC_INIT;
	return v;
}

void strvec_clear(struct strvec *sv)
{
	strvec_free(sv->v);
	*sv = (struct strvec)STRVEC_INIT;
}

void strvec_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
