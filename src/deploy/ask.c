/*
 * ask: see ask.h.
 */
#include "ask.h"

#include <string.h>

#include "deploy_policy.h"

int ask_ref_file(struct buf *out, const char *command, const char *id)
{
	if (!strcmp(command, "status") || !strcmp(command, "history"))
		buf_adds(out, command);
	else if (!strcmp(command, "logs") && id && *id)
		buf_printf(out, "logs/%s.log", id);
	else if (!strcmp(command, "logs"))
		buf_adds(out, "logs/");
	else if (!strcmp(command, "report") && id && *id)
		buf_printf(out, "reports/%s.md", id);
	else
		return -1;
	return 0;
}

void ask_command(struct buf *out, const struct ask *a, const char *command, const char *args)
{
	struct buf file = BUF_INIT;
	/* History's file holds every unit's: its arguments name no file. */
	if (a && a->by_ref &&
	    ask_ref_file(&file, command, strcmp(command, "history") ? args : NULL) == 0) {
		buf_printf(out, "git fetch origin %s && git show FETCH_HEAD:%s", DEPLOYS_REF,
			   file.data);
		buf_free(&file);
		return;
	}
	buf_free(&file);
	if (a && a->prefix)
		buf_printf(out, "%s %s%s%s", a->prefix, command, a->repository ? " " : "",
			   a->repository ? a->repository : "");
	else
		buf_printf(out, "gitgate %s", command);
	if (args && *args)
		buf_printf(out, " %s", args);
}
