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
 * Variables: $NAME and ${NAME} (unquoted or inside "...") are left in the
 * words as references, for words_expand to fill in when the command runs; a
 * '$' a shell would keep literally ('$' inside '...', or written "\$")
 * is stored as "$$". So a split word is a template: only words_expand turns
 * it into the text to run, and it can tell a reference from a literal '$'
 * because the split kept the difference. A '$' that starts no name ($1, $?,
 * $(...)) is refused, as is ${...} holding anything but a name.
 */
#ifndef GITGATE_WORDS_H
#define GITGATE_WORDS_H

#include <stddef.h>

#include "buf.h"

/* Splits line into *argv (NULL-terminated, *argc words, each a template as
 * above; free with words_free). Returns 0, or -1 with what is wrong (and
 * where: "column N") in err and *argv NULL. An empty line gives no words. */
int words_split(const char *line, char ***argv, size_t *argc, struct buf *err);
void words_free(char **argv);

/* Appends the template word to out with each $NAME or ${NAME} replaced by
 * its value from vars ("NAME=value" entries, NULL-terminated, as run.c's
 * env) and each "$$" by '$'. Returns 0, or -1 with "unknown variable $NAME"
 * in err when vars has no NAME. */
int words_expand(const char *word, const char *const *vars, struct buf *out, struct buf *err);

#endif
