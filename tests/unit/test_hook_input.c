/* hook_input: git's hook lines for pre-receive/post-receive and pre-push,
 * whatever their length and line ends, and clear refusals of the rest. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "hook_input.h"
#include "push.h"

#define ZERO40 "0000000000000000000000000000000000000000"
#define ZERO64 ZERO40 "000000000000000000000000"
#define ID_A "1111111111111111111111111111111111111111"
#define ID_B "abcdefabcdefabcdefabcdefabcdefabcdefabcd"
#define SHA256 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(struct hook_input *out, const char *text, size_t len, enum hook_input_kind kind,
		 struct buf *err)
{
	FILE *in = fmemopen((void *)text, len, "r");
	cr_assert_not_null(in);
	int rc = hook_input_read(out, in, kind, err);
	fclose(in);
	return rc;
}

static struct hook_input must_parse(const char *text, enum hook_input_kind kind)
{
	struct hook_input input = {0};
	struct buf err = BUF_INIT;
	cr_assert_eq(parse(&input, text, strlen(text), kind, &err), 0, "%s", err.data);
	buf_free(&err);
	return input;
}

/* Returns the error for text, which must be refused. */
static char *refused(const char *text, enum hook_input_kind kind)
{
	struct hook_input input = {0};
	struct buf err = BUF_INIT;
	cr_assert_eq(parse(&input, text, strlen(text), kind, &err), -1, "accepted: %s", text);
	cr_assert(!strncmp(err.data, "unexpected input from git on line ", 34), "%s", err.data);
	hook_input_free(&input);
	return buf_detach(&err);
}

Test(hook_input, receive_lines_with_zero_ids_of_both_lengths)
{
	struct hook_input in =
	    must_parse(ZERO40 " " ID_A " refs/heads/new\n" ID_B " " ZERO40
			      " refs/heads/gone\n" ZERO64 " " SHA256 " refs/heads/x\n",
		       HOOK_INPUT_RECEIVE);
	cr_assert_eq(in.n, 3);
	cr_assert_str_eq(in.updates[0].ref, "refs/heads/new");
	cr_assert_str_eq(in.updates[0].old_id, ZERO40);
	cr_assert_str_eq(in.updates[0].new_id, ID_A);
	cr_assert_null(in.updates[0].local_ref);
	cr_assert_str_eq(in.updates[1].new_id, ZERO40);
	cr_assert_str_eq(in.updates[2].old_id, ZERO64);
	cr_assert_str_eq(in.updates[2].new_id, SHA256);
	hook_input_free(&in);
}

Test(hook_input, pre_push_fields_map_onto_the_same_update)
{
	struct hook_input in =
	    must_parse("refs/heads/topic " ID_A " refs/heads/remote-topic " ID_B "\n"
		       "(delete) " ZERO40 " refs/heads/old " ID_B "\n",
		       HOOK_INPUT_PUSH);
	cr_assert_eq(in.n, 2);
	cr_assert_str_eq(in.updates[0].local_ref, "refs/heads/topic");
	cr_assert_str_eq(in.updates[0].ref, "refs/heads/remote-topic");
	cr_assert_str_eq(in.updates[0].old_id, ID_B);
	cr_assert_str_eq(in.updates[0].new_id, ID_A);
	cr_assert_str_eq(in.updates[1].local_ref, "(delete)");
	cr_assert_str_eq(in.updates[1].new_id, ZERO40);
	hook_input_free(&in);
}

Test(hook_input, crlf_and_blank_lines)
{
	struct hook_input in = must_parse("\r\n\n" ZERO40 " " ID_A " refs/heads/main\r\n  \n\n" ID_A
					  " " ID_B " refs/tags/v1",
					  HOOK_INPUT_RECEIVE);
	cr_assert_eq(in.n, 2);
	cr_assert_str_eq(in.updates[0].ref, "refs/heads/main");
	cr_assert_str_eq(in.updates[1].ref, "refs/tags/v1");
	hook_input_free(&in);
}

Test(hook_input, a_5000_byte_ref_name)
{
	struct buf ref = BUF_INIT, text = BUF_INIT;
	buf_adds(&ref, "refs/heads/");
	while (ref.len < 5000)
		buf_adds(&ref, "long/");
	buf_printf(&text, "%s %s %s %s\n", ref.data, ID_A, ref.data, ZERO40);
	struct hook_input in = must_parse(text.data, HOOK_INPUT_PUSH);
	cr_assert_eq(in.n, 1);
	cr_assert_str_eq(in.updates[0].ref, ref.data);
	cr_assert_str_eq(in.updates[0].local_ref, ref.data);
	hook_input_free(&in);
	buf_free(&ref);
	buf_free(&text);
}

Test(hook_input, garbage_is_refused_naming_what_is_wrong)
{
	char *e = refused("nonsense\n", HOOK_INPUT_RECEIVE);
	cr_assert_str_eq(e, "unexpected input from git on line 1: expected <old-id> <new-id> "
			    "<ref>: 'nonsense'");
	free(e);
	e = refused(ZERO40 " " ID_A " refs/heads/ok\nxyz " ID_A " refs/heads/main\n",
		    HOOK_INPUT_RECEIVE);
	cr_assert_not_null(strstr(e, "line 2: 'xyz' is not an object id"), "%s", e);
	free(e);
	e = refused(ZERO40 " " ID_A " refs/heads/\033[31mred\n", HOOK_INPUT_PUSH);
	cr_assert_not_null(strstr(e, "expected <local-ref> <local-id> <remote-ref> <remote-id>"),
			   "%s", e);
	cr_assert_not_null(strstr(e, "\\e[31mred"), "control bytes must be escaped: %s", e);
	free(e);
	e = refused(ZERO40 " " SHA256 " refs/heads/main\n", HOOK_INPUT_RECEIVE);
	cr_assert_not_null(strstr(e, "one id is SHA-1, the other SHA-256"), "%s", e);
	free(e);
	e = refused(ZERO40 " ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD refs/heads/main\n",
		    HOOK_INPUT_RECEIVE);
	cr_assert_not_null(strstr(e, "is not an object id"), "%s", e);
	free(e);
}

Test(hook_input, missing_or_extra_fields_are_refused)
{
	const char *bad[] = {
	    ZERO40 " " ID_A "\n",
	    ZERO40 " " ID_A " \n",
	    ZERO40 "  " ID_A " refs/heads/main\n",
	    ZERO40 " " ID_A " refs/heads/main extra\n",
	    "refs/heads/a " ID_A " refs/heads/a\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		free(refused(bad[i], i == 4 ? HOOK_INPUT_PUSH : HOOK_INPUT_RECEIVE));
}

Test(hook_input, a_nul_byte_is_refused)
{
	static const char text[] = ZERO40 " " ID_A " refs/heads/a\0b\n";
	struct hook_input in = {0};
	struct buf err = BUF_INIT;
	cr_assert_eq(parse(&in, text, sizeof(text) - 1, HOOK_INPUT_RECEIVE, &err), -1);
	cr_assert_not_null(strstr(err.data, "a NUL byte"), "%s", err.data);
	hook_input_free(&in);
	buf_free(&err);
}

Test(hook_input, a_sha256_push_is_read_then_refused_by_the_push_check)
{
	struct hook_input in =
	    must_parse(ZERO64 " " SHA256 " refs/heads/main\n", HOOK_INPUT_RECEIVE);
	struct push_updates updates = {0};
	struct buf err = BUF_INIT;
	cr_assert_eq(push_updates_add_hook_input(&updates, &in, &err), -1);
	cr_assert_not_null(strstr(err.data, "SHA-256"), "%s", err.data);
	push_updates_free(&updates);
	hook_input_free(&in);
	buf_free(&err);
}
