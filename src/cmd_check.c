/*
 * gitgate check: the commit-time checks from the command line, with the
 * report in text, JSON or SARIF on stdout.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commit_gate.h"

int cmd_check(int argc, char **argv)
{
	const char *rules_path = NULL, *format_name = "text", *value;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--staged")) {
			continue;
		} else if (cli_option_value(argc, argv, &i, "--rules", &value)) {
			if (!value)
				return STATUS_USAGE;
			rules_path = value;
		} else if (cli_option_value(argc, argv, &i, "--format", &value)) {
			if (!value)
				return STATUS_USAGE;
			format_name = value;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "gitgate check: unknown option '%s'\n", argv[i]);
			return STATUS_USAGE;
		} else {
			fprintf(stderr, "gitgate check: checking revision ranges ('%s') is not built yet; "
					"use --staged\n", argv[i]);
			return STATUS_USAGE;
		}
	}
	struct commit_gate_options opts = {.rules_path = rules_path, .out = stdout, .diag = stderr};
	if (report_parse_format(format_name, &opts.format) < 0) {
		fprintf(stderr, "gitgate check: unknown format '%s' (text, json or sarif)\n", format_name);
		return STATUS_USAGE;
	}
	struct buf top = BUF_INIT;
	if (cli_work_tree_top(&top) < 0)
		return STATUS_FAULT;
	opts.top = top.data;
	int status = commit_gate_run(&opts);
	buf_free(&top);
	return status;
}
