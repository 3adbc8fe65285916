/*
 * cli: what the `gitgate` subcommands share. Each subcommand is one
 * function, cmd_NAME(argc, argv), over the library; gitgate.c dispatches.
 */
#ifndef GITGATE_CLI_H
#define GITGATE_CLI_H

#include "buf.h"

int cmd_check(int argc, char **argv);
int cmd_rules(int argc, char **argv);

/* Matches "--name VALUE" and "--name=VALUE" at argv[*i]; advances *i. A
 * missing value is reported and makes *value NULL with the return 1. */
int cli_option_value(int argc, char **argv, int *i, const char *name, const char **value);
/* The top of the current work tree, from git. Returns 0 or -1 (reported). */
int cli_work_tree_top(struct buf *top);

#endif
