/*
 * push_gate: the push-time verdict, shared by pre-receive (the server,
 * authoritative), pre-push (a client's early warning) and `gitgate check
 * REV-RANGE...`: open the repository, read the right rules, check every
 * new commit, report, decide.
 *
 * The server reads its rules only from its own configuration and honours no
 * environment bypass; its one bypass is a push option from a pusher that
 * rules.ini names, and each use is appended to an audit log. Who pushed is
 * what [push] identity says (identity.h); a pusher that cannot be named is
 * refused.
 */
#ifndef GITGATE_PUSH_GATE_H
#define GITGATE_PUSH_GATE_H

#include <stdio.h>

#include "procenv.h"
#include "push.h"
#include "report.h"

struct push_gate_options {
	enum push_mode mode;
	const char *rules_path; /* client and range: --rules, or NULL */
	const char *remote;	/* pre-push: the remote's name (or URL) */
	const char *remote_url; /* pre-push: the URL pushed to */
	/* The server's: who pushes is resolved from it by [push] identity
	 * (procenv_pusher), checked against bypass_users and recorded. */
	const struct procenv *env;
	const char *skip;	   /* a client's GITGATE_SKIP; the server honours none */
	char *const *push_options; /* the server's: git push -o VALUE, in order */
	size_t npush_options;
	int color;     /* colour the text report */
	char **ranges; /* range mode: "A..B", "A...B", "REV" */
	size_t nranges;
	unsigned max_count; /* range mode: -n */
	enum report_format format;
	FILE *out, *diag;
};

/* updates holds the ref updates a hook read (none for range mode: the
 * ranges are added to it). */
/* The revision whose history is accepted as it is: git config
 * gitgate.baseline (install.sh --server sets it), else [push] baseline, or
 * NULL. holder keeps the text. */
const char *push_gate_baseline(git_repository *repo, const struct rules *rules, struct buf *holder);
enum gitgate_status push_gate_run(const struct push_gate_options *opts,
				  struct push_updates *updates);
/* A hook's whole job: reads git's lines from in (pre-receive's or
 * pre-push's kind), then runs the gate; input git should never give is a
 * fault, and the push is refused. */
enum gitgate_status push_gate_run_hook(const struct push_gate_options *opts, FILE *in,
				       enum hook_input_kind kind);

/* The pre-push hook's whole job, for the hook binary and `gitgate hook
 * pre-push` alike: git's lines read from in, the remote's name and URL
 * (NULL when git gave none), the environment read (GITGATE_SKIP, colour),
 * the report on stderr. */
enum gitgate_status push_gate_client_hook(const char *remote, const char *url, FILE *in);

#endif
