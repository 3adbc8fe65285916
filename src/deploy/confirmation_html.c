/*
 * confirmation_html: the health confirmation report as one page a person
 * opens in a browser. See confirmation.h.
 *
 * The page is self-contained: its style is inline, it has no script, no
 * font, image or link to anything elsewhere, so it can be mailed or
 * archived as one file and shows the same offline. Two drawings are SVG in
 * the page: the gates and steps as a timeline (one bar a gate, as long as
 * it took, from where the one before ended, coloured by its result), and
 * the watch's checks as their latency over the watch's time (a point a
 * check, red where it failed). Every text from a record is escaped for
 * HTML after escape.h's escaping, so neither markup nor a control
 * character from a record reaches the page.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "confirmation_doc.h"
#include "history.h"

#define COLOR_PASSED "#2e7d32"
#define COLOR_FAILED "#c62828"
#define COLOR_SKIPPED "#9e9e9e"
#define COLOR_OTHER "#f9a825"
#define COLOR_LINE "#1565c0"

static void html_piece(struct buf *out, const char *s, size_t len)
{
	for (const char *end = s + len; s < end; s++) {
		switch (*s) {
		case '&':
			buf_adds(out, "&amp;");
			break;
		case '<':
			buf_adds(out, "&lt;");
			break;
		case '>':
			buf_adds(out, "&gt;");
			break;
		case '"':
			buf_adds(out, "&quot;");
			break;
		case '\'':
			buf_adds(out, "&#39;");
			break;
		default:
			buf_addc(out, *s);
		}
	}
}

static void html_text(struct buf *out, const char *s)
{
	html_piece(out, s, strlen(s));
}

/* A record's text at key as doc_text shows it, then escaped for HTML. */
static void html_record_text(struct buf *out, const json_t *record, const char *key)
{
	struct buf shown = BUF_INIT;
	const char *text = json_string_value(json_object_get(record, key));
	doc_text(&shown, text ? text : "?");
	html_text(out, shown.data);
	buf_free(&shown);
}

static const char *result_color(const char *result)
{
	return !result							 ? COLOR_OTHER
	       : !strcmp(result, "passed") || !strcmp(result, "ok")	 ? COLOR_PASSED
	       : !strcmp(result, "failed") || !strcmp(result, "refused") ? COLOR_FAILED
	       : !strcmp(result, "skipped")				 ? COLOR_SKIPPED
									 : COLOR_OTHER;
}

/* ---- Tables ------------------------------------------------------------- */

/* A cell, coloured when it is a result; a row's last keeps its lines. */
static void html_cell(struct buf *out, const char *text, int is_result, int last)
{
	if (is_result)
		buf_printf(out, "<td style=\"color:%s;font-weight:bold\">", result_color(text));
	else
		buf_adds(out, "<td>");
	if (last)
		doc_lines(out, text, html_piece, "<br>");
	else
		html_text(out, text);
	buf_adds(out, "</td>");
}

static void html_table(struct buf *out, const struct doc_table *t)
{
	if (t->title) {
		buf_adds(out, "<h2>");
		html_text(out, t->title);
		buf_adds(out, "</h2>\n");
	}
	if (!doc_rows(t)) {
		buf_adds(out, "<p>None recorded.</p>\n");
		return;
	}
	buf_printf(out, "<table class=\"%s\">\n", t->title ? "rows" : "facts");
	if (t->title) {
		buf_adds(out, "<tr>");
		for (size_t col = 0; col < t->ncols; col++) {
			buf_adds(out, "<th>");
			html_text(out, t->columns[col].head);
			buf_adds(out, "</th>");
		}
		buf_adds(out, "</tr>\n");
	}
	for (size_t row = 0; row < doc_rows(t); row++) {
		buf_adds(out, "<tr>");
		for (size_t col = 0; col < t->ncols; col++)
			html_cell(out, doc_at(t, row, col),
				  t->title && !strcmp(t->columns[col].head, "result"),
				  t->title && col + 1 == t->ncols);
		buf_adds(out, "</tr>\n");
	}
	buf_adds(out, "</table>\n");
}

/* ---- The gates' timeline ------------------------------------------------ */

#define TIMELINE_LABEL 200
#define TIMELINE_BARS 600
#define TIMELINE_ROW 22

static double gates_total(const json_t *gates)
{
	double total = 0;
	size_t i;
	const json_t *g;
	json_array_foreach(gates, i, g) total += json_number_value(json_object_get(g, "seconds"));
	return total > 0.1 ? total : 0.1;
}

/* One gate's row: its label, its bar from start, its time. */
static void timeline_row(struct buf *out, const json_t *g, size_t row, double start, double scale)
{
	double seconds = json_number_value(json_object_get(g, "seconds"));
	const char *result = json_string_value(json_object_get(g, "result"));
	json_int_t number = json_integer_value(json_object_get(g, "number"));
	double x = TIMELINE_LABEL + start * scale, w = seconds * scale < 3 ? 3 : seconds * scale;
	unsigned y = 10 + (unsigned)row * TIMELINE_ROW;
	struct buf label = BUF_INIT;
	if (number)
		buf_printf(&label, "gate %lld ", (long long)number);
	else
		buf_adds(&label, "step ");
	html_record_text(&label, g, "name");
	buf_printf(out, "<text x=\"4\" y=\"%u\" font-size=\"12\">%s</text>\n", y + 14, label.data);
	buf_printf(out,
		   "<rect x=\"%.1f\" y=\"%u\" width=\"%.1f\" height=\"%u\" fill=\"%s\"><title>%s: ",
		   x, y + 2, w, TIMELINE_ROW - 6, result_color(result), label.data);
	html_record_text(out, g, "result");
	buf_printf(out, ", %.2f s</title></rect>\n", seconds);
	buf_printf(out, "<text x=\"%.1f\" y=\"%u\" font-size=\"11\" fill=\"#555\">%.2f s</text>\n",
		   x + w + 4, y + 14, seconds);
	buf_free(&label);
}

static void timeline(struct buf *out, const json_t *gates)
{
	size_t n = json_array_size(gates), i;
	double total = gates_total(gates), scale = TIMELINE_BARS / total, start = 0;
	unsigned height = 10 + (unsigned)n * TIMELINE_ROW + 24;
	const json_t *g;
	buf_printf(out,
		   "<svg id=\"timeline\" width=\"%u\" "
		   "height=\"%u\" role=\"img\" aria-label=\"the gates' timeline\">\n",
		   TIMELINE_LABEL + TIMELINE_BARS + 60, height);
	json_array_foreach(gates, i, g)
	{
		timeline_row(out, g, i, start, scale);
		start += json_number_value(json_object_get(g, "seconds"));
	}
	unsigned axis = height - 18;
	buf_printf(out,
		   "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#333\"/>\n"
		   "<text x=\"%u\" y=\"%u\" font-size=\"11\">0 s</text>\n"
		   "<text x=\"%u\" y=\"%u\" font-size=\"11\" text-anchor=\"end\">%.1f s</text>\n"
		   "</svg>\n",
		   TIMELINE_LABEL, axis, TIMELINE_LABEL + TIMELINE_BARS, axis, TIMELINE_LABEL,
		   axis + 14, TIMELINE_LABEL + TIMELINE_BARS, axis + 14, total);
}

/* ---- The watch's latency ------------------------------------------------ */

#define CHART_LEFT 70
#define CHART_WIDTH 760
#define CHART_TOP 10
#define CHART_HEIGHT 180

/* A record's UTC time ("2026-01-10T10:00:00Z"), or -1. */
static time_t record_time(const json_t *record, const char *key)
{
	const char *text = json_string_value(json_object_get(record, key));
	struct tm tm = {0};
	const char *end = text ? strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	return end && !*end ? timegm(&tm) : (time_t)-1;
}

/* The chart's frame: axes and their ends' labels. */
static void latency_frame(struct buf *out, long long span, long long top_ms)
{
	unsigned bottom = CHART_TOP + CHART_HEIGHT, right = CHART_LEFT + CHART_WIDTH;
	buf_printf(out,
		   "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#333\"/>\n"
		   "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#333\"/>\n"
		   "<text x=\"%u\" y=\"%u\" font-size=\"11\" text-anchor=\"end\">%lld ms</text>\n"
		   "<text x=\"%u\" y=\"%u\" font-size=\"11\" text-anchor=\"end\">0 ms</text>\n"
		   "<text x=\"%u\" y=\"%u\" font-size=\"11\">0 s</text>\n"
		   "<text x=\"%u\" y=\"%u\" font-size=\"11\" text-anchor=\"end\">%lld s</text>\n",
		   CHART_LEFT, CHART_TOP, CHART_LEFT, bottom, CHART_LEFT, bottom, right, bottom,
		   CHART_LEFT - 4, CHART_TOP + 10, top_ms, CHART_LEFT - 4, bottom, CHART_LEFT,
		   bottom + 14, right, bottom + 14, span);
}

static void latency_chart(struct buf *out, const json_t *checks)
{
	size_t n = json_array_size(checks), i;
	time_t t0 = record_time(json_array_get(checks, 0), "at");
	long long span = 1, top_ms = 1;
	const json_t *one;
	json_array_foreach(checks, i, one)
	{
		long long ms = json_integer_value(json_object_get(one, "latency_ms"));
		time_t at = record_time(one, "at");
		top_ms = ms > top_ms ? ms : top_ms;
		span = at != (time_t)-1 && at - t0 > span ? (long long)(at - t0) : span;
	}
	buf_printf(out,
		   "<svg id=\"latency\" width=\"%u\" "
		   "height=\"%u\" role=\"img\" aria-label=\"the watch's latency\">\n",
		   CHART_LEFT + CHART_WIDTH + 20, CHART_TOP + CHART_HEIGHT + 24);
	latency_frame(out, span, top_ms);
	struct buf line = BUF_INIT, points = BUF_INIT;
	json_array_foreach(checks, i, one)
	{
		time_t at = record_time(one, "at");
		long long ms = json_integer_value(json_object_get(one, "latency_ms"));
		double x =
		    CHART_LEFT + (at == (time_t)-1 ? 0.0 : (double)(at - t0)) * CHART_WIDTH / span;
		double y = CHART_TOP + CHART_HEIGHT - (double)ms * CHART_HEIGHT / top_ms;
		int ok = json_is_true(json_object_get(one, "ok"));
		buf_printf(&line, "%s%.1f,%.1f", i ? " " : "", x, y);
		buf_printf(&points, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>",
			   x, y, ok ? COLOR_PASSED : COLOR_FAILED);
		html_record_text(&points, one, "at");
		buf_printf(&points, ": %lld ms, %s</title></circle>\n", ms, ok ? "ok" : "failed");
	}
	buf_printf(out,
		   "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n",
		   n ? line.data : "", COLOR_LINE);
	buf_printf(out, "%s</svg>\n", points.len ? points.data : "");
	buf_free(&line);
	buf_free(&points);
}

/* ---- The page ----------------------------------------------------------- */

static const char style[] =
    "body{font-family:sans-serif;margin:2em;color:#222;max-width:72em}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left;vertical-align:top;"
    "font-size:.9em}"
    "table.facts td:first-child{font-weight:bold}"
    ".verdict{font-size:1.2em;font-weight:bold;padding:.4em .8em;display:inline-block}"
    "svg{display:block;margin:.5em 0}";

static void page_head(struct buf *out, const struct report_doc *d)
{
	buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<title>");
	html_text(out, d->title.data);
	buf_printf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", style);
	html_text(out, d->title.data);
	buf_printf(out, "</h1>\n<p class=\"verdict\" style=\"color:#fff;background:%s\">%s</p>\n",
		   d->confirmed ? COLOR_PASSED : COLOR_FAILED,
		   d->confirmed ? "Confirmed" : "Not confirmed");
}

void confirmation_html(struct buf *out, const struct confirmation *c, const struct report_doc *d)
{
	page_head(out, d);
	const json_t *gates = json_object_get(c->deploy, "gates");
	const json_t *checks = c->watch ? json_object_get(c->watch, "checks") : NULL;
	html_table(out, &d->facts);
	if (json_array_size(gates)) {
		buf_adds(out, "<h2>Timeline</h2>\n");
		timeline(out, gates);
	}
	html_table(out, &d->gates);
	html_table(out, &d->health);
	html_table(out, &d->canary);
	if (json_array_size(checks)) {
		buf_adds(out, "<h2>Latency over the watch</h2>\n");
		latency_chart(out, checks);
	}
	html_table(out, &d->watch);
	html_table(out, &d->signoffs);
	buf_adds(out, "</body>\n</html>\n");
}
