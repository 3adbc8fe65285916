/*
 * hook_input: the one reader of what git writes to a hook's stdin.
 *
 * pre-receive and post-receive get "<old-id> <new-id> <ref>" a line;
 * pre-push gets "<local-ref> <local-id> <remote-ref> <remote-id>". Both
 * become the same list of updates: a ref, what it points at now, what it
 * will point at. Lines may be of any length (ref names have no limit of
 * ours), may end in CRLF, and blank lines are skipped. Ids are 40 or 64
 * lower-case hex digits (SHA-1 or SHA-256; all zeros: no object), both of
 * one line the same length. Anything else is refused with the line number,
 * what was wrong and the line itself, escaped: git never writes it, so
 * checking on would be guessing.
 */
#ifndef GITGATE_HOOK_INPUT_H
#define GITGATE_HOOK_INPUT_H

#include <stdio.h>

#include "buf.h"

#define HOOK_ID_MAX 64

enum hook_input_kind {
	HOOK_INPUT_RECEIVE, /* pre-receive, post-receive */
	HOOK_INPUT_PUSH,    /* pre-push */
};

struct hook_update {
	char *ref;		      /* the ref that moves (pre-push: the remote's) */
	char old_id[HOOK_ID_MAX + 1]; /* what it points at now (pre-push: remote id) */
	char new_id[HOOK_ID_MAX + 1]; /* what it will point at (pre-push: local id) */
	char *local_ref;	      /* pre-push: the local ref or "(delete)"; else NULL */
};

struct hook_input {
	struct hook_update *updates;
	size_t n, cap;
};

/* Reads every line of in. Returns 0, or -1 with what was wrong in err
 * (out then holds the lines before it; free it either way). */
int hook_input_read(struct hook_input *out, FILE *in, enum hook_input_kind kind, struct buf *err);
void hook_input_free(struct hook_input *input);

#endif
