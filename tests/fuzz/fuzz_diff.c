/*
 * fuzz_diff: git's diff output as gitgate reads it at commit time, from the
 * raw records to the report.
 *
 * The input stands for `git diff --raw -z -p -U0`: gitdiff_read_raw takes
 * the records, gitdiff_read_patch the patch on the same stream, and its
 * added lines go through the scanner as check.c sends them (scan_select
 * when a file starts, scan_line a line), with the default rules.ini of the
 * source tree, loaded once. Whatever was found is then written in all three
 * report formats, to /dev/null, as found in a commit (odd sizes) or in the
 * index.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gitdiff.h"
#include "report.h"
#include "scan.h"

static struct rules rules;
static struct scanner scanner;
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct buf errors = BUF_INIT;
	if (rules_load(&rules, GITGATE_DEFAULT_RULES, &errors) < 0) {
		fprintf(stderr, "fuzz_diff: %s", errors.data);
		abort();
	}
	buf_free(&errors);
	devnull = fopen("/dev/null", "w");
	if (scanner_init(&scanner, &rules) < 0 || !devnull)
		abort();
	return 0;
}

struct sink {
	struct scan_selection selection;
	struct scan_place place;
	struct findings findings;
};

static int begin_file(void *ctx, const struct file_change *change)
{
	struct sink *s = ctx;
	scan_select(&rules, change->path, &s->selection);
	s->place.path = change->path;
	return s->selection.n > 0;
}

static void added_line(void *ctx, size_t line, const char *text, size_t len)
{
	struct sink *s = ctx;
	s->place.line = line;
	scan_line(&scanner, &s->selection, &s->place, text, len, &s->findings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *in = fmemopen((void *)data, size, "r");
	if (!in)
		return 0;
	struct changeset cs = {0};
	struct buf err = BUF_INIT;
	struct sink s = {0};
	if (size % 2) { /* findings of a commit, as a push reports them, or of the index */
		s.place.commit = "0123456789abcdef0123456789abcdef01234567";
		s.place.subject = "fuzz";
	}
	struct line_sink lines = {&s, begin_file, added_line};
	if (gitdiff_read_raw(in, &cs, &err) == 0)
		gitdiff_read_patch(in, &cs, &lines, &err);
	fclose(in);
	s.findings.files = cs.n;
	report_write(devnull, REPORT_TEXT, &s.findings, 1);
	report_write(devnull, REPORT_JSON, &s.findings, 0);
	report_write(devnull, REPORT_SARIF, &s.findings, 0);
	findings_free(&s.findings);
	scan_selection_free(&s.selection);
	changeset_free(&cs);
	buf_free(&err);
	return 0;
}
