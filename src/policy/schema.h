/*
 * schema: the sections of rules.ini described as tables, and the loader
 * that reads a file through them.
 *
 * A section is a table of keys. Each key has a name, a kind (what its value
 * is and how it is checked), where the value is kept (offsetof into the
 * section's struct), a default written as it would be in the file, and an
 * optional check for what the kind alone does not say. A section is either
 * single ("[gitgate]": one struct inside the target) or named ("[scan NAME]",
 * "[target PROJECT ENVIRONMENT]": one struct per header, in an array of the
 * target, the header's words kept in it). Every message about sections and
 * keys -- an unknown one and what was expected, a bad value, a duplicate --
 * comes from the tables, and freeing walks the same tables: a new section
 * is one table plus its struct.
 *
 * Problems never stop the reading: each is appended as "file:line: what is
 * wrong", so one pass shows them all. Cross-section checks are the caller's
 * (rules_load.c), reported through schema_problem() the same way.
 */
#ifndef GITGATE_SCHEMA_H
#define GITGATE_SCHEMA_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"

enum schema_kind {
	SCHEMA_TEXT,	 /* char *, replaced by a later line */
	SCHEMA_INT,	 /* a whole number from .min to .max, kept in .width bytes */
	SCHEMA_SEVERITY, /* enum severity: error, warn or off */
	SCHEMA_FOLDER,	 /* char *, kept with a trailing "/" */
	SCHEMA_WORDS,	 /* struct strlist; every line adds its words */
	SCHEMA_REFS,	 /* struct strlist of full ref names; "main" is refs/heads/main */
	SCHEMA_GLOBS,	 /* struct globlist; every line adds its globs */
	SCHEMA_PATTERNS, /* struct pattern items at .at, count at .n_at, capacity at .cap_at */
	SCHEMA_BOOL,	 /* int: yes/no, true/false, on/off, 1/0 */
	SCHEMA_CUSTOM,	 /* whatever .parse reads and .release frees */
	SCHEMA_INCLUDE,	 /* the keys of another table (.keys), kept in the same struct */
};

struct schema_key {
	const char *name;
	enum schema_kind kind;
	size_t at;		     /* offsetof the value in the section's struct */
	size_t n_at, cap_at;	     /* patterns: their count and capacity */
	size_t width;		     /* an int: its sizeof, 4 or 8 */
	unsigned long long min, max; /* an int: its range */
	/* A single value's default, parsed as if written in the file when the
	 * section starts. Lists have none: a list says whether it was given. */
	const char *def;
	/* What the kind does not check; returns -1 with the problem in why. */
	int (*check)(const char *key, const char *value, struct buf *why);
	/* SCHEMA_CUSTOM: reads value into the slot, replacing what a line before
	 * set (returns -1 with the problem in why, the slot as it was), and frees
	 * what it read (NULL: nothing to free). */
	int (*parse)(const char *key, const char *value, void *slot, struct buf *why);
	void (*release)(void *slot);
	/* SCHEMA_INCLUDE: the table whose keys this section also takes, so
	 * that the keys of one feature stay with the code that reads them. */
	const struct schema_key *keys;
};

#define SCHEMA_KEY(key, kind_, T, field) .name = (key), .kind = (kind_), .at = offsetof(T, field)
#define SCHEMA_INT_KEY(key, T, field)                                                              \
	SCHEMA_KEY(key, SCHEMA_INT, T, field), .width = sizeof(((T *)0)->field)
#define SCHEMA_PATTERNS_KEY(key, T, items, n, cap)                                                 \
	SCHEMA_KEY(key, SCHEMA_PATTERNS, T, items), .n_at = offsetof(T, n),                        \
						    .cap_at = offsetof(T, cap)
#define SCHEMA_CUSTOM_KEY(key, T, field, parse_, release_)                                         \
	SCHEMA_KEY(key, SCHEMA_CUSTOM, T, field), .parse = (parse_), .release = (release_)
#define SCHEMA_INCLUDE_KEYS(table) .name = "", .kind = SCHEMA_INCLUDE, .keys = (table)
#define SCHEMA_END .name = NULL

struct schema_section {
	const char *name;    /* the first word of the header */
	const char *args[2]; /* the words after it, as usage shows them ("NAME"), or NULL */
	const struct schema_key *keys; /* ends with a key whose name is NULL */
	size_t at;		       /* single: offsetof its struct in the target */
	/* Named: the array of structs in the target, and in each struct where the
	 * header's words and line are kept. */
	size_t items_at, n_at, cap_at, size;
	size_t name_at, arg_at, line_at;
};

/* A named section's structs (type E), in the array `items` of the target (T). */
#define SCHEMA_ARRAY(T, items, n, cap, E)                                                          \
	.items_at = offsetof(T, items), .n_at = offsetof(T, n), .cap_at = offsetof(T, cap),        \
	.size = sizeof(E)

struct schema_load {
	/* Set by the caller. */
	const char *file; /* as messages name it */
	struct buf *errors;
	const struct schema_section *sections;
	size_t nsections;
	void *target;
	/* Kept by the loader. */
	int line; /* the line being read, 0 outside the file */
	int failed;
	unsigned problems; /* said so far: after SCHEMA_PROBLEMS_SHOWN, only counted */
	FILE *in;
	struct buf raw;
	int seen_header;
	const struct schema_section *section; /* NULL: none yet, or a bad header */
	char *base;			      /* the current section's struct */
	char *header;			      /* as written between the brackets */
	const char *key, *value;
};

/* Sets every single section's defaults, then reads in; returns 0, or -1
 * when a problem was found (ld->failed). The caller closes in. */
int schema_read(struct schema_load *ld, FILE *in);
/* Appends "file:line: ..." (line 0: "file: ...") and marks the load failed.
 * Past SCHEMA_PROBLEMS_SHOWN problems, one line says more follow, and the
 * rest are only counted. */
#define SCHEMA_PROBLEMS_SHOWN 50
void schema_problem(struct schema_load *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Frees every value the tables describe in target, and the named arrays. */
void schema_free(const struct schema_section *sections, size_t nsections, void *target);

/* The next whitespace-separated word at *p (its length, 0 at the end);
 * advances *p past it. */
size_t schema_word_next(const char **p, const char **word);
/* Letters, digits, '-', '_' and '.': what a NAME in a header may use. */
int schema_name_ok(const char *name);
#define SCHEMA_NAME_RULE "may use only letters, digits, '-', '_' and '.'"
/* Could git take this as a branch or ref name? */
int schema_ref_name_ok(const char *name);
/* Checks for schema_key.check: a branch name; a NAME (schema_name_ok). */
int schema_check_branch(const char *key, const char *value, struct buf *why);
int schema_check_name(const char *key, const char *value, struct buf *why);

#endif
