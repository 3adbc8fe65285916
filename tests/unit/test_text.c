/* text: git's binary test, and UTF-16 text read as UTF-8. */
#include <criterion/criterion.h>

#include "text.h"

Test(text, a_nul_in_the_first_8000_bytes_is_binary)
{
	static char data[9000];
	memset(data, 'a', sizeof(data));
	cr_assert_not(text_is_binary(data, sizeof(data)));
	data[8500] = '\0';
	cr_assert_not(text_is_binary(data, sizeof(data)), "git looks at 8000 bytes only");
	data[7999] = '\0';
	cr_assert(text_is_binary(data, sizeof(data)));
}

Test(text, utf16_with_a_byte_order_mark_becomes_utf8)
{
	struct buf out = BUF_INIT;
	const char le[] = "\xff\xfe"
			  "c\0o\0n\0\n\0\xe9\0\x3d\xd8\x00\xde";
	cr_assert_eq(text_from_utf16(&out, le, sizeof(le) - 1), 1);
	cr_assert_eq(out.len, 10);
	cr_assert_eq(memcmp(out.data, "con\n\xc3\xa9\xf0\x9f\x98\x80", 10), 0);
	buf_clear(&out);
	const char be[] = "\xfe\xff"
			  "\0T\0O\0D\0O";
	cr_assert_eq(text_from_utf16(&out, be, sizeof(be) - 1), 1);
	cr_assert_str_eq(out.data, "TODO");
	buf_free(&out);
}

Test(text, lone_surrogates_and_odd_bytes_become_replacement_characters)
{
	struct buf out = BUF_INIT;
	const char le[] = "\xff\xfe"
			  "\x00\xd8"
			  "a\0"
			  "b";
	cr_assert_eq(text_from_utf16(&out, le, sizeof(le) - 1), 1);
	cr_assert_str_eq(out.data, "\xef\xbf\xbd"
				   "a"
				   "\xef\xbf\xbd");
	buf_free(&out);
}

Test(text, content_without_a_mark_is_left_alone)
{
	struct buf out = BUF_INIT;
	cr_assert_eq(text_from_utf16(&out, "plain", 5), 0);
	cr_assert_eq(out.len, 0);
	buf_free(&out);
}
