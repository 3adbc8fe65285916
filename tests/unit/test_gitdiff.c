/* gitdiff: git's raw and patch output read as a stream, odd names and hunks included. */
#include <criterion/criterion.h>

#include "gitdiff.h"

#define OID_A "1111111111111111111111111111111111111111"
#define OID_B "2222222222222222222222222222222222222222"
#define ZERO "0000000000000000000000000000000000000000"

struct collected {
	struct buf text;
	const char *want;
};

static int want_js(void *ctx, const struct file_change *fc)
{
	struct collected *c = ctx;
	buf_printf(&c->text, "[%s]", fc->path);
	return c->want == NULL || strstr(fc->path, c->want) != NULL;
}

static void collect(void *ctx, size_t line, const char *text, size_t len)
{
	struct collected *c = ctx;
	buf_printf(&c->text, "%zu:", line);
	buf_add(&c->text, text, len);
	buf_addc(&c->text, '|');
}

static FILE *stream(const char *data, size_t len)
{
	return fmemopen((void *)data, len, "r");
}

static const char raw_and_patch[] =
    ":000000 100644 " ZERO " " OID_A " A\0a/sp ace\"q.js\0"
    ":100644 100644 " OID_A " " OID_B " M\0b.js\0"
    ":100644 100644 " OID_A " " OID_A " R100\0old name.js\0new name.js\0"
    ":100644 000000 " OID_A " " ZERO " D\0gone.js\0"
    "\0"
    "diff --git \"a/a/sp ace\\\"q.js\" \"b/a/sp ace\\\"q.js\"\n"
    "new file mode 100644\n--- /dev/null\n+++ \"b/a/sp ace\\\"q.js\"\t\n"
    "@@ -0,0 +1,2 @@\n+x\n++++ not a header\n"
    "diff --git a/b.js b/b.js\n--- a/b.js\n+++ b/b.js\n"
    "@@ -3 +3 @@\n-old\n+new\n@@ -10,0 +11,2 @@\n+crlf\r\n+no newline\n\\ No newline at end of "
    "file\n"
    "diff --git a/old name.js b/new name.js\nsimilarity index 100%\nrename from old "
    "name.js\nrename to new name.js\n"
    "diff --git a/gone.js b/gone.js\ndeleted file mode 100644\n--- a/gone.js\n+++ /dev/null\n@@ -1 "
    "+0,0 @@\n-bye\n";

Test(gitdiff, reads_raw_records_including_renames)
{
	FILE *in = stream(raw_and_patch, sizeof(raw_and_patch) - 1);
	struct changeset cs = {0};
	struct buf err = BUF_INIT;
	cr_assert_eq(gitdiff_read_raw(in, &cs, &err), 0, "%s", err.data);
	cr_assert_eq(cs.n, 4);
	cr_assert_str_eq(cs.items[0].path, "a/sp ace\"q.js");
	cr_assert_eq(cs.items[0].status, 'A');
	cr_assert_eq(cs.items[0].new_mode, 0100644);
	cr_assert_str_eq(cs.items[1].new_oid, OID_B);
	cr_assert_eq(cs.items[2].status, 'R');
	cr_assert_str_eq(cs.items[2].old_path, "old name.js");
	cr_assert_str_eq(cs.items[2].path, "new name.js");
	cr_assert_eq(cs.items[3].status, 'D');
	fclose(in);
	changeset_free(&cs);
}

Test(gitdiff, streams_added_lines_with_new_line_numbers)
{
	FILE *in = stream(raw_and_patch, sizeof(raw_and_patch) - 1);
	struct changeset cs = {0};
	struct buf err = BUF_INIT;
	cr_assert_eq(gitdiff_read_raw(in, &cs, &err), 0);
	struct collected c = {BUF_INIT, NULL};
	struct line_sink sink = {&c, want_js, collect};
	cr_assert_eq(gitdiff_read_patch(in, &cs, &sink, &err), 0, "%s", err.data);
	cr_assert_str_eq(c.text.data, "[a/sp ace\"q.js]1:x|2:+++ not a header|"
				      "[b.js]3:new|11:crlf\r|12:no newline|");
	fclose(in);
	changeset_free(&cs);
	buf_free(&c.text);
}

Test(gitdiff, files_the_sink_declines_deliver_no_lines)
{
	FILE *in = stream(raw_and_patch, sizeof(raw_and_patch) - 1);
	struct changeset cs = {0};
	struct buf err = BUF_INIT;
	gitdiff_read_raw(in, &cs, &err);
	struct collected c = {BUF_INIT, "b.js"};
	struct line_sink sink = {&c, want_js, collect};
	cr_assert_eq(gitdiff_read_patch(in, &cs, &sink, &err), 0);
	cr_assert_str_eq(c.text.data, "[a/sp ace\"q.js][b.js]3:new|11:crlf\r|12:no newline|");
	fclose(in);
	changeset_free(&cs);
	buf_free(&c.text);
}

Test(gitdiff, a_truncated_hunk_is_an_error)
{
	static const char data[] =
	    ":100644 100644 " OID_A " " OID_B " M\0b.js\0\0"
	    "diff --git a/b.js b/b.js\n--- a/b.js\n+++ b/b.js\n@@ -1 +1,3 @@\n-a\n+b\n";
	FILE *in = stream(data, sizeof(data) - 1);
	struct changeset cs = {0};
	struct buf err = BUF_INIT;
	gitdiff_read_raw(in, &cs, &err);
	struct collected c = {BUF_INIT, NULL};
	struct line_sink sink = {&c, want_js, collect};
	cr_assert_eq(gitdiff_read_patch(in, &cs, &sink, &err), -1);
	cr_assert_str_eq(err.data, "git's diff ended inside a hunk");
	fclose(in);
	changeset_free(&cs);
	buf_free(&c.text);
	buf_free(&err);
}

Test(gitdiff, a_malformed_raw_record_is_an_error)
{
	static const char data[] = "garbage\0";
	FILE *in = stream(data, sizeof(data) - 1);
	struct changeset cs = {0};
	struct buf err = BUF_INIT;
	cr_assert_eq(gitdiff_read_raw(in, &cs, &err), -1);
	cr_assert_not_null(strstr(err.data, "unexpected record"));
	fclose(in);
	changeset_free(&cs);
	buf_free(&err);
}
