/*
 * confirmation_doc: the health confirmation report laid out as tables of
 * plain text, which each format frames (confirmation_render.c for text,
 * Markdown and JSON, confirmation_html.c for the page). Private to those
 * two files.
 */
#ifndef GITGATE_CONFIRMATION_DOC_H
#define GITGATE_CONFIRMATION_DOC_H

#include "buf.h"
#include "confirmation.h"

#define DOC_COLUMNS_MAX 8

/* What a column shows of each item of the records (a gate, a check, a
 * step, a sign-off): the text, number or "ok"/"failed" at its key, a
 * percent, the share of "errors" in "requests", a gate's number (or
 * "step"), a person and where the name came from (key and key_source). */
enum doc_column_kind {
	COLUMN_TEXT,
	COLUMN_NUMBER,
	COLUMN_OK,
	COLUMN_PERCENT,
	COLUMN_SHARE,
	COLUMN_GATE,
	COLUMN_WHO
};
struct doc_column {
	const char *head, *key;
	enum doc_column_kind kind;
	const char *none; /* a text column's word for no text ("": none) */
};

/* Cells row after row, ncols a row; each is text from a record as
 * doc_text shows it (no control character), and nothing more. */
struct doc_table {
	const char *title; /* NULL: the facts, shown without a head */
	const struct doc_column *columns;
	size_t ncols;
	struct buf *cells;
	size_t ncells, cap;
};

struct report_doc {
	struct buf title;
	struct doc_table facts; /* what, value */
	struct doc_table gates, health, canary, watch, signoffs;
	int confirmed;
};

void doc_build(struct report_doc *d, const struct confirmation *c);
void doc_free(struct report_doc *d);
/* A new cell at the end of t, to write into. */
struct buf *doc_cell(struct doc_table *t);
size_t doc_rows(const struct doc_table *t);
const char *doc_at(const struct doc_table *t, size_t row, size_t col);

/* Text from a record as a person reads it: control characters and bytes
 * that are not UTF-8 escaped as escape.h shows them, a backslash left as
 * it is. gitgate's records hold text escaped already: its "\n" stands for
 * a line break of a command's output, which doc_lines shows as one. */
void doc_text(struct buf *out, const char *s);
/* A cell's lines, split at each "\n" it shows, each through piece (which
 * escapes it for the format), line_break between them; none after the
 * last line. */
typedef void (*doc_piece_fn)(struct buf *out, const char *s, size_t len);
void doc_lines(struct buf *out, const char *cell, doc_piece_fn piece, const char *line_break);

/* The page: the doc's tables in HTML, and the gates' timeline and the
 * watch's latency as inline SVG drawn from c's records. */
void confirmation_html(struct buf *out, const struct confirmation *c, const struct report_doc *d);

#endif
