/*
 * mask: secret values hidden as "***" in text gitgate shows, logs, records
 * or sends.
 *
 * A mask is a set of values (a target's env file values, or any other
 * source of variables: each adds to the same set). Every byte of the text
 * that lies inside an occurrence of some value is covered, and each run of
 * covered bytes becomes one "***": a value that contains another, or two
 * that overlap, are hidden whole, whatever their order. Matching is plain
 * bytes (no pattern syntax: ".*" is two characters), binary included, and
 * each value is also matched in the form escape_bytes shows it.
 *
 * A value shorter than MASK_MIN bytes is not masked: hiding "1" or "yes"
 * would wreck every line and hide nothing worth hiding.
 *
 * The stream variant masks text that arrives in pieces (a command's output
 * read as it runs): it holds back at most (longest value - 1) bytes, and
 * only while they could still be the start of a value, so a value split
 * across two reads is masked, and the result is the same as masking the
 * whole text at once.
 */
#ifndef GITGATE_MASK_H
#define GITGATE_MASK_H

#include <stddef.h>

#include "buf.h"

#define MASK_MIN 4
#define MASK_SHOWN "***"

struct mask_value {
	char *data;
	size_t len;
};

struct mask {
	struct mask_value *items; /* longest first */
	size_t n, cap;
	unsigned char first[32]; /* a bit for each byte some value starts with */
};

#define MASK_INIT                                                                                  \
	{                                                                                          \
		NULL, 0, 0,                                                                        \
		{                                                                                  \
			0                                                                          \
		}                                                                                  \
	}

/* Adds a value (len bytes, which may be any bytes): ignored when shorter
 * than MASK_MIN or known already. */
void mask_add(struct mask *m, const char *value, size_t len);
/* Adds the value of each "NAME=value" item, as an environment holds them. */
void mask_add_assignments(struct mask *m, const char *const *items, size_t n);
void mask_free(struct mask *m);

/* Appends text to out, masked. */
void mask_text(const struct mask *m, const char *text, size_t len, struct buf *out);
/* Masks b in place. */
void mask_buf(const struct mask *m, struct buf *b);
/* A masked copy of s (NUL-terminated), to free; NULL for NULL. */
char *mask_string(const struct mask *m, const char *s);

struct mask_stream {
	const struct mask *mask;
	struct buf held; /* bytes not decided yet: they may start a value */
	size_t covered;	 /* held's bytes up to here are inside a value */
	int in_run;	 /* the last byte written was covered: its "***" is out */
};

void mask_stream_init(struct mask_stream *s, const struct mask *m);
/* Appends to out what of the text so far is decided, masked. */
void mask_stream_add(struct mask_stream *s, const char *data, size_t len, struct buf *out);
/* Appends the rest to out, masked, and frees what s holds. */
void mask_stream_end(struct mask_stream *s, struct buf *out);

#endif
