/*
 * pre-receive: git runs this in the server's repository with one line per
 * ref on stdin, "<old-id> <new-id> <ref>", and the pushed objects still in
 * quarantine. A non-zero exit rejects the whole push, and no ref moves.
 */
#include <stdio.h>

#include "procenv.h"
#include "push_gate.h"

int main(void)
{
	/* The server honours no GITGATE_SKIP; a bypass is a push option. */
	struct procenv env;
	procenv_read(&env);
	struct push_gate_options opts = {.mode = PUSH_SERVER,
					 .env = &env,
					 .push_options = env.push_options,
					 .npush_options = env.npush_options,
					 .format = REPORT_TEXT,
					 .out = stderr,
					 .diag = stderr};
	int status = push_gate_run_hook(&opts, stdin, HOOK_INPUT_RECEIVE);
	procenv_free(&env);
	return status;
}
