/*
 * escape: see escape.h.
 */
#include "escape.h"

#include <string.h>

size_t utf8_sequence_length(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t need;
	unsigned int min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len < need)
		return 0;
	unsigned int cp = c & (0x7f >> need);
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

static unsigned int utf8_decode(const unsigned char *s, size_t n)
{
	unsigned int cp = s[0] & (0x7f >> (n > 1 ? n : 0));
	for (size_t i = 1; i < n; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
	return cp;
}

/* Bidirectional and line-breaking controls: shown as they are, they make a
 * terminal display text in another order than it is stored (a file name
 * "x\u202egpj.js" reads as "xsj.jpg"), the trick of CVE-2021-42574. */
static int reorders_text(unsigned int cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

void escape_bytes(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned char c = p[i];
		if (c >= 0x80) {
			size_t n = utf8_sequence_length(p + i, len - i);
			/* C1 controls (U+0080..U+009F) act on terminals too. */
			if (n == 2 && c == 0xc2 && p[i + 1] < 0xa0)
				n = 0;
			unsigned int cp = n ? utf8_decode(p + i, n) : 0;
			if (n && reorders_text(cp)) {
				buf_printf(out, "\\u{%04x}", cp);
				i += n;
				continue;
			}
			if (n) {
				buf_add(out, p + i, n);
				i += n;
				continue;
			}
			buf_printf(out, "\\x%02x", c);
		} else if (c == '\\') {
			buf_adds(out, "\\\\");
		} else if (c == '\n') {
			buf_adds(out, "\\n");
		} else if (c == '\t') {
			buf_adds(out, "\\t");
		} else if (c == '\r') {
			buf_adds(out, "\\r");
		} else if (c == 0x1b) {
			buf_adds(out, "\\e");
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(out, "\\x%02x", c);
		} else {
			buf_addc(out, (char)c);
		}
		i++;
	}
}

size_t unquote_c_style(struct buf *out, const char *s, size_t len)
{
	if (len < 2 || s[0] != '"')
		return 0;
	size_t i = 1;
	while (i < len) {
		char c = s[i++];
		if (c == '"')
			return i;
		if (c != '\\') {
			buf_addc(out, c);
			continue;
		}
		if (i >= len)
			return 0;
		c = s[i++];
		/* git's escapes, each letter followed by the byte it stands for */
		static const char named[] = "a\ab\bt\tn\nv\vf\fr\r\"\"\\\\";
		const char *hit = NULL;
		for (const char *e = named; *e; e += 2)
			if (*e == c) {
				hit = e;
				break;
			}
		if (hit) {
			buf_addc(out, hit[1]);
		} else if (c >= '0' && c <= '3' && i + 1 < len && s[i] >= '0' && s[i] <= '7' &&
			   s[i + 1] >= '0' && s[i + 1] <= '7') {
			int v = ((c - '0') << 6) | ((s[i] - '0') << 3) | (s[i + 1] - '0');
			buf_addc(out, (char)v);
			i += 2;
		} else {
			return 0;
		}
	}
	return 0;
}
