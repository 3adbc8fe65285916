/*
 * gitgate deploy and gitgate rollback: UNIT|all [to] ENV on the server,
 * through the gates (deploy.h). The team's spellings work as written:
 * `gitgate deploy argo to production`, `gitgate rollback alpine production`.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "deploy.h"
#include "deploy_policy.h"
#include "procenv.h"
#include "server.h"
#include "status.h"
#include "trigger.h"
#include "worker.h"

/* req for UNIT, or one a unit for "all": every unit that has a target in
 * the environment, in rules.ini's order. Returns how many, or 0 with the
 * reason said. */
static size_t requests_for(const struct deploy_site *site, const struct deploy_request *req,
			   struct deploy_request **out)
{
	const struct rules *r = site->rules;
	*out = xcalloc(r->nunits + 1, sizeof(**out));
	if (strcmp(req->unit, "all")) {
		(*out)[0] = *req;
		return 1;
	}
	const struct deploy_environment *env = deploy_policy_find_environment(r, req->environment);
	size_t n = 0;
	for (size_t i = 0; env && i < r->nunits; i++) {
		if (deploy_policy_unit_deploys_to(r, &r->units[i], env)) {
			(*out)[n] = *req;
			(*out)[n++].unit = r->units[i].name;
		}
	}
	if (!n)
		fprintf(stderr, "error: gitgate: %s\n",
			env ? "no unit has a target there" : "no such environment in rules.ini");
	return n;
}

/* deploy: deploy_run runs the units' tests first when there are several. */
static enum gitgate_status deploy_units(const struct deploy_site *site,
					const struct deploy_request *req)
{
	struct deploy_request *reqs;
	size_t n = requests_for(site, req, &reqs);
	enum gitgate_status status = n ? deploy_run(site, reqs, n, stdout, NULL) : STATUS_USAGE;
	free(reqs);
	return status;
}

/* rollback: one unit after another. */
static enum gitgate_status rollback_units(const struct deploy_site *site,
					  const struct deploy_request *req)
{
	struct deploy_request *reqs;
	size_t n = requests_for(site, req, &reqs);
	enum gitgate_status worst = n ? STATUS_PASSED : STATUS_USAGE;
	for (size_t i = 0; i < n; i++) {
		enum gitgate_status status = deploy_rollback(site, &reqs[i], stdout);
		if (status > worst)
			worst = status;
	}
	free(reqs);
	return worst;
}

/* The detached worker a push starts: runs the queue, then exits. */
static int deploy_worker(int catch_up)
{
	struct server server;
	int status = server_open(&server);
	if (status)
		return status;
	struct buf err = BUF_INIT;
	if (worker_run(&server, catch_up, cli_publish, &err) < 0) {
		fprintf(stderr, "gitgate deploy --worker: %s\n", err.data);
		status = STATUS_FAULT;
	}
	/* What reconcile recorded, or a deploys ref never written yet. */
	if (catch_up)
		cli_publish(&server);
	buf_free(&err);
	server_close(&server);
	return status;
}

/* The watcher of a deploy's watch, started by the deploy in a session of
 * its own: checks to the watch's end, then exits. */
static int deploy_watcher(const char *id)
{
	struct server server;
	int status = server_open(&server);
	if (status)
		return status;
	struct deploy_site site = deploy_site_of(&server);
	struct buf err = BUF_INIT;
	if (deploy_watch(&site, id, stdout, &err) < 0) {
		fprintf(stderr, "gitgate deploy --watch %s: %s\n", id, err.data);
		status = STATUS_FAULT;
	}
	cli_publish(&server);
	buf_free(&err);
	server_close(&server);
	return status;
}

/* The gitgate binary running now, for the worker --detach starts. */
static void own_path(struct buf *out)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	buf_add(out, len > 0 ? self : "gitgate", len > 0 ? (size_t)len : strlen("gitgate"));
}

/* deploy --detach: queued for the worker, which goes on after this
 * returns. */
static int deploy_detached(const struct server *server, const struct deploy_site *site,
			   const struct deploy_request *req)
{
	char revision[GIT_OID_HEXSZ + 1];
	struct buf err = BUF_INIT, self = BUF_INIT;
	struct trigger_options opts = {.phrase = req->phrase,
				       .emergency = req->emergency,
				       .detach = 1,
				       .user = req->user,
				       .user_source = req->user_source};
	int status = STATUS_PASSED;
	if (deploy_resolve_revision(site, req->revision, revision, &err) < 0)
		status = STATUS_USAGE;
	own_path(&self);
	if (status == STATUS_PASSED && trigger_deploy(server, req->unit, req->environment, revision,
						      &opts, self.data, stdout, &err) < 0)
		status = STATUS_FAULT;
	if (status != STATUS_PASSED)
		fprintf(stderr, "error: gitgate: %s\n", err.data);
	buf_free(&err);
	buf_free(&self);
	return status;
}

enum command { DEPLOY, ROLLBACK };

/* UNIT|all [to] ENV and the options, then the command over the server. */
/* The words and options of deploy or rollback into req (and *detach).
 * Returns 0, or STATUS_USAGE (said). */
static int request_parse(enum command which, int argc, char **argv, struct deploy_request *req,
			 int *detach)
{
	const char *name = which == DEPLOY ? "deploy" : "rollback";
	const char *words[3] = {0}, *value;
	size_t nwords = 0;
	for (int i = 1; i < argc; i++) {
		const char **option = NULL;
		if (which == DEPLOY && cli_option_value(argc, argv, &i, "--rev", &value))
			option = &req->revision;
		else if (which == DEPLOY && cli_option_value(argc, argv, &i, "--confirm", &value))
			option = &req->phrase;
		else if (which == DEPLOY && cli_option_value(argc, argv, &i, "--emergency", &value))
			option = &req->emergency;
		else if (which == ROLLBACK && cli_option_value(argc, argv, &i, "--to", &value))
			option = &req->to;
		if (option) {
			if (!value)
				return STATUS_USAGE;
			*option = value;
		} else if (which == DEPLOY && !strcmp(argv[i], "--dry-run")) {
			req->dry_run = 1;
		} else if (which == DEPLOY && !strcmp(argv[i], "--detach")) {
			*detach = 1;
		} else if (argv[i][0] == '-' || nwords == 3) {
			fprintf(stderr, "gitgate %s: unexpected '%s'\n", name, argv[i]);
			cli_usage(stderr, name);
			return STATUS_USAGE;
		} else {
			words[nwords++] = argv[i];
		}
	}
	/* The team's spelling: UNIT to ENV. */
	if (nwords == 3 && !strcmp(words[1], "to")) {
		words[1] = words[2];
		nwords = 2;
	}
	if (nwords != 2 || (*detach && req->dry_run)) {
		cli_usage(stderr, name);
		return STATUS_USAGE;
	}
	req->unit = words[0];
	req->environment = words[1];
	return 0;
}

static int run_command(enum command which, int argc, char **argv)
{
	const char *name = which == DEPLOY ? "deploy" : "rollback";
	struct deploy_request req = {0};
	int detach = 0;
	if (request_parse(which, argc, argv, &req, &detach))
		return STATUS_USAGE;
	struct procenv env;
	procenv_read(&env);
	struct server server;
	struct identity who = {0};
	struct buf err = BUF_INIT;
	int status = server_open(&server);
	/* A person at a shell: the OS user, or env:NAME's variable (set by
	 * the admin's forced command); never a hosting platform's. */
	if (status == 0 &&
	    procenv_command_user(&server.rules.push.identity, &env, &who, &err) < 0) {
		fprintf(stderr, "error: gitgate %s: %s; refused (fail closed)\n", name, err.data);
		server_close(&server);
		status = STATUS_FAULT;
	}
	if (status == 0) {
		req.user = who.name;
		req.user_source = who.source;
		struct deploy_site site = deploy_site_of(&server);
		if (which == ROLLBACK)
			status = (int)rollback_units(&site, &req);
		else if (detach)
			status = deploy_detached(&server, &site, &req);
		else
			status = (int)deploy_units(&site, &req);
		/* Nothing was recorded by a dry run or a refusal at the start;
		 * publishing finds nothing changed then. */
		if (!detach && !req.dry_run)
			cli_publish(&server);
		server_close(&server);
	}
	identity_free(&who);
	buf_free(&err);
	procenv_free(&env);
	return status;
}

int cmd_deploy(int argc, char **argv)
{
	/* --reconcile is the worker in the foreground: it first undoes a deploy
	 * that died after its switch, catches up with the deploy branch's tip,
	 * then runs or closes what is queued. */
	if (argc == 2 && (!strcmp(argv[1], "--worker") || !strcmp(argv[1], "--reconcile")))
		return deploy_worker(!strcmp(argv[1], "--reconcile"));
	if (argc == 3 && !strcmp(argv[1], "--watch") && argv[2][0] != '-')
		return deploy_watcher(argv[2]);
	return run_command(DEPLOY, argc, argv);
}

int cmd_rollback(int argc, char **argv)
{
	return run_command(ROLLBACK, argc, argv);
}
