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

/* The client's `git config --path gitgate.rules`, relative paths taken
 * from the work tree's top. Returns 1 when set, 0 when not, -1 on a fault
 * or an empty value. */
static int configured_rules(const char *gitdir, const char *top, struct buf *path, struct buf *err)
{
	if (gitdir && !gitdir_config_may_set(gitdir, "gitgate.rules"))
		return 0;
	const char *argv[] = {"git", "config", "--path", "--get", "gitgate.rules", NULL};
	struct buf out = BUF_INIT;
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
				buf_printf(path, "%s/", top);
			buf_add(path, out.data, len);
			found = 1;
		}
	} else if (git.code != 1) { /* 1 is git config's "not set" */
		buf_adds(err, "cannot read git config gitgate.rules: git ");
		run_describe(err, &git);
		found = -1;
	}
	buf_free(&out);
	return found;
}

/* The server's settings: the last value git gives of each key, a relative
 * path taken from the git dir. */
struct server_config {
	struct buf rules, dir, home;
};

static struct buf *server_key(struct server_config *c, const char *key, size_t len)
{
	if (len == 13 && !strncmp(key, "gitgate.rules", len))
		return &c->rules;
	if (len == 11 && !strncmp(key, "gitgate.dir", len))
		return &c->dir;
	if (len == 12 && !strncmp(key, "gitgate.home", len))
		return &c->home;
	return NULL;
}

/* `git config -z --get-regexp` says "KEY\nVALUE\0" a setting. */
static int parse_server_config(struct server_config *c, const char *gitdir, const struct buf *out,
			       struct buf *err)
{
	for (size_t at = 0; at < out->len;) {
		const char *entry = out->data + at;
		size_t len = strnlen(entry, out->len - at), key_len = strcspn(entry, "\n");
		struct buf *value = server_key(c, entry, key_len);
		at += len + 1;
		if (!value)
			continue;
		buf_clear(value);
		if (key_len + 1 >= len) {
			buf_printf(
			    err, "git config %.*s is set but empty: set it to a path, or unset it",
			    (int)key_len, entry);
			return -1;
		}
		if (entry[key_len + 1] != '/')
			buf_printf(value, "%s/", gitdir);
		buf_add(value, entry + key_len + 1, len - key_len - 1);
	}
	return 0;
}

static int read_server_config(struct server_config *c, const char *gitdir, struct buf *err)
{
	if (!gitdir_config_may_set(gitdir, "gitgate.rules"))
		return 0;
	struct buf git_dir_arg = BUF_INIT, out = BUF_INIT;
	buf_printf(&git_dir_arg, "--git-dir=%s", gitdir);
	/* exactly this repository's config, and the files git reads with it */
	const char *argv[] = {"git",
			      git_dir_arg.data,
			      "config",
			      "-z",
			      "--path",
			      "--get-regexp",
			      "^gitgate\\.(rules|dir|home)$",
			      NULL};
	struct run_result git;
	int rc = run_capture(&git, &out, argv, RUN_OUT_INHERIT, err);
	if (rc == 0 && git.code == 0) {
		rc = parse_server_config(c, gitdir, &out, err);
	} else if (rc == 0 && git.code != 1) { /* 1 is git config's "not set" */
		buf_adds(err, "cannot read git config gitgate.*: git ");
		run_describe(err, &git);
		rc = -1;
	}
	buf_free(&git_dir_arg);
	buf_free(&out);
	return rc;
}

static int file_is_folder(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The gitgate folder, by gitgate.dir, gitgate.home and the repository's
 * name, or GIT_DIR/gitgate. */
static int server_folder(const struct rules_location *where, const struct server_config *c,
			 struct buf *folder, struct buf *err)
{
	buf_clear(folder);
	if (c->dir.len) {
		buf_adds(folder, c->dir.data);
		return 0;
	}
	if (!c->home.len) {
		buf_printf(folder, "%s/gitgate", where->gitdir);
		return 0;
	}
	if (!where->repository) {
		buf_printf(err,
			   "git config gitgate.home is %s: this repository's gitgate folder is "
			   "named there by its hosting platform (GL_REPO, GL_PROJECT_PATH, "
			   "GITEA_REPO_USER_NAME/GITEA_REPO_NAME), and %s; or set gitgate.dir in "
			   "the repository",
			   c->home.data,
			   where->unnamed_why ? where->unnamed_why : "none names it here");
		return -1;
	}
	buf_printf(folder, "%s/%s", c->home.data, where->repository);
	return file_is_folder(folder->data) ? 0 : RULES_NOT_OURS;
}

int rules_locate_server(const struct rules_location *where, struct buf *path, struct buf *folder,
			struct buf *err)
{
	struct server_config c = {BUF_INIT, BUF_INIT, BUF_INIT};
	buf_clear(path);
	int rc = read_server_config(&c, where->gitdir, err);
	if (rc == 0)
		rc = server_folder(where, &c, folder, err);
	if (rc == 0 && c.rules.len) {
		buf_adds(path, c.rules.data);
	} else if (rc == 0) {
		buf_printf(path, "%s/rules.ini", folder->data);
		if (!file_exists(path->data)) {
			buf_printf(err,
				   "no server rules: %s is missing (./install.sh --server puts the "
				   "default there, or set git config gitgate.rules)",
				   path->data);
			rc = -1;
		}
	}
	buf_free(&c.rules);
	buf_free(&c.dir);
	buf_free(&c.home);
	return rc;
}

int rules_locate(const struct rules_location *where, struct buf *path, struct buf *err)
{
	buf_clear(path);
	if (where->explicit_path) {
		buf_adds(path, where->explicit_path);
		return 0;
	}
	if (!where->top && where->gitdir) {
		struct buf folder = BUF_INIT;
		int rc = rules_locate_server(where, path, &folder, err);
		if (rc == RULES_NOT_OURS)
			buf_printf(err,
				   "%s is missing: under git config gitgate.home the repository is "
				   "not gitgate's",
				   folder.data);
		buf_free(&folder);
		return rc == 0 ? 0 : -1;
	}
	if (!where->top) {
		buf_adds(err, "no rules: neither a work tree nor a repository to read them for");
		return -1;
	}
	int found = configured_rules(where->gitdir, where->top, path, err);
	if (found)
		return found < 0 ? -1 : 0;
	buf_printf(path, "%s/rules.ini", where->top);
	if (file_exists(path->data))
		return 0;
	buf_printf(err,
		   "no rules: there is no %s; put the policy there, or point at one with "
		   "`git config gitgate.rules PATH` or --rules PATH",
		   path->data);
	return -1;
}
