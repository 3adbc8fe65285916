/*
 * report: findings as people and programs read them.
 *
 * text  - one line a finding ("error: path:line:col: rule: message"), the
 *         offending text escaped, and a hint; colour only when asked.
 * json  - one object: version, passed, findings, summary (README, "Output,
 *         exit codes, JSON and SARIF").
 * sarif - SARIF 2.1.0, for code-scanning UIs.
 * Untrusted bytes are escaped in every format (see escape.h).
 */
#ifndef GITGATE_REPORT_H
#define GITGATE_REPORT_H

#include <stdio.h>

#include "buf.h"
#include "findings.h"

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_SARIF };

/* Parses "text", "json" or "sarif"; -1 when unknown. */
int report_parse_format(const char *name, enum report_format *out);
void report_text(FILE *out, const struct findings *list, int color);
/* Text grouped by commit: a header per commit (short id, subject), at most
 * per_commit findings under it and at most commits blocks, each cut
 * announced with "...and N more". */
void report_text_capped(FILE *out, const struct findings *list, int color, size_t per_commit,
			size_t commits);
/* The findings in one line, for a page that shows one (GitLab's web):
 * "N errors in M commits checked; the first: commit ID: PATH:LINE: RULE:
 * MESSAGE", escaped as the text report is. */
void report_one_line(struct buf *out, const struct findings *list);
int report_json(FILE *out, const struct findings *list);
int report_sarif(FILE *out, const struct findings *list);
int report_write(FILE *out, enum report_format format, const struct findings *list, int color);

#endif
