/*
 * gitgate check: the rules from the command line, over the staged change
 * (the default, as pre-commit sees it) or over revision ranges (as the
 * server sees a push), with the report in text, JSON or SARIF on stdout.
 */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "cli.h"
#include "commit_gate.h"
#include "procenv.h"
#include "push_gate.h"

/* What gitgate check was asked. */
struct check_args {
	const char *rules_path, *format_name;
	char **ranges;
	size_t nranges;
	unsigned max_count;
	int staged, amend;
	enum report_format format;
};

/* One option at argv[*i]. Returns 0, or -1 (said on stderr). */
static int check_option(struct check_args *a, int argc, char **argv, int *i)
{
	const char *value;
	if (!strcmp(argv[*i], "--staged")) {
		a->staged = 1;
	} else if (!strcmp(argv[*i], "--amend")) {
		a->amend = 1;
	} else if (cli_option_value(argc, argv, i, "--max-count", &value) ||
		   cli_option_value(argc, argv, i, "-n", &value)) {
		char *end;
		unsigned long n = value ? strtoul(value, &end, 10) : 0;
		if (!value || *end || !n || n > 100000000) {
			fprintf(stderr, "gitgate check: --max-count takes a whole number\n");
			return -1;
		}
		a->max_count = (unsigned)n;
	} else if (cli_option_value(argc, argv, i, "--rules", &value)) {
		a->rules_path = value;
		return value ? 0 : -1;
	} else if (cli_option_value(argc, argv, i, "--format", &value)) {
		a->format_name = value;
		return value ? 0 : -1;
	} else if (!strcmp(argv[*i], "--")) {
		while (++*i < argc)
			a->ranges[a->nranges++] = argv[*i];
	} else if (argv[*i][0] == '-') {
		fprintf(stderr, "gitgate check: unknown option '%s'\n", argv[*i]);
		return -1;
	} else {
		a->ranges[a->nranges++] = argv[*i];
	}
	return 0;
}

/* The arguments, read and checked together. Returns 0, or -1 (said). */
static int check_parse(struct check_args *a, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (check_option(a, argc, argv, &i) < 0)
			return -1;
	const char *wrong = NULL;
	if (report_parse_format(a->format_name, &a->format) < 0)
		fprintf(stderr, "gitgate check: unknown format '%s' (text, json or sarif)\n",
			a->format_name);
	else if (a->amend && a->nranges)
		wrong = "--amend goes with the staged change, not ranges";
	else if (a->staged && a->nranges)
		wrong = "give --staged or revision ranges, not both";
	else
		return 0;
	if (wrong)
		fprintf(stderr, "gitgate check: %s\n", wrong);
	return -1;
}

/* The ranges, as CI checks them. */
static int check_ranges(const struct check_args *a, struct procenv *env)
{
	struct push_gate_options opts = {.mode = PUSH_RANGE,
					 .rules_path = a->rules_path,
					 .env = env,
					 .skip = env->skip,
					 .color = procenv_wants_color(env, stdout),
					 .ranges = a->ranges,
					 .nranges = a->nranges,
					 .max_count = a->max_count,
					 .format = a->format,
					 .out = stdout,
					 .diag = stderr};
	struct push_updates updates = {0};
	int status = push_gate_run(&opts, &updates);
	push_updates_free(&updates);
	return status;
}

/* The staged change, as the pre-commit hook checks it. */
static int check_staged_change(const struct check_args *a, struct procenv *env)
{
	struct commit_gate_options opts = {.rules_path = a->rules_path,
					   .amend = a->amend,
					   .skip = env->skip,
					   .color = procenv_wants_color(env, stdout),
					   .format = a->format,
					   .out = stdout,
					   .diag = stderr};
	struct buf top = BUF_INIT;
	int status = STATUS_FAULT;
	if (cli_work_tree_top(&top) == 0) {
		opts.top = top.data;
		status = commit_gate_run(&opts);
	}
	buf_free(&top);
	return status;
}

int cmd_check(int argc, char **argv)
{
	struct check_args a = {.format_name = "text",
			       .ranges = xcalloc((size_t)argc, sizeof(*a.ranges))};
	int status = STATUS_USAGE;
	if (check_parse(&a, argc, argv) == 0) {
		struct procenv env;
		procenv_read(&env);
		status = a.nranges ? check_ranges(&a, &env) : check_staged_change(&a, &env);
		procenv_free(&env);
	}
	free(a.ranges);
	return status;
}
