/*
 * env_command: a target's secrets from a command (a secrets manager's
 * client: aws, pass, sops, vault), run where its env file is read -- the
 * part's host -- whenever the env file is (gate 7, gate 6's look at the
 * environment before, health, reconcile). Its standard output is
 * NAME=value lines in the env file's syntax (envfile.h), laid over the env
 * file's variables: a name it gives wins.
 *
 * What it prints is never shown, logged or recorded: its standard output
 * is read into memory, parsed and wiped; its standard error is thrown
 * away. A failure says only how it ended (its exit status, its signal, its
 * time limit: the target's command_timeout_seconds) and how to see more.
 * It is the admin's command, from rules.ini: it runs outside the sandbox,
 * with gitgate's environment, the env file's variables and $UNIT $PROJECT
 * $ENVIRONMENT $ROOT.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

/* Wipes what a buffer held (a secret) before it is freed. */
static void buf_wipe(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->len);
	buf_free(b);
}

/* "NAME=value" (taken) into env, in place of every NAME there: one
 * definition each, so that no reader of the environment finds the env
 * file's first. */
static void lay_over(struct envfile *env, char *item)
{
	size_t name = strcspn(item, "="), kept = 0;
	for (size_t i = 0; i < env->n; i++) {
		if (!strncmp(env->items[i], item, name + 1)) {
			explicit_bzero(env->items[i], strlen(env->items[i]));
			free(env->items[i]);
		} else {
			env->items[kept++] = env->items[i];
		}
	}
	env->n = kept;
	*ARRAY_PUSH(env->items, env->n, env->cap) = item;
}

/* The command's stdout into out. Returns 0 when it exited 0 in time, else
 * -1 with how it ended in err. */
static int env_command_run(struct part *p, struct buf *out, struct buf *err)
{
	const struct deploy_target *t = p->t;
	struct command_vars vars = {.unit = t->project_of ? t->project_of->unit->name : NULL,
				    .project = t->project,
				    .environment = t->environment,
				    .root = t->root};
	char **argv = command_expand((const char *const *)t->env_command.argv, &vars);
	char **env = part_environ(p, &vars, 1);
	struct host_command c = {.argv = (const char *const *)argv,
				 .env = (const char *const *)env,
				 .out = {.kind = RUN_OUT_CAPTURE, .buf = out},
				 .err = {.kind = RUN_OUT_DISCARD},
				 .limit_ms = t->command_timeout_seconds * 1000,
				 .grace_ms = GRACE_MS};
	struct run_result r = {0};
	int rc = host_run(p->host, &c, &r, err);
	if (rc == 0 && (r.code || r.timed_out)) {
		buf_adds(err, "env_command ");
		run_describe(err, &r);
		rc = -1;
	}
	if (rc < 0)
		buf_printf(err,
			   " (what it prints is never shown: run `%s` as gitgate's user%s%s to "
			   "see why)",
			   t->env_command.text, p->address ? " on " : "",
			   p->address ? p->address : "");
	strvec_free(argv);
	strvec_free(env);
	return rc;
}

int env_command_read(struct part *p, struct buf *err)
{
	if (!p->host) {
		buf_printf(err, "%s: not connected", p->label.data);
		return -1;
	}
	struct buf out = BUF_INIT;
	struct envfile given;
	int rc = env_command_run(p, &out, err);
	if (rc == 0)
		rc = envfile_read_text(&given, out.data ? out.data : "", out.len,
				       "env_command's output", err);
	for (size_t i = 0; rc == 0 && i < given.n; i++)
		lay_over(&p->env, given.items[i]);
	if (rc == 0) {
		given.n = 0;
		envfile_free(&given);
	}
	buf_wipe(&out);
	return rc;
}
