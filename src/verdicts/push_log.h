/*
 * push_log: the server's records of pushes, one JSON object a line in its
 * state directory (state.h), written whole or not at all:
 * pushes.jsonl, every accepted push (when, who and as whom the server
 * knew them, each ref's old and new id),
 * and audit.jsonl, every bypass used (push_gate.c).
 *
 * Text that came from outside (ref names, a bypass's rule and reason, the
 * pusher's name) is stored as escape_bytes writes it: valid UTF-8 as it is,
 * a backslash doubled, control and invalid bytes as \n or \xNN. So every
 * record is valid JSON, nothing is dropped, and the bytes can be restored.
 */
#ifndef GITGATE_PUSH_LOG_H
#define GITGATE_PUSH_LOG_H

#include <jansson.h>

#include "buf.h"
#include "hook_input.h"
#include "identity.h"

/* A JSON string of untrusted bytes, escaped as above. */
json_t *push_log_text(const char *s);
/* {"time": now (UTC), "user": the pusher, "user_source": where the name
 * came from ("gitolite GL_USER")}: how every record opens. */
json_t *push_log_entry(const struct identity *who);
/* {"ref": ..., "old": ..., "new": ...} for one ref; ids in hex. */
json_t *push_log_ref(const char *ref, const char *old_id, const char *new_id);
/* Appends entry as one line to the file `name` in folder (the
 * repository's gitgate folder). Returns 0, or -1 with the reason in err. */
int push_log_write(const char *folder, const char *name, const json_t *entry, struct buf *err);
/* Records the updates git gave post-receive in folder's pushes.jsonl. */
int push_log_append(const char *folder, const struct identity *who, const struct hook_input *input,
		    struct buf *err);

#endif
