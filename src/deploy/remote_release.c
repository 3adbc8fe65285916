/*
 * remote_release: the releases on a remote host (remote.h): received as a
 * tar stream into ROOT-releases/ID, whole or not at all, and pruned there.
 */
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "release.h"

/* $1 the releases folder, $2 the release id; the tar stream on stdin. The
 * files belong to the user gitgate logs in as (-o: not to the numbers of
 * the git server's users, which root's tar would restore). A release
 * there already is that release (ids are never reused): it stays. */
static const char receive_script[] =
    "mkdir -p -- \"$1\" && cd -- \"$1\" || exit 1\n"
    "if [ -d \"$2\" ]; then cat >/dev/null; exit 0; fi\n"
    "tmp=.incoming-$$\n"
    "rm -rf -- \"$tmp\" && mkdir -- \"$tmp\" && (cd -- \"$tmp\" && tar -xof -) &&\n"
    "mv -- \"$tmp\" \"$2\" || { rm -rf -- \"$tmp\"; exit 1; }\n";

/* $1 the releases folder: its releases, a line each (none when missing). */
static const char list_script[] = "cd -- \"$1\" 2>/dev/null || exit 0\n"
				  "for f in *; do [ -d \"$f\" ] && printf '%s\\n' \"$f\"; done\n"
				  "exit 0\n";

/* $1 the releases folder, then the releases to remove. */
static const char remove_script[] = "cd -- \"$1\" && shift && rm -rf -- \"$@\"\n";

int remote_receive_release(const struct ssh *s, const char *local_dir, const char *releases_dir,
			   const char *id, unsigned limit_ms, struct buf *err)
{
	const char *tar[] = {"tar", "-C", local_dir, "-cf", "-", ".", NULL};
	struct run_options o = {.argv = tar, .out = {.kind = RUN_OUT_PIPE}};
	struct run_process p;
	if (run_start(&p, &o, err) < 0)
		return -1;
	struct run_input in = {.kind = RUN_IN_FD, .fd = fileno(p.out)};
	const char *args[] = {releases_dir, id, NULL};
	int rc = remote_script(s, receive_script, args, &in, NULL, limit_ms, err);
	fclose(p.out);
	p.out = NULL;
	struct buf why = BUF_INIT;
	if (run_finish_ok(&p, &why) < 0 && rc == 0) {
		buf_printf(err, "tar of %s %s", local_dir, why.data);
		rc = -1;
	}
	buf_free(&why);
	return rc == 0 ? 0 : -1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int remote_prune_releases(const struct ssh *s, const char *releases_dir, size_t keep,
			  const char *const *in_use, size_t nin_use, size_t *removed,
			  struct buf *err)
{
	*removed = 0;
	struct buf listed = BUF_INIT;
	const char *args[] = {releases_dir, NULL};
	if (remote_script(s, list_script, args, NULL, &listed, 0, err) != 0) {
		buf_free(&listed);
		return -1;
	}
	const char **names = NULL;
	size_t n = 0, cap = 0;
	for (char *line = listed.data, *end; line && *line; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			break;
		*end = '\0';
		*ARRAY_PUSH(names, n, cap) = line;
	}
	/* Ids sort by time: the oldest first, as release_prune_plan wants. */
	qsort(names, n, sizeof(*names), by_name);
	unsigned char *go = xcalloc(n ? n : 1, 1);
	size_t going = release_prune_plan(names, n, keep, in_use, nin_use, go);
	int rc = 0;
	if (going) {
		const char **doomed = xcalloc(going + 2, sizeof(*doomed));
		size_t k = 0;
		doomed[k++] = releases_dir;
		for (size_t i = 0; i < n; i++)
			if (go[i])
				doomed[k++] = names[i];
		rc = remote_script(s, remove_script, doomed, NULL, NULL, 0, err) == 0 ? 0 : -1;
		if (rc == 0)
			*removed = going;
		free(doomed);
	}
	free(go);
	free(names);
	buf_free(&listed);
	return rc;
}
