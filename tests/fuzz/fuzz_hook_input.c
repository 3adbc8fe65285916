/*
 * fuzz_hook_input: what git writes to a hook's stdin, read as every hook
 * reads it.
 *
 * The same bytes are read once as pre-receive and post-receive read them
 * ("<old> <new> <ref>") and once as pre-push does ("<local-ref> <local-id>
 * <remote-ref> <remote-id>"); what is read is handed to
 * push_updates_add_hook_input, which parses the ids into the updates the
 * push check walks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook_input.h"
#include "push.h"

static void read_as(const uint8_t *data, size_t size, enum hook_input_kind kind)
{
	FILE *in = fmemopen((void *)data, size, "r");
	if (!in)
		return;
	struct hook_input input = {0};
	struct buf err = BUF_INIT;
	hook_input_read(&input, in, kind, &err);
	fclose(in);
	for (size_t i = 0; i < input.n; i++) {
		const struct hook_update *u = &input.updates[i];
		if (strlen(u->old_id) != strlen(u->new_id) || !u->ref ||
		    !u->local_ref != (kind == HOOK_INPUT_RECEIVE))
			abort(); /* what hook_input.h promises of an update */
	}
	struct push_updates updates = {0};
	buf_clear(&err);
	push_updates_add_hook_input(&updates, &input, &err);
	push_updates_free(&updates);
	hook_input_free(&input);
	buf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_as(data, size, HOOK_INPUT_RECEIVE);
	read_as(data, size, HOOK_INPUT_PUSH);
	return 0;
}
