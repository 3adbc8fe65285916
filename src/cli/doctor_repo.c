/*
 * doctor_repo: `gitgate doctor`'s checks of the bare repository itself, as
 * git will find it when a push arrives: git runs receive-pack and the hooks
 * as the user that owns the repository, so every file in it must be that
 * user's (a config rewritten as root's 600 fails every push), git must let
 * whoever runs gitgate's commands open it (safe.directory), the hooks must
 * be gitgate's and executable by that user, and push options must be
 * advertised (the confirm phrase, the bypass travel as `git push -o`).
 */
#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor.h"
#include "run.h"

/* Deeper than any repository or state folder gitgate makes. */
#define MAX_DEPTH 64
/* Files named in a problem before "and N more". */
#define EXAMPLES 3

static void say(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stdout);
	vprintf(fmt, ap);
	putchar('\n');
}

void doctor_ok(struct doctor *d, const char *fmt, ...)
{
	(void)d;
	va_list ap;
	va_start(ap, fmt);
	say("ok: ", fmt, ap);
	va_end(ap);
}

void doctor_problem(struct doctor *d, const char *fix, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say("error: ", fmt, ap);
	va_end(ap);
	printf("  fix: %s\n", fix);
	d->problems++;
}

static int owner_in_group(const struct doctor *d, gid_t gid)
{
	struct passwd *pw = getpwuid(d->owner);
	if (!pw)
		return 0;
	gid_t groups[256];
	int n = sizeof(groups) / sizeof(groups[0]);
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return gid == pw->pw_gid;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

int doctor_owner_can(const struct doctor *d, const struct stat *st, int bits)
{
	if (d->owner == 0)
		return !(bits & S_IXUSR) || (st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH));
	int shift = st->st_uid == d->owner ? 0 : owner_in_group(d, st->st_gid) ? 3 : 6;
	return (st->st_mode & ((unsigned)bits >> shift)) == ((unsigned)bits >> shift);
}

struct walk {
	struct doctor *d;
	const char *skip; /* a folder checked on its own (the state folder), or NULL */
	uid_t also;	  /* a user whose files are in place too (the sandbox's) */
	size_t foreign, locked;
	struct buf foreign_seen, locked_seen;
};

static void note(struct buf *seen, size_t *count, const char *path, const char *why)
{
	if (++*count <= EXAMPLES)
		buf_printf(seen, "%s%s%s", seen->len ? ", " : "", path, why);
}

static void walk(struct walk *w, struct buf *path, int depth)
{
	struct stat st;
	if (lstat(path->data, &st) < 0 || S_ISLNK(st.st_mode) ||
	    (w->skip && !strcmp(path->data, w->skip)))
		return;
	int dir = S_ISDIR(st.st_mode);
	if (st.st_uid != w->d->owner && st.st_uid != w->also) {
		struct passwd *pw = getpwuid(st.st_uid);
		struct buf why = BUF_INIT;
		buf_printf(&why, " (%s's)", pw ? pw->pw_name : "an unknown user");
		note(&w->foreign_seen, &w->foreign, path->data, why.data);
		buf_free(&why);
	} else if (!doctor_owner_can(w->d, &st, S_IRUSR | (dir ? S_IWUSR | S_IXUSR : 0))) {
		note(&w->locked_seen, &w->locked, path->data, "");
	}
	DIR *folder = dir && depth < MAX_DEPTH ? opendir(path->data) : NULL;
	struct dirent *e;
	size_t len = path->len;
	while (folder && (e = readdir(folder))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		buf_printf(path, "/%s", e->d_name);
		walk(w, path, depth + 1);
		path->len = len;
		path->data[len] = '\0';
	}
	if (folder)
		closedir(folder);
}

void doctor_check_ownership(struct doctor *d, const char *path, const char *skip, uid_t also,
			    const char *what)
{
	struct walk w = {
	    .d = d, .skip = skip, .also = also, .foreign_seen = BUF_INIT, .locked_seen = BUF_INIT};
	struct buf p = BUF_INIT, fix = BUF_INIT;
	buf_adds(&p, path);
	walk(&w, &p, 0);
	if (w.foreign) {
		buf_printf(&fix, "chown -R %s: %s", d->owner_name, path);
		doctor_problem(d, fix.data,
			       "%s: %zu file%s not %s's, which git and the hooks run as for a "
			       "push, and may then not read or write: %s%s",
			       what, w.foreign, w.foreign == 1 ? " is" : "s are", d->owner_name,
			       w.foreign_seen.data, w.foreign > EXAMPLES ? ", ..." : "");
	}
	if (w.locked) {
		buf_clear(&fix);
		buf_printf(&fix, "chmod -R u+rwX %s", path);
		doctor_problem(d, fix.data,
			       "%s: %zu file%s that %s cannot read (or write into): %s%s", what,
			       w.locked, w.locked == 1 ? "" : "s", d->owner_name,
			       w.locked_seen.data, w.locked > EXAMPLES ? ", ..." : "");
	}
	if (!w.foreign && !w.locked)
		doctor_ok(d, "%s: every file is %s's", what, d->owner_name);
	buf_free(&w.foreign_seen);
	buf_free(&w.locked_seen);
	buf_free(&p);
	buf_free(&fix);
}

/* git -C BARE ARGS...: its first line of stdout in out, or of stderr in
 * said when it fails. Returns git's exit code, or -1 when it cannot run.
 * GIT_DIR is not passed on: git trusts a repository GIT_DIR names
 * whoever owns it, and a push finds the repository as -C does. */
static int ask_git(const struct doctor *d, const char *const *args, struct buf *out,
		   struct buf *said)
{
	static const char *const env[] = {"GIT_DIR", NULL};
	const char *argv[8] = {"git", "-C", d->bare};
	size_t n = 3;
	for (; *args && n < 7; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	struct run_result git;
	struct buf err = BUF_INIT;
	struct run_options o = {.argv = argv,
				.env = env,
				.out = {.kind = RUN_OUT_CAPTURE, .buf = out},
				.err = {.kind = RUN_OUT_CAPTURE, .buf = said}};
	int rc = run(&git, &o, &err) < 0 ? -1 : git.code;
	if (rc < 0)
		buf_adds(said, err.data);
	for (struct buf *b = out; b; b = b == out ? said : NULL)
		if (b->len) {
			b->len = strcspn(b->data, "\n");
			b->data[b->len] = '\0';
		}
	buf_free(&err);
	return rc;
}

int doctor_check_safe_directory(struct doctor *d)
{
	static const char *const args[] = {"rev-parse", "--git-dir", NULL};
	struct buf out = BUF_INIT, said = BUF_INIT, fix = BUF_INIT;
	int rc = ask_git(d, args, &out, &said);
	if (rc == 0) {
		doctor_ok(d, "git opens %s for this user%s", d->bare,
			  d->as_owner ? " (its owner)" : " (safe.directory)");
	} else {
		buf_printf(&fix,
			   "run gitgate's commands as %s (%sgitgate doctor %s), or trust it for "
			   "this user: git config --global --add safe.directory %s",
			   d->owner_name, d->sudo.data, d->bare, d->bare);
		doctor_problem(d, fix.data, "git refuses %s to this user: %s", d->bare,
			       said.len ? said.data : "it gave no reason");
	}
	buf_free(&out);
	buf_free(&said);
	buf_free(&fix);
	return rc == 0 ? 0 : -1;
}

/* The hooks gitgate installs on a server, and what goes missing without
 * each. */
static const struct {
	const char *name;
	int required;
	const char *role;
} server_hooks[] = {
    {"pre-receive", 1, "no push is checked"},
    {"post-receive", 1, "no push is recorded and nothing deploys"},
    {"reference-transaction", 0, "optional: notes the deploy branch's tips"},
};

/* Is the file gitgate's: a hook binary, or install.sh's wrapper (which
 * names the binary it runs: that must be executable too)? */
static int is_gitgate(const struct doctor *d, const char *file, const char *hook)
{
	struct buf text = BUF_INIT, runs = BUF_INIT;
	int ours = buf_read_file(&text, file) == 0 && text.len &&
		   memmem(text.data, text.len, "gitgate", 7);
	buf_printf(&runs, "/libexec/gitgate/%s\"", hook);
	const char *end = ours ? memmem(text.data, text.len, runs.data, runs.len) : NULL;
	if (end) {
		const char *start = end;
		while (start > text.data && start[-1] != '"')
			start--;
		struct buf binary = BUF_INIT;
		struct stat st;
		buf_add(&binary, start, (size_t)(end - start) + runs.len - 1);
		ours = stat(binary.data, &st) == 0 && doctor_owner_can(d, &st, S_IXUSR);
		buf_free(&binary);
	}
	buf_free(&text);
	buf_free(&runs);
	return ours;
}

/* A driver's hook (gitolite's) runs gitgate's as HOOK.NAME beside it. */
static int run_by_driver(const struct doctor *d, const char *dir, const char *hook,
			 struct buf *which)
{
	DIR *folder = opendir(dir);
	struct dirent *e;
	size_t n = strlen(hook);
	while (folder && (e = readdir(folder))) {
		if (strncmp(e->d_name, hook, n) || e->d_name[n] != '.' ||
		    strstr(e->d_name, ".gitgate-saved") || strstr(e->d_name, ".sample"))
			continue;
		buf_clear(which);
		buf_printf(which, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(which->data, &st) == 0 && doctor_owner_can(d, &st, S_IXUSR) &&
		    is_gitgate(d, which->data, hook)) {
			closedir(folder);
			return 1;
		}
	}
	if (folder)
		closedir(folder);
	return 0;
}

static void check_hook(struct doctor *d, const char *dir, size_t i, struct buf *fix)
{
	const char *name = server_hooks[i].name;
	struct buf path = BUF_INIT, driver = BUF_INIT;
	struct stat st;
	buf_printf(&path, "%s/%s", dir, name);
	buf_clear(fix);
	buf_printf(fix, "%s./install.sh --server %s", d->sudo.data, d->bare);
	if (lstat(path.data, &st) < 0 && !server_hooks[i].required)
		doctor_ok(d, "hooks: %s is not installed (%s)", name, server_hooks[i].role);
	else if (lstat(path.data, &st) < 0)
		doctor_problem(d, fix->data, "hooks: %s is not installed in %s: %s", name, dir,
			       server_hooks[i].role);
	else if (stat(path.data, &st) < 0)
		doctor_problem(d, fix->data,
			       "hooks: %s points at nothing (a link whose target is gone)",
			       path.data);
	else if (!doctor_owner_can(d, &st, S_IXUSR)) {
		buf_clear(fix);
		buf_printf(fix, "chmod a+rx %s", path.data);
		doctor_problem(d, fix->data,
			       "hooks: %s is not executable by %s: git skips it, so %s", path.data,
			       d->owner_name, server_hooks[i].role);
	} else if (is_gitgate(d, path.data, name))
		doctor_ok(d, "hooks: %s is gitgate's and executable", name);
	else if (run_by_driver(d, dir, name, &driver))
		doctor_ok(d, "hooks: %s is a hook driver's, which runs gitgate's %s", name,
			  driver.data);
	else
		doctor_problem(d, fix->data,
			       "hooks: %s is not gitgate's and runs none of gitgate's, so %s (the "
			       "installer keeps it, run first)",
			       path.data, server_hooks[i].role);
	buf_free(&path);
	buf_free(&driver);
}

void doctor_check_hooks(struct doctor *d)
{
	static const char *const args[] = {"rev-parse", "--git-path", "hooks", NULL};
	struct buf out = BUF_INIT, said = BUF_INIT, dir = BUF_INIT, fix = BUF_INIT;
	if (ask_git(d, args, &out, &said) != 0 || !out.len)
		buf_adds(&out, "hooks");
	if (out.data[0] != '/')
		buf_printf(&dir, "%s/", d->bare);
	buf_adds(&dir, out.data);
	for (size_t i = 0; i < sizeof(server_hooks) / sizeof(server_hooks[0]); i++)
		check_hook(d, dir.data, i, &fix);
	buf_free(&out);
	buf_free(&said);
	buf_free(&dir);
	buf_free(&fix);
}

void doctor_check_push_options(struct doctor *d)
{
	static const char *const args[] = {"config", "--type=bool", "--get",
					   "receive.advertisePushOptions", NULL};
	struct buf out = BUF_INIT, said = BUF_INIT, fix = BUF_INIT;
	if (ask_git(d, args, &out, &said) == 0 && !strcmp(out.data, "true")) {
		doctor_ok(d, "receive.advertisePushOptions is true");
	} else {
		buf_printf(&fix, "%sgit -C %s config receive.advertisePushOptions true",
			   d->sudo.data, d->bare);
		doctor_problem(
		    d, fix.data,
		    "receive.advertisePushOptions is %s: git refuses every `git push -o` "
		    "(the confirm phrase, an emergency, a bypass)",
		    out.len    ? out.data
		    : said.len ? said.data
			       : "not set");
	}
	buf_free(&out);
	buf_free(&said);
	buf_free(&fix);
}
