/*
 * gitgate history [UNIT] [ENV] [-n N] [--format text|json] [--ids]: what was
 * deployed and rolled back, newest last, from the server's history.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "escape.h"
#include "history.h"
#include "server.h"
#include "status.h"

#define DEFAULT_SHOWN 20

static const char *text_of(json_t *record, const char *key)
{
	const char *s = json_string_value(json_object_get(record, key));
	return s ? s : "-";
}

/* A record shown under the deploy it names: each word, then its key's
 * text; then ": " and the text of key last, when the record has it. */
static void print_under(FILE *out, const json_t *r, const char *const parts[][2], size_t n,
			const char *last)
{
	struct buf line = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		buf_adds(&line, parts[i][0]);
		history_record_text(&line, r, parts[i][1], "?");
	}
	if (json_is_string(json_object_get(r, last))) {
		buf_adds(&line, ": ");
		history_record_text(&line, r, last, "");
	}
	fprintf(out, "%s\n", line.data);
	buf_free(&line);
}

static void print_record(FILE *out, json_t *r)
{
	if (!strcmp(text_of(r, "kind"), "signoff")) {
		static const char *const signoff[][2] = {
		    {"    signed off ", "deploy"}, {" by ", "by"}, {" at ", "at"}};
		print_under(out, r, signoff, 3, "note");
		return;
	}
	if (!strcmp(text_of(r, "kind"), "watch")) {
		static const char *const watch[][2] = {
		    {"    watch of ", "deploy"}, {": ", "outcome"}, {" at ", "finished"}};
		print_under(out, r, watch, 3, "why");
		return;
	}
	static const char *const keys[] = {"id", "kind",    "unit",	"environment",
					   "to", "outcome", "finished", "emergency"};
	enum { ID, KIND, UNIT, ENV, TO, OUTCOME, FINISHED, EMERGENCY, N };
	struct buf f[N];
	const char *v[N];
	for (int i = 0; i < N; i++) {
		f[i] = (struct buf)BUF_INIT;
		history_record_text(&f[i], r, keys[i], "-");
		v[i] = f[i].data ? f[i].data : "";
	}
	struct buf who = BUF_INIT;
	history_record_who(&who, r);
	fprintf(out, "%-20s  %-8s %-18s %-11s %.12s  %-11s %s  %s\n", v[ID], v[KIND], v[UNIT],
		v[ENV], v[TO], v[OUTCOME], v[FINISHED], who.data);
	buf_free(&who);
	if (json_is_string(json_object_get(r, "emergency")))
		fprintf(out, "    emergency: %s\n", v[EMERGENCY]);
	for (int i = 0; i < N; i++)
		buf_free(&f[i]);
	json_t *gates = json_object_get(r, "gates"), *gate;
	size_t i;
	json_array_foreach(gates, i, gate)
	{
		const char *result = text_of(gate, "result");
		if (strcmp(result, "failed") && strcmp(result, "refused"))
			continue;
		struct buf shown = BUF_INIT;
		const char *detail = text_of(gate, "detail");
		escape_bytes(&shown, detail, strcspn(detail, "\n"));
		/* Steps between the gates, and refusals before them, have no
		 * number of the team's: as the deploy's own output says them. */
		json_int_t number = json_integer_value(json_object_get(gate, "number"));
		if (number)
			fprintf(out, "    gate %lld %s %s: %s\n", (long long)number,
				text_of(gate, "name"), result, shown.data ? shown.data : "");
		else
			fprintf(out, "    step %s %s: %s\n", text_of(gate, "name"), result,
				shown.data ? shown.data : "");
		buf_free(&shown);
	}
}

/* The records' deploy ids, one a line (`gitgate logs ID` takes them). An id
 * is gitgate's own (a time and a number); one that is not printable as it
 * is, is left out rather than escaped into one that names nothing. */
static void print_ids(json_t *records)
{
	size_t i;
	json_t *r;
	json_array_foreach(records, i, r)
	{
		const char *id = json_string_value(json_object_get(r, "id"));
		size_t n = id ? strlen(id) : 0;
		if (n &&
		    strspn(id,
			   "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.") ==
			n)
			printf("%s\n", id);
	}
}

void cli_history_print(FILE *out, json_t *records)
{
	size_t i;
	json_t *r;
	json_array_foreach(records, i, r) print_record(out, r);
	if (!json_array_size(records))
		fprintf(out, "no deploys recorded yet\n");
}

int cmd_history(int argc, char **argv)
{
	const char *words[2] = {0}, *value, *format = "text";
	size_t nwords = 0, shown = DEFAULT_SHOWN;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ids")) {
			format = "ids";
		} else if (cli_option_value(argc, argv, &i, "-n", &value)) {
			char *end;
			unsigned long n = value ? strtoul(value, &end, 10) : 0;
			if (!value || *end || !n) {
				fprintf(stderr, "gitgate history: -n takes a whole number\n");
				return STATUS_USAGE;
			}
			shown = n;
		} else if (cli_option_value(argc, argv, &i, "--format", &value)) {
			if (!value || (strcmp(value, "text") && strcmp(value, "json"))) {
				fprintf(stderr, "gitgate history: --format text or json\n");
				return STATUS_USAGE;
			}
			format = value;
		} else if (argv[i][0] == '-' || nwords == 2) {
			cli_usage(stderr, "history");
			return STATUS_USAGE;
		} else {
			words[nwords++] = argv[i];
		}
	}
	struct server server;
	int status = server_open(&server);
	if (status)
		return status;
	json_t *records;
	size_t skipped;
	struct buf err = BUF_INIT;
	const struct unit *unit = words[0] ? rules_find_unit(&server.rules, words[0]) : NULL;
	if (history_read(&records, server.state_dir.data, unit ? unit->name : words[0], words[1],
			 shown, &skipped, &err) < 0) {
		fprintf(stderr, "gitgate: %s\n", err.data);
		status = STATUS_FAULT;
	} else if (!strcmp(format, "ids")) {
		print_ids(records);
	} else if (!strcmp(format, "json")) {
		json_dumpf(records, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		cli_history_print(stdout, records);
	}
	if (skipped)
		fprintf(stderr, "gitgate: %zu line%s of the history could not be read\n", skipped,
			skipped == 1 ? "" : "s");
	json_decref(records);
	buf_free(&err);
	server_close(&server);
	return status;
}
