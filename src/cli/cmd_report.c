/*
 * gitgate report ID [--format text|md|html|json]: the health confirmation
 * report of one deploy, from the server's history (confirmation.h).
 * gitgate signoff ID [--note TEXT]: signs a deployed or confirmed deploy
 * off, as the person [push] identity names, in a record of its own.
 *
 * Both read the env files of the deploy's targets first, to hide their
 * values in what they print or record; where that cannot be done, neither
 * prints nor records anything (exit 3).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "confirmation.h"
#include "deploy_policy.h"
#include "procenv.h"
#include "history.h"
#include "status.h"

/* What both commands work on: the server, the deploy's records, masked
 * with the values of its targets' env files. */
struct session {
	struct server server;
	struct confirmation c;
	struct mask m;
};

static int session_read(struct session *s, const char *id, const char *command)
{
	struct buf err = BUF_INIT;
	struct deploy_site site = deploy_site_of(&s->server);
	int rc = confirmation_read(&s->c, s->server.state_dir.data, id, &err),
	    status = STATUS_PASSED;
	if (rc != 0) {
		fprintf(stderr, "error: gitgate %s: %s\n", command, err.data);
		status = rc > 0 ? STATUS_USAGE : STATUS_FAULT;
	} else if (confirmation_env_mask(&site, &s->c, &s->m, &err) < 0) {
		fprintf(stderr,
			"error: gitgate %s: %s; nothing is shown or recorded that might hold an "
			"env file's value\n",
			command, err.data);
		status = STATUS_FAULT;
	} else {
		const char *env = json_string_value(json_object_get(s->c.deploy, "environment"));
		const struct deploy_environment *e =
		    env ? deploy_policy_find_environment(&s->server.rules, env) : NULL;
		s->c.watched = e && e->watch_seconds;
		confirmation_mask(&s->c, &s->m);
	}
	buf_free(&err);
	return status;
}

static void session_close(struct session *s)
{
	confirmation_free(&s->c);
	mask_free(&s->m);
	server_close(&s->server);
}

/* Opens the server and reads deploy id's records into s. Returns 0, or a
 * status (said; nothing left open). */
static int session_open(struct session *s, const char *id, const char *command)
{
	memset(s, 0, sizeof(*s));
	int status = server_open(&s->server);
	if (status)
		return status;
	status = session_read(s, id, command);
	if (status)
		session_close(s);
	return status;
}

/* ID and one option (--format or --note) from argv. Returns 0, or 2
 * (said). */
static int id_and_option(int argc, char **argv, const char *option, const char **id,
			 const char **value, const char *usage)
{
	*id = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if (cli_option_value(argc, argv, &i, option, &v)) {
			if (!v)
				return STATUS_USAGE;
			*value = v;
		} else if (argv[i][0] == '-' || *id) {
			fprintf(stderr, "%s", usage);
			return STATUS_USAGE;
		} else {
			*id = argv[i];
		}
	}
	if (*id)
		return 0;
	fprintf(stderr, "%s", usage);
	return STATUS_USAGE;
}

int cmd_report(int argc, char **argv)
{
	const char *id, *format_name = "text";
	enum confirmation_format format;
	int status = id_and_option(argc, argv, "--format", &id, &format_name,
				   "usage: gitgate report ID [--format text|md|html|json]\n");
	if (status)
		return status;
	if (confirmation_format_parse(format_name, &format) < 0) {
		fprintf(stderr, "gitgate report: --format text, md, html or json\n");
		return STATUS_USAGE;
	}
	struct session s;
	if ((status = session_open(&s, id, "report")))
		return status;
	struct buf out = BUF_INIT;
	confirmation_render(&out, &s.c, format);
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	session_close(&s);
	return STATUS_PASSED;
}

/* Who signs off: as for a deploy run here (procenv_command_user). */
static int signoff_append(const struct server *server, const struct confirmation *c,
			  const struct mask *m, const char *id, const char *note)
{
	struct procenv env;
	struct identity who = {0};
	struct buf err = BUF_INIT, why = BUF_INIT;
	int status = STATUS_PASSED;
	procenv_read(&env);
	if (procenv_command_user(&server->rules.push.identity, &env, &who, &err) < 0) {
		fprintf(stderr, "error: gitgate signoff: %s; refused (fail closed)\n", err.data);
		status = STATUS_FAULT;
	} else if (!confirmation_may_sign(c, &why)) {
		fprintf(stderr, "error: gitgate signoff: deploy %s is not signed off: %s\n", id,
			why.data);
		status = STATUS_REJECTED;
	} else {
		json_t *record = history_signoff_new(id, who.name, who.source, note);
		history_record_mask(record, m);
		if (history_append(server->state_dir.data, record, &err) < 0) {
			fprintf(stderr, "error: gitgate signoff: %s\n", err.data);
			status = STATUS_FAULT;
		} else {
			struct buf shown = BUF_INIT;
			history_record_text(&shown, record, "by", "?");
			printf("deploy %s (%s) signed off by %s\n", id, c->outcome, shown.data);
			buf_free(&shown);
		}
		json_decref(record);
	}
	identity_free(&who);
	procenv_free(&env);
	buf_free(&err);
	buf_free(&why);
	return status;
}

int cmd_signoff(int argc, char **argv)
{
	const char *id, *note = NULL;
	int status = id_and_option(argc, argv, "--note", &id, &note,
				   "usage: gitgate signoff ID [--note TEXT]\n");
	if (status)
		return status;
	struct session s;
	if ((status = session_open(&s, id, "signoff")))
		return status;
	status = signoff_append(&s.server, &s.c, &s.m, id, note);
	if (status == STATUS_PASSED)
		cli_publish(&s.server);
	session_close(&s);
	return status;
}
