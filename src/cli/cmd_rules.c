/*
 * gitgate rules: validate a rules file and print the policy it sets.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rules.h"
#include "rules_locate.h"
#include "status.h"

int cmd_rules(int argc, char **argv)
{
	struct rules_location where = {0};
	const char *value;
	for (int i = 1; i < argc; i++) {
		if (cli_option_value(argc, argv, &i, "--rules", &value)) {
			if (!value)
				return STATUS_USAGE;
			where.explicit_path = value;
		} else {
			fprintf(stderr, "gitgate rules: unknown argument '%s'\n", argv[i]);
			return STATUS_USAGE;
		}
	}
	struct buf top = BUF_INIT, path = BUF_INIT, err = BUF_INIT;
	int status = STATUS_PASSED;
	if (!where.explicit_path) {
		if (cli_work_tree_top(&top) < 0) {
			status = STATUS_USAGE;
			goto done;
		}
		where.top = top.data;
	}
	if (rules_locate(&where, &path, &err) < 0) {
		fprintf(stderr, "gitgate: %s\n", err.data);
		status = STATUS_USAGE;
		goto done;
	}
	struct rules rules;
	if (rules_load(&rules, path.data, &err) < 0) {
		fputs(err.data, stderr);
		status = STATUS_USAGE;
	} else {
		rules_describe(&rules, stdout);
	}
	rules_free(&rules);
done:
	buf_free(&top);
	buf_free(&path);
	buf_free(&err);
	return status;
}
