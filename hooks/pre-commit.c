/*
 * pre-commit: git runs this with no arguments from the top of the work tree
 * (GIT_INDEX_FILE points at the index being committed). It checks the
 * staged change and exits non-zero to stop the commit.
 */
#include "commit_gate.h"
#include "procenv.h"
#include "invoker.h"

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "gitgate pre-commit: takes no arguments (git gives none)\n");
		return STATUS_USAGE;
	}
	struct procenv env;
	procenv_read(&env);
	struct commit_gate_options opts = {
	    .top = ".",
	    .amend = invoker_amends(),
	    .skip = env.skip,
	    .color = procenv_wants_color(&env, stderr),
	    .format = REPORT_TEXT,
	    .out = stderr,
	    .diag = stderr,
	};
	int status = commit_gate_run(&opts);
	procenv_free(&env);
	return status;
}
