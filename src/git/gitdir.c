/*
 * gitdir: see gitdir.h.
 */
#include "gitdir.h"

#include <errno.h>
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

size_t gitdir_merge_heads(const char *gitdir, struct buf *heads)
{
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/MERGE_HEAD", gitdir);
	buf_clear(heads);
	size_t n = 0;
	if (buf_read_file(heads, path.data) == 0)
		for (size_t i = 0; i < heads->len; i++)
			n += heads->data[i] == '\n';
	buf_free(&path);
	return n;
}

/* Does the file mention the section, or include other files? Unreadable
 * files other than missing ones count as "maybe". */
static int file_may_set(const char *path, const char *section)
{
	struct buf content = BUF_INIT;
	if (buf_read_file(&content, path) < 0) {
		int missing = errno == ENOENT || errno == ENOTDIR;
		buf_free(&content);
		return !missing;
	}
	int maybe = content.len &&
		    (strcasestr(content.data, section) || strcasestr(content.data, "include"));
	buf_free(&content);
	return maybe;
}

static int env_file_may_set(const char *var, const char *fallback, const char *section)
{
	const char *value = getenv(var);
	if (value)
		return *value && file_may_set(value, section);
	return fallback && file_may_set(fallback, section);
}

int gitdir_config_may_set(const char *gitdir, const char *key)
{
	size_t dot = strcspn(key, ".");
	char *section = xstrndup(key, dot);
	const char *params = getenv("GIT_CONFIG_PARAMETERS");
	const char *count = getenv("GIT_CONFIG_COUNT");
	int maybe = getenv("GIT_CONFIG") || (params && strcasestr(params, section)) ||
		    (count && strcmp(count, "0"));
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	struct buf path = BUF_INIT;
	if (!maybe) {
		const char *nosystem = getenv("GIT_CONFIG_NOSYSTEM");
		if (!nosystem || !*nosystem || !strcmp(nosystem, "0") ||
		    !strcasecmp(nosystem, "false"))
			maybe = env_file_may_set("GIT_CONFIG_SYSTEM", "/etc/gitconfig", section);
	}
	if (!maybe && getenv("GIT_CONFIG_GLOBAL")) {
		maybe = env_file_may_set("GIT_CONFIG_GLOBAL", NULL, section);
	} else if (!maybe) {
		if (xdg && *xdg)
			buf_printf(&path, "%s/git/config", xdg);
		else if (home)
			buf_printf(&path, "%s/.config/git/config", home);
		maybe = path.len && file_may_set(path.data, section);
		buf_clear(&path);
		if (!maybe && home) {
			buf_printf(&path, "%s/.gitconfig", home);
			maybe = file_may_set(path.data, section);
		}
	}
	if (!maybe) {
		/* A worktree's git dir names the common dir that holds "config". */
		struct buf common = BUF_INIT;
		buf_clear(&path);
		buf_printf(&path, "%s/commondir", gitdir);
		const char *common_env = getenv("GIT_COMMON_DIR");
		if (common_env && *common_env) {
			buf_clear(&path);
			buf_printf(&path, "%s/config", common_env);
		} else if (buf_read_file(&common, path.data) == 0 && common.len) {
			common.len = strcspn(common.data, "\r\n");
			common.data[common.len] = '\0';
			buf_clear(&path);
			if (common.data[0] != '/')
				buf_printf(&path, "%s/", gitdir);
			buf_printf(&path, "%s/config", common.data);
		} else {
			buf_clear(&path);
			buf_printf(&path, "%s/config", gitdir);
		}
		maybe = file_may_set(path.data, section);
		buf_clear(&path);
		buf_printf(&path, "%s/config.worktree", gitdir);
		maybe = maybe || file_may_set(path.data, section);
		buf_free(&common);
	}
	buf_free(&path);
	free(section);
	return maybe;
}
