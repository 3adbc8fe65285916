/*
 * reference-transaction: git runs this around every ref update, with the
 * transaction's state ("prepared", "committed", "aborted") as argument and
 * the updates as "OLD NEW REF" lines. Once committed, gitgate notes where
 * the deploy branch went and which receive-pack took it, so that a tip
 * whose post-receive never ran (the client vanished before git could
 * answer it) is still found and deployed (tips.h). It never stops a
 * transaction: it says 0 in every state.
 */
#include <stdio.h>
#include <string.h>

#include "deploy_policy.h"
#include "procenv.h"
#include "hook_input.h"
#include "invoker.h"
#include "server.h"
#include "tips.h"

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "committed"))
		return 0;
	struct procenv env;
	procenv_read(&env);
	struct hook_input input = {0};
	struct identity who = {0};
	struct buf err = BUF_INIT, branch = BUF_INIT;
	struct server server;
	if (hook_input_read(&input, stdin, HOOK_INPUT_RECEIVE, &err) == 0 &&
	    server_open(&server) == 0) {
		/* Unnamed, the tip is still noted: pre-receive refused such a
		 * push, so only a ref moved by hand on the server gets here. */
		if (procenv_pusher(&server.rules.push.identity, &env, &who, &err) < 0) {
			fprintf(stderr, "warning: gitgate: %s\n", err.data);
			buf_clear(&err);
		}
		deploy_policy_branch_ref(&server.rules, &branch);
		for (size_t i = 0; i < input.n && server.rules.deploy.nenvironments; i++) {
			const struct hook_update *u = &input.updates[i];
			if (strcmp(u->ref, branch.data) ||
			    strspn(u->new_id, "0") == strlen(u->new_id))
				continue;
			if (tips_note_accepted(server.state_dir.data, u->old_id, u->new_id,
					       who.name, who.source, invoker_git(), &err) < 0)
				fprintf(stderr, "warning: gitgate: %s\n", err.data);
		}
		server_close(&server);
	} else if (err.len) {
		fprintf(stderr, "warning: gitgate: %s\n", err.data);
	}
	identity_free(&who);
	hook_input_free(&input);
	procenv_free(&env);
	buf_free(&err);
	buf_free(&branch);
	return 0;
}
