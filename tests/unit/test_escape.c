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
