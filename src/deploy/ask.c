/*
 * ask: see ask.h.
 */
#include "ask.h"

void ask_command(struct buf *out, const struct ask *a, const char *command, const char *args)
{
	if (a && a->prefix)
		buf_printf(out, "%s %s%s%s", a->prefix, command, a->repository ? " " : "",
			   a->repository ? a->repository : "");
	else
		buf_printf(out, "gitgate %s", command);
	if (args && *args)
		buf_printf(out, " %s", args);
}
