/* Shared helpers for the unit tests: temporary rules files and folders. */
#ifndef GITGATE_TEST_HELPERS_H
#define GITGATE_TEST_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"
#include "run.h"

/* Writes text to a fresh temporary file and returns its path (static). */
static inline const char *write_temp(const char *text)
{
	static char path[64];
	strcpy(path, "/tmp/gitgate-test-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		abort();
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len)
		abort();
	close(fd);
	return path;
}

/* Loads rules from text; returns 0 or -1, errors in *errors. */
static inline int load_rules_text(struct rules *rules, const char *text, struct buf *errors)
{
	const char *path = write_temp(text);
	int rc = rules_load(rules, path, errors);
	unlink(path);
	return rc;
}

/* Removes a test's temporary folder with all it holds (rm -rf). */
static inline void remove_tree(const char *path)
{
	const char *argv[] = {"rm", "-rf", path, NULL};
	struct run_options opts = {.argv = argv};
	struct run_result r;
	struct buf err = BUF_INIT;
	run(&r, &opts, &err);
	buf_free(&err);
}

#endif
