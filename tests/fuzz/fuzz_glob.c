/*
 * fuzz_glob: the glob compiler and matcher over any patterns and paths.
 *
 * The input is lines: those before the first empty line are patterns, each
 * added to one list as rules.ini's "paths =" and "files =" add them (a
 * malformed one is refused, as the loader refuses it); the lines after it
 * are paths, each matched against the list and against every pattern on
 * its own. A NUL byte ends a line's string where C would end it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "glob.h"

struct lines {
	const char *data;
	size_t size, at; /* at > size: every line has been read */
};

/* The next line as a string; NULL after the last one. */
static char *next_line(struct lines *in)
{
	if (in->at > in->size)
		return NULL;
	const char *start = in->data + in->at;
	const char *nl = memchr(start, '\n', in->size - in->at);
	size_t len = nl ? (size_t)(nl - start) : in->size - in->at;
	in->at += len + 1;
	return xstrndup(start, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lines in = {(const char *)data, size, 0};
	struct globlist list = {0};
	char *line;
	while ((line = next_line(&in)) && *line) {
		const char *why = NULL;
		if (globlist_add(&list, line, &why) < 0 && !why)
			abort(); /* a refusal always says why */
		free(line);
	}
	free(line);
	while ((line = next_line(&in))) {
		const struct glob *hit = globlist_match(&list, line);
		if (hit && hit->negated)
			abort(); /* a "!" pattern re-includes, it never decides a match */
		for (size_t i = 0; i < list.n; i++)
			glob_match(&list.items[i], line);
		free(line);
	}
	globlist_free(&list);
	return 0;
}
