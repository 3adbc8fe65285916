/*
 * gitgate health [check] UNIT|all [ENV] [--level 1|2|3] [--format text|json]:
 * what is live, checked now with the spec the gates use (the team's
 * `health check all production`). Without ENV, every environment the unit
 * has targets in.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "deploy.h"
#include "deploy_policy.h"
#include "server.h"
#include "status.h"

/* The words (UNIT|all [ENV]), --level and --format. Returns 0, or
 * STATUS_USAGE (said). */
static int health_parse(int argc, char **argv, const char **words, unsigned *level, int *json)
{
	const char *value;
	size_t nwords = 0;
	for (int i = 1; i < argc; i++) {
		int ok = 1;
		if (cli_option_value(argc, argv, &i, "--level", &value)) {
			ok = value && strlen(value) == 1 && value[0] >= '1' && value[0] <= '3';
			*level = ok ? (unsigned)(value[0] - '0') : 0;
		} else if (cli_option_value(argc, argv, &i, "--format", &value)) {
			ok = value && (!strcmp(value, "text") || !strcmp(value, "json"));
			*json = ok && !strcmp(value, "json");
		} else if (argv[i][0] == '-' || nwords == 2) {
			ok = 0;
		} else if (nwords || strcmp(argv[i], "check")) {
			words[nwords++] = argv[i];
		}
		if (!ok)
			break;
		if (i == argc - 1 && nwords)
			return 0;
	}
	cli_usage(stderr, "health");
	return STATUS_USAGE;
}

/* Does the command's NAME (a unit, or a project of it; all) name unit? */
static int names_unit(const struct rules *r, const char *name, const struct unit *unit)
{
	const struct project *p = rules_find_project(r, name);
	return !strcmp(name, "all") || rules_find_unit(r, name) == unit || (p && p->unit == unit);
}

int cmd_health(int argc, char **argv)
{
	const char *words[2] = {0};
	unsigned level = 0;
	int json = 0;
	if (health_parse(argc, argv, words, &level, &json))
		return STATUS_USAGE;
	struct server server;
	int status = server_open(&server);
	if (status)
		return status;
	struct deploy_site site = deploy_site_of(&server);
	const struct deploy_policy *d = &server.rules.deploy;
	json_t *reports = json ? json_array() : NULL;
	for (size_t u = 0; u < server.rules.nunits; u++) {
		const struct unit *unit = &server.rules.units[u];
		for (size_t e = 0;
		     names_unit(&server.rules, words[0], unit) && e < d->nenvironments; e++) {
			const char *env = d->environments[e].name;
			if (!deploy_policy_unit_deploys_to(&server.rules, unit,
							   &d->environments[e]) ||
			    (words[1] && strcmp(words[1], env)))
				continue;
			struct deploy_request req = {.unit = unit->name, .environment = env};
			enum gitgate_status one =
			    deploy_health(&site, &req, level, reports, stdout);
			if (one > (enum gitgate_status)status)
				status = one;
		}
	}
	if (reports) {
		json_dumpf(reports, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(reports);
	}
	server_close(&server);
	return status;
}
