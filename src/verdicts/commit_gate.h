/*
 * commit_gate: the commit-time verdict, shared by the pre-commit hook and
 * `gitgate check --staged`: check the staged change, report, decide.
 */
#ifndef GITGATE_COMMIT_GATE_H
#define GITGATE_COMMIT_GATE_H

#include <stdio.h>

#include "report.h"
#include "status.h"

struct commit_gate_options {
	const char *rules_path; /* NULL: look it up */
	const char *top;	/* top of the work tree */
	int amend;		/* git commit --amend: judged against HEAD's parent */
	const char *skip;	/* rules to skip (GITGATE_SKIP), or NULL */
	int color;		/* colour the text report */
	enum report_format format;
	FILE *out;  /* findings */
	FILE *diag; /* errors, notices and the verdict line */
};

enum gitgate_status commit_gate_run(const struct commit_gate_options *opts);

/* The pre-commit hook's whole job, for the hook binary and `gitgate hook
 * pre-commit` alike: the environment read (GITGATE_SKIP, colour), an amend
 * known from the invoking git (invoker.h), the report on stderr. top: the
 * work tree's top. */
enum gitgate_status commit_gate_hook(const char *top);

#endif
