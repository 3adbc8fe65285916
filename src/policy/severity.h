/*
 * severity: how much a finding weighs, as rules.ini spells it.
 *
 * Kept apart from rules.h so that the findings a check produces depend on
 * this word and not on the whole policy. "error" blocks, "warn" is reported
 * and does not block, "off" turns a check off; "warning" is read as "warn".
 */
#ifndef GITGATE_SEVERITY_H
#define GITGATE_SEVERITY_H

enum severity { SEVERITY_OFF = 0, SEVERITY_WARNING, SEVERITY_ERROR };

/* The word rules.ini uses for it: "error", "warn" or "off". */
const char *severity_name(enum severity severity);
/* Reads a severity word; returns 0, or -1 when it is not one. */
int severity_parse(const char *word, enum severity *out);

#endif
