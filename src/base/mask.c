/*
 * mask: see mask.h. A set holds a few dozen values at most (an env file's),
 * so each position is tried against each value that starts with its byte;
 * no automaton is worth its code here.
 */
#include "mask.h"

#include <stdlib.h>
#include <string.h>

#include "escape.h"

static int known(const struct mask *m, const char *value, size_t len)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->items[i].len == len && !memcmp(m->items[i].data, value, len))
			return 1;
	return 0;
}

static void add_one(struct mask *m, const char *value, size_t len)
{
	if (len < MASK_MIN || known(m, value, len))
		return;
	(void)ARRAY_PUSH(m->items, m->n, m->cap);
	/* Longest first: the first value that matches at a place is the
	 * longest there. */
	size_t at = m->n - 1;
	while (at > 0 && m->items[at - 1].len < len) {
		m->items[at] = m->items[at - 1];
		at--;
	}
	m->items[at] = (struct mask_value){xstrndup(value, len), len};
	unsigned char c = (unsigned char)value[0];
	m->first[c / 8] |= (unsigned char)(1u << (c % 8));
}

void mask_add(struct mask *m, const char *value, size_t len)
{
	/* A short value's escaped form may be longer: it stays unmasked too. */
	if (len < MASK_MIN)
		return;
	add_one(m, value, len);
	/* Details and health checks are shown escaped: the value as it
	 * appears there. */
	struct buf shown = BUF_INIT;
	escape_bytes(&shown, value, len);
	if (shown.len != len || memcmp(shown.data, value, len))
		add_one(m, shown.data, shown.len);
	buf_free(&shown);
}

void mask_add_assignments(struct mask *m, const char *const *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(items[i], '=');
		if (eq)
			mask_add(m, eq + 1, strlen(eq + 1));
	}
}

void mask_free(struct mask *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->items[i].data);
	free(m->items);
	*m = (struct mask)MASK_INIT;
}

/* The length of the longest value at data (avail bytes there), 0 for none,
 * or -1 when that cannot be told yet: the bytes there are the start of a
 * longer value and more may come (not when final). */
static long match_at(const struct mask *m, const unsigned char *data, size_t avail, int final)
{
	if (!(m->first[data[0] / 8] & (1u << (data[0] % 8))))
		return 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct mask_value *v = &m->items[i];
		if (v->len > avail) {
			if (!final && !memcmp(v->data, data, avail))
				return -1;
		} else if (!memcmp(v->data, data, v->len)) {
			return (long)v->len;
		}
	}
	return 0;
}

/* Masks what of held is decided (all of it when final) into out, and keeps
 * the rest. */
static void settle(struct mask_stream *s, struct buf *out, int final)
{
	const unsigned char *data = (const unsigned char *)s->held.data;
	size_t len = s->held.len, i = 0;
	for (; i < len; i++) {
		long found = match_at(s->mask, data + i, len - i, final);
		if (found < 0)
			break;
		if (i + (size_t)found > s->covered)
			s->covered = i + (size_t)found;
		if (i < s->covered) {
			if (!s->in_run)
				buf_adds(out, MASK_SHOWN);
			s->in_run = 1;
		} else {
			s->in_run = 0;
			buf_addc(out, (char)data[i]);
		}
	}
	s->covered = s->covered > i ? s->covered - i : 0;
	if (!s->held.data)
		return;
	memmove(s->held.data, s->held.data + i, len - i);
	s->held.len = len - i;
	s->held.data[s->held.len] = '\0';
}

void mask_stream_init(struct mask_stream *s, const struct mask *m)
{
	*s = (struct mask_stream){.mask = m, .held = BUF_INIT};
}

void mask_stream_add(struct mask_stream *s, const char *data, size_t len, struct buf *out)
{
	if (!len)
		return;
	buf_add(&s->held, data, len);
	settle(s, out, 0);
}

void mask_stream_end(struct mask_stream *s, struct buf *out)
{
	settle(s, out, 1);
	buf_free(&s->held);
}

void mask_text(const struct mask *m, const char *text, size_t len, struct buf *out)
{
	struct mask_stream s;
	mask_stream_init(&s, m);
	mask_stream_add(&s, text, len, out);
	mask_stream_end(&s, out);
}

void mask_buf(const struct mask *m, struct buf *b)
{
	if (!m->n || !b->len)
		return;
	struct buf masked = BUF_INIT;
	mask_text(m, b->data, b->len, &masked);
	buf_free(b);
	*b = masked;
}

char *mask_string(const struct mask *m, const char *s)
{
	if (!s)
		return NULL;
	struct buf masked = BUF_INIT;
	mask_text(m, s, strlen(s), &masked);
	return buf_detach(&masked);
}
