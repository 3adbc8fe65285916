/*
 * buf: growable buffers and allocation helpers. See buf.h.
 */
#include "buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static void out_of_memory(size_t size)
{
	fprintf(stderr, "gitgate: fatal: out of memory allocating %zu bytes\n", size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		out_of_memory(size);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		out_of_memory(count * size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (!p)
		out_of_memory(size);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void grow_array(void **items, size_t *cap, size_t need, size_t item_size)
{
	if (need <= *cap)
		return;
	size_t next = *cap ? *cap * 2 : 8;
	while (next < need)
		next *= 2;
	if (next > SIZE_MAX / item_size)
		out_of_memory(SIZE_MAX);
	*items = xrealloc(*items, next * item_size);
	*cap = next;
}

void buf_reserve(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t next = b->cap ? b->cap * 2 : 64;
	while (next < b->len + extra + 1)
		next *= 2;
	b->data = xrealloc(b->data, next);
	b->cap = next;
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int need = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (need < 0)
		return;
	buf_reserve(b, (size_t)need);
	vsnprintf(b->data + b->len, (size_t)need + 1, fmt, ap);
	b->len += (size_t)need;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_clear(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *buf_detach(struct buf *b)
{
	char *s = b->data ? b->data : xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int buf_getline(struct buf *b, FILE *in, int delim)
{
	ssize_t n = getdelim(&b->data, &b->cap, delim, in);
	if (n < 0) {
		buf_clear(b);
		return 0;
	}
	b->len = (size_t)n;
	return 1;
}

int buf_read_line(struct buf *b, FILE *in)
{
	if (!buf_getline(b, in, '\n'))
		return 0;
	if (b->data[b->len - 1] == '\n')
		b->data[--b->len] = '\0';
	return 1;
}

int buf_read_file(struct buf *b, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(b, chunk, n);
	int failed = ferror(f);
	int saved = errno;
	fclose(f);
	if (failed) {
		errno = saved;
		return -1;
	}
	buf_reserve(b, 0);
	b->data[b->len] = '\0';
	return 0;
}
