/*
 * scan: see scan.h.
 *
 * Patterns are compiled with PCRE2_MATCH_INVALID_UTF, so pushed bytes that
 * are not UTF-8 are matched safely without PCRE2_NO_UTF_CHECK. JIT code is
 * made once a pattern has been used on enough lines; where JIT is unavailable the
 * interpreter runs the same pattern under the same match limit. A small
 * commit never pays for JIT compilation: the interpreter is cheaper for a
 * few dozen lines.
 */
#include "scan.h"

#include <stdio.h>
#include <string.h>

#define JIT_STACK_START (32 * 1024)
#define JIT_STACK_MAX (1024 * 1024)
#define MATCH_SHOWN_MAX 120
/* JIT compiling costs about as much as matching this many short lines. */
#define JIT_AFTER_LINES 64
#define LINES_PER_CLOCK 32

int scanner_init(struct scanner *sc, const struct rules *rules)
{
	memset(sc, 0, sizeof(*sc));
	sc->rules = rules;
	sc->match_data = pcre2_match_data_create(1, NULL);
	sc->match_context = pcre2_match_context_create(NULL);
	sc->jit_stack = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL);
	if (!sc->match_data || !sc->match_context || !sc->jit_stack) {
		scanner_free(sc);
		return -1;
	}
	pcre2_set_match_limit(sc->match_context, rules->match_limit);
	pcre2_set_depth_limit(sc->match_context, rules->match_limit);
	pcre2_jit_stack_assign(sc->match_context, NULL, sc->jit_stack);
	return 0;
}

void scanner_free(struct scanner *sc)
{
	pcre2_match_data_free(sc->match_data);
	pcre2_match_context_free(sc->match_context);
	pcre2_jit_stack_free(sc->jit_stack);
	memset(sc, 0, sizeof(*sc));
}

void scan_select(const struct rules *rules, const char *path, struct scan_selection *sel)
{
	sel->n = 0;
	for (size_t i = 0; i < rules->nscans; i++) {
		const struct scan_rule *s = &rules->scans[i];
		if (s->severity == SEVERITY_OFF)
			continue;
		if (globlist_match(&s->files, path) && !globlist_match(&s->exclude, path))
			*ARRAY_PUSH(sel->rules, sel->n, sel->cap) = s;
	}
}

void scan_selection_free(struct scan_selection *sel)
{
	free(sel->rules);
	memset(sel, 0, sizeof(*sel));
}

/* 1 when the code now has JIT code, -1 when it runs in the interpreter. A
 * build for valgrind leaves JIT out: valgrind cannot follow JIT code and
 * reports its wide reads as uninitialised. */
static int jit(pcre2_code *code)
{
#ifdef GITGATE_NO_JIT
	(void)code;
	return -1;
#else
	return pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0 ? 1 : -1;
#endif
}

static int run_pattern(struct scanner *sc, struct pattern *p, const char *text, size_t len)
{
	if (!literals_in(&p->literals, text, len))
		return PCRE2_ERROR_NOMATCH; /* no match can lack them all */
	if (!p->jit_ready && ++p->uses > JIT_AFTER_LINES)
		p->jit_ready = jit(p->code);
	if (p->jit_ready > 0)
		return pcre2_jit_match(p->code, (PCRE2_SPTR)text, len, 0, 0, sc->match_data,
				       sc->match_context);
	return pcre2_match(p->code, (PCRE2_SPTR)text, len, 0, 0, sc->match_data, sc->match_context);
}

static void report(struct findings *out, const struct scan_rule *rule,
		   const struct scan_place *where, size_t column, const char *match,
		   size_t match_len, const char *message)
{
	char *shown =
	    match ? xstrndup(match, match_len > MATCH_SHOWN_MAX ? MATCH_SHOWN_MAX : match_len)
		  : NULL;
	struct finding f = {
	    .rule = rule->rule_id,
	    .severity = rule->severity,
	    .commit = (char *)where->commit,
	    .subject = (char *)where->subject,
	    .path = (char *)where->path,
	    .line = where->line,
	    .column = column,
	    .match = shown,
	    .message = (char *)message,
	    .hint = rule->hint,
	};
	findings_add(out, &f);
	free(shown);
}

size_t scan_line(struct scanner *sc, const struct scan_selection *sel,
		 const struct scan_place *where, const char *text, size_t len, struct findings *out)
{
	size_t before = out->n;
	const struct rules *rules = sc->rules;
	if (++sc->lines_since_clock >= LINES_PER_CLOCK) {
		sc->lines_since_clock = 0;
		sc->late = sc->late || deadline_passed(&sc->deadline);
	}
	if (sc->late)
		return 0;
	int allowed = -1; /* looked up only when something matches */
	if (len && text[len - 1] == '\r')
		len--;
	size_t scanned = len > rules->max_line_bytes ? rules->max_line_bytes : len;
	char message[512];
	for (size_t i = 0; i < sel->n; i++) {
		const struct scan_rule *rule = sel->rules[i];
		for (size_t j = 0; j < rule->npatterns; j++) {
			struct pattern *p = &rule->patterns[j];
			int rc = run_pattern(sc, p, text, scanned);
			if (rc == PCRE2_ERROR_NOMATCH)
				continue;
			if (allowed < 0)
				allowed = memmem(text, len, rules->allow_marker,
						 strlen(rules->allow_marker)) != NULL;
			if (allowed)
				return out->n - before;
			if (rc < 0) {
				PCRE2_UCHAR why[200];
				pcre2_get_error_message(rc, why, sizeof(why));
				snprintf(
				    message, sizeof(message),
				    "line could not be checked: pattern '%s' (%s:%d) failed: %s",
				    p->source, rules->file, p->line, (const char *)why);
				report(out, rule, where, 1, NULL, 0, message);
				break;
			}
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->match_data);
			snprintf(message, sizeof(message), "%s",
				 rule->message ? rule->message : "forbidden text in an added line");
			report(out, rule, where, ov[0] + 1, text + ov[0], ov[1] - ov[0], message);
			break; /* one finding per section and line is enough to act on */
		}
		if (scanned < len) {
			snprintf(
			    message, sizeof(message),
			    "line is %zu bytes; only the first %zu were scanned (max_line_bytes)",
			    len, scanned);
			report(out, rule, where, scanned + 1, NULL, 0, message);
		}
	}
	return out->n - before;
}

/* The pattern compiled to run over a whole file: "^" and "$" then match at
 * every line end (LF or CRLF), so whatever a line matches, the file does. */
static pcre2_code *buffer_pattern(struct pattern *p)
{
	if (p->buffer_code)
		return p->buffer_code;
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
	if (!cc)
		return NULL;
	pcre2_set_newline(cc, PCRE2_NEWLINE_ANYCRLF);
	int code;
	PCRE2_SIZE offset;
	p->buffer_code = pcre2_compile((PCRE2_SPTR)p->source, PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_MULTILINE, &code,
				       &offset, cc);
	pcre2_compile_context_free(cc);
	if (p->buffer_code)
		jit(p->buffer_code);
	return p->buffer_code;
}

/* Is a line of text longer than max bytes (a finding of its own)? */
static int has_long_line(const char *text, size_t len, size_t max)
{
	for (const char *p = text, *end = text + len; (size_t)(end - p) > max;) {
		const char *nl = memchr(p, '\n', max + 1);
		if (!nl)
			return 1;
		p = nl + 1;
	}
	return 0;
}

/* Could a line of text hold a finding? quick: the literals alone say, and
 * a pattern without literals may always match; else PCRE2 confirms. */
static int buffer_may_match(struct scanner *sc, const struct scan_selection *sel, const char *text,
			    size_t len, int quick)
{
	if (len > sc->rules->max_line_bytes && has_long_line(text, len, sc->rules->max_line_bytes))
		return 1; /* the line scan reports it */
	for (size_t i = 0; i < sel->n; i++) {
		const struct scan_rule *rule = sel->rules[i];
		for (size_t j = 0; j < rule->npatterns; j++) {
			struct pattern *p = &rule->patterns[j];
			if (!literals_in(&p->literals, text, len))
				continue;
			if (quick)
				return 1;
			pcre2_code *code = buffer_pattern(p);
			if (!code)
				return 1;
			int rc = pcre2_match(code, (PCRE2_SPTR)text, len, 0, 0, sc->match_data,
					     sc->match_context);
			if (rc != PCRE2_ERROR_NOMATCH)
				return 1;
		}
	}
	return 0;
}

int scan_buffer_may_match(struct scanner *sc, const struct scan_selection *sel, const char *text,
			  size_t len)
{
	return buffer_may_match(sc, sel, text, len, 0);
}

int scan_buffer_may_hold_literals(struct scanner *sc, const struct scan_selection *sel,
				  const char *text, size_t len)
{
	return buffer_may_match(sc, sel, text, len, 1);
}

void scan_prepare_all(const struct rules *rules)
{
	for (size_t i = 0; i < rules->nscans; i++)
		for (size_t j = 0; j < rules->scans[i].npatterns; j++) {
			struct pattern *p = &rules->scans[i].patterns[j];
			buffer_pattern(p);
			if (!p->jit_ready)
				p->jit_ready = jit(p->code);
		}
}
