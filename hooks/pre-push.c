/*
 * pre-push: git runs this with the remote's name and URL as arguments and
 * one line per ref on stdin, "<local-ref> <local-id> <remote-ref>
 * <remote-id>". It checks the commits the remote does not have yet; a
 * non-zero exit stops the push before anything is sent.
 */
#include <stdio.h>

#include "procenv.h"
#include "push_gate.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr,
			"gitgate pre-push: expected the remote's name and URL (git gives both)\n");
		return STATUS_USAGE;
	}
	struct procenv env;
	procenv_read(&env);
	struct push_gate_options opts = {.mode = PUSH_CLIENT,
					 .remote = argv[1],
					 .remote_url = argc > 2 ? argv[2] : NULL,
					 .skip = env.skip,
					 .color = procenv_wants_color(&env, stderr),
					 .format = REPORT_TEXT,
					 .out = stderr,
					 .diag = stderr};
	int status = push_gate_run_hook(&opts, stdin, HOOK_INPUT_PUSH);
	procenv_free(&env);
	return status;
}
