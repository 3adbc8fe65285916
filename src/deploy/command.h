/*
 * command: a target's command (test, build, run, a switch command ...) made
 * ready to run: gitgate's own variables substituted into its words, and
 * the same variables added to its environment.
 *
 * Only PORT SLOT REVISION UNIT PROJECT ENVIRONMENT ROOT are gitgate's, as
 * $NAME or ${NAME}; the rules loader refuses any other $NAME in a command,
 * so nothing else is substituted and no shell ever reads the words. Pushed
 * data (a revision is hex; names come from rules.ini) reaches a command
 * only this way and through the files of the export.
 */
#ifndef GITGATE_COMMAND_H
#define GITGATE_COMMAND_H

#include <stddef.h>

#include "strvec.h"

struct command_vars {
	const char *port, *slot, *revision, *unit, *project, *environment, *root;
};

/* A new argv (NULL-terminated; free with strvec_free) with the variables
 * substituted; an unset variable becomes the empty string. */
char **command_expand(const char *const *argv, const struct command_vars *vars);
/* Appends "NAME=value" for each set variable to env. */
void command_add_environ(struct strvec *env, const struct command_vars *vars);

#endif
