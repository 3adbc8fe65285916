/*
 * notify: telling the team that a deploy ended, however it ended (the
 * completion notice goes out only once gate 11 passed: a record says so
 * by its outcome). The record goes as JSON on [deploy] notify_command's
 * stdin and POSTed to notify_url, each within notify_timeout_seconds. A
 * notice that fails is said, and never changes the deploy's outcome.
 */
#ifndef GITGATE_NOTIFY_H
#define GITGATE_NOTIFY_H

#include <jansson.h>
#include <stdio.h>

#include "rules.h"

/* Sends record; warnings go to out, the command's output to log. */
void notify_send(const struct deploy_policy *d, const json_t *record, const char *log, FILE *out);

#endif
