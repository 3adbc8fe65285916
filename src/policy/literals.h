/*
 * literals: a few plain strings, one of which every match of a pattern
 * holds, for a search far cheaper than the pattern itself.
 *
 * `\bconsole\.log\s*\(|debugger|\b(?:TODO|FIXME)\b` cannot match a text
 * that holds none of "console.log", "debugger", "TODO" and "FIXME"; most
 * text holds none, and memmem() finds that out many times faster than
 * PCRE2. The literals are read from the pattern's source by a parser that
 * knows a small, safe part of PCRE2's syntax (alternation, groups,
 * lookarounds, quantifiers, classes, common escapes) and gives up on
 * anything else: a pattern it cannot read has no literals, and is matched
 * by PCRE2 alone. The answer is then held against PCRE2's own view of the
 * compiled pattern (its options, its shortest match).
 *
 * Case-insensitive patterns ((?i) anywhere) give literals compared without
 * ASCII case. Their literals hold no k, s or byte above 127: in UTF mode
 * PCRE2 matches k with U+212A (the Kelvin sign) and s with U+017F, so
 * "cons" may match a text that holds no "cons" in any ASCII case.
 */
#ifndef GITGATE_LITERALS_H
#define GITGATE_LITERALS_H

#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define LITERALS_MAX 8	    /* more alternatives than this: PCRE2 alone */
#define LITERAL_BYTES 32    /* a longer run keeps its first bytes */
#define LITERAL_MIN_BYTES 2 /* one byte is found too often to filter */

struct literal {
	char bytes[LITERAL_BYTES];
	size_t len;
	/* The search looks for two of its bytes first (the rarest), at
	 * these places, ORed with these (0x20 folds an ASCII letter's case). */
	size_t probe_at[2];
	unsigned char probe[2], probe_fold[2];
};

struct literals {
	struct literal items[LITERALS_MAX];
	size_t n; /* 0: nothing is known, every text may match */
	int caseless;
};

/* Reads the literals of source, compiled as code (held against it).
 * Returns 0 with out filled, or -1 with out empty (n 0). */
int literals_of(struct literals *out, const char *source, const pcre2_code *code);

/* Does text hold one of the literals? 1 also when there are none. */
int literals_in(const struct literals *l, const char *text, size_t len);

#endif
