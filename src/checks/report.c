/*
 * report: see report.h.
 */
#include "report.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"

int report_parse_format(const char *name, enum report_format *out)
{
	if (!strcmp(name, "text"))
		*out = REPORT_TEXT;
	else if (!strcmp(name, "json"))
		*out = REPORT_JSON;
	else if (!strcmp(name, "sarif"))
		*out = REPORT_SARIF;
	else
		return -1;
	return 0;
}

static void put_escaped(FILE *out, const char *s)
{
	struct buf b = BUF_INIT;
	escape_bytes(&b, s, strlen(s));
	if (b.len)
		fwrite(b.data, 1, b.len, out);
	buf_free(&b);
}

struct palette {
	const char *red, *yellow, *bold, *dim, *reset;
};

static void print_finding(FILE *out, const struct finding *f, const struct palette *c,
			  const char *indent)
{
	int is_error = f->severity == SEVERITY_ERROR;
	fprintf(out, "%s%s:%s %s", is_error ? c->red : c->yellow, is_error ? "error" : "warning",
		c->reset, indent);
	fputs(c->bold, out);
	if (f->path)
		put_escaped(out, f->path);
	if (f->line)
		fprintf(out, ":%zu:%zu", f->line, f->column);
	fprintf(out, ":%s %s: ", c->reset, f->rule);
	put_escaped(out, f->message);
	fputc('\n', out);
	if (f->match) {
		/* Inside a commit's block every line carries a prefix git colours. */
		if (*indent)
			fprintf(out, "%s%s:%s", is_error ? c->red : c->yellow,
				is_error ? "error" : "warning", c->reset);
		fprintf(out, "%s%s    | ", c->dim, indent);
		put_escaped(out, f->match);
		fprintf(out, "%s\n", c->reset);
	}
	if (f->hint)
		fprintf(out, "hint: %s%s\n", indent, f->hint);
}

static int same_commit(const struct finding *a, const struct finding *b)
{
	if (!a->commit || !b->commit)
		return a->commit == b->commit;
	return !strcmp(a->commit, b->commit);
}

static void print_commit_header(FILE *out, const struct findings *list, size_t first,
				const struct palette *c)
{
	size_t errors = 0, warnings = 0;
	for (size_t k = first; k < list->n && same_commit(&list->items[k], &list->items[first]);
	     k++)
		*(list->items[k].severity == SEVERITY_ERROR ? &errors : &warnings) += 1;
	const struct finding *f = &list->items[first];
	fprintf(out, "%s%s:%s %scommit %.12s%s", errors ? c->red : c->yellow,
		errors ? "error" : "warning", c->reset, c->bold, f->commit, c->reset);
	if (f->subject) {
		fputs(" (", out);
		put_escaped(out, f->subject);
		fputc(')', out);
	}
	fprintf(out, ": %zu error%s, %zu warning%s\n", errors, errors == 1 ? "" : "s", warnings,
		warnings == 1 ? "" : "s");
}

void report_text_capped(FILE *out, const struct findings *list, int color, size_t per_commit,
			size_t commits)
{
	struct palette c = {"", "", "", "", ""};
	if (color)
		c = (struct palette){"\033[1;31m", "\033[1;33m", "\033[1m", "\033[2m", "\033[0m"};
	size_t blocks = 0, in_block = 0, hidden_blocks = 0;
	for (size_t i = 0; i < list->n; i++) {
		const struct finding *f = &list->items[i];
		int starts = i == 0 || !same_commit(f, &list->items[i - 1]);
		if (starts) {
			if (in_block > per_commit)
				fprintf(out, "error:   ...and %zu more in this commit\n",
					in_block - per_commit);
			in_block = 0;
			if (f->commit && blocks++ >= commits)
				hidden_blocks++;
			else if (f->commit)
				print_commit_header(out, list, i, &c);
		}
		in_block++;
		if (f->commit && blocks > commits)
			continue;
		if (in_block <= per_commit)
			print_finding(out, f, &c, f->commit ? "  " : "");
	}
	if (in_block > per_commit && blocks <= commits)
		fprintf(out, "error:   ...and %zu more in this commit\n", in_block - per_commit);
	if (hidden_blocks)
		fprintf(out, "error: ...and %zu more commit%s with findings\n", hidden_blocks,
			hidden_blocks == 1 ? "" : "s");
}

void report_text(FILE *out, const struct findings *list, int color)
{
	report_text_capped(out, list, color, SIZE_MAX, SIZE_MAX);
}

static void add_escaped(struct buf *out, const char *s)
{
	escape_bytes(out, s, strlen(s));
}

void report_one_line(struct buf *out, const struct findings *list)
{
	const struct finding *first = NULL;
	for (size_t i = 0; i < list->n && !first; i++)
		if (list->items[i].severity == SEVERITY_ERROR)
			first = &list->items[i];
	buf_printf(out, "%zu error%s in %zu commit%s checked", list->errors,
		   list->errors == 1 ? "" : "s", list->commits, list->commits == 1 ? "" : "s");
	if (!first)
		return;
	buf_adds(out, "; the first: ");
	if (first->commit)
		buf_printf(out, "commit %.12s: ", first->commit);
	if (first->path && *first->path) {
		add_escaped(out, first->path);
		if (first->line)
			buf_printf(out, ":%zu", first->line);
		buf_adds(out, ": ");
	}
	add_escaped(out, first->rule);
	buf_adds(out, ": ");
	add_escaped(out, first->message);
}

/* JSON strings must be UTF-8; other bytes are escaped as text. */
static json_t *json_bytes(const char *s)
{
	if (!s)
		return json_null();
	size_t len = strlen(s);
	json_t *j = json_stringn(s, len);
	if (j)
		return j;
	struct buf b = BUF_INIT;
	escape_bytes(&b, s, len);
	j = json_stringn(b.data ? b.data : "", b.len);
	buf_free(&b);
	return j;
}

static const char *level_name(enum severity s)
{
	return s == SEVERITY_ERROR ? "error" : "warning";
}

static int dump(FILE *out, json_t *root)
{
	int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
	return rc;
}

int report_json(FILE *out, const struct findings *list)
{
	json_t *items = json_array();
	for (size_t i = 0; i < list->n; i++) {
		const struct finding *f = &list->items[i];
		json_t *o = json_object();
		json_object_set_new(o, "rule", json_string(f->rule));
		json_object_set_new(o, "severity", json_string(level_name(f->severity)));
		json_object_set_new(o, "commit", f->commit ? json_string(f->commit) : json_null());
		json_object_set_new(o, "path", json_bytes(f->path));
		json_object_set_new(o, "line",
				    f->line ? json_integer((json_int_t)f->line) : json_null());
		json_object_set_new(o, "column",
				    f->line ? json_integer((json_int_t)f->column) : json_null());
		json_object_set_new(o, "match", json_bytes(f->match));
		json_object_set_new(o, "message", json_bytes(f->message));
		json_array_append_new(items, o);
	}
	json_t *summary = json_object();
	json_object_set_new(summary, "errors", json_integer((json_int_t)list->errors));
	json_object_set_new(summary, "warnings", json_integer((json_int_t)list->warnings));
	json_object_set_new(summary, "commits", json_integer((json_int_t)list->commits));
	json_object_set_new(summary, "files", json_integer((json_int_t)list->files));
	json_t *root = json_object();
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "passed", json_boolean(list->errors == 0));
	json_object_set_new(root, "findings", items);
	json_object_set_new(root, "summary", summary);
	return dump(out, root);
}

static json_t *sarif_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = BUF_INIT;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
			buf_addc(&b, (char)*p);
		} else {
			buf_addc(&b, '%');
			buf_addc(&b, hex[*p >> 4]);
			buf_addc(&b, hex[*p & 15]);
		}
	}
	json_t *j = json_string(b.data ? b.data : "");
	buf_free(&b);
	return j;
}

/* A rule a scan section adds is described by its first finding's message. */
static const char *rule_description(const struct finding *f)
{
	const char *known = findings_rule_description(f->rule);
	return known ? known : f->message;
}

int report_sarif(FILE *out, const struct findings *list)
{
	json_t *rules = json_array();
	json_t *results = json_array();
	for (size_t i = 0; i < list->n; i++) {
		const struct finding *f = &list->items[i];
		int known = 0;
		for (size_t j = 0; j < json_array_size(rules); j++)
			if (!strcmp(
				json_string_value(json_object_get(json_array_get(rules, j), "id")),
				f->rule))
				known = 1;
		if (!known)
			json_array_append_new(rules, json_pack("{s:s,s:{s:o}}", "id", f->rule,
							       "shortDescription", "text",
							       json_bytes(rule_description(f))));

		json_t *result = json_object();
		json_object_set_new(result, "ruleId", json_string(f->rule));
		json_object_set_new(result, "level", json_string(level_name(f->severity)));
		json_object_set_new(result, "message",
				    json_pack("{s:o}", "text", json_bytes(f->message)));
		if (f->path) {
			json_t *physical = json_object();
			json_object_set_new(physical, "artifactLocation",
					    json_pack("{s:o}", "uri", sarif_uri(f->path)));
			if (f->line) {
				json_t *region =
				    json_pack("{s:I,s:I}", "startLine", (json_int_t)f->line,
					      "startColumn", (json_int_t)f->column);
				if (f->match)
					json_object_set_new(
					    region, "snippet",
					    json_pack("{s:o}", "text", json_bytes(f->match)));
				json_object_set_new(physical, "region", region);
			}
			json_object_set_new(result, "locations",
					    json_pack("[{s:o}]", "physicalLocation", physical));
		}
		if (f->commit)
			json_object_set_new(result, "properties",
					    json_pack("{s:s}", "commit", f->commit));
		json_array_append_new(results, result);
	}
	json_t *driver = json_pack("{s:s,s:s,s:o}", "name", "gitgate", "version", GITGATE_VERSION,
				   "rules", rules);
	json_t *run = json_pack("{s:{s:o},s:o}", "tool", "driver", driver, "results", results);
	json_t *root =
	    json_pack("{s:s,s:s,s:[o]}", "$schema", "https://json.schemastore.org/sarif-2.1.0.json",
		      "version", "2.1.0", "runs", run);
	return dump(out, root);
}

int report_write(FILE *out, enum report_format format, const struct findings *list, int color)
{
	switch (format) {
	case REPORT_JSON:
		return report_json(out, list);
	case REPORT_SARIF:
		return report_sarif(out, list);
	default:
		report_text(out, list, color);
		return 0;
	}
}
