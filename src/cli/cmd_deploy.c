/*
 * gitgate deploy and gitgate rollback: UNIT|all [to] ENV on the server,
 * through the gates (deploy.h). The seed's spellings work as written:
 * `gitgate deploy argo to production`, `gitgate rollback alpine production`.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "deploy.h"
#include "environment.h"
#include "server.h"
#include "status.h"
#include "worker.h"

typedef enum gitgate_status (*deploy_fn)(const struct deploy_site *site,
					 const struct deploy_request *req, FILE *out,
					 struct buf *id);

/* Every unit that has a target in env, in rules.ini's order. */
static enum gitgate_status each_unit(const struct deploy_site *site, struct deploy_request *req,
				     deploy_fn fn)
{
	enum gitgate_status worst = STATUS_PASSED;
	for (size_t i = 0; i < site->rules->nunits; i++) {
		struct buf id = BUF_INIT;
		req->unit = site->rules->units[i].name;
		enum gitgate_status status = fn(site, req, stdout, &id);
		if (status > worst)
			worst = status;
		buf_free(&id);
	}
	return worst;
}

/* The detached worker a push starts: runs the queue, then exits. */
static int deploy_worker(void)
{
	struct server server;
	int status = server_open(&server);
	if (status)
		return status;
	struct buf err = BUF_INIT;
	if (worker_run(&server, &err) < 0) {
		fprintf(stderr, "gitgate deploy --worker: %s\n", err.data);
		status = STATUS_FAULT;
	}
	buf_free(&err);
	server_close(&server);
	return status;
}

/* UNIT|all [to] ENV and the options, then fn over the server. */
static int run_command(const char *name, int argc, char **argv, const char *usage, int options,
		       deploy_fn fn)
{
	struct deploy_request req = {0};
	const char *words[3] = {0}, *value;
	size_t nwords = 0;
	for (int i = 1; i < argc; i++) {
		const char **option = NULL;
		if (options && cli_option_value(argc, argv, &i, "--rev", &value))
			option = &req.revision;
		else if (options && cli_option_value(argc, argv, &i, "--confirm", &value))
			option = &req.phrase;
		else if (options && cli_option_value(argc, argv, &i, "--emergency", &value))
			option = &req.emergency;
		if (option) {
			if (!value)
				return STATUS_USAGE;
			*option = value;
		} else if (argv[i][0] == '-' || nwords == 3) {
			fprintf(stderr, "gitgate %s: unexpected '%s'\n%s", name, argv[i], usage);
			return STATUS_USAGE;
		} else {
			words[nwords++] = argv[i];
		}
	}
	/* The seed's spelling: UNIT to ENV. */
	if (nwords == 3 && !strcmp(words[1], "to")) {
		words[1] = words[2];
		nwords = 2;
	}
	if (nwords != 2) {
		fputs(usage, stderr);
		return STATUS_USAGE;
	}
	req.unit = words[0];
	req.environment = words[1];
	struct environment env;
	environment_read(&env);
	req.user = env.user;
	struct server server;
	int status = server_open(&server);
	if (status == 0) {
		struct deploy_site site = {.repo = server.repo,
					   .rules = &server.rules,
					   .state_dir = server.state_dir.data};
		struct buf id = BUF_INIT;
		status = !strcmp(req.unit, "all") ? each_unit(&site, &req, fn)
						  : fn(&site, &req, stdout, &id);
		buf_free(&id);
		server_close(&server);
	}
	environment_free(&env);
	return status;
}

int cmd_deploy(int argc, char **argv)
{
	/* --reconcile is the worker in the foreground: it first undoes a deploy
	 * that died after its switch, then runs or closes what is queued. */
	if (argc == 2 && (!strcmp(argv[1], "--worker") || !strcmp(argv[1], "--reconcile")))
		return deploy_worker();
	return run_command("deploy", argc, argv,
			   "usage: gitgate deploy UNIT|all [to] ENV [--rev REV] [--confirm PHRASE] "
			   "[--emergency REASON]\n       gitgate deploy --reconcile\n",
			   1, deploy_run);
}

int cmd_rollback(int argc, char **argv)
{
	return run_command("rollback", argc, argv, "usage: gitgate rollback UNIT|all ENV\n", 0,
			   deploy_rollback);
}
