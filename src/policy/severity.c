/*
 * severity: the words of rules.ini for a severity, both ways. See severity.h.
 */
#include "severity.h"

#include <string.h>

const char *severity_name(enum severity severity)
{
	switch (severity) {
	case SEVERITY_ERROR:
		return "error";
	case SEVERITY_WARNING:
		return "warn";
	default:
		return "off";
	}
}

int severity_parse(const char *word, enum severity *out)
{
	if (!strcmp(word, "error"))
		*out = SEVERITY_ERROR;
	else if (!strcmp(word, "warn") || !strcmp(word, "warning"))
		*out = SEVERITY_WARNING;
	else if (!strcmp(word, "off"))
		*out = SEVERITY_OFF;
	else
		return -1;
	return 0;
}
