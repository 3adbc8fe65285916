/* shell_quote: see shell_quote.h. */
#include "shell_quote.h"

#include <string.h>

static int bare(const char *word)
{
	if (!*word)
		return 0;
	for (const char *p = word; *p; p++) {
		unsigned char c = (unsigned char)*p;
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || strchr("_./,:+@%-", c);
		if (!plain)
			return 0;
	}
	return 1;
}

void shell_quote(struct buf *out, const char *word)
{
	if (bare(word)) {
		buf_adds(out, word);
		return;
	}
	buf_addc(out, '\'');
	for (const char *p = word; *p; p++) {
		if (*p == '\'')
			buf_adds(out, "'\\''");
		else
			buf_addc(out, *p);
	}
	buf_addc(out, '\'');
}

void shell_quote_argv(struct buf *out, const char *const *argv)
{
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			buf_addc(out, ' ');
		shell_quote(out, argv[i]);
	}
}
