/*
 * gitdir: see gitdir.h.
 */
#include "gitdir.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int gitdir_find(const char *top, struct buf *out)
{
	buf_clear(out);
	const char *env = getenv("GIT_DIR");
	if (env && *env) {
		buf_adds(out, env);
		return 0;
	}
	struct buf dotgit = BUF_INIT;
	buf_printf(&dotgit, "%s/.git", top);
	struct stat st;
	int rc = -1;
	if (stat(dotgit.data, &st) == 0 && S_ISDIR(st.st_mode)) {
		buf_add(out, dotgit.data, dotgit.len);
		rc = 0;
	} else {
		struct buf content = BUF_INIT;
		if (buf_read_file(&content, dotgit.data) == 0 && content.len > 8 &&
		    !strncmp(content.data, "gitdir: ", 8)) {
			size_t len = strcspn(content.data + 8, "\r\n");
			if (content.data[8] != '/')
				buf_printf(out, "%s/", top);
			buf_add(out, content.data + 8, len);
			rc = 0;
		}
		buf_free(&content);
	}
	buf_free(&dotgit);
	return rc;
}

int gitdir_merge_in_progress(const char *gitdir)
{
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/MERGE_HEAD", gitdir);
	struct stat st;
	int merging = stat(path.data, &st) == 0;
	buf_free(&path);
	return merging;
}
