/* literals: the strings one of which every match of a pattern holds, held
 * against PCRE2 itself: wherever PCRE2 finds a match, the literals must be
 * found too, or the scan would skip a line that has a finding. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "literals.h"

static pcre2_code *compile(const char *source)
{
	int code;
	PCRE2_SIZE offset;
	return pcre2_compile((PCRE2_SPTR)source, PCRE2_ZERO_TERMINATED,
			     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &offset, NULL);
}

/* The literals of source, as "a,b,c" (with "i:" first when caseless), or
 * "" when it has none. */
static const char *literals_text(const char *source)
{
	static char out[512];
	struct literals l;
	pcre2_code *code = compile(source);
	cr_assert_not_null(code, "%s does not compile", source);
	int rc = literals_of(&l, source, code);
	pcre2_code_free(code);
	size_t len = 0;
	out[0] = '\0';
	cr_assert_eq(rc == 0, l.n > 0);
	if (l.caseless)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "i:");
	for (size_t i = 0; i < l.n; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%.*s", i ? "," : "",
					(int)l.items[i].len, l.items[i].bytes);
	return out;
}

struct example {
	const char *pattern, *literals; /* "a,b"; "i:a,b" caseless; "" none */
};

static void expect(const struct example *examples, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(literals_text(examples[i].pattern), examples[i].literals, "%s",
				 examples[i].pattern);
}

#define EXPECT(...)                                                                                \
	do {                                                                                       \
		const struct example examples[] = {__VA_ARGS__};                                   \
		expect(examples, sizeof(examples) / sizeof(*examples));                            \
	} while (0)

Test(literals, the_default_rules_have_literals)
{
	EXPECT({"console\\.log\\s*\\(|debugger|TODO|FIXME|breakpoint\\(|pdb\\.set_trace",
		"console.log,debugger,TODO,FIXME,breakpoint(,pdb.set_trace"},
	       {"\\bconsole\\.log\\s*\\(", "console.log"},
	       {"(?<![\\w$.])debugger\\s*(?:;|$)", "debugger"},
	       {"\\b(?:TODO|FIXME)\\b", "TODO,FIXME"},
	       {"(?<![\\w.])breakpoint\\s*\\(\\s*\\)", "breakpoint"},
	       {"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY-----", "PRIVATE KEY-----"},
	       {"\\b(?:AKIA|ASIA)[0-9A-Z]{16}\\b", "AKIA,ASIA"},
	       {"\\bsk_live_[0-9A-Za-z]{16,}", "sk_live_"});
}

Test(literals, only_what_every_match_must_hold)
{
	EXPECT({"colou?r", "colo"}, {"ab+cd", "ab"}, {"x{0}TODO", "TODO"}, {"(?:TODO)?FIX", "FIX"},
	       {"(?:ab|cd)+x", "ab,cd"}, {"[|(]TODO[)]", "TODO"}, {"[]|]+TODO", "TODO"},
	       {"[[:alpha:]|]TODO", "TODO"}, {"(?=abc)xy", "xy"}, {"(?<name>TODO)", "TODO"},
	       {"\\.\\(\\)", ".()"});
}

Test(literals, none_where_a_match_may_hold_none)
{
	EXPECT({"\\s+$", ""}, {"TODO|x", ""} /* one byte */, {"TODO|", ""} /* empty */,
	       {"(?:TODO)?", ""}, {"(?:TODO)*x", ""}, {"(?!TODO)ab*", ""}, {"(?<=TODO)x", ""},
	       {"a|b|c|d|e|f|g|h|ij", ""}, {"aa|bb|cc|dd|ee|ff|gg|hh|ii", ""} /* too many */);
}

Test(literals, syntax_it_does_not_read_gives_none)
{
	EXPECT({"\\x54ODO", ""}, {"\\QTODO\\E", ""}, {"T\\EODO", ""}, {"(?x)T O D O", ""},
	       {"(?#x)TODO", ""}, {"(a)\\1TODO", ""}, {"TODO{,2}", ""}, {"TO(*ACCEPT)DO", ""},
	       {"\\p{L}TODO", ""}, {"(a)(?(1)b|c)TODO", ""}, {"\\cATODO", ""}, {"[[:x]TODO", ""},
	       {"\\N{U+41}TODO", ""}, {"(?R)?TODO", ""}, {"\\124ODO", ""});
}

Test(literals, caseless_patterns_keep_no_k_s_or_non_ascii)
{
	EXPECT({"(?i)todo", "i:todo"}, {"(?i:fixme)|TODO", "i:fixme,TODO"},
	       {"(?i)kelvin", "i:elvin"}, {"(?i)desk_live", "i:_live"}, {"(?i)kk", ""},
	       {"TODO(?-i)", "i:TODO"} /* any i flag: all caseless */, {"caf\xc3\xa9s", "caf"});
}

/* Every code point PCRE2 (UTF, caseless) matches with an ASCII letter
 * other than k and s is an ASCII letter: why only k and s are left out of
 * caseless literals (U+212A matches k, U+017F matches s). */
Test(literals, caseless_ascii_letters_other_than_k_and_s_match_only_ascii)
{
	pcre2_code *others = compile("(?i)[a-jl-rt-z]"), *k = compile("(?i)k");
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	for (uint32_t cp = 0x80; cp <= 0x10FFFF; cp++) {
		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		unsigned char u[4];
		size_t n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		u[0] = n == 2 ? 0xC0 | (cp >> 6) : n == 3 ? 0xE0 | (cp >> 12) : 0xF0 | (cp >> 18);
		for (size_t i = 1; i < n; i++)
			u[i] = 0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3F);
		cr_assert_eq(pcre2_match(others, u, n, 0, 0, md, NULL), PCRE2_ERROR_NOMATCH,
			     "U+%04X matches an ASCII letter without case", cp);
	}
	cr_assert_gt(pcre2_match(k, (PCRE2_SPTR) "\xe2\x84\xaa", 3, 0, 0, md, NULL), 0);
	pcre2_match_data_free(md);
	pcre2_code_free(others);
	pcre2_code_free(k);
}

static int holds(const char *source, const char *text)
{
	struct literals l;
	pcre2_code *code = compile(source);
	literals_of(&l, source, code);
	pcre2_code_free(code);
	return literals_in(&l, text, strlen(text));
}

Test(literals, the_search_finds_every_place_and_case)
{
	char text[96];
	const char *pattern = "\\b(?:TODO|FIXME)\\b|debugger";
	for (size_t len = 0; len < sizeof(text) - 1; len++)
		for (size_t at = 0; at + 4 <= len; at++) {
			memset(text, 'x', len);
			text[len] = '\0';
			memcpy(text + at, "TODO", 4);
			cr_assert(holds(pattern, text), "TODO at %zu of %zu", at, len);
			text[at + 3] = 'x';
			cr_assert_not(holds(pattern, text), "TOD at %zu of %zu", at, len);
		}
	cr_assert(holds("(?i)todo", "a tOdO b"));
	cr_assert(holds("(?i)todo", "0123456789abcdef0123456789abcdef TODO"));
	cr_assert_not(holds("(?i)todo", "0123456789abcdef0123456789abcdef T0D0 tod"));
	cr_assert_not(holds("TODO", "0123456789abcdef0123456789abcdef todo"));
	cr_assert(holds("\\s+$", "anything: no literals, so it may match"));
}

/* Random patterns over a few characters and most of the syntax, matched by
 * PCRE2 against random texts: a text PCRE2 matches must hold a literal. */
static const char *pieces[] = {
    "a",   "b",	  "k",	 "s",	"K",	"S",	"T",	 "O",	  "ab",	  "ks",	  "\\.",
    "\\(", "\\s", "\\d", "\\b", ".",	"^",	"$",	 "[ab]",  "[^a]", "[|)]", "[\\]]",
    "?",   "*",	  "+",	 "{0}", "{2}",	"{1,}", "{0,1}", "??",	  "*+",	  "|",	  "(?:",
    "(",   ")",	  "(?=", "(?!", "(?<=", "(?i)", "(?i:",	 "(?-i)", "(?|",  "(?>",
};
static const char *letters[] = {"a",	    "b",   "k", "s",	    "K",
				"S",	    "T",   "O", " ",	    ".",
				"(",	    ")",   "|", "\xc5\xbf", "\xe2\x84\xaa",
				"\xc3\xa9", "\xff"};

static void random_text(char *out, size_t cap, const char **from, size_t n, size_t max)
{
	size_t len = 0, count = (size_t)rand() % max;
	out[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		const char *p = from[(size_t)rand() % n];
		if (len + strlen(p) + 1 >= cap)
			break;
		strcpy(out + len, p);
		len += strlen(p);
	}
}

/* Does PCRE2 match text (alone, then within padding that puts it where
 * the search takes sixteen places at a time) where the literals say no? */
static size_t check_text(const pcre2_code *code, pcre2_match_data *md, const char *source,
			 const struct literals *l, const char *text)
{
	char padded[160];
	size_t pad = 16 + (size_t)rand() % 32, matched = 0;
	size_t len = strlen(text);
	memset(padded, '#', pad + len + pad);
	memcpy(padded + pad, text, len);
	padded[pad + len + pad] = '\0';
	const char *texts[] = {text, padded};
	for (int i = 0; i < 2; i++) {
		if (pcre2_match(code, (PCRE2_SPTR)texts[i], strlen(texts[i]), 0, 0, md, NULL) < 0)
			continue;
		matched++;
		cr_assert(literals_in(l, texts[i], strlen(texts[i])),
			  "'%s' matches '%s' which holds none of its %zu literals", source,
			  texts[i], l->n);
	}
	return matched;
}

Test(literals, never_says_no_where_pcre2_matches)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	size_t with_literals = 0, matched = 0;
	srand(7);
	for (int round = 0; round < 100000; round++) {
		char source[128], text[64];
		random_text(source, sizeof(source), pieces, sizeof(pieces) / sizeof(*pieces), 8);
		pcre2_code *code = compile(source);
		if (!code)
			continue;
		struct literals l;
		with_literals += literals_of(&l, source, code) == 0;
		for (int t = 0; l.n && t < 1000; t++) {
			random_text(text, sizeof(text), letters, sizeof(letters) / sizeof(*letters),
				    10);
			matched += check_text(code, md, source, &l, text);
		}
		pcre2_code_free(code);
	}
	pcre2_match_data_free(md);
	cr_assert_gt(with_literals, 5000, "%zu patterns with literals", with_literals);
	cr_assert_gt(matched, 40000, "%zu matches held against the literals", matched);
}
