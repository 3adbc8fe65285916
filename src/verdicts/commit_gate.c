/*
 * commit_gate: see commit_gate.h.
 *
 * Internal faults fail closed: a check that could not run reports why and
 * returns STATUS_FAULT, which blocks the commit like a finding does.
 */
#include "commit_gate.h"

#include <stdlib.h>

#include "check.h"
#include "procenv.h"
#include "invoker.h"

static void say_skipped(FILE *diag, const struct findings *f)
{
	if (!f->nskip)
		return;
	fprintf(diag, "gitgate: GITGATE_SKIP is set: not enforcing");
	for (size_t i = 0; i < f->nskip; i++)
		fprintf(diag, "%s %s", i ? "," : "", f->skip[i]);
	fprintf(diag, " (%zu finding%s skipped)\n", f->skipped, f->skipped == 1 ? "" : "s");
}

enum gitgate_status commit_gate_run(const struct commit_gate_options *opts)
{
	struct check_request req = {
	    .rules_path = opts->rules_path,
	    .top = opts->top,
	    .skip = opts->skip,
	    .amend = opts->amend,
	};
	struct findings findings = {0};
	struct buf err = BUF_INIT;
	enum gitgate_status status = check_staged(&req, &findings, &err);
	if (status == STATUS_USAGE || status == STATUS_FAULT) {
		fprintf(opts->diag, "gitgate: %s%s", err.data ? err.data : "unknown error",
			err.len && err.data[err.len - 1] == '\n' ? "" : "\n");
		if (status == STATUS_FAULT)
			fprintf(opts->diag,
				"gitgate: the change could not be checked, so it is refused "
				"(fail closed)\n");
	} else {
		report_write(opts->out, opts->format, &findings,
			     opts->format == REPORT_TEXT && opts->color);
		say_skipped(opts->diag, &findings);
		if (opts->format == REPORT_TEXT && (findings.errors || findings.warnings))
			fprintf(opts->diag,
				"gitgate: %zu error%s, %zu warning%s in %zu changed file%s%s\n",
				findings.errors, findings.errors == 1 ? "" : "s", findings.warnings,
				findings.warnings == 1 ? "" : "s", findings.files,
				findings.files == 1 ? "" : "s",
				findings.errors ? ": commit refused" : "");
	}
	findings_free(&findings);
	buf_free(&err);
	return status;
}

enum gitgate_status commit_gate_hook(const char *top)
{
	struct procenv env;
	procenv_read(&env);
	struct commit_gate_options opts = {
	    .top = top,
	    .amend = invoker_amends(),
	    .skip = env.skip,
	    .color = procenv_wants_color(&env, stderr),
	    .format = REPORT_TEXT,
	    .out = stderr,
	    .diag = stderr,
	};
	enum gitgate_status status = commit_gate_run(&opts);
	procenv_free(&env);
	return status;
}
