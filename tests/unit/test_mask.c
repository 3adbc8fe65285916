/* mask: secret values become "***", whole, however the text arrives. */
#include <criterion/criterion.h>
#include <string.h>

#include "mask.h"

static char *masked(const struct mask *m, const char *text, size_t len)
{
	struct buf out = BUF_INIT;
	mask_text(m, text, len, &out);
	return buf_detach(&out);
}

/* The text fed in pieces of `piece` bytes. */
static char *streamed(const struct mask *m, const char *text, size_t len, size_t piece)
{
	struct buf out = BUF_INIT;
	struct mask_stream s;
	mask_stream_init(&s, m);
	for (size_t at = 0; at < len; at += piece)
		mask_stream_add(&s, text + at, len - at < piece ? len - at : piece, &out);
	mask_stream_end(&s, &out);
	return buf_detach(&out);
}

/* text masks to want whole and in pieces of every size up to its length. */
static void masks_to(const struct mask *m, const char *text, const char *want)
{
	for (size_t piece = 1; piece <= strlen(text); piece++) {
		char *s = streamed(m, text, strlen(text), piece);
		cr_assert_str_eq(s, want, "in pieces of %zu", piece);
		free(s);
	}
}

static void add(struct mask *m, const char *value)
{
	mask_add(m, value, strlen(value));
}

Test(mask, a_value_becomes_stars_wherever_it_is)
{
	struct mask m = MASK_INIT;
	add(&m, "sk_live_4eC39HqLyjWDarjtT1zdp7dc");
	const char *text =
	    "migration failed: {'SECRET_TOKEN': 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'}\n"
	    "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
	char *s = masked(&m, text, strlen(text));
	cr_assert_str_eq(s, "migration failed: {'SECRET_TOKEN': '***'}\n***");
	free(s);
	mask_free(&m);
}

Test(mask, values_shorter_than_four_bytes_are_not_masked)
{
	struct mask m = MASK_INIT;
	add(&m, "1");
	add(&m, "yes");
	add(&m, "");
	cr_assert_eq(m.n, 0);
	char *s = masked(&m, "yes 1 yes", 9);
	cr_assert_str_eq(s, "yes 1 yes");
	free(s);
	add(&m, "four");
	s = masked(&m, "four yes", 8);
	cr_assert_str_eq(s, "*** yes");
	free(s);
	mask_free(&m);
}

Test(mask, a_value_split_across_reads_is_masked_at_every_split)
{
	struct mask m = MASK_INIT;
	add(&m, "hunter2-secret");
	masks_to(&m, "a hunter2-secret b hunter2-secre hunter2-secret",
		 "a *** b hunter2-secre ***");
	mask_free(&m);
}

Test(mask, a_stream_holds_back_only_what_may_start_a_value)
{
	struct mask m = MASK_INIT;
	add(&m, "sk_live_abcdef");
	struct mask_stream s;
	struct buf out = BUF_INIT;
	mask_stream_init(&s, &m);
	mask_stream_add(&s, "listening on 8080\n", 18, &out);
	cr_assert_str_eq(out.data, "listening on 8080\n",
			 "nothing held: nothing can start a value");
	mask_stream_add(&s, "token sk_li", 11, &out);
	cr_assert_str_eq(out.data, "listening on 8080\ntoken ");
	cr_assert_eq(s.held.len, 5);
	mask_stream_add(&s, "ve_abcdef done", 14, &out);
	mask_stream_end(&s, &out);
	cr_assert_str_eq(out.data, "listening on 8080\ntoken *** done");
	buf_free(&out);
	mask_free(&m);
}

Test(mask, a_value_inside_another_and_overlapping_values_are_masked_whole)
{
	struct mask m = MASK_INIT;
	/* Added shortest first: the order must not matter. */
	add(&m, "pass");
	add(&m, "password-1234");
	add(&m, "1234-5678");
	masks_to(&m, "x password-1234-5678 y pass z password-1234", "x *** y *** z ***");
	mask_free(&m);
}

Test(mask, pattern_characters_are_plain_bytes)
{
	struct mask m = MASK_INIT;
	add(&m, "a.*b$(x)[y]\\d+?^|{2}");
	add(&m, "%s%n%d");
	masks_to(&m, "axxb a.*b$(x)[y]\\d+?^|{2} %s%n%d %s", "axxb *** *** %s");
	mask_free(&m);
}

Test(mask, binary_bytes_and_nul_in_the_text)
{
	struct mask m = MASK_INIT;
	add(&m, "\xff\xfe\x01secret\x7f");
	const char text[] = "\0\xff\xfe\x01secret\x7f\0tail\xff\xfe";
	struct buf out = BUF_INIT;
	mask_text(&m, text, sizeof(text) - 1, &out);
	const char want[] = "\0***\0tail\xff\xfe";
	cr_assert_eq(out.len, sizeof(want) - 1);
	cr_assert(!memcmp(out.data, want, out.len));
	buf_free(&out);
	mask_free(&m);
}

Test(mask, a_value_is_masked_as_escape_shows_it_too)
{
	struct mask m = MASK_INIT;
	add(&m, "line\nbreak\x01");
	masks_to(&m, "shown: line\\nbreak\\x01.", "shown: ***.");
	mask_free(&m);
}

Test(mask, assignments_give_their_values_and_duplicates_count_once)
{
	struct mask m = MASK_INIT;
	const char *env[] = {"SECRET_TOKEN=sk_live_abc", "DEBUG=1", "EMPTY=", "SAME=sk_live_abc",
			     "URL=postgres://u:p@db/x=y"};
	mask_add_assignments(&m, env, 5);
	cr_assert_eq(m.n, 2);
	char *s = mask_string(&m, "sk_live_abc postgres://u:p@db/x=y DEBUG=1");
	cr_assert_str_eq(s, "*** *** DEBUG=1");
	free(s);
	mask_free(&m);
}

Test(mask, an_empty_mask_changes_nothing)
{
	struct mask m = MASK_INIT;
	struct buf b = BUF_INIT;
	buf_adds(&b, "anything at all");
	mask_buf(&m, &b);
	cr_assert_str_eq(b.data, "anything at all");
	cr_assert_null(mask_string(&m, NULL));
	buf_free(&b);
	/* A stream that got nothing ends with nothing. */
	add(&m, "some-value");
	struct mask_stream s;
	mask_stream_init(&s, &m);
	mask_stream_end(&s, &b);
	cr_assert_eq(b.len, 0);
	mask_free(&m);
}
