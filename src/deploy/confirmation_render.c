/*
 * confirmation_render: the health confirmation report as text, Markdown and
 * JSON; the HTML page is confirmation_html.c's. See confirmation.h.
 *
 * The report is first laid out as tables of plain text (struct report_doc,
 * confirmation_doc.h: facts, then gates and steps, health checks, canary
 * steps, watch checks, sign-offs), every value from a record shown as
 * doc_text shows it; each format then only frames those cells, escaping
 * what is its own syntax. So the formats say the same things, and a new
 * fact is one row.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "confirmation.h"
#include "confirmation_doc.h"
#include "escape.h"
#include "history.h"

/* ---- Tables ------------------------------------------------------------- */

struct buf *doc_cell(struct doc_table *t)
{
	struct buf *cell = ARRAY_PUSH(t->cells, t->ncells, t->cap);
	*cell = (struct buf)BUF_INIT;
	buf_adds(cell, "");
	return cell;
}

size_t doc_rows(const struct doc_table *t)
{
	return t->ncells / t->ncols;
}

const char *doc_at(const struct doc_table *t, size_t row, size_t col)
{
	return t->cells[row * t->ncols + col].data;
}

static void cell_printf(struct doc_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void cell_printf(struct doc_table *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(doc_cell(t), fmt, ap);
	va_end(ap);
}

void doc_text(struct buf *out, const char *s)
{
	size_t len = strlen(s);
	for (size_t i = 0, n; i < len; i += n) {
		n = utf8_sequence_length((const unsigned char *)s + i, len - i);
		n = n ? n : 1;
		if (s[i] == '\\')
			buf_addc(out, '\\');
		else
			escape_bytes(out, s + i, n);
	}
}

void doc_lines(struct buf *out, const char *cell, doc_piece_fn piece, const char *line_break)
{
	for (const char *p = cell; *p;) {
		const char *end = strstr(p, "\\n");
		size_t len = end ? (size_t)(end - p) : strlen(p);
		piece(out, p, len);
		p += len + (end ? 2 : 0);
		if (end && *p)
			buf_adds(out, line_break);
	}
}

/* The record's text at key as doc_text shows it; none when it has none. */
static void cell_text(struct doc_table *t, const json_t *record, const char *key, const char *none)
{
	const char *text = json_string_value(json_object_get(record, key));
	doc_text(doc_cell(t), text ? text : none);
}

static void cell_number(struct doc_table *t, const json_t *record, const char *key)
{
	const json_t *v = json_object_get(record, key);
	if (json_is_integer(v))
		cell_printf(t, "%lld", (long long)json_integer_value(v));
	else if (json_is_number(v))
		cell_printf(t, "%.1f", json_number_value(v));
	else
		cell_printf(t, "-");
}

/* A person, and where the name came from: "alice (os)". */
static void cell_who(struct doc_table *t, const json_t *record, const char *key)
{
	struct buf *who = doc_cell(t), source = BUF_INIT;
	history_record_text(who, record, key, "?");
	buf_printf(&source, "%s_source", key);
	if (json_is_string(json_object_get(record, source.data))) {
		buf_adds(who, " (");
		history_record_text(who, record, source.data, "");
		buf_adds(who, ")");
	}
	buf_free(&source);
}

/* The share of errors in requests, in percent. */
static void cell_share(struct doc_table *t, const json_t *item)
{
	json_int_t requests = json_integer_value(json_object_get(item, "requests"));
	json_int_t errors = json_integer_value(json_object_get(item, "errors"));
	if (requests > 0 && errors >= 0)
		cell_printf(t, "%.2f%%", (double)errors * 100 / (double)requests);
	else
		cell_printf(t, "-");
}

/* One cell of an item of the records, as its column says. */
static void cell_column(struct doc_table *t, const json_t *item, const struct doc_column *col)
{
	json_int_t n = json_integer_value(json_object_get(item, col->key));
	switch (col->kind) {
	case COLUMN_TEXT:
		cell_text(t, item, col->key, col->none ? col->none : "");
		break;
	case COLUMN_NUMBER:
		cell_number(t, item, col->key);
		break;
	case COLUMN_OK:
		cell_printf(t, "%s",
			    json_is_true(json_object_get(item, col->key)) ? "ok" : "failed");
		break;
	case COLUMN_PERCENT:
		cell_printf(t, "%lld%%", (long long)n);
		break;
	case COLUMN_SHARE:
		cell_share(t, item);
		break;
	case COLUMN_GATE: /* the steps between the gates have no number */
		if (n)
			cell_printf(t, "%lld", (long long)n);
		else
			cell_printf(t, "step");
		break;
	case COLUMN_WHO:
		cell_who(t, item, col->key);
		break;
	}
}

/* A row for each item of the array. */
static void rows_build(struct doc_table *t, const json_t *items)
{
	size_t i;
	const json_t *item;
	json_array_foreach(items, i, item)
	{
		for (size_t col = 0; col < t->ncols; col++)
			cell_column(t, item, &t->columns[col]);
	}
}

static void fact(struct doc_table *t, const char *what, const json_t *record, const char *key)
{
	cell_printf(t, "%s", what);
	cell_text(t, record, key, "-");
}

/* ---- The document ------------------------------------------------------- */

static const struct doc_column fact_columns[] = {{"", "", COLUMN_TEXT, NULL},
						 {"", "", COLUMN_TEXT, NULL}};
static const struct doc_column gate_columns[] = {{"gate", "number", COLUMN_GATE, NULL},
						 {"name", "name", COLUMN_TEXT, "-"},
						 {"result", "result", COLUMN_TEXT, "-"},
						 {"seconds", "seconds", COLUMN_NUMBER, NULL},
						 {"detail", "detail", COLUMN_TEXT, NULL}};
static const struct doc_column health_columns[] = {{"check", "what", COLUMN_TEXT, "-"},
						   {"ms", "ms", COLUMN_NUMBER, NULL},
						   {"result", "ok", COLUMN_OK, NULL},
						   {"why", "why", COLUMN_TEXT, NULL}};
static const struct doc_column canary_columns[] = {
    {"step", "percent", COLUMN_PERCENT, NULL},	 {"started", "started", COLUMN_TEXT, "-"},
    {"seconds", "seconds", COLUMN_NUMBER, NULL}, {"requests", "requests", COLUMN_NUMBER, NULL},
    {"errors", "errors", COLUMN_NUMBER, NULL},	 {"share", "", COLUMN_SHARE, NULL},
    {"result", "ok", COLUMN_OK, NULL},		 {"why", "why", COLUMN_TEXT, NULL}};
static const struct doc_column watch_columns[] = {{"at", "at", COLUMN_TEXT, "-"},
						  {"result", "ok", COLUMN_OK, NULL},
						  {"latency ms", "latency_ms", COLUMN_NUMBER, NULL},
						  {"requests", "requests", COLUMN_NUMBER, NULL},
						  {"errors", "errors", COLUMN_NUMBER, NULL},
						  {"check", "what", COLUMN_TEXT, NULL},
						  {"why", "why", COLUMN_TEXT, NULL}};
static const struct doc_column signoff_columns[] = {{"by", "by", COLUMN_WHO, NULL},
						    {"at", "at", COLUMN_TEXT, "-"},
						    {"note", "note", COLUMN_TEXT, NULL}};

#define TABLE(title_, columns_)                                                                    \
	{                                                                                          \
		(title_), (columns_), sizeof(columns_) / sizeof((columns_)[0]), NULL, 0, 0         \
	}

/* When the watch ran, and why it ended as it did. */
static void watch_fact(struct doc_table *t, const json_t *watch)
{
	cell_printf(t, "watch");
	struct buf *cell = doc_cell(t);
	const char *started = json_string_value(json_object_get(watch, "started"));
	const char *finished = json_string_value(json_object_get(watch, "finished"));
	const char *why = json_string_value(json_object_get(watch, "why"));
	doc_text(cell, started ? started : "?");
	buf_adds(cell, " to ");
	doc_text(cell, finished ? finished : "?");
	if (why && *why) {
		buf_adds(cell, ": ");
		doc_text(cell, why);
	}
}

static void facts_build(struct doc_table *t, const struct confirmation *c)
{
	const json_t *d = c->deploy;
	fact(t, "deploy", d, "id");
	fact(t, "kind", d, "kind");
	fact(t, "unit", d, "unit");
	fact(t, "environment", d, "environment");
	fact(t, "from", d, "from");
	fact(t, "to", d, "to");
	cell_printf(t, "by");
	history_record_who(doc_cell(t), d);
	fact(t, "started", d, "started");
	fact(t, "finished", d, "finished");
	if (json_is_string(json_object_get(d, "emergency")))
		fact(t, "emergency", d, "emergency");
	if (c->watch)
		watch_fact(t, c->watch);
	cell_printf(t, "outcome");
	cell_printf(t, "%s (%s)", c->outcome, c->watch ? "its watch's" : "the deploy's");
	cell_printf(t, "checks passed");
	cell_printf(t, "%zu of %zu (%zu%%)", c->passed, c->checks,
		    c->checks ? c->passed * 100 / c->checks : 0);
	struct buf why = BUF_INIT;
	cell_printf(t, "confirmed");
	if (confirmation_complete(c, &why))
		cell_printf(t, "yes");
	else
		cell_printf(t, "no: %s", why.data);
	buf_free(&why);
}

void doc_build(struct report_doc *d, const struct confirmation *c)
{
	*d = (struct report_doc){
	    .facts = TABLE(NULL, fact_columns),
	    .gates = TABLE("Gates and steps", gate_columns),
	    .health = TABLE("Health checks", health_columns),
	    .canary = TABLE("Canary steps", canary_columns),
	    .watch = TABLE("Watch checks", watch_columns),
	    .signoffs = TABLE("Sign-off", signoff_columns),
	};
	buf_adds(&d->title, "Health confirmation report: deploy ");
	history_record_text(&d->title, c->deploy, "id", "?");
	facts_build(&d->facts, c);
	rows_build(&d->gates, json_object_get(c->deploy, "gates"));
	rows_build(&d->health, json_object_get(c->deploy, "health"));
	rows_build(&d->canary, c->canary);
	rows_build(&d->watch, c->watch ? json_object_get(c->watch, "checks") : NULL);
	rows_build(&d->signoffs, c->signoffs);
	struct buf why = BUF_INIT;
	d->confirmed = confirmation_complete(c, &why);
	buf_free(&why);
}

static void table_free(struct doc_table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		buf_free(&t->cells[i]);
	free(t->cells);
}

void doc_free(struct report_doc *d)
{
	struct doc_table *tables[] = {&d->facts,  &d->gates, &d->health,
				      &d->canary, &d->watch, &d->signoffs};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		table_free(tables[i]);
	buf_free(&d->title);
}

/* ---- Text --------------------------------------------------------------- */

#define HEAD ((size_t)-1)

/* A cell of the table, or of its head (row HEAD). */
static const char *text_cell(const struct doc_table *t, size_t row, size_t col)
{
	return row == HEAD ? t->columns[col].head : doc_at(t, row, col);
}

static void text_piece(struct buf *out, const char *s, size_t len)
{
	buf_add(out, s, len);
}

/* A row; the last cell of a table's row (a detail, a note) keeps its
 * lines, each under the one before. */
static void text_row(struct buf *out, const struct doc_table *t, const size_t *width, size_t row)
{
	struct buf indent = BUF_INIT;
	buf_adds(out, " ");
	buf_adds(&indent, "\n ");
	for (size_t col = 0; col + 1 < t->ncols; col++) {
		buf_printf(out, " %-*s", (int)width[col], text_cell(t, row, col));
		buf_printf(&indent, " %-*s", (int)width[col], "");
	}
	buf_adds(&indent, " ");
	buf_adds(out, " ");
	if (t->title && row != HEAD)
		doc_lines(out, text_cell(t, row, t->ncols - 1), text_piece, indent.data);
	else
		buf_adds(out, text_cell(t, row, t->ncols - 1));
	buf_adds(out, "\n");
	buf_free(&indent);
}

/* Under its title (the facts have none), its columns padded to their
 * widest cell, the last one as it is. */
static void text_table(struct buf *out, const struct doc_table *t)
{
	size_t width[DOC_COLUMNS_MAX] = {0};
	for (size_t row = t->title ? HEAD : 0; row == HEAD || row < doc_rows(t); row++)
		for (size_t col = 0; col < t->ncols; col++)
			if (strlen(text_cell(t, row, col)) > width[col])
				width[col] = strlen(text_cell(t, row, col));
	if (t->title) {
		buf_printf(out, "\n%s:%s\n", t->title, doc_rows(t) ? "" : " none");
		if (!doc_rows(t))
			return;
		text_row(out, t, width, HEAD);
	}
	for (size_t row = 0; row < doc_rows(t); row++)
		text_row(out, t, width, row);
}

static void render_text(struct buf *out, const struct report_doc *d)
{
	buf_printf(out, "%s\n", d->title.data);
	text_table(out, &d->facts);
	const struct doc_table *tables[] = {&d->gates, &d->health, &d->canary, &d->watch,
					    &d->signoffs};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		text_table(out, tables[i]);
}

/* ---- Markdown ----------------------------------------------------------- */

/* Text in Markdown, as it reads: what Markdown would take as its own
 * syntax inside a line (emphasis, code, links, a table's cells, HTML) is
 * backslashed. */
static void md_piece(struct buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (strchr("\\`*_[]<>|~", s[i]))
			buf_addc(out, '\\');
		buf_addc(out, s[i]);
	}
}

static void md_text(struct buf *out, const char *s)
{
	md_piece(out, s, strlen(s));
}

static void md_table(struct buf *out, const struct doc_table *t)
{
	buf_printf(out, "\n## %s\n\n", t->title);
	if (!doc_rows(t)) {
		buf_adds(out, "None recorded.\n");
		return;
	}
	for (size_t col = 0; col < t->ncols; col++)
		buf_printf(out, "| %s ", t->columns[col].head);
	buf_adds(out, "|\n");
	for (size_t col = 0; col < t->ncols; col++)
		buf_adds(out, "| --- ");
	buf_adds(out, "|\n");
	for (size_t row = 0; row < doc_rows(t); row++) {
		for (size_t col = 0; col < t->ncols; col++) {
			buf_adds(out, "| ");
			if (col + 1 < t->ncols)
				md_text(out, doc_at(t, row, col));
			else
				doc_lines(out, doc_at(t, row, col), md_piece, "<br>");
			buf_adds(out, " ");
		}
		buf_adds(out, "|\n");
	}
}

static void render_md(struct buf *out, const struct report_doc *d)
{
	buf_adds(out, "# ");
	md_text(out, d->title.data);
	buf_adds(out, "\n\n");
	for (size_t row = 0; row < doc_rows(&d->facts); row++) {
		buf_printf(out, "- **%s**: ", doc_at(&d->facts, row, 0));
		md_text(out, doc_at(&d->facts, row, 1));
		buf_adds(out, "\n");
	}
	const struct doc_table *tables[] = {&d->gates, &d->health, &d->canary, &d->watch,
					    &d->signoffs};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		md_table(out, tables[i]);
}

/* ---- JSON --------------------------------------------------------------- */

static void render_json(struct buf *out, const struct confirmation *c)
{
	struct buf why = BUF_INIT;
	int complete = confirmation_complete(c, &why);
	json_t *root =
	    json_pack("{s:i, s:O, s:s, s:b, s:o, s:{s:I, s:I}, s:O, s:O, s:O, s:O}", "version", 1,
		      "id", json_object_get(c->deploy, "id"), "outcome", c->outcome, "confirmed",
		      complete, "why", complete ? json_null() : json_string(why.data), "checks",
		      "total", (json_int_t)c->checks, "passed", (json_int_t)c->passed, "deploy",
		      c->deploy, "canary", c->canary ? c->canary : json_null(), "watch",
		      c->watch ? c->watch : json_null(), "signoffs", c->signoffs);
	char *text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
	buf_printf(out, "%s\n", text ? text : "null");
	free(text);
	json_decref(root);
	buf_free(&why);
}

void confirmation_render(struct buf *out, const struct confirmation *c,
			 enum confirmation_format format)
{
	if (format == CONFIRMATION_JSON) {
		render_json(out, c);
		return;
	}
	struct report_doc d;
	doc_build(&d, c);
	if (format == CONFIRMATION_TEXT)
		render_text(out, &d);
	else if (format == CONFIRMATION_MD)
		render_md(out, &d);
	else
		confirmation_html(out, c, &d);
	doc_free(&d);
}
