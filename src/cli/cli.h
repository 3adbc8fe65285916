/*
 * cli: what the `gitgate` subcommands share. Each subcommand is one
 * function, cmd_NAME(argc, argv), over the library; gitgate.c dispatches.
 */
#ifndef GITGATE_CLI_H
#define GITGATE_CLI_H

#include <jansson.h>
#include <stdio.h>

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
int cmd_hook(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_signoff(int argc, char **argv);
int cmd_help(int argc, char **argv);

/* One option of a command, as its help, the man page and completion say
 * it. */
struct cli_option {
	const char *name;  /* "--rev", "-n, --max-count" (the first is completed) */
	const char *value; /* "REV", "text|json|sarif" (its choices); NULL: a switch */
	const char *text;
};

#define CLI_MAX_OPTIONS 8

/* A command: its name, its function, and what it says of itself. The one
 * table of them (commands.c) is what gitgate dispatches on and what `help`,
 * `COMMAND --help`, the man page and the completion scripts print. */
struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;	 /* one line, for the list of commands */
	const char *synopsis;	 /* its usage, a line a form, each without "gitgate " */
	const char *description; /* paragraphs, separated by "\n" */
	/* Its words after the options are taken out, for completion, in order:
	 * a kind of name ("unit", "unit-all", "bare-unit", "env", "deploy-id",
	 * "command", "rev"), the words it may be ("pre-commit|pre-push"), or
	 * "?WORD": a word that may stand there ("?to"). */
	const char *words;
	struct cli_option options[CLI_MAX_OPTIONS]; /* up to the first without a name */
};

extern const struct cli_command cli_commands[];
extern const size_t cli_ncommands;
/* What gitgate is, for `gitgate help` and the man page's DESCRIPTION. */
extern const char cli_intro[];
extern const char cli_exit_status[];

/* The command named name, or NULL. */
const struct cli_command *cli_command_find(const char *name);
/* "usage: gitgate ..." with each form of the command's synopsis, to out. */
void cli_usage(FILE *out, const char *name);
/* The whole help of one command (`gitgate COMMAND --help`). */
void cli_help_command(FILE *out, const struct cli_command *c);
/* The list of commands (`gitgate help`). */
void cli_help_overview(FILE *out);
/* The manual page gitgate(1) in roff (`gitgate --man`). */
void cli_man_page(FILE *out);

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
/* status's lines for the targets which names (NULL: every one) to out.
 * Returns 0, or -1 when a target's state could not be read (said). */
int cli_status_print(FILE *out, const struct server *s, const struct cli_targets *which);
/* history's lines for records (oldest first) to out. */
void cli_history_print(FILE *out, json_t *records);
/* Rewrites the deploys ref from the server's history and logs (publish.c);
 * a failure is a warning on stderr, never the command's. */
void cli_publish(const struct server *s);

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
