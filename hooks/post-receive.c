/*
 * post-receive: git runs this after the refs moved, with the same lines as
 * pre-receive. It cannot reject anything; until deploys exist it records
 * the push in the server's push log.
 */
#include <stdio.h>
#include <stdlib.h>

#include "environment.h"
#include "push_log.h"
#include "status.h"

int main(void)
{
	/* git runs a server's hooks in the repository with GIT_DIR set ("."
	 * for a bare one); the library is told, it never looks itself. */
	struct environment env;
	environment_read(&env);
	struct hook_input input = {0};
	struct buf err = BUF_INIT;
	int failed = hook_input_read(&input, stdin, HOOK_INPUT_RECEIVE, &err) < 0 ||
		     push_log_append(env.git_dir ? env.git_dir : ".", env.user, &input, &err) < 0;
	if (failed)
		fprintf(stderr, "warning: gitgate: the push was accepted but not recorded: %s\n",
			err.data);
	hook_input_free(&input);
	environment_free(&env);
	buf_free(&err);
	return failed ? STATUS_FAULT : STATUS_PASSED;
}
