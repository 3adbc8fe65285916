/*
 * pre-receive: git runs this in the server's repository with one line per
 * ref on stdin, "<old-id> <new-id> <ref>", and the pushed objects still in
 * quarantine. A non-zero exit rejects the whole push, and no ref moves.
 */
#include <stdio.h>

#include "environment.h"
#include "push_gate.h"

int main(void)
{
	struct hook_input input = {0};
	struct push_updates updates = {0};
	struct buf err = BUF_INIT;
	int status;
	if (hook_input_read(&input, stdin, HOOK_INPUT_RECEIVE, &err) < 0 ||
	    push_updates_add_hook_input(&updates, &input, &err) < 0) {
		fprintf(stderr,
			"error: gitgate: %s\n"
			"error: gitgate: the push could not be checked, so it is refused\n",
			err.data);
		status = STATUS_FAULT;
	} else {
		/* The server honours no GITGATE_SKIP; a bypass is a push option. */
		struct environment env;
		environment_read(&env);
		struct push_gate_options opts = {.mode = PUSH_SERVER,
						 .user = env.user,
						 .push_options = env.push_options,
						 .npush_options = env.npush_options,
						 .format = REPORT_TEXT,
						 .out = stderr,
						 .diag = stderr};
		status = push_gate_run(&opts, &updates);
		environment_free(&env);
	}
	push_updates_free(&updates);
	hook_input_free(&input);
	buf_free(&err);
	return status;
}
