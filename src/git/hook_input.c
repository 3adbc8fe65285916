/*
 * hook_input: see hook_input.h.
 */
#include "hook_input.h"

#include <stdlib.h>
#include <string.h>

#include "escape.h"

/* How much of a bad line an error shows. */
#define SHOWN_BYTES 200

static const char *const expected[] = {
    [HOOK_INPUT_RECEIVE] = "<old-id> <new-id> <ref>",
    [HOOK_INPUT_PUSH] = "<local-ref> <local-id> <remote-ref> <remote-id>",
};

static const size_t field_count[] = {[HOOK_INPUT_RECEIVE] = 3, [HOOK_INPUT_PUSH] = 4};

/* Splits line at single spaces into fields, stopping at a fifth (which is
 * one too many for either kind). Returns how many there are, or 0 when one
 * is empty (two spaces in a row, a space at either end). */
static size_t split(char *line, char *fields[5])
{
	size_t n = 0;
	for (char *p = line;;) {
		if (n == 5)
			return n;
		char *space = strchr(p, ' ');
		fields[n++] = p;
		if (space)
			*space = '\0';
		if (!*p)
			return 0;
		if (!space)
			return n;
		p = space + 1;
	}
}

static int is_id(const char *id)
{
	size_t len = strlen(id);
	return (len == 40 || len == 64) && strspn(id, "0123456789abcdef") == len;
}

/* Fills u from one line, or says in err what is wrong with it (the caller
 * adds where and the line itself). */
static int parse_line(struct hook_update *u, char *text, enum hook_input_kind kind, struct buf *err)
{
	char *f[5] = {0};
	size_t n = split(text, f);
	if (n != field_count[kind]) {
		buf_printf(err, "expected %s", expected[kind]);
		return -1;
	}
	/* Both kinds have the ref that moves third and its new id second. */
	char *ref = f[2], *new_id = f[1], *old_id = kind == HOOK_INPUT_PUSH ? f[3] : f[0];
	const char *ids[] = {old_id, new_id};
	for (size_t i = 0; i < 2; i++)
		if (!is_id(ids[i])) {
			buf_addc(err, '\'');
			escape_bytes(err, ids[i], strnlen(ids[i], SHOWN_BYTES));
			buf_adds(err, "' is not an object id (40 or 64 hex digits)");
			return -1;
		}
	if (strlen(old_id) != strlen(new_id)) {
		buf_adds(err, "one id is SHA-1, the other SHA-256");
		return -1;
	}
	memcpy(u->old_id, old_id, strlen(old_id) + 1);
	memcpy(u->new_id, new_id, strlen(new_id) + 1);
	u->ref = xstrdup(ref);
	u->local_ref = kind == HOOK_INPUT_PUSH ? xstrdup(f[0]) : NULL;
	return 0;
}

int hook_input_read(struct hook_input *out, FILE *in, enum hook_input_kind kind, struct buf *err)
{
	struct buf line = BUF_INIT, work = BUF_INIT, why = BUF_INIT;
	size_t line_no = 0;
	int rc = 0;
	while (buf_read_line(&line, in)) {
		line_no++;
		if (line.len && line.data[line.len - 1] == '\r')
			line.data[--line.len] = '\0';
		if (strspn(line.data, " \t") == line.len)
			continue;
		struct hook_update u = {0};
		buf_clear(&work);
		buf_add(&work, line.data, line.len);
		if (strlen(line.data) != line.len)
			buf_adds(&why, "a NUL byte");
		else if (parse_line(&u, work.data, kind, &why) == 0) {
			*ARRAY_PUSH(out->updates, out->n, out->cap) = u;
			continue;
		}
		buf_printf(err, "unexpected input from git on line %zu: %s: '", line_no, why.data);
		escape_bytes(err, line.data, line.len < SHOWN_BYTES ? line.len : SHOWN_BYTES);
		buf_adds(err, line.len > SHOWN_BYTES ? "'..." : "'");
		rc = -1;
		break;
	}
	buf_free(&line);
	buf_free(&work);
	buf_free(&why);
	return rc;
}

void hook_input_free(struct hook_input *input)
{
	for (size_t i = 0; i < input->n; i++) {
		free(input->updates[i].ref);
		free(input->updates[i].local_ref);
	}
	free(input->updates);
	*input = (struct hook_input){0};
}
