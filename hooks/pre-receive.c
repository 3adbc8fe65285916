/*
 * pre-receive: git runs this in the server's repository with one line per
 * ref on stdin, "<old-id> <new-id> <ref>", and the pushed objects still in
 * quarantine. A non-zero exit rejects the whole push, and no ref moves.
 * A push it lets through has the deploy branch's new tip noted (tips.h),
 * so that a push cut off before post-receive still deploys.
 */
#include <stdio.h>

#include "invoker.h"
#include "procenv.h"
#include "push_gate.h"
#include "server.h"
#include "status.h"
#include "trigger.h"

/* Notes the deploy branch's tips the push passed with; says, never
 * refuses, when it cannot. */
static void note_tips(const struct procenv *env, const struct hook_input *input)
{
	struct server server;
	struct identity who = {0};
	struct buf err = BUF_INIT;
	if (server_open_hook(&server) != 0)
		return;
	if (procenv_pusher(&server.rules.push.identity, env, &who, &err) == 0)
		trigger_note_accepted(&server, input, who.name, who.source, invoker_git(), stderr);
	identity_free(&who);
	buf_free(&err);
	server_close(&server);
}

int main(void)
{
	/* The server honours no GITGATE_SKIP; a bypass is a push option. */
	struct procenv env;
	procenv_read(&env);
	server_name_repository(env.repository, env.repository_why);
	struct push_gate_options opts = {.mode = PUSH_SERVER,
					 .env = &env,
					 .push_options = env.push_options,
					 .npush_options = env.npush_options,
					 .format = REPORT_TEXT,
					 .out = stderr,
					 .diag = stderr};
	struct hook_input input = {0};
	struct buf err = BUF_INIT;
	enum gitgate_status status = STATUS_FAULT;
	if (hook_input_read(&input, stdin, HOOK_INPUT_RECEIVE, &err) < 0)
		push_gate_unchecked(stderr, err.data);
	else
		status = push_gate_run_input(&opts, &input);
	if (status == STATUS_PASSED)
		note_tips(&env, &input);
	hook_input_free(&input);
	buf_free(&err);
	procenv_free(&env);
	return status;
}
