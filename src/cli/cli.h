/*
 * cli: what the `gitgate` subcommands share. Each subcommand is one
 * function, cmd_NAME(argc, argv), over the library; gitgate.c dispatches.
 */
#ifndef GITGATE_CLI_H
#define GITGATE_CLI_H

#include "buf.h"
#include "rules.h"
#include "rules_locate.h"
#include "server.h"

int cmd_check(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_deploy(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_health(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_signoff(int argc, char **argv);

/* The targets `gitgate NAME [UNIT] [ENV]` is about (status, doctor): the
 * unit's or the project's, in ENV; none named, every one. */
struct cli_targets {
	const struct unit *unit;
	const struct project *project;
	const char *env;
};
/* Opens the server (server.h) and reads [UNIT] [ENV] from argv (argv[0]
 * the subcommand). Returns 0, or a gitgate status (reported on stderr,
 * the server closed). */
int cli_targets_open(struct server *s, struct cli_targets *out, int argc, char **argv);
int cli_targets_match(const struct cli_targets *f, const struct deploy_target *t);

/* Matches "--name VALUE" and "--name=VALUE" at argv[*i]; advances *i. A
 * missing value is reported and makes *value NULL with the return 1. */
int cli_option_value(int argc, char **argv, int *i, const char *name, const char **value);
/* Where the rules are, for a command run here: --rules FILE, a work tree's
 * top, or a bare repository's git dir (the server's own rules). dir holds
 * the path where->top or where->gitdir points at. Returns 0 or -1. */
int cli_rules_location(struct rules_location *where, struct buf *dir);
/* The top of the current work tree, from git. Returns 0 or -1 (reported). */
int cli_work_tree_top(struct buf *top);

#endif
