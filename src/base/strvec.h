/*
 * strvec: a NULL-terminated array of strings it owns, grown one at a time,
 * as git's strvec is: the argv and env arrays gitgate hands to run.h. An
 * array taken out of one (strvec_detach), or made by words_split or
 * command_expand, is freed by strvec_free.
 */
#ifndef GITGATE_STRVEC_H
#define GITGATE_STRVEC_H

#include <stddef.h>

struct strvec {
	char **v; /* NULL-terminated once anything was pushed; NULL before */
	size_t n, cap;
};

#define STRVEC_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* Appends a copy of s. */
void strvec_push(struct strvec *sv, const char *s);
/* Appends s itself, which the strvec now owns. */
void strvec_push_owned(struct strvec *sv, char *s);
/* Appends the formatted string. */
void strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a copy of each of words (NULL-terminated; NULL: none). */
void strvec_push_all(struct strvec *sv, const char *const *words);
/* The array, NULL-terminated even when empty; sv is empty again. */
char **strvec_detach(struct strvec *sv);
/* Frees what sv holds; it is empty again. */
void strvec_clear(struct strvec *sv);
/* Frees a NULL-terminated array of strings and the array (NULL: nothing). */
void strvec_free(char **v);

#endif
