/*
 * fuzz_literals: the literals of any pattern, held against PCRE2 itself.
 *
 * The input's first line is a pattern, the rest a text. When the pattern
 * compiles (as rules.ini's patterns are: UTF, invalid UTF matched safely),
 * its literals are read; wherever PCRE2 then finds a match in the text, as
 * a line and as a whole file (multi-line, any CRLF), the literals must be
 * found in it too, or the scan would skip a finding: the harness aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "literals.h"

/* A match over the text (-1: none, or the match limit hit: nothing to hold
 * the literals against). */
static int matches(const char *pattern, uint32_t options, const char *text, size_t len)
{
	int code;
	PCRE2_SIZE offset;
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
	pcre2_set_newline(cc, PCRE2_NEWLINE_ANYCRLF);
	pcre2_code *re =
	    pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			  PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | options, &code, &offset, cc);
	pcre2_compile_context_free(cc);
	if (!re)
		return -1;
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(mc, 100000);
	pcre2_set_depth_limit(mc, 100000);
	int rc = pcre2_match(re, (PCRE2_SPTR)text, len, 0, 0, md, mc);
	pcre2_match_context_free(mc);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return rc >= 0 ? 1 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t plen = nl ? (size_t)(nl - (const char *)data) : size;
	char *pattern = malloc(plen + 1);
	memcpy(pattern, data, plen);
	pattern[plen] = '\0';
	const char *text = nl ? nl + 1 : "";
	size_t len = nl ? size - plen - 1 : 0;
	int code;
	PCRE2_SIZE offset;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &offset, NULL);
	struct literals l;
	if (re && literals_of(&l, pattern, re) == 0 &&
	    ((matches(pattern, 0, text, len) > 0 ||
	      matches(pattern, PCRE2_MULTILINE, text, len) > 0) &&
	     !literals_in(&l, text, len)))
		abort(); /* PCRE2 matches a text that holds none of the literals */
	pcre2_code_free(re);
	free(pattern);
	return 0;
}
