/*
 * envfile: a target's environment file (argo's .env.production), read
 * on the server, and gate 7's judgement of it.
 *
 * The syntax is dotenv's common core: "NAME=value" a line, "export " before
 * it allowed, blank lines and "#" comments skipped, a value in single quotes
 * taken as it is, in double quotes with \" \\ \n undone. A line that is none
 * of these is an error with file:line, and the line itself is never shown:
 * it may hold a secret. Values are kept only to hand to the commands that
 * need them (run, start, migrate, the health command); nothing here prints
 * a value, and a deploy adds each one read to its mask (mask.h), so what
 * those commands print is masked too.
 */
#ifndef GITGATE_ENVFILE_H
#define GITGATE_ENVFILE_H

#include "buf.h"

struct envfile {
	char **items; /* "NAME=value", as a process environment takes them */
	size_t n, cap;
};

/* Reads the env file at path, which must be a regular file (a FIFO, which
 * would wait for a writer, and a folder are refused at once). Returns 0, or
 * -1 with what is wrong (path, line, never the value) in err. */
int envfile_read(struct envfile *out, const char *path, struct buf *err);
/* The same, from the file's bytes as read elsewhere (a remote host's),
 * path naming it in messages. */
int envfile_read_text(struct envfile *out, const char *text, size_t len, const char *path,
		      struct buf *err);
void envfile_free(struct envfile *env);
/* The value of name, or NULL. */
const char *envfile_get(const struct envfile *env, const char *name);
/* Is value a placeholder? Each placeholder is a word, matched without
 * regard to case: "changeme" the whole value; "your-..." a value that
 * starts with "your-"; "<...>" one that starts with "<" and ends with ">"
 * ("..." stands for anything). */
int envfile_is_placeholder(const char *value, const char *const *placeholders, size_t n);
/* Gate 7: every required name present, non-empty and no placeholder.
 * Appends one line a problem, naming the variable and never its value;
 * returns how many. */
size_t envfile_check(const struct envfile *env, const char *const *required, size_t nrequired,
		     const char *const *placeholders, size_t nplaceholders, struct buf *problems);

#endif
