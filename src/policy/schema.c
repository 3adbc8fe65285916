/*
 * schema: reading rules.ini through the section tables. See schema.h.
 *
 * One function, line_split, says what a line is: nothing (blank or a
 * whole-line comment), a section header, "key = value", or malformed. It
 * reads a line as inih does (a UTF-8 BOM before line 1 is not part of it,
 * isspace() trims both ends, ';' or '#' first is a comment, a header runs
 * from '[' to the first ']', a key ends at the first '=' or ':'), and it is
 * the only judge: the loader never asks anyone else where a section starts.
 *
 * inih stays the driver (ini_parse_stream calls our reader, then our
 * handler), but Debian's libinih is built with its options as process-wide
 * globals (ini_allow_inline_comments, ini_allow_multiline, ini_max_line,
 * ...), and their defaults do not fit rules.ini: a ';' after a space would
 * cut a pattern short, an indented line would continue the key above, and a
 * line would stop at 200 bytes. Instead of setting globals that every other
 * user of inih in the process would see, the reader reads the whole line
 * itself, takes it apart with line_split, and hands inih a stand-in that its
 * defaults read the same way: "=" for a key line, so that inih calls the
 * handler, which takes the key and value the reader kept; an empty line for
 * everything else.
 */
#include "schema.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

void schema_problem(struct schema_load *ld, int line, const char *fmt, ...)
{
	va_list ap;
	ld->failed = 1;
	/* A file that is not rules.ini at all would bury the first problem
	 * under a line for each of its lines; as compilers do, stop saying. */
	if (++ld->problems > SCHEMA_PROBLEMS_SHOWN) {
		if (ld->problems == SCHEMA_PROBLEMS_SHOWN + 1)
			buf_printf(ld->errors, "%s: more problems follow; the first %d are shown\n",
				   ld->file, SCHEMA_PROBLEMS_SHOWN);
		return;
	}
	if (line > 0)
		buf_printf(ld->errors, "%s:%d: ", ld->file, line);
	else if (*ld->file)
		buf_printf(ld->errors, "%s: ", ld->file);
	va_start(ap, fmt);
	buf_vprintf(ld->errors, fmt, ap);
	va_end(ap);
	buf_addc(ld->errors, '\n');
}

int schema_name_ok(const char *name)
{
	if (!*name)
		return 0;
	for (const char *p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && !strchr("-_.", *p))
			return 0;
	return 1;
}

int schema_ref_name_ok(const char *name)
{
	return *name && !strpbrk(name, " ~^:?*[\\") && !strstr(name, "..");
}

int schema_check_branch(const char *key, const char *value, struct buf *why)
{
	if (schema_ref_name_ok(value))
		return 0;
	buf_printf(why, "%s '%s' is not a branch name", key, value);
	return -1;
}

int schema_check_name(const char *key, const char *value, struct buf *why)
{
	if (schema_name_ok(value))
		return 0;
	buf_printf(why, "%s '%s' " SCHEMA_NAME_RULE, key, value);
	return -1;
}

size_t schema_word_next(const char **p, const char **word)
{
	while (isspace((unsigned char)**p))
		(*p)++;
	*word = *p;
	while (**p && !isspace((unsigned char)**p))
		(*p)++;
	return (size_t)(*p - *word);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

enum line_kind { LINE_NOTHING, LINE_SECTION, LINE_KEY, LINE_MALFORMED };

/* Takes one line apart in place: for a header, *a is the text between the
 * brackets; for a key, *a is the key and *b the value, both trimmed. */
static enum line_kind line_split(char *text, int line, char **a, char **b)
{
	if (line == 1 && !strncmp(text, "\xEF\xBB\xBF", 3))
		text += 3;
	text = trim(text);
	if (!*text || strchr(";#", *text))
		return LINE_NOTHING;
	if (*text == '[') {
		char *end = strchr(text, ']');
		if (!end)
			return LINE_MALFORMED;
		*end = '\0';
		*a = text + 1;
		return LINE_SECTION;
	}
	char *sep = text + strcspn(text, "=:");
	if (!*sep)
		return LINE_MALFORMED;
	*sep = '\0';
	*a = trim(text);
	*b = trim(sep + 1);
	return LINE_KEY;
}

static void *at(void *base, size_t offset)
{
	return (char *)base + offset;
}

static void text_set(char **slot, const char *value)
{
	free(*slot);
	*slot = xstrdup(value);
}

static void int_set(struct schema_load *ld, void *slot, const struct schema_key *k,
		    const char *value)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(value, &end, 10);
	if (errno || end == value || *end || value[0] == '-' || v < k->min || v > k->max) {
		schema_problem(ld, ld->line,
			       "%s must be a whole number from %llu to %llu, not '%s'", k->name,
			       k->min, k->max, value);
	} else if (k->width == sizeof(uint32_t)) {
		uint32_t v32 = (uint32_t)v;
		memcpy(slot, &v32, sizeof(v32));
	} else {
		uint64_t v64 = v;
		memcpy(slot, &v64, sizeof(v64));
	}
}

static void bool_set(struct schema_load *ld, int *slot, const struct schema_key *k,
		     const char *value)
{
	static const char *const words[] = {"no", "yes", "false", "true", "off", "on", "0", "1"};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!strcasecmp(value, words[i])) {
			*slot = (int)(i % 2);
			return;
		}
	}
	schema_problem(ld, ld->line, "%s must be yes or no, not '%s'", k->name, value);
}

static void folder_set(char **slot, const char *value)
{
	size_t len = strlen(value);
	free(*slot);
	*slot = xmalloc(len + 2);
	memcpy(*slot, value, len + 1);
	if (len && value[len - 1] != '/')
		strcat(*slot, "/");
}

static void word_add(struct schema_load *ld, void *slot, const struct schema_key *k,
		     const char *word)
{
	struct strlist *list = slot;
	const char *why;
	switch (k->kind) {
	case SCHEMA_WORDS:
		*ARRAY_PUSH(list->items, list->n, list->cap) = xstrdup(word);
		break;
	case SCHEMA_REFS:
		if (!schema_ref_name_ok(word)) {
			schema_problem(ld, ld->line, "%s ref '%s' is not a ref name", k->name,
				       word);
		} else {
			struct buf ref = BUF_INIT;
			buf_printf(&ref, "%s%s", strncmp(word, "refs/", 5) ? "refs/heads/" : "",
				   word);
			*ARRAY_PUSH(list->items, list->n, list->cap) = buf_detach(&ref);
		}
		break;
	default:
		if (globlist_add(slot, word, &why) < 0)
			schema_problem(ld, ld->line, "bad glob '%s': %s", word, why);
	}
}

static void words_add(struct schema_load *ld, void *slot, const struct schema_key *k,
		      const char *value)
{
	if (k->kind != SCHEMA_GLOBS)
		((struct strlist *)slot)->given = 1;
	const char *p = value, *word;
	for (size_t n; (n = schema_word_next(&p, &word));) {
		char *copy = xstrndup(word, n);
		word_add(ld, slot, k, copy);
		free(copy);
	}
}

static void pattern_add(struct schema_load *ld, char *base, const struct schema_key *k,
			const char *source)
{
	int code;
	PCRE2_SIZE offset;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)source, PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &offset, NULL);
	if (!re) {
		PCRE2_UCHAR message[256];
		pcre2_get_error_message(code, message, sizeof(message));
		schema_problem(ld, ld->line, "bad pattern '%s': %s at offset %zu", source,
			       (const char *)message, (size_t)offset);
		return;
	}
	struct pattern **items = at(base, k->at);
	size_t *n = at(base, k->n_at), *cap = at(base, k->cap_at);
	struct pattern *p = ARRAY_PUSH(*items, *n, *cap);
	memset(p, 0, sizeof(*p));
	p->source = xstrdup(source);
	p->code = re;
	literals_of(&p->literals, source, re);
	p->line = ld->line;
}

static void key_set(struct schema_load *ld, char *base, const struct schema_key *k,
		    const char *value)
{
	struct buf why = BUF_INIT;
	void *slot = at(base, k->at);
	if (k->check && k->check(k->name, value, &why) < 0) {
		schema_problem(ld, ld->line, "%s", why.data);
		buf_free(&why);
		return;
	}
	switch (k->kind) {
	case SCHEMA_TEXT:
		text_set(slot, value);
		break;
	case SCHEMA_INT:
		int_set(ld, slot, k, value);
		break;
	case SCHEMA_SEVERITY:
		if (severity_parse(value, slot) < 0)
			schema_problem(ld, ld->line,
				       "'%s' is not a severity: use error, warn or off", value);
		break;
	case SCHEMA_FOLDER:
		folder_set(slot, value);
		break;
	case SCHEMA_WORDS:
	case SCHEMA_REFS:
	case SCHEMA_GLOBS:
		words_add(ld, slot, k, value);
		break;
	case SCHEMA_PATTERNS:
		pattern_add(ld, base, k, value);
		break;
	case SCHEMA_BOOL:
		bool_set(ld, slot, k, value);
		break;
	case SCHEMA_CUSTOM:
		if (k->parse(k->name, value, slot, &why) < 0)
			schema_problem(ld, ld->line, "%s", why.data);
		buf_free(&why);
		break;
	case SCHEMA_INCLUDE: /* a table, never a key: key_find looks inside */
		break;
	}
}

static void defaults_set(struct schema_load *ld, char *base, const struct schema_key *keys)
{
	for (const struct schema_key *k = keys; k->name; k++)
		if (k->kind == SCHEMA_INCLUDE)
			defaults_set(ld, base, k->keys);
		else if (k->def)
			key_set(ld, base, k, k->def);
}

/* The key of that name in keys or a table they include, or NULL. */
static const struct schema_key *key_find(const struct schema_key *keys, const char *name)
{
	for (const struct schema_key *k = keys; k->name; k++) {
		const struct schema_key *found = k->kind == SCHEMA_INCLUDE ? key_find(k->keys, name)
						 : strcmp(k->name, name)   ? NULL
									   : k;
		if (found)
			return found;
	}
	return NULL;
}

static void key_free(char *base, const struct schema_key *k)
{
	void *slot = at(base, k->at);
	switch (k->kind) {
	case SCHEMA_TEXT:
	case SCHEMA_FOLDER:
		free(*(char **)slot);
		break;
	case SCHEMA_WORDS:
	case SCHEMA_REFS: {
		struct strlist *list = slot;
		for (size_t i = 0; i < list->n; i++)
			free(list->items[i]);
		free(list->items);
		break;
	}
	case SCHEMA_GLOBS:
		globlist_free(slot);
		break;
	case SCHEMA_PATTERNS: {
		struct pattern *items = *(struct pattern **)slot;
		size_t n = *(size_t *)at(base, k->n_at);
		for (size_t i = 0; i < n; i++) {
			free(items[i].source);
			pcre2_code_free(items[i].code);
			pcre2_code_free(items[i].buffer_code);
		}
		free(items);
		break;
	}
	case SCHEMA_CUSTOM:
		if (k->release)
			k->release(slot);
		break;
	case SCHEMA_INCLUDE:
		for (const struct schema_key *one = k->keys; one->name; one++)
			key_free(base, one);
		break;
	default:
		break;
	}
}

static int is_named(const struct schema_section *s)
{
	return s->args[0] != NULL;
}

static size_t section_nargs(const struct schema_section *s)
{
	return (size_t)(s->args[0] != NULL) + (s->args[1] != NULL);
}

static void section_usage(struct buf *out, const struct schema_section *s)
{
	buf_adds(out, s->name);
	for (size_t i = 0; i < section_nargs(s); i++)
		buf_printf(out, " %s", s->args[i]);
}

static void keys_list(struct buf *out, const struct schema_key *keys)
{
	for (const struct schema_key *k = keys; k->name; k++)
		if (k->kind == SCHEMA_INCLUDE)
			keys_list(out, k->keys);
		else
			buf_printf(out, "%s%s", out->len ? ", " : "", k->name);
}

static void sections_list(struct buf *out, const struct schema_load *ld)
{
	for (size_t i = 0; i < ld->nsections; i++) {
		if (i)
			buf_adds(out, i + 1 == ld->nsections ? " or " : ", ");
		section_usage(out, &ld->sections[i]);
	}
}

/* A new struct for a named section, its header's words and line kept in it.
 * A name used before, or spelled badly, is reported, and the section is
 * read all the same so that its keys are checked too. */
static char *named_begin(struct schema_load *ld, const struct schema_section *s,
			 const char *words[3])
{
	char **items = at(ld->target, s->items_at);
	size_t *n = at(ld->target, s->n_at), *cap = at(ld->target, s->cap_at);
	struct buf what = BUF_INIT;
	for (size_t i = 1; i <= section_nargs(s); i++)
		buf_printf(&what, "%s%s", i > 1 ? " " : "", words[i]);
	for (size_t i = 0; i < *n; i++) {
		char *other = *items + i * s->size;
		const char *name = *(char **)at(other, s->name_at);
		const char *arg = s->args[1] ? *(char **)at(other, s->arg_at) : NULL;
		if (!strcmp(name, words[1]) && (!arg || !strcmp(arg, words[2])))
			schema_problem(ld, ld->line, "duplicate %s '%s' (first defined on line %d)",
				       s->name, what.data, *(int *)at(other, s->line_at));
	}
	buf_free(&what);
	for (size_t i = 1; i <= section_nargs(s); i++) {
		if (schema_name_ok(words[i]))
			continue;
		struct buf label = BUF_INIT;
		for (const char *c = s->args[i - 1]; *c; c++)
			buf_addc(&label, (char)tolower((unsigned char)*c));
		schema_problem(ld, ld->line, "%s %s '%s' " SCHEMA_NAME_RULE, s->name, label.data,
			       words[i]);
		buf_free(&label);
	}
	grow_array((void **)items, cap, *n + 1, s->size);
	char *base = *items + (*n)++ * s->size;
	memset(base, 0, s->size);
	*(char **)at(base, s->name_at) = xstrdup(words[1]);
	if (s->args[1])
		*(char **)at(base, s->arg_at) = xstrdup(words[2]);
	*(int *)at(base, s->line_at) = ld->line;
	defaults_set(ld, base, s->keys);
	return base;
}

static void section_begin(struct schema_load *ld, const char *header)
{
	const char *words[3] = {""}, *p = header, *word;
	size_t nwords = 0, len;
	char *copies[3] = {NULL};
	while ((len = schema_word_next(&p, &word)))
		if (nwords++ < 3)
			words[nwords - 1] = copies[nwords - 1] = xstrndup(word, len);
	free(ld->header);
	ld->header = xstrdup(header);
	ld->seen_header = 1;
	ld->section = NULL;
	const struct schema_section *s = NULL;
	for (size_t i = 0; i < ld->nsections && !s; i++)
		if (!strcmp(ld->sections[i].name, words[0]))
			s = &ld->sections[i];
	struct buf expected = BUF_INIT;
	if (!s) {
		sections_list(&expected, ld);
		schema_problem(ld, ld->line, "unknown section [%s]: expected %s", header,
			       expected.data);
	} else if (nwords != 1 + section_nargs(s)) {
		section_usage(&expected, s);
		schema_problem(ld, ld->line, "section [%s] must be written [%s]", header,
			       expected.data);
	} else {
		ld->section = s;
		ld->base = is_named(s) ? named_begin(ld, s, words) : at(ld->target, s->at);
	}
	buf_free(&expected);
	for (size_t i = 0; i < 3; i++)
		free(copies[i]);
}

static int key_handle(void *user, const char *section, const char *name, const char *value)
{
	struct schema_load *ld = user;
	/* inih saw only the stand-in "="; the reader kept the real line */
	(void)section;
	(void)name;
	(void)value;
	const struct schema_section *s = ld->section;
	if (!ld->seen_header) {
		schema_problem(ld, ld->line, "'%s' stands before any [section]", ld->key);
		return 1;
	}
	if (!s)
		return 1; /* the bad header was reported once */
	const struct schema_key *k = key_find(s->keys, ld->key);
	if (k) {
		key_set(ld, ld->base, k, ld->value);
		return 1;
	}
	struct buf expected = BUF_INIT;
	keys_list(&expected, s->keys);
	schema_problem(ld, ld->line, "unknown key '%s' in [%s]: expected one of %s", ld->key,
		       ld->header, expected.data);
	buf_free(&expected);
	return 1;
}

static char *line_read(char *str, int num, void *stream)
{
	struct schema_load *ld = stream;
	if (!buf_getline(&ld->raw, ld->in, '\n'))
		return NULL;
	ld->line++;
	const char *standin = "";
	char *a, *b;
	switch (line_split(ld->raw.data, ld->line, &a, &b)) {
	case LINE_SECTION:
		section_begin(ld, a);
		break;
	case LINE_KEY:
		ld->key = a;
		ld->value = b;
		standin = "=";
		break;
	case LINE_MALFORMED:
		schema_problem(ld, ld->line, "expected '[section]' or 'key = value'");
		break;
	case LINE_NOTHING:
		break;
	}
	snprintf(str, (size_t)num, "%s\n", standin);
	return str;
}

int schema_read(struct schema_load *ld, FILE *in)
{
	ld->in = in;
	for (size_t i = 0; i < ld->nsections; i++)
		if (!is_named(&ld->sections[i]))
			defaults_set(ld, at(ld->target, ld->sections[i].at), ld->sections[i].keys);
	int rc = ini_parse_stream(line_read, ld, key_handle, ld);
	if (ferror(in))
		schema_problem(ld, 0, "cannot read rules: %s", strerror(EIO));
	else if (rc)
		schema_problem(ld, 0, "cannot parse rules (inih says %d)", rc);
	ld->line = 0;
	ld->in = NULL;
	buf_free(&ld->raw);
	free(ld->header);
	ld->header = NULL;
	ld->section = NULL;
	return ld->failed ? -1 : 0;
}

void schema_free(const struct schema_section *sections, size_t nsections, void *target)
{
	for (const struct schema_section *s = sections; s < sections + nsections; s++) {
		if (!is_named(s)) {
			for (const struct schema_key *k = s->keys; k->name; k++)
				key_free(at(target, s->at), k);
			continue;
		}
		char **items = at(target, s->items_at);
		size_t *n = at(target, s->n_at), *cap = at(target, s->cap_at);
		for (size_t i = 0; i < *n; i++) {
			char *base = *items + i * s->size;
			for (const struct schema_key *k = s->keys; k->name; k++)
				key_free(base, k);
			free(*(char **)at(base, s->name_at));
			if (s->args[1])
				free(*(char **)at(base, s->arg_at));
		}
		free(*items);
		*items = NULL;
		*n = *cap = 0;
	}
}
