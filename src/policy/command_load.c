/*
 * command_load: see command_load.h.
 */
#include "command_load.h"

#include <stdlib.h>
#include <string.h>

#include "deploy_policy.h"
#include "rules.h"
#include "words.h"

void command_load_release(void *slot)
{
	struct deploy_command *c = slot;
	free(c->text);
	strvec_free(c->argv);
	memset(c, 0, sizeof(*c));
}

/* The value's words, each $NAME one of names, into slot when they are good. */
static int command_load(const char *key, const char *value, const char *const *names, void *slot,
			struct buf *why)
{
	struct deploy_command c = {0};
	struct buf err = BUF_INIT;
	int rc = 0;
	if (*value) {
		rc = words_split(value, names, &c.argv, &c.argc, &err);
		if (rc == 0 && !*c.argv[0]) {
			buf_adds(&err, "its first word, the program to run, is empty");
			rc = -1;
		}
	}
	if (rc < 0) {
		buf_printf(why, "%s '%s': %s", key, value, err.data);
		strvec_free(c.argv);
	} else {
		command_load_release(slot);
		if (*value) {
			c.text = xstrdup(value);
			*(struct deploy_command *)slot = c;
		}
	}
	buf_free(&err);
	return rc;
}

int command_load_parse(const char *key, const char *value, void *slot, struct buf *why)
{
	return command_load(key, value, deploy_variables, slot, why);
}

int command_load_program(const char *key, const char *value, void *slot, struct buf *why)
{
	static const char *const none[] = {NULL};
	if (strchr(value, '$')) {
		buf_printf(why, "%s '%s' names the Compose program: it takes no $VARIABLE", key,
			   value);
		return -1;
	}
	return command_load(key, value, none, slot, why);
}

int command_load_env(const char *key, const char *value, void *slot, struct buf *why)
{
	static const char *const target_variables[] = {"UNIT", "PROJECT", "ENVIRONMENT", "ROOT",
						       NULL};
	return command_load(key, value, target_variables, slot, why);
}
