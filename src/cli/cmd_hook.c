/*
 * gitgate hook pre-commit|pre-push: the client hooks as a command, for hook
 * managers that run a command rather than link a binary (the pre-commit
 * framework, lefthook). Each does what its hook binary does through the
 * same function (commit_gate_hook, push_gate_client_hook): the same
 * verdict, an amend found the same way (the invoking git's arguments), the
 * report on stderr.
 *
 * The pre-commit framework's pre-push stage reads git's lines itself and
 * gives its hooks none: it names one ref, the first with something to push,
 * in PRE_COMMIT_* variables. That ref becomes the line git would have given,
 * "<local-ref> <to> <remote-ref> <from>", read by the hook's own reader, so
 * an id that is not one is refused as it would be from git. When the whole
 * history is new, pre-commit gives no FROM/TO: the line is then the local
 * ref's commit and no remote commit (all zeros), every commit new.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commit_gate.h"
#include "procenv.h"
#include "push_gate.h"
#include "run.h"
#include "status.h"

/* The commit ref names here, as git reads it. Returns 0 or -1 with why. */
static int resolve_commit(struct buf *id, const char *ref, struct buf *why)
{
	struct buf spec = BUF_INIT, err = BUF_INIT;
	buf_printf(&spec, "%s^{commit}", ref);
	const char *argv[] = {"git",	 "rev-parse", "--verify", "--quiet", "--end-of-options",
			      spec.data, NULL};
	struct run_result git;
	int rc = run_capture(&git, id, argv, RUN_OUT_DISCARD, &err) == 0 && git.code == 0 ? 0 : -1;
	id->len = id->len ? strcspn(id->data, "\n") : 0;
	if (id->len)
		id->data[id->len] = '\0';
	if (rc < 0 || !id->len)
		buf_printf(why, "'%s' names no commit here", ref);
	buf_free(&spec);
	buf_free(&err);
	return rc < 0 || !id->len ? -1 : 0;
}

/* The pre-push line for the ref the pre-commit framework names. Returns 0,
 * or -1 with why (the push is then refused). */
static int framework_line(struct buf *line, const struct procenv *env, struct buf *why)
{
	const char *local = env->framework_push.local_ref, *remote = env->framework_push.remote_ref;
	const char *from = env->framework_push.from, *to = env->framework_push.to;
	if (!local || !remote) {
		buf_adds(why, "PRE_COMMIT_REMOTE_NAME is set without PRE_COMMIT_LOCAL_BRANCH and "
			      "PRE_COMMIT_REMOTE_BRANCH: not the pre-commit framework's pre-push");
		return -1;
	}
	if (!from != !to) {
		buf_adds(why, "one of PRE_COMMIT_FROM_REF and PRE_COMMIT_TO_REF without the other");
		return -1;
	}
	if (to) {
		buf_printf(line, "%s %s %s %s\n", local, to, remote, from);
		return 0;
	}
	struct buf id = BUF_INIT;
	int rc = resolve_commit(&id, local, why);
	if (rc == 0)
		buf_printf(line, "%s %s %s %.*s\n", local, id.data, remote, (int)id.len,
			   "0000000000000000000000000000000000000000000000000000000000000000");
	buf_free(&id);
	return rc;
}

/* Under the pre-commit framework: the line it stands for, read as git's. */
static int framework_push(const struct procenv *env)
{
	struct buf line = BUF_INIT, why = BUF_INIT;
	int status = STATUS_FAULT;
	FILE *in = NULL;
	if (framework_line(&line, env, &why) < 0)
		fprintf(stderr,
			"error: gitgate hook pre-push: %s\n"
			"error: gitgate: the push could not be checked, so it is refused\n",
			why.data);
	else if (!(in = fmemopen(line.data, line.len, "r")))
		fprintf(stderr, "error: gitgate hook pre-push: out of memory: push refused\n");
	else
		status =
		    push_gate_client_hook(env->framework_push.remote, env->framework_push.url, in);
	if (in)
		fclose(in);
	buf_free(&line);
	buf_free(&why);
	return status;
}

static int pre_push(int argc, char **argv)
{
	if (argc > 1)
		return push_gate_client_hook(argv[1], argc > 2 ? argv[2] : NULL, stdin);
	struct procenv env;
	procenv_read(&env);
	int status = STATUS_USAGE;
	if (env.framework_push.remote)
		status = framework_push(&env);
	else
		fprintf(stderr, "gitgate hook pre-push: expected the remote's name and URL with "
				"git's lines on stdin, or the pre-commit framework's PRE_COMMIT_* "
				"variables\n");
	procenv_free(&env);
	return status;
}

int cmd_hook(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "pre-commit")) {
		struct buf top = BUF_INIT;
		int status =
		    cli_work_tree_top(&top) < 0 ? STATUS_FAULT : commit_gate_hook(top.data);
		buf_free(&top);
		return status;
	}
	if (argc >= 2 && argc <= 4 && !strcmp(argv[1], "pre-push"))
		return pre_push(argc - 1, argv + 1);
	cli_usage(stderr, "hook");
	return STATUS_USAGE;
}
