/*
 * rules_locate: see rules_locate.h.
 */
#include "rules_locate.h"

#include <string.h>
#include <sys/stat.h>

#include "gitdir.h"
#include "run.h"

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* `git config --path gitgate.rules`, relative paths taken from base.
 * Returns 1 when set, 0 when not, -1 on a fault or an empty value. */
static int configured_rules(const char *gitdir, const char *base, struct buf *path, struct buf *err)
{
	if (gitdir && !gitdir_config_may_set(gitdir, "gitgate.rules"))
		return 0;
	struct buf git_dir_arg = BUF_INIT, out = BUF_INIT;
	const char *argv[8], **arg = argv;
	*arg++ = "git";
	if (gitdir && !base) {
		/* The server: exactly this repository's config. */
		buf_printf(&git_dir_arg, "--git-dir=%s", gitdir);
		*arg++ = git_dir_arg.data;
	}
	*arg++ = "config";
	*arg++ = "--path";
	*arg++ = "--get";
	*arg++ = "gitgate.rules";
	*arg = NULL;
	struct run_result git;
	int found = 0;
	if (run_capture(&git, &out, argv, RUN_OUT_INHERIT, err) < 0) {
		found = -1;
	} else if (git.code == 0) {
		size_t len = out.len ? strcspn(out.data, "\n") : 0;
		if (!len) {
			buf_adds(err,
				 "git config gitgate.rules is set but empty: point it at a rules "
				 "file, or unset it");
			found = -1;
		} else {
			buf_clear(path);
			if (out.data[0] != '/')
				buf_printf(path, "%s/", base ? base : gitdir);
			buf_add(path, out.data, len);
			found = 1;
		}
	} else if (git.code != 1) { /* 1 is git config's "not set" */
		buf_adds(err, "cannot read git config gitgate.rules: git ");
		run_describe(err, &git);
		found = -1;
	}
	buf_free(&git_dir_arg);
	buf_free(&out);
	return found;
}

int rules_locate(const struct rules_location *where, struct buf *path, struct buf *err)
{
	buf_clear(path);
	if (where->explicit_path) {
		buf_adds(path, where->explicit_path);
		return 0;
	}
	int found = configured_rules(where->gitdir, where->top, path, err);
	if (found)
		return found < 0 ? -1 : 0;
	if (where->top) {
		buf_printf(path, "%s/rules.ini", where->top);
		if (file_exists(path->data))
			return 0;
		buf_printf(err,
			   "no rules: there is no %s; put the policy there, or point at one with "
			   "`git config gitgate.rules PATH` or --rules PATH",
			   path->data);
		return -1;
	}
	buf_printf(path, "%s/gitgate/rules.ini", where->gitdir);
	if (file_exists(path->data))
		return 0;
	buf_printf(err,
		   "no server rules: %s is missing (./install.sh --server puts the default there, "
		   "or set git config gitgate.rules)",
		   path->data);
	return -1;
}
