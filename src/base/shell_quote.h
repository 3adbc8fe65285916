/*
 * shell_quote: argv words made into one command line for a POSIX shell
 * that is not ours -- the remote host's, which OpenSSH hands the words it
 * is given joined by blanks (`$SHELL -c "LINE"`). This is the one place
 * that writes such a line: everything a deploy runs on another machine is
 * an argv whose every word goes through here.
 *
 * A word is kept bare only when it holds nothing but letters, digits and
 * _ . / , : + @ % - (no '=', which would make a first word an assignment,
 * nor a leading '~' or '#'); anything else, the empty word included, is
 * put inside '...', where a shell takes every byte literally -- '$', '`',
 * '\', '"', blanks, newlines, bytes that are not UTF-8 -- and a "'" itself
 * is written '\''. So the shell's words are exactly the words given, and
 * nothing in them is ever run, expanded or split.
 */
#ifndef GITGATE_SHELL_QUOTE_H
#define GITGATE_SHELL_QUOTE_H

#include "buf.h"

/* Appends word, quoted, to out. */
void shell_quote(struct buf *out, const char *word);
/* Appends argv (NULL-terminated), each word quoted, separated by blanks. */
void shell_quote_argv(struct buf *out, const char *const *argv);

#endif
