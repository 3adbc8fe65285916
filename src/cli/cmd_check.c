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

int cmd_check(int argc, char **argv)
{
	const char *rules_path = NULL, *format_name = "text", *value;
	char **ranges = xcalloc((size_t)argc, sizeof(*ranges));
	size_t nranges = 0;
	unsigned max_count = 0;
	int staged = 0, amend = 0, status = STATUS_USAGE;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--staged")) {
			staged = 1;
		} else if (!strcmp(argv[i], "--amend")) {
			amend = 1;
		} else if (cli_option_value(argc, argv, &i, "--max-count", &value) ||
			   cli_option_value(argc, argv, &i, "-n", &value)) {
			char *end;
			unsigned long n = value ? strtoul(value, &end, 10) : 0;
			if (!value || *end || !n || n > 100000000) {
				fprintf(stderr,
					"gitgate check: --max-count takes a whole number\n");
				goto done;
			}
			max_count = (unsigned)n;
		} else if (cli_option_value(argc, argv, &i, "--rules", &value)) {
			if (!value)
				goto done;
			rules_path = value;
		} else if (cli_option_value(argc, argv, &i, "--format", &value)) {
			if (!value)
				goto done;
			format_name = value;
		} else if (!strcmp(argv[i], "--")) {
			while (++i < argc)
				ranges[nranges++] = argv[i];
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "gitgate check: unknown option '%s'\n", argv[i]);
			goto done;
		} else {
			ranges[nranges++] = argv[i];
		}
	}
	enum report_format format;
	if (report_parse_format(format_name, &format) < 0) {
		fprintf(stderr, "gitgate check: unknown format '%s' (text, json or sarif)\n",
			format_name);
		goto done;
	}
	if (amend && nranges) {
		fprintf(stderr, "gitgate check: --amend goes with the staged change, not ranges\n");
		goto done;
	}
	if (staged && nranges) {
		fprintf(stderr, "gitgate check: give --staged or revision ranges, not both\n");
		goto done;
	}
	struct procenv env;
	procenv_read(&env);
	if (nranges) {
		struct push_gate_options opts = {.mode = PUSH_RANGE,
						 .rules_path = rules_path,
						 .env = &env,
						 .skip = env.skip,
						 .color = procenv_wants_color(&env, stdout),
						 .ranges = ranges,
						 .nranges = nranges,
						 .max_count = max_count,
						 .format = format,
						 .out = stdout,
						 .diag = stderr};
		struct push_updates updates = {0};
		status = push_gate_run(&opts, &updates);
		push_updates_free(&updates);
		procenv_free(&env);
		goto done;
	}
	struct commit_gate_options opts = {.rules_path = rules_path,
					   .amend = amend,
					   .skip = env.skip,
					   .color = procenv_wants_color(&env, stdout),
					   .format = format,
					   .out = stdout,
					   .diag = stderr};
	struct buf top = BUF_INIT;
	if (cli_work_tree_top(&top) < 0) {
		procenv_free(&env);
		status = STATUS_FAULT;
		goto done;
	}
	opts.top = top.data;
	status = commit_gate_run(&opts);
	buf_free(&top);
	procenv_free(&env);
done:
	free(ranges);
	return status;
}
