/*
 * push_log: the server's record of accepted pushes, one JSON object a line
 * in GIT_DIR/gitgate/pushes.jsonl: when, who, and each ref's old and new id.
 */
#ifndef GITGATE_PUSH_LOG_H
#define GITGATE_PUSH_LOG_H

#include "buf.h"

/* Records the "<old> <new> <ref>" lines git gave post-receive. Returns 0,
 * or -1 with the reason in err. */
int push_log_append(const char *lines, struct buf *err);

#endif
