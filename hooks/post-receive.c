/*
 * post-receive: git runs this after the refs moved, with the same lines as
 * pre-receive. It cannot reject anything. It records the push in the
 * server's push log, with the pusher as [push] identity names them, and when
 * the deploy branch moved it queues the deploys and shows the pusher their
 * progress (git prints it as "remote:" lines), unless the push said -o
 * detach or the platform holds this hook to a time limit (GitLab's web
 * actions, GitHub Enterprise): then the deploy goes on in the background.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procenv.h"
#include "push_log.h"
#include "status.h"
#include "trigger.h"

/* The gitgate binary that runs the worker: the one installed with this
 * hook (PREFIX/libexec/gitgate/ -> PREFIX/bin/), or beside it (a build
 * directory), else the PATH's. */
static void gitgate_path(struct buf *out)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *tails[] = {"/gitgate", "/../../bin/gitgate"};
	if (len > 0) {
		self[len] = '\0';
		char *slash = strrchr(self, '/');
		*slash = '\0';
		for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
			buf_clear(out);
			buf_printf(out, "%s%s", self, tails[i]);
			if (access(out->data, X_OK) == 0)
				return;
		}
	}
	buf_clear(out);
	buf_adds(out, "gitgate");
}

int main(void)
{
	/* git runs a server's hooks in the repository with GIT_DIR set ("."
	 * for a bare one); the library is told, it never looks itself. */
	struct procenv env;
	procenv_read(&env);
	server_name_repository(env.repository, env.repository_why);
	struct hook_input input = {0};
	struct identity who = {0};
	struct buf err = BUF_INIT, gitgate = BUF_INIT, ask = BUF_INIT;
	int status = STATUS_FAULT;
	/* The rules say who pushed: without them, nobody is recorded. */
	struct server server;
	int opened = server_open_hook(&server);
	if (opened == SERVER_NOT_OURS) {
		status = STATUS_PASSED; /* not gitgate's repository (gitgate.home) */
		goto done;
	}
	if (opened != 0) {
		fprintf(stderr, "warning: gitgate: the push was accepted but not recorded\n");
		goto done;
	}
	if (hook_input_read(&input, stdin, HOOK_INPUT_RECEIVE, &err) < 0 ||
	    procenv_pusher(&server.rules.push.identity, &env, &who, &err) < 0 ||
	    push_log_append(server.folder.data, &who, &input, &err) < 0) {
		fprintf(stderr, "warning: gitgate: the push was accepted but not recorded: %s\n",
			err.data);
	} else {
		status = STATUS_PASSED;
		struct trigger_options opts = {.user = who.name, .user_source = who.source};
		if (procenv_ask(&env, &ask))
			opts.ask = (struct ask){ask.data, env.repository, 0};
		else
			opts.ask.by_ref = procenv_ask_by_ref(&env);
		trigger_read_push_options(&opts, env.push_options, env.npush_options);
		/* A platform that holds this hook to a time limit would kill
		 * it mid-deploy: the deploy goes on without it. */
		opts.detach |= env.time_bounded;
		gitgate_path(&gitgate);
		if (trigger_push(&server, &input, &opts, gitgate.data, stderr, &err) < 0) {
			fprintf(stderr,
				"warning: gitgate: the push was accepted but no deploy was "
				"queued: %s\n",
				err.data);
			status = STATUS_FAULT;
		}
	}
	server_close(&server);
done:
	identity_free(&who);
	hook_input_free(&input);
	procenv_free(&env);
	buf_free(&err);
	buf_free(&gitgate);
	buf_free(&ask);
	return status;
}
