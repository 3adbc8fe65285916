/*
 * command_load: a command's value in rules.ini (SCHEMA_CUSTOM), read into
 * a struct deploy_command: split into words as a shell would (words.h),
 * never run by one, each $NAME one of the variables the command may use,
 * so that a typo is caught at load and not in the middle of a deploy. An
 * empty value is no command ("lint =" turns a step off).
 */
#ifndef GITGATE_COMMAND_LOAD_H
#define GITGATE_COMMAND_LOAD_H

#include "buf.h"

/* A target's or [deploy]'s command: every one of deploy_variables. */
int command_load_parse(const char *key, const char *value, void *slot, struct buf *why);
/* compose_command: the Compose program's words, no $VARIABLE (it names a
 * program, the same for every slot). */
int command_load_program(const char *key, const char *value, void *slot, struct buf *why);
/* env_command: only $UNIT $PROJECT $ENVIRONMENT $ROOT (it runs for the
 * target, before any slot or revision is in play). */
int command_load_env(const char *key, const char *value, void *slot, struct buf *why);
/* Frees what a parser above read (the schema's release). */
void command_load_release(void *slot);

#endif
