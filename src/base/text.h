/*
 * text: telling text from binary content, and reading UTF-16 text as UTF-8.
 *
 * gitgate decides for itself what is binary, as git does by default and
 * whatever .gitattributes or config say: content whose first 8000 bytes
 * hold a NUL. A file that opens with a UTF-16 byte order mark is text in
 * another encoding (Windows tools write it): it holds NULs, so it is
 * transcoded to UTF-8 first and scanned like any other text.
 */
#ifndef GITGATE_TEXT_H
#define GITGATE_TEXT_H

#include "buf.h"

/* git's test: a NUL in the first 8000 bytes. */
int text_is_binary(const char *data, size_t len);
/* When data opens with a UTF-16 byte order mark (LE or BE), writes its text
 * as UTF-8 to out (without the mark; a lone surrogate becomes U+FFFD) and
 * returns 1; else returns 0 and out is untouched. */
int text_from_utf16(struct buf *out, const char *data, size_t len);

#endif
