/*
 * scan: matching added lines against the scan sections of the rules.
 *
 * A scanner owns the PCRE2 match data, match context and JIT stack, made
 * once and reused for every line. Which sections apply is decided once per
 * file (scan_select), so the per-line cost is the regex match alone. A line
 * that could not be fully checked (too long, match limit hit) is a finding
 * of its own: the scan never passes silently.
 */
#ifndef GITGATE_SCAN_H
#define GITGATE_SCAN_H

#include "deadline.h"
#include "findings.h"
#include "rules.h"

struct scanner {
	const struct rules *rules;
	pcre2_match_data *match_data;
	pcre2_match_context *match_context;
	pcre2_jit_stack *jit_stack;
	/* Looked at every few lines: one line can cost the whole match limit. */
	struct deadline deadline;
	unsigned lines_since_clock;
	int late; /* the deadline passed: nothing more is scanned */
};

struct scan_selection {
	const struct scan_rule **rules;
	size_t n, cap;
};

/* Where the line stands, for the findings it produces. */
struct scan_place {
	const char *commit;
	const char *subject;
	const char *path;
	size_t line;
};

int scanner_init(struct scanner *sc, const struct rules *rules);
void scanner_free(struct scanner *sc);

/* Chooses the scan sections whose globs take this path (none: skip it). */
void scan_select(const struct rules *rules, const char *path, struct scan_selection *sel);
void scan_selection_free(struct scan_selection *sel);

/* Scans one added line (without its "\n"). Returns how many findings it
 * added. Once the scanner's deadline has passed it sets sc->late and scans
 * nothing more: the caller refuses what it could not check. */
size_t scan_line(struct scanner *sc, const struct scan_selection *sel,
		 const struct scan_place *where, const char *text, size_t len,
		 struct findings *out);

/* Compiles every pattern for both uses, with JIT, ahead of time: after it
 * the rules are only read, so scanners in several threads may share them. */
void scan_prepare_all(const struct rules *rules);

/* Could any selected pattern match a line of this file? A cheap filter
 * before a line diff: most changed files hold no match at all, and then
 * none of their added lines can. Errs towards 1 (limits, odd patterns). */
int scan_buffer_may_match(struct scanner *sc, const struct scan_selection *sel, const char *text,
			  size_t len);
/* The same, asking only the patterns' literals (literals.h): cheaper
 * still, and 1 for any pattern that has none. */
int scan_buffer_may_hold_literals(struct scanner *sc, const struct scan_selection *sel,
				  const char *text, size_t len);

#endif
