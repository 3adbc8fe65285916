/*
 * escape: making untrusted bytes (paths, pushed lines) safe to show.
 *
 * Content that reaches a terminal must not carry control sequences, and JSON
 * must be valid UTF-8. Both escapes are reversible by a reader: control
 * bytes and bytes that are not valid UTF-8 become \n, \t, \r, \e or \xNN,
 * Unicode's bidirectional and line separator controls become \u{NNNN}, and
 * a backslash becomes \\.
 */
#ifndef GITGATE_ESCAPE_H
#define GITGATE_ESCAPE_H

#include "buf.h"

void escape_bytes(struct buf *out, const char *s, size_t len);
/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
size_t utf8_sequence_length(const unsigned char *s, size_t len);
/* Decodes a C-quoted string as git prints it ("a\tb\303\251"); s points at
 * the opening quote. Returns the number of bytes consumed, 0 on error. */
size_t unquote_c_style(struct buf *out, const char *s, size_t len);

#endif
