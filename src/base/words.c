/*
 * words: shell-style word splitting without a shell, and the variables of
 * the words it gives. See words.h for what is read and what is refused.
 *
 * The splitter is one pass over the line with the position of the quote it
 * is in (or none); a word starts at its first character or quote, so ""
 * gives an empty word. Every error names the column (1-based) of what is
 * wrong, so a rules.ini line with three quotes is easy to mend. References
 * are checked against the caller's names as they are read, while the
 * splitter still knows whether a '$' was quoted.
 */
#include "words.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct split {
	const char *line, *p;
	const char *const *names;
	struct buf word;
	int in_word;
	struct strvec words;
	struct buf *err;
};

static int column(const struct split *s, const char *at)
{
	return (int)(at - s->line) + 1;
}

static int name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static int fail(struct split *s, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct split *s, const char *at, const char *fmt, ...)
{
	va_list ap;
	buf_printf(s->err, "column %d: ", column(s, at));
	va_start(ap, fmt);
	buf_vprintf(s->err, fmt, ap);
	va_end(ap);
	return -1;
}

static int name_known(const struct split *s, const char *name, size_t len)
{
	for (size_t i = 0; s->names && s->names[i]; i++)
		if (strlen(s->names[i]) == len && !strncmp(s->names[i], name, len))
			return 1;
	return !s->names;
}

/* A '$' a shell would expand: copies "$NAME" or "${NAME}" to the word and
 * moves past it, or says why it is not one. */
static int variable_copy(struct split *s)
{
	const char *dollar = s->p, *name = s->p + 1;
	int braced = *name == '{';
	if (braced)
		name++;
	const char *end = name;
	if (name_start(*end))
		while (name_char(*end))
			end++;
	if (end == name)
		return fail(s, dollar,
			    "'$' must start a variable ($NAME or ${NAME}): write \\$ or '$' for "
			    "a literal '$'");
	if (braced && *end != '}')
		return fail(s, dollar, "${...} must hold only a variable name");
	if (!name_known(s, name, (size_t)(end - name))) {
		fail(s, dollar, "unknown variable $%.*s: the variables are", (int)(end - name),
		     name);
		for (size_t i = 0; s->names[i]; i++)
			buf_printf(s->err, " $%s", s->names[i]);
		buf_adds(s->err, " (\\$ or '$' for a literal '$')");
		return -1;
	}
	if (braced)
		end++;
	buf_add(&s->word, dollar, (size_t)(end - dollar));
	s->p = end;
	return 0;
}

static void word_end(struct split *s)
{
	if (!s->in_word)
		return;
	strvec_push_owned(&s->words, buf_detach(&s->word));
	s->in_word = 0;
}

/* An operator or a command substitution: refused, never taken as text. */
static int shell_syntax(struct split *s)
{
	return fail(s, s->p,
		    "'%c' is shell syntax, and no shell runs this command: quote it, or write "
		    "sh -c '...' to use one",
		    *s->p);
}

static int single_quoted(struct split *s)
{
	const char *open = s->p++;
	for (; *s->p != '\''; s->p++) {
		if (!*s->p)
			return fail(s, open, "unterminated single quote");
		buf_addc(&s->word, *s->p);
	}
	s->p++;
	return 0;
}

static int double_quoted(struct split *s)
{
	const char *open = s->p++;
	while (*s->p != '"') {
		if (!*s->p)
			return fail(s, open, "unterminated double quote");
		if (*s->p == '$') {
			if (variable_copy(s) < 0)
				return -1;
			continue;
		}
		if (*s->p == '`')
			return shell_syntax(s);
		if (*s->p == '\\' && s->p[1] && strchr("$`\"\\\n", s->p[1])) {
			if (s->p[1] != '\n')
				buf_addc(&s->word, s->p[1]);
			s->p += 2;
			continue;
		}
		buf_addc(&s->word, *s->p++);
	}
	s->p++;
	return 0;
}

static int unquoted(struct split *s)
{
	char c = *s->p;
	if (c == '\\') {
		if (!s->p[1])
			return fail(s, s->p, "a '\\' at the end escapes nothing");
		if (s->p[1] != '\n') { /* "\" and a newline: the line goes on */
			s->in_word = 1;
			buf_addc(&s->word, s->p[1]);
		}
		s->p += 2;
		return 0;
	}
	if (strchr("|&;<>()`", c))
		return shell_syntax(s);
	if (c == '#' && !s->in_word)
		return fail(s, s->p, "'#' would start a comment in a shell: quote it");
	s->in_word = 1;
	if (c == '$')
		return variable_copy(s);
	buf_addc(&s->word, c);
	s->p++;
	return 0;
}

int words_split(const char *line, const char *const *names, char ***argv, size_t *argc,
		struct buf *err)
{
	struct split s = {.line = line, .p = line, .names = names, .word = BUF_INIT, .err = err};
	int rc = 0;
	while (*s.p && rc == 0) {
		switch (*s.p) {
		case ' ':
		case '\t':
		case '\n':
			word_end(&s);
			s.p++;
			break;
		case '\'':
			s.in_word = 1;
			rc = single_quoted(&s);
			break;
		case '"':
			s.in_word = 1;
			rc = double_quoted(&s);
			break;
		default:
			rc = unquoted(&s);
		}
	}
	if (rc == 0)
		word_end(&s);
	buf_free(&s.word);
	if (rc < 0) {
		strvec_clear(&s.words);
		*argv = NULL;
		*argc = 0;
		return -1;
	}
	*argc = s.words.n;
	*argv = strvec_detach(&s.words);
	return 0;
}
