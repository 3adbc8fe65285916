/*
 * envfile: see envfile.h.
 */
#include "envfile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

static int name_char(char c, int first)
{
	return c == '_' || isalpha((unsigned char)c) || (!first && isdigit((unsigned char)c));
}

/* The value after "=", unquoted into out. Returns 0, or -1 when quotes are
 * left open or text follows the closing quote. */
static int value_parse(const char *s, struct buf *out)
{
	char quote = *s == '\'' || *s == '"' ? *s : 0;
	if (!quote) {
		size_t len = strlen(s);
		while (len && isspace((unsigned char)s[len - 1]))
			len--;
		buf_add(out, s, len);
		return 0;
	}
	const char *p = s + 1;
	for (; *p && *p != quote; p++) {
		if (quote == '"' && *p == '\\' && p[1]) {
			p++;
			buf_addc(out, *p == 'n' ? '\n' : *p);
		} else {
			buf_addc(out, *p);
		}
	}
	if (*p != quote)
		return -1;
	for (p++; *p; p++)
		if (!isspace((unsigned char)*p))
			return -1;
	return 0;
}

static int envfile_parse(struct envfile *out, FILE *f, const char *path, struct buf *err);

int envfile_read(struct envfile *out, const char *path, struct buf *err)
{
	memset(out, 0, sizeof(*out));
	struct buf text = BUF_INIT;
	int found, rc = state_read_regular(path, &text, &found, err);
	if (rc == 0 && !found) {
		buf_printf(err, "cannot read %s: it is not there", path);
		rc = -1;
	}
	if (rc == 0)
		rc = envfile_read_text(out, text.data, text.len, path, err);
	buf_free(&text);
	return rc;
}

int envfile_read_text(struct envfile *out, const char *text, size_t len, const char *path,
		      struct buf *err)
{
	memset(out, 0, sizeof(*out));
	FILE *f = len ? fmemopen((void *)text, len, "r") : fopen("/dev/null", "re");
	if (!f) {
		buf_printf(err, "cannot read the env file %s: %s", path, strerror(errno));
		return -1;
	}
	return envfile_parse(out, f, path, err);
}

/* Reads f to its end and closes it. */
static int envfile_parse(struct envfile *out, FILE *f, const char *path, struct buf *err)
{
	struct buf line = BUF_INIT, entry = BUF_INIT;
	int rc = 0;
	for (int number = 1; rc == 0 && buf_getline(&line, f, '\n'); number++) {
		char *s = line.data;
		s[strcspn(s, "\r\n")] = '\0';
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		if (!strncmp(s, "export ", 7))
			for (s += 7; isspace((unsigned char)*s); s++)
				;
		size_t name_len = 0;
		while (name_char(s[name_len], name_len == 0))
			name_len++;
		buf_clear(&entry);
		buf_add(&entry, s, name_len);
		buf_addc(&entry, '=');
		if (!name_len || s[name_len] != '=' || value_parse(s + name_len + 1, &entry) < 0) {
			buf_printf(err,
				   "%s:%d: expected NAME=value (the line is not shown: it may "
				   "hold a secret)",
				   path, number);
			rc = -1;
			break;
		}
		*ARRAY_PUSH(out->items, out->n, out->cap) = xstrdup(entry.data);
	}
	if (rc == 0 && ferror(f)) {
		buf_printf(err, "cannot read the env file %s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(f);
	buf_free(&line);
	buf_free(&entry);
	if (rc < 0)
		envfile_free(out);
	return rc;
}

void envfile_free(struct envfile *env)
{
	for (size_t i = 0; i < env->n; i++)
		free(env->items[i]);
	free(env->items);
	memset(env, 0, sizeof(*env));
}

const char *envfile_get(const struct envfile *env, const char *name)
{
	size_t len = strlen(name);
	const char *value = NULL;
	/* The last definition wins, as in a shell. */
	for (size_t i = 0; i < env->n; i++)
		if (!strncmp(env->items[i], name, len) && env->items[i][len] == '=')
			value = env->items[i] + len + 1;
	return value;
}

int envfile_is_placeholder(const char *value, const char *const *placeholders, size_t n)
{
	size_t len = strlen(value);
	for (size_t i = 0; i < n; i++) {
		const char *p = placeholders[i], *dots = strstr(p, "...");
		if (!dots) {
			if (!strcasecmp(value, p))
				return 1;
			continue;
		}
		size_t head = (size_t)(dots - p), tail = strlen(dots + 3);
		if (len >= head + tail && !strncasecmp(value, p, head) &&
		    !strcasecmp(value + len - tail, dots + 3))
			return 1;
	}
	return 0;
}

size_t envfile_check(const struct envfile *env, const char *const *required, size_t nrequired,
		     const char *const *placeholders, size_t nplaceholders, struct buf *problems)
{
	size_t count = 0;
	for (size_t i = 0; i < nrequired; i++) {
		const char *value = envfile_get(env, required[i]);
		const char *why = !value    ? "is missing"
				  : !*value ? "is empty"
				  : envfile_is_placeholder(value, placeholders, nplaceholders)
				      ? "holds a placeholder, not a value"
				      : NULL;
		if (why) {
			buf_printf(problems, "%s %s\n", required[i], why);
			count++;
		}
	}
	return count;
}
