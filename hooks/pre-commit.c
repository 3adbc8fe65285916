/*
 * pre-commit: git runs this with no arguments from the top of the work tree
 * (GIT_INDEX_FILE points at the index being committed). It checks the
 * staged change and exits non-zero to stop the commit. `gitgate hook
 * pre-commit` is the same for hook managers.
 */
#include <stdio.h>

#include "commit_gate.h"

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "gitgate pre-commit: takes no arguments (git gives none)\n");
		return STATUS_USAGE;
	}
	return commit_gate_hook(".");
}
