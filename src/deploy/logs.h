/*
 * logs: the deploys' logs as the command line reads them (layout.h names
 * where they are): one deploy's log by its id, or the newest; and whether
 * anything deploys now, so that a reader following a log knows when no
 * more will come.
 */
#ifndef GITGATE_LOGS_H
#define GITGATE_LOGS_H

#include <stdio.h>

#include "buf.h"

/* Opens the log of deploy id (NULL: the newest deploy's), its id in
 * id_out. Returns 0 with *out open, or -1 with why in err (no deploy has
 * run yet, no log for that id). */
int logs_open(const char *state_dir, const char *id, struct buf *id_out, FILE **out,
	      struct buf *err);
/* Does the worker, or any deploy, hold its lock now? */
int logs_deploying(const char *state_dir);

#endif
