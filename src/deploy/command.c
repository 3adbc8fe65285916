/*
 * command: see command.h.
 */
#include "command.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct var {
	const char *name;
	size_t offset;
};

static const struct var vars_table[] = {
    {"PORT", offsetof(struct command_vars, port)},
    {"SLOT", offsetof(struct command_vars, slot)},
    {"REVISION", offsetof(struct command_vars, revision)},
    {"UNIT", offsetof(struct command_vars, unit)},
    {"PROJECT", offsetof(struct command_vars, project)},
    {"ENVIRONMENT", offsetof(struct command_vars, environment)},
    {"ROOT", offsetof(struct command_vars, root)},
};
#define NVARS (sizeof(vars_table) / sizeof(vars_table[0]))

static const char *value_of(const struct command_vars *vars, size_t i)
{
	return *(const char *const *)((const char *)vars + vars_table[i].offset);
}

/* The variable named at s (after "$"), its length in *used; -1 for none. */
static int var_at(const char *s, size_t *used)
{
	int braced = *s == '{';
	const char *name = s + braced;
	for (size_t i = 0; i < NVARS; i++) {
		size_t len = strlen(vars_table[i].name);
		if (strncmp(name, vars_table[i].name, len))
			continue;
		char next = name[len];
		if (braced ? next != '}'
			   : (next == '_' || (next >= 'A' && next <= 'Z') ||
			      (next >= 'a' && next <= 'z') || (next >= '0' && next <= '9')))
			continue;
		*used = len + 2 * (size_t)braced;
		return (int)i;
	}
	return -1;
}

char **command_expand(const char *const *argv, const struct command_vars *vars)
{
	size_t n = 0;
	while (argv[n])
		n++;
	char **out = xcalloc(n + 1, sizeof(*out));
	struct buf word = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		buf_clear(&word);
		for (const char *p = argv[i]; *p;) {
			size_t used;
			int v = *p == '$' ? var_at(p + 1, &used) : -1;
			if (v < 0) {
				buf_addc(&word, *p++);
				continue;
			}
			buf_adds(&word, value_of(vars, (size_t)v) ? value_of(vars, (size_t)v) : "");
			p += 1 + used;
		}
		out[i] = xstrdup(word.data ? word.data : "");
	}
	buf_free(&word);
	return out;
}

void command_add_environ(struct strvec *env, const struct command_vars *vars)
{
	for (size_t i = 0; i < NVARS; i++)
		if (value_of(vars, i))
			strvec_pushf(env, "%s=%s", vars_table[i].name, value_of(vars, i));
}
