/*
 * literals: see literals.h.
 *
 * The parser walks the pattern once as PCRE2 would, with these facts:
 * - a match of alternatives holds a literal of one of them, so the
 *   alternatives' sets are joined, and an alternative with no literal (one
 *   that can match without any) leaves the whole set empty;
 * - an alternative is a sequence, and each item of it that must occur
 *   (no ?, *, {0,...}) is in every match: a run of plain characters is a
 *   literal, a group that must occur gives its own set; the best of these
 *   (longest shortest literal, then fewest) is the alternative's;
 * - anything else (a class, ".", \d, an assertion, a lookaround, a
 *   repeated character's repeats) ends a run and adds nothing.
 * What it does not know it refuses (`bad`): back references, \Q...\E,
 * \x and \p escapes, extended mode, verbs, conditions, recursion, a brace
 * that is no plain {n}, {n,} or {n,m}.
 */
#include "literals.h"

#include <string.h>

enum times { ONCE, OPTIONAL, REPEATED };

struct parse {
	const char *s;
	size_t at;
	int caseless;	  /* k, s and non-ASCII are no literal bytes */
	int saw_caseless; /* an option group or setting names i */
	int bad;	  /* the pattern says what this parser does not read */
};

static int one_of(char c, const char *set)
{
	return c && strchr(set, c);
}

static int is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static size_t shortest(const struct literals *set)
{
	size_t min = 0;
	for (size_t i = 0; i < set->n; i++)
		if (!i || set->items[i].len < min)
			min = set->items[i].len;
	return min;
}

/* Keeps cand in best when it filters better: a longer shortest literal,
 * then fewer literals. */
static void keep_better(struct literals *best, const struct literals *cand)
{
	if (!cand->n)
		return;
	size_t a = shortest(cand), b = shortest(best);
	if (!best->n || a > b || (a == b && cand->n < best->n))
		*best = *cand;
}

/* A run of characters that must occur one after another ends here. */
static void flush(struct literal *run, struct literals *best)
{
	if (!run->len)
		return;
	struct literals one = {.n = 1};
	one.items[0] = *run;
	keep_better(best, &one);
	run->len = 0;
}

static void run_add(struct literal *run, unsigned char c)
{
	if (run->len < LITERAL_BYTES) /* a prefix of a literal is one too */
		run->bytes[run->len++] = (char)c;
}

/* {n}, {n,} or {n,m} at p->at, digits only: OPTIONAL when n is 0. */
static enum times braces(struct parse *p)
{
	const char *s = p->s;
	size_t i = p->at + 1, digits = i;
	int zero = 1;
	for (; s[i] >= '0' && s[i] <= '9'; i++)
		zero = zero && s[i] == '0';
	if (i == digits) {
		p->bad = 1;
		return OPTIONAL;
	}
	if (s[i] == ',')
		while (s[++i] >= '0' && s[i] <= '9')
			;
	if (s[i] != '}') {
		p->bad = 1;
		return OPTIONAL;
	}
	p->at = i + 1;
	return zero ? OPTIONAL : REPEATED;
}

/* How often the item just read occurs, after its quantifier if any. */
static enum times quantifier(struct parse *p)
{
	char c = p->s[p->at];
	enum times t;
	if (c == '?' || c == '*') {
		p->at++;
		t = OPTIONAL;
	} else if (c == '+') {
		p->at++;
		t = REPEATED;
	} else if (c == '{') {
		t = braces(p);
	} else {
		return ONCE;
	}
	if (p->s[p->at] == '?' || p->s[p->at] == '+') /* lazy, possessive */
		p->at++;
	return t;
}

/* An escape at p->at: the literal byte it stands for, or -1 for a class
 * or an assertion (\d, \s, \b, ...). */
static int escape(struct parse *p)
{
	unsigned char c = (unsigned char)p->s[p->at + 1];
	if (!c || c >= 128) {
		p->bad = 1;
		return -1;
	}
	p->at += 2;
	if (!is_alnum(c))
		return c;
	if (c == 'N' && p->s[p->at] == '{')
		p->bad = 1;
	else if (!one_of((char)c, "dDsSwWhHvVRNXCbBAzZGKtnrfea"))
		p->bad = 1; /* back references, \x, \p, \Q, \E, \c, ... */
	return -1;
}

/* A character class at p->at, skipped whole: [^]...], escapes, [:name:]. */
static void char_class(struct parse *p)
{
	const char *s = p->s;
	size_t i = p->at + 1;
	i += s[i] == '^';
	i += s[i] == ']';
	while (s[i] != ']') {
		if (!s[i] || (s[i] == '\\' && (!s[i + 1] || one_of(s[i + 1], "QEc"))) ||
		    (s[i] == '[' && one_of(s[i + 1], ".="))) {
			p->bad = 1;
			return;
		}
		if (s[i] == '[' && s[i + 1] == ':') {
			size_t j = i + 2 + (s[i + 2] == '^');
			while (s[j] >= 'a' && s[j] <= 'z')
				j++;
			if (s[j] != ':' || s[j + 1] != ']') {
				p->bad = 1;
				return;
			}
			i = j + 2;
		} else {
			i += s[i] == '\\' ? 2 : 1;
		}
	}
	p->at = i + 1;
}

/* A group's name after (?< (?' or (?P<: returns where the group starts. */
static size_t group_name(struct parse *p, size_t i)
{
	const char *s = p->s;
	i += s[i] == 'P';
	char close = s[i] == '<' ? '>' : '\'';
	size_t start = ++i;
	while (is_alnum((unsigned char)s[i]) || s[i] == '_')
		i++;
	if (i == start || s[i] != close) {
		p->bad = 1;
		return i;
	}
	return i + 1;
}

static void alternation(struct parse *p, struct literals *out);

/* What follows "(?" at i: where the group's pattern starts, *counts 0 for
 * a lookaround (its text is not part of the match) or an option setting. */
static size_t group_kind(struct parse *p, size_t i, int *counts, int *setting)
{
	const char *s = p->s;
	if (one_of(s[i], ":>|"))
		return i + 1;
	if (one_of(s[i], "=!") || (s[i] == '<' && one_of(s[i + 1], "=!"))) {
		*counts = 0;
		return i + 1 + (s[i] == '<');
	}
	if (s[i] == '<' || s[i] == '\'' || (s[i] == 'P' && s[i + 1] == '<'))
		return group_name(p, i);
	size_t flags = i;
	while (one_of(s[i], "imnsxJU^-"))
		i++;
	if (s[i] != ')' && s[i] != ':') {
		p->bad = 1; /* comments, conditions, recursion, callouts, ... */
		return i;
	}
	for (size_t f = flags; f < i; f++) {
		p->bad = p->bad || s[f] == 'x'; /* extended: spaces and # mean other things */
		p->saw_caseless = p->saw_caseless || s[f] == 'i';
	}
	*setting = s[i] == ')';
	*counts = !*setting;
	return i + 1;
}

/* A group at p->at, its set in inner. Returns 1 when its text is part of
 * the match (not a lookaround, not an option setting). */
static int group(struct parse *p, struct literals *inner)
{
	size_t i = p->at + 1;
	int counts = 1, setting = 0;
	inner->n = 0;
	if (p->s[i] == '*') {
		p->bad = 1; /* verbs: (*ACCEPT) ends a match anywhere */
		return 0;
	}
	if (p->s[i] == '?')
		i = group_kind(p, i + 1, &counts, &setting);
	p->at = i;
	if (p->bad || setting)
		return 0;
	alternation(p, inner);
	if (p->bad || p->s[p->at] != ')') {
		p->bad = 1;
		return 0;
	}
	p->at++;
	return counts;
}

/* One item of a sequence with its quantifier: a character joins the run;
 * anything else ends it; a group that must occur offers its set. */
static void item(struct parse *p, struct literal *run, struct literals *best)
{
	unsigned char c = (unsigned char)p->s[p->at];
	struct literals inner = {0};
	int ch = -1, counts = 0;
	if (c == '\\') {
		ch = escape(p);
	} else if (c == '[') {
		char_class(p);
	} else if (c == '(') {
		counts = group(p, &inner);
	} else if (one_of((char)c, "?*+{")) {
		p->bad = 1;
	} else {
		p->at++;
		if (c < 128 && !one_of((char)c, ".^$") && !(p->caseless && one_of((char)c, "kKsS")))
			ch = c;
	}
	if (p->bad)
		return;
	enum times t = quantifier(p);
	if (ch < 0 || t == OPTIONAL)
		flush(run, best);
	if (ch >= 0 && t != OPTIONAL) {
		run_add(run, (unsigned char)ch);
		if (t == REPEATED)
			flush(run, best);
	}
	if (counts && t != OPTIONAL)
		keep_better(best, &inner);
}

static void sequence(struct parse *p, struct literals *best)
{
	struct literal run = {0};
	best->n = 0;
	while (!p->bad && p->s[p->at] && p->s[p->at] != '|' && p->s[p->at] != ')')
		item(p, &run, best);
	flush(&run, best);
}

static void alternation(struct parse *p, struct literals *out)
{
	int every = 1; /* every alternative so far has literals */
	out->n = 0;
	for (;;) {
		struct literals one;
		sequence(p, &one);
		if (!one.n || out->n + one.n > LITERALS_MAX)
			every = 0;
		for (size_t i = 0; every && i < one.n; i++)
			out->items[out->n++] = one.items[i];
		if (p->bad || p->s[p->at] != '|')
			break;
		p->at++;
	}
	if (!every)
		out->n = 0;
}

/* PCRE2's view of the compiled pattern must not contradict the parse: no
 * option the parser did not see, no literal longer than the shortest
 * match. */
static int agrees_with_pcre2(const struct literals *l, const pcre2_code *code)
{
	uint32_t options = 0, min_length = 0;
	if (pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &options) != 0 ||
	    pcre2_pattern_info(code, PCRE2_INFO_MINLENGTH, &min_length) != 0)
		return 0;
	uint32_t known = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_MULTILINE |
			 PCRE2_NO_UTF_CHECK | (l->caseless ? PCRE2_CASELESS : 0);
	return !(options & ~known) && shortest(l) <= min_length;
}

/* How often a byte is met in source text, roughly (0 rare .. 9 common):
 * the search probes each literal at its two rarest bytes. */
static int commonness(unsigned char c)
{
	if (c == ' ' || c == '\t' || c == '\n')
		return 9;
	if (one_of((char)c, "etaoinsrl"))
		return 8;
	if (c >= 'a' && c <= 'z')
		return 6;
	if ((c >= '0' && c <= '9') || one_of((char)c, ".,;:()\"'/-_=<>{}"))
		return 5;
	return c >= 'A' && c <= 'Z' ? 3 : 2;
}

/* The rarest byte of lit other than the one at skip (none: -1). */
static size_t rarest(const struct literal *lit, int caseless, size_t skip)
{
	size_t best = skip ? 0 : 1;
	for (size_t i = 0; i < lit->len; i++) {
		unsigned char c = (unsigned char)lit->bytes[i], b = (unsigned char)lit->bytes[best];
		if (i != skip &&
		    commonness(caseless ? lower(c) : c) < commonness(caseless ? lower(b) : b))
			best = i;
	}
	return best;
}

static void choose_probes(struct literal *lit, int caseless)
{
	size_t first = rarest(lit, caseless, (size_t)-1);
	size_t at[2] = {first, rarest(lit, caseless, first)};
	for (int k = 0; k < 2; k++) {
		unsigned char c = (unsigned char)lit->bytes[at[k]];
		int letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
		lit->probe_at[k] = at[k];
		lit->probe_fold[k] = caseless && letter ? 0x20 : 0;
		lit->probe[k] = caseless && letter ? lower(c) : c;
	}
}

int literals_of(struct literals *out, const char *source, const pcre2_code *code)
{
	struct parse p = {.s = source};
	memset(out, 0, sizeof(*out));
	alternation(&p, out);
	if (!p.bad && p.saw_caseless) {
		p = (struct parse){.s = source, .caseless = 1};
		alternation(&p, out);
	}
	out->caseless = p.caseless;
	if (p.bad || p.s[p.at] || shortest(out) < LITERAL_MIN_BYTES ||
	    !agrees_with_pcre2(out, code)) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	for (size_t i = 0; i < out->n; i++)
		choose_probes(&out->items[i], out->caseless);
	return 0;
}

static int literal_at(const struct literal *lit, const char *p, int caseless)
{
	if (!caseless)
		return !memcmp(p, lit->bytes, lit->len);
	for (size_t k = 0; k < lit->len; k++)
		if (lower((unsigned char)p[k]) != lower((unsigned char)lit->bytes[k]))
			return 0;
	return 1;
}

/*
 * Where the processor has AVX2 the search looks at 32 places a step: a
 * place may start the literal when both its probe bytes are where they
 * should be (ORing 0x20 folds ASCII case, and only adds places); each such
 * place is then compared in full. The last few places, and all of them
 * elsewhere, go to memmem() (a caseless literal: one place at a time).
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* Returns 1 when the literal is found, else 0 with *from the first place
 * not looked at. */
__attribute__((target("avx2"))) static int find_avx2(const struct literal *lit, int caseless,
						     const char *text, size_t len, size_t *from)
{
	const __m256i want0 = _mm256_set1_epi8((char)lit->probe[0]);
	const __m256i want1 = _mm256_set1_epi8((char)lit->probe[1]);
	const __m256i fold0 = _mm256_set1_epi8((char)lit->probe_fold[0]);
	const __m256i fold1 = _mm256_set1_epi8((char)lit->probe_fold[1]);
	const char *at0 = text + lit->probe_at[0], *at1 = text + lit->probe_at[1];
	size_t i = *from;
	for (; i + lit->len + 31 <= len; i += 32) {
		__m256i a = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(at0 + i)), fold0);
		__m256i b = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(at1 + i)), fold1);
		unsigned places = (unsigned)_mm256_movemask_epi8(
		    _mm256_and_si256(_mm256_cmpeq_epi8(a, want0), _mm256_cmpeq_epi8(b, want1)));
		for (; places; places &= places - 1)
			if (literal_at(lit, text + i + (unsigned)__builtin_ctz(places), caseless))
				return 1;
	}
	*from = i;
	return 0;
}
#endif

static int find(const struct literal *lit, int caseless, const char *text, size_t len)
{
	size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
	if (__builtin_cpu_supports("avx2") && find_avx2(lit, caseless, text, len, &i))
		return 1;
#endif
	if (!caseless)
		return memmem(text + i, len - i, lit->bytes, lit->len) != NULL;
	for (; i + lit->len <= len; i++)
		if (literal_at(lit, text + i, caseless))
			return 1;
	return 0;
}

int literals_in(const struct literals *l, const char *text, size_t len)
{
	if (!l->n)
		return 1;
	for (size_t i = 0; i < l->n; i++)
		if (find(&l->items[i], l->caseless, text, len))
			return 1;
	return 0;
}
