/*
 * buf: a growable byte buffer, always NUL-terminated, and the allocation
 * helpers the rest of gitgate uses.
 *
 * Allocation failure is not recoverable in a short-lived hook, so the x*
 * helpers abort with a message instead of making every caller check.
 */
#ifndef GITGATE_BUF_H
#define GITGATE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                                                   \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Grows *items (of item_size each) so that index `need - 1` is valid. */
void grow_array(void **items, size_t *cap, size_t need, size_t item_size);
#define ARRAY_PUSH(arr, n, cap)                                                                    \
	(grow_array((void **)&(arr), &(cap), (n) + 1, sizeof(*(arr))), &(arr)[(n)++])

void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_clear(struct buf *b);
/* Hands over the string (never NULL) and leaves b empty. */
char *buf_detach(struct buf *b);
void buf_free(struct buf *b);
/* Reads one record (up to and including delim) into b, replacing its
 * content. Returns 0 at end of file with nothing read, 1 otherwise. */
int buf_getline(struct buf *b, FILE *in, int delim);
/* Reads one line into b without its "\n", as hooks read git's input. */
int buf_read_line(struct buf *b, FILE *in);
/* Reads a whole file; returns -1 with errno set on failure. */
int buf_read_file(struct buf *b, const char *path);

#endif
