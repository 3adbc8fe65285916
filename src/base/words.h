/*
 * words: a command line split into words as a shell would split it, for
 * programs that are then run from argv, never by a shell.
 *
 * rules.ini writes commands as one line ("pnpm --filter=argo test"); run.c
 * wants an argv. words_split reads the line with the shell's quoting and
 * nothing else: blanks separate words; '...' keeps everything literally;
 * "..." keeps everything but '\' before $ ` " \ or a newline; '\' outside
 * quotes keeps the next character; "" and '' are empty words. What a shell
 * would do beyond that is refused rather than quietly taken literally: the
 * operators | & ; < > ( ) and ` (quote them to pass them as text), and '#'
 * at the start of a word (a comment to a shell). Globs (* ? [) and '~' are
 * passed as they are, never expanded.
 *
 * Variables: $NAME and ${NAME}, unquoted or inside "...", are references,
 * kept in the words as written for whoever runs the command to fill in
 * (gitgate's deploy engine fills in its own); the caller says which names
 * exist, so a typo is an error here, at load, and not a word passed on
 * unfilled. A '$' a shell would keep literally -- inside '...', or written
 * \$ -- is passed on as it is and never checked: sh -c 'echo $HOME' gives
 * the shell its own $HOME. A '$' that starts no name ($1, $?, $(...)) is
 * refused, as is ${...} holding anything but a name.
 */
#ifndef GITGATE_WORDS_H
#define GITGATE_WORDS_H

#include <stddef.h>

#include "buf.h"
#include "strvec.h"

/* Splits line into *argv (NULL-terminated, *argc words; free with
 * words_free). Every reference must name one of names (NULL-terminated;
 * NULL: any name). Returns 0, or -1 with what is wrong and where ("column
 * N: ...") in err and *argv NULL. An empty line gives no words. */
int words_split(const char *line, const char *const *names, char ***argv, size_t *argc,
		struct buf *err);

#endif
