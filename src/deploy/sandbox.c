/*
 * sandbox: see sandbox.h. One list of mounts, sorted by the length of the
 * path each makes (a folder's path is shorter than anything inside it), is
 * the whole layout: bwrap applies them in that order.
 */
#include "sandbox.h"

#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command.h"
#include "run.h"

/* Read-only, as they are; what a command finds its programs and libraries
 * in. */
static const char *const system_dirs[] = {"/usr",   "/bin",    "/sbin", "/lib", "/lib32",
					  "/lib64", "/libx32", "/etc",	"/opt", NULL};
/* Secrets of the machine's own under the folders above. */
static const char *const system_secrets[] = {
    "/etc/shadow",	"/etc/shadow-",	    "/etc/gshadow", "/etc/gshadow-",
    "/etc/ssl/private", "/etc/letsencrypt", "/etc/gitgate", NULL};
#define HOME_DIR "/home/sandbox"

enum mount_kind {
	M_RO_BIND,
	M_BIND,
	M_SYMLINK,
	M_TMPFS,
	M_TMPFS_RO, /* a hidden folder: read-only once everything is mounted */
	M_HIDE_FILE,
	M_PROC,
	M_DEV
};

struct mount {
	enum mount_kind kind;
	char *src; /* bind: the real path; symlink: its content */
	char *dest;
	const char *perms; /* tmpfs: its mode */
};

struct layout {
	struct mount *items;
	size_t n, cap;
	/* The folders the command sees the real ones through: a hidden path
	 * needs hiding only under one of them. */
	char **visible;
	size_t nvisible, cap_visible;
};

static void add(struct layout *l, enum mount_kind kind, const char *src, const char *dest,
		const char *perms)
{
	*ARRAY_PUSH(l->items, l->n, l->cap) = (struct mount){
	    .kind = kind, .src = src ? xstrdup(src) : NULL, .dest = xstrdup(dest), .perms = perms};
}

static void add_visible(struct layout *l, const char *real)
{
	*ARRAY_PUSH(l->visible, l->nvisible, l->cap_visible) = xstrdup(real);
}

static void layout_free(struct layout *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].src);
		free(l->items[i].dest);
	}
	for (size_t i = 0; i < l->nvisible; i++)
		free(l->visible[i]);
	free(l->items);
	free(l->visible);
}

/* Is path dir itself or inside it? */
static int is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return 1;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

static void add_system(struct layout *l)
{
	for (const char *const *d = system_dirs; *d; d++) {
		struct stat st;
		char target[PATH_MAX], real[PATH_MAX];
		if (lstat(*d, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			ssize_t len = readlink(*d, target, sizeof(target) - 1);
			if (len <= 0)
				continue;
			target[len] = '\0';
			add(l, M_SYMLINK, target, *d, NULL);
		} else if (S_ISDIR(st.st_mode) && realpath(*d, real)) {
			add(l, M_RO_BIND, real, real, NULL);
			add_visible(l, real);
		}
	}
	add(l, M_PROC, NULL, "/proc", NULL);
	add(l, M_DEV, NULL, "/dev", NULL);
	add(l, M_TMPFS, NULL, "/tmp", "1777");
	add(l, M_TMPFS, NULL, HOME_DIR, "0700");
}

static int add_writable(struct layout *l, const char *path, struct buf *err)
{
	char real[PATH_MAX];
	struct stat st;
	if (!realpath(path, real) || stat(real, &st) < 0) {
		buf_printf(err, "the writable path %s cannot be given to the sandbox: %s", path,
			   strerror(errno));
		return -1;
	}
	add(l, M_BIND, real, real, NULL);
	add_visible(l, real);
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && strcmp(path, real))
		add(l, M_SYMLINK, real, path, NULL);
	return 0;
}

/* Hides path (its real one) when it exists under a folder the command
 * sees: an empty tmpfs over a folder, /dev/null over anything else. */
static void add_hidden(struct layout *l, const char *path)
{
	char real[PATH_MAX];
	struct stat st;
	if (!realpath(path, real) || stat(real, &st) < 0)
		return;
	int seen = 0, holds = 0;
	for (size_t i = 0; i < l->nvisible && !seen; i++)
		seen = is_under(real, l->visible[i]);
	/* A folder that holds a writable path (the state folder, its release)
	 * is there anyway, made by bwrap on the way: hidden, and read-only. */
	for (size_t i = 0; i < l->nvisible && !holds; i++)
		holds = S_ISDIR(st.st_mode) && is_under(l->visible[i], real) &&
			strcmp(l->visible[i], real);
	if (seen || holds)
		add(l, S_ISDIR(st.st_mode) ? M_TMPFS_RO : M_HIDE_FILE, NULL, real, "0755");
}

/* The ssh host keys: every ssh_host_* file in /etc/ssh. */
static void add_host_keys(struct layout *l)
{
	DIR *d = opendir("/etc/ssh");
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, "ssh_host_", 9)) {
			struct buf path = BUF_INIT;
			buf_printf(&path, "/etc/ssh/%s", e->d_name);
			add_hidden(l, path.data);
			buf_free(&path);
		}
	if (d)
		closedir(d);
}

/* Shortest destination first, the order of the list among equals (a
 * hiding after the binding of the same path). */
static void sort_mounts(struct layout *l)
{
	for (size_t i = 1; i < l->n; i++) {
		struct mount m = l->items[i];
		size_t len = strlen(m.dest), j = i;
		for (; j > 0 && strlen(l->items[j - 1].dest) > len; j--)
			l->items[j] = l->items[j - 1];
		l->items[j] = m;
	}
}

struct words {
	char **items;
	size_t n, cap;
};

static void word(struct words *w, const char *s)
{
	*ARRAY_PUSH(w->items, w->n, w->cap) = xstrdup(s);
}

static void words3(struct words *w, const char *a, const char *b, const char *c)
{
	word(w, a);
	word(w, b);
	if (c)
		word(w, c);
}

static void mount_words(struct words *w, const struct mount *m)
{
	switch (m->kind) {
	case M_RO_BIND:
		words3(w, "--ro-bind", m->src, m->dest);
		break;
	case M_BIND:
		words3(w, "--bind", m->src, m->dest);
		break;
	case M_SYMLINK:
		words3(w, "--symlink", m->src, m->dest);
		break;
	case M_TMPFS:
	case M_TMPFS_RO:
		words3(w, "--perms", m->perms, NULL);
		words3(w, "--tmpfs", m->dest, NULL);
		break;
	case M_HIDE_FILE:
		words3(w, "--ro-bind", "/dev/null", m->dest);
		break;
	case M_PROC:
		words3(w, "--proc", m->dest, NULL);
		break;
	case M_DEV:
		words3(w, "--dev", m->dest, NULL);
		break;
	}
}

/* setpriv's words for user: bwrap then runs as that user, unprivileged. */
static int user_words(struct words *w, const char *user, struct buf *err)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		buf_printf(err, "sandbox_user %s is not a user on this machine", user);
		return -1;
	}
	struct buf uid = BUF_INIT, gid = BUF_INIT;
	buf_printf(&uid, "--reuid=%u", (unsigned)pw->pw_uid);
	buf_printf(&gid, "--regid=%u", (unsigned)pw->pw_gid);
	word(w, "setpriv");
	words3(w, uid.data, gid.data, "--init-groups");
	word(w, "--");
	buf_free(&uid);
	buf_free(&gid);
	return 0;
}

char **sandbox_argv(const struct sandbox_spec *s, const char *const *cmd, struct buf *err)
{
	struct words w = {0};
	struct layout l = {0};
	int ok = !s->user || user_words(&w, s->user, err) == 0;
	word(&w, s->bwrap);
	if (!s->detached)
		words3(&w, "--die-with-parent", "--new-session", NULL);
	words3(&w, "--unshare-pid", "--unshare-ipc", "--unshare-uts");
	word(&w, "--unshare-cgroup-try");
	if (!s->network)
		word(&w, "--unshare-net");
	if (s->user)
		words3(&w, "--unshare-user", "--disable-userns", NULL);
	words3(&w, "--cap-drop", "ALL", NULL);
	add_system(&l);
	for (size_t i = 0; ok && i < s->nwritable; i++)
		ok = add_writable(&l, s->writable[i], err) == 0;
	for (const char *const *p = system_secrets; *p; p++)
		add_hidden(&l, *p);
	add_host_keys(&l);
	for (size_t i = 0; i < s->nhidden; i++)
		add_hidden(&l, s->hidden[i]);
	sort_mounts(&l);
	for (size_t i = 0; i < l.n; i++)
		mount_words(&w, &l.items[i]);
	/* Last, as the folders made on the way to a mount are made in them: the
	 * root (a tmpfs of bwrap's) and the hiding tmpfs become read-only, so a
	 * write there fails instead of landing in a void. */
	words3(&w, "--remount-ro", "/", NULL);
	for (size_t i = 0; i < l.n; i++)
		if (l.items[i].kind == M_TMPFS_RO)
			words3(&w, "--remount-ro", l.items[i].dest, NULL);
	words3(&w, "--setenv", "HOME", HOME_DIR);
	if (s->cwd)
		words3(&w, "--chdir", s->cwd, NULL);
	word(&w, "--");
	for (size_t i = 0; cmd[i]; i++)
		word(&w, cmd[i]);
	*ARRAY_PUSH(w.items, w.n, w.cap) = NULL;
	layout_free(&l);
	if (ok)
		return w.items;
	command_free(w.items);
	return NULL;
}

/* ---- Whether there is one ------------------------------------------------ */

struct probe_memo {
	char *bwrap, *user;
	int ok;
	char *why;
};
static struct probe_memo memo;

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int sandbox_probe(const char *bwrap, const char *user, struct buf *why)
{
	if (memo.bwrap && !strcmp(memo.bwrap, bwrap) && same(memo.user, user)) {
		if (!memo.ok)
			buf_adds(why, memo.why);
		return memo.ok;
	}
	struct buf reason = BUF_INIT, out = BUF_INIT;
	int ok = 0;
	if (access(bwrap, X_OK) < 0) {
		buf_printf(&reason, "no bubblewrap at %s (apt-get install bubblewrap)", bwrap);
	} else {
		const char *truth[] = {"true", NULL};
		struct sandbox_spec s = {.bwrap = bwrap, .user = user, .network = 1};
		char **argv = sandbox_argv(&s, truth, &reason);
		struct run_options o = {.argv = (const char *const *)argv,
					.out = {.kind = RUN_OUT_DISCARD},
					.err = {.kind = RUN_OUT_CAPTURE, .buf = &out},
					.limit_ms = 10000};
		struct run_result r;
		if (argv && run(&r, &o, &reason) == 0) {
			ok = r.code == 0;
			while (out.len && out.data[out.len - 1] == '\n')
				out.data[--out.len] = '\0';
			if (!ok)
				buf_printf(&reason, "%s cannot make a sandbox here%s%s: %s", bwrap,
					   user ? " as " : "", user ? user : "",
					   out.len ? out.data : "it failed");
		}
		command_free(argv);
	}
	free(memo.bwrap);
	free(memo.user);
	free(memo.why);
	memo = (struct probe_memo){xstrdup(bwrap), user ? xstrdup(user) : NULL, ok,
				   xstrdup(reason.data ? reason.data : "")};
	if (!ok)
		buf_adds(why, memo.why);
	buf_free(&reason);
	buf_free(&out);
	return ok;
}

/* ---- The deploy's choice --------------------------------------------------- */

void sandbox_choose(struct sandbox_choice *out, const struct deploy_policy *d)
{
	*out = (struct sandbox_choice){.why = BUF_INIT};
	if (d->sandbox == DEPLOY_SANDBOX_NO) {
		out->explicit = 1;
		buf_adds(&out->why, "sandbox = no in rules.ini");
		return;
	}
	out->on = sandbox_probe(d->sandbox_bwrap, d->sandbox_user, &out->why);
	out->refuse = !out->on && d->sandbox == DEPLOY_SANDBOX_YES;
}

void sandbox_choice_free(struct sandbox_choice *c)
{
	buf_free(&c->why);
}

void sandbox_choice_describe(struct buf *out, const struct sandbox_choice *c)
{
	if (c->on)
		buf_adds(out, "sandboxed (bubblewrap)");
	else
		buf_printf(out, "not sandboxed: %s%s", c->why.data,
			   c->refuse ? " (sandbox = yes: no deploy)" : "");
}

/* ---- The admin's paths ------------------------------------------------------ */

static void add_root(struct strlist *list, const char *root)
{
	static const char *const suffixes[] = {"", "-blue", "-green", "-releases", "-run", NULL};
	for (const char *const *s = suffixes; *s; s++) {
		struct buf path = BUF_INIT;
		buf_printf(&path, "%s%s", root, *s);
		strlist_add(list, path.data);
		buf_free(&path);
	}
}

static void add_if(struct strlist *list, const char *path)
{
	if (path)
		strlist_add(list, path);
}

void sandbox_admin_paths(struct strlist *list, const struct rules *r, const char *state_dir,
			 const char *repo_dir, const struct deploy_target *own)
{
	const struct deploy_policy *d = &r->deploy;
	add_if(list, r->file);
	add_if(list, state_dir);
	add_if(list, repo_dir);
	add_if(list, d->ssh_identity);
	add_if(list, d->ssh_known_hosts);
	for (size_t i = 0; i < d->ntargets; i++) {
		const struct deploy_target *t = &d->targets[i];
		add_if(list, t->env_file);
		add_if(list, t->ssh_identity);
		add_if(list, t->ssh_known_hosts);
		if (t != own && t->root)
			add_root(list, t->root);
	}
}

/* ---- A deploy's command ---------------------------------------------------- */

static uid_t give_uid;
static gid_t give_gid;

static int give_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return lchown(path, give_uid, give_gid) < 0 ? -1 : 0;
}

/* The release belongs to the sandbox's user: its build writes there. */
static int give_to_user(const char *dir, const char *user, struct buf *err)
{
	struct passwd *pw = getpwnam(user);
	struct stat st;
	char real[PATH_MAX];
	if (!pw || !realpath(dir, real) || stat(real, &st) < 0) {
		buf_printf(err, "cannot give %s to sandbox_user %s: %s", dir, user,
			   pw ? strerror(errno) : "no such user");
		return -1;
	}
	if (st.st_uid == pw->pw_uid)
		return 0;
	give_uid = pw->pw_uid;
	give_gid = pw->pw_gid;
	if (nftw(real, give_one, 16, FTW_PHYS) == 0)
		return 0;
	buf_printf(err, "cannot give %s to sandbox_user %s: %s", dir, user, strerror(errno));
	return -1;
}

char **sandbox_wrap(const struct sandbox_call *c, char **argv, struct buf *err)
{
	if (!c->choice->on && !c->choice->refuse)
		return argv;
	char **out = NULL;
	const struct deploy_policy *d = c->policy;
	if (c->choice->refuse) {
		buf_printf(err, "not sandboxed: %s, and sandbox = yes", c->choice->why.data);
	} else if (!d->sandbox_user || give_to_user(c->dir, d->sandbox_user, err) == 0) {
		struct strlist hidden = {0};
		sandbox_admin_paths(&hidden, c->rules, c->state_dir, c->repo_dir, c->app);
		const char **writable =
		    xcalloc(1 + d->sandbox_writable.n + (c->app ? c->app->sandbox_writable.n : 0),
			    sizeof(*writable));
		size_t n = 0;
		writable[n++] = c->dir;
		for (size_t i = 0; c->app && i < d->sandbox_writable.n; i++)
			writable[n++] = d->sandbox_writable.items[i];
		for (size_t i = 0; c->app && i < c->app->sandbox_writable.n; i++)
			writable[n++] = c->app->sandbox_writable.items[i];
		struct sandbox_spec s = {.bwrap = d->sandbox_bwrap,
					 .user = d->sandbox_user,
					 /* The app serves: its network is always on. */
					 .network = c->app || d->sandbox_network,
					 .detached = c->detached,
					 .writable = writable,
					 .nwritable = n,
					 .hidden = (const char *const *)hidden.items,
					 .nhidden = hidden.n,
					 .cwd = c->dir};
		out = sandbox_argv(&s, (const char *const *)argv, err);
		free(writable);
		for (size_t i = 0; i < hidden.n; i++)
			free(hidden.items[i]);
		free(hidden.items);
	}
	command_free(argv);
	return out;
}

void sandbox_choice_record(struct buf *out, const struct sandbox_choice *c)
{
	if (c->on)
		buf_adds(out, "bubblewrap");
	else
		buf_printf(out, "none: %s", c->why.data);
}
