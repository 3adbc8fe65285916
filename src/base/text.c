/*
 * text: see text.h.
 */
#include "text.h"

#include <string.h>

#define BINARY_PROBE_BYTES 8000
#define REPLACEMENT_CHARACTER 0xfffd

int text_is_binary(const char *data, size_t len)
{
	return memchr(data, '\0', len < BINARY_PROBE_BYTES ? len : BINARY_PROBE_BYTES) != NULL;
}

static void put_utf8(struct buf *out, unsigned int cp)
{
	if (cp < 0x80) {
		buf_addc(out, (char)cp);
	} else if (cp < 0x800) {
		buf_addc(out, (char)(0xc0 | (cp >> 6)));
		buf_addc(out, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_addc(out, (char)(0xe0 | (cp >> 12)));
		buf_addc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(out, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_addc(out, (char)(0xf0 | (cp >> 18)));
		buf_addc(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_addc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(out, (char)(0x80 | (cp & 0x3f)));
	}
}

int text_from_utf16(struct buf *out, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	int little;
	if (len >= 2 && p[0] == 0xff && p[1] == 0xfe)
		little = 1;
	else if (len >= 2 && p[0] == 0xfe && p[1] == 0xff)
		little = 0;
	else
		return 0;
	size_t i = 2;
	while (i + 1 < len) {
		unsigned int unit = little ? p[i] | (p[i + 1] << 8) : (p[i] << 8) | p[i + 1];
		i += 2;
		if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < len) {
			unsigned int low = little ? p[i] | (p[i + 1] << 8) : (p[i] << 8) | p[i + 1];
			if (low >= 0xdc00 && low <= 0xdfff) {
				i += 2;
				put_utf8(out, 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00));
				continue;
			}
		}
		put_utf8(out, unit >= 0xd800 && unit <= 0xdfff ? REPLACEMENT_CHARACTER : unit);
	}
	if (i < len) /* an odd last byte */
		put_utf8(out, REPLACEMENT_CHARACTER);
	return 1;
}
