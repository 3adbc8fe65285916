/* escape: what untrusted bytes look like on a terminal, and git's quoting undone. */
#include <criterion/criterion.h>

#include "escape.h"

static char *escaped(const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	escape_bytes(&b, s, len);
	return b.data ? b.data : xstrdup("");
}

Test(escape, control_characters_are_made_visible)
{
	char *s = escaped("a\033[31mb\n\t\r\\", 11);
	cr_assert_str_eq(s, "a\\e[31mb\\n\\t\\r\\\\");
	free(s);
}

Test(escape, valid_utf8_stays_and_invalid_bytes_are_hex)
{
	char *s = escaped("caf\xc3\xa9 \xff\xfe", 8);
	cr_assert_str_eq(s, "caf\xc3\xa9 \\xff\\xfe");
	free(s);
	s = escaped("\xc2\x9b", 2); /* C1 CSI */
	cr_assert_str_eq(s, "\\xc2\\x9b");
	free(s);
	s = escaped("\xed\xa0\x80", 3); /* a UTF-16 surrogate */
	cr_assert_str_eq(s, "\\xed\\xa0\\x80");
	free(s);
}

Test(escape, unquotes_what_git_quotes)
{
	struct buf b = BUF_INIT;
	const char *q = "\"b/sp ace\\\"q\\303\\251\\t.js\" tail";
	size_t used = unquote_c_style(&b, q, strlen(q));
	cr_assert_eq(used, strlen(q) - 5);
	cr_assert_str_eq(b.data, "b/sp ace\"q\xc3\xa9\t.js");
	buf_free(&b);
	cr_assert_eq(unquote_c_style(&b, "\"open", 5), 0);
	buf_free(&b);
}

Test(escape, bidirectional_controls_are_shown_not_obeyed)
{
	char *s = escaped("x\xe2\x80\xaegpj.js", 10); /* U+202E RIGHT-TO-LEFT OVERRIDE */
	cr_assert_str_eq(s, "x\\u{202e}gpj.js");
	free(s);
	s = escaped("a\xe2\x81\xa6"
		    "b\xe2\x80\xa8"
		    "c",
		    9); /* U+2066 isolate, U+2028 line separator */
	cr_assert_str_eq(s, "a\\u{2066}b\\u{2028}c");
	free(s);
	s = escaped("\xe2\x80\x94", 3); /* an em dash is ordinary text */
	cr_assert_str_eq(s, "\xe2\x80\x94");
	free(s);
}
