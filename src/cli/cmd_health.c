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

int cmd_health(int argc, char **argv)
{
	const char *words[3] = {0}, *value;
	size_t nwords = 0;
	unsigned level = 0;
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (cli_option_value(argc, argv, &i, "--level", &value)) {
			if (!value || strlen(value) != 1 || value[0] < '1' || value[0] > '3') {
				cli_usage(stderr, "health");
				return STATUS_USAGE;
			}
			level = (unsigned)(value[0] - '0');
		} else if (cli_option_value(argc, argv, &i, "--format", &value)) {
			if (!value || (strcmp(value, "text") && strcmp(value, "json"))) {
				cli_usage(stderr, "health");
				return STATUS_USAGE;
			}
			json = !strcmp(value, "json");
		} else if (argv[i][0] == '-' || nwords == 3) {
			cli_usage(stderr, "health");
			return STATUS_USAGE;
		} else if (nwords || strcmp(argv[i], "check")) {
			words[nwords++] = argv[i];
		}
	}
	if (!nwords) {
		cli_usage(stderr, "health");
		return STATUS_USAGE;
	}
	struct server server;
	int status = server_open(&server);
	if (status)
		return status;
	struct deploy_site site = {
	    .repo = server.repo, .rules = &server.rules, .state_dir = server.state_dir.data};
	const struct deploy_policy *d = &server.rules.deploy;
	json_t *reports = json ? json_array() : NULL;
	int all = !strcmp(words[0], "all");
	for (size_t u = 0; u < server.rules.nunits; u++) {
		const struct unit *unit = &server.rules.units[u];
		if (!all && rules_find_unit(&server.rules, words[0]) != unit &&
		    !(rules_find_project(&server.rules, words[0]) &&
		      rules_find_project(&server.rules, words[0])->unit == unit))
			continue;
		for (size_t e = 0; e < d->nenvironments; e++) {
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
