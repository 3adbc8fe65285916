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

/* The paths sandbox_argv asks the machine about, in this order: the
 * system's folders, the writable paths, then every path to hide. */
struct looked {
	struct strlist paths;
	struct sandbox_path *facts;
	size_t writable, hidden; /* where each part starts in paths */
};

static void add_system(struct layout *l, const struct looked *k)
{
	for (size_t i = 0; system_dirs[i]; i++) {
		const struct sandbox_path *f = &k->facts[i];
		if (f->link) {
			add(l, M_SYMLINK, f->link, system_dirs[i], NULL);
		} else if (f->real && f->dir) {
			add(l, M_RO_BIND, f->real, f->real, NULL);
			add_visible(l, f->real);
		}
	}
	add(l, M_PROC, NULL, "/proc", NULL);
	add(l, M_DEV, NULL, "/dev", NULL);
	add(l, M_TMPFS, NULL, "/tmp", "1777");
	add(l, M_TMPFS, NULL, HOME_DIR, "0700");
}

static int add_writable(struct layout *l, const char *path, const struct sandbox_path *f,
			const struct sandbox_host *h, struct buf *err)
{
	if (!f->real) {
		buf_printf(err,
			   "the writable path %s cannot be given to the sandbox: it does not "
			   "exist%s%s",
			   path, h ? " on " : "", h ? h->name : "");
		return -1;
	}
	add(l, M_BIND, f->real, f->real, NULL);
	add_visible(l, f->real);
	if (f->link && strcmp(path, f->real))
		add(l, M_SYMLINK, f->real, path, NULL);
	return 0;
}

/* Hides a path (its real one) when it exists under a folder the command
 * sees: an empty tmpfs over a folder, /dev/null over anything else. */
static void add_hidden(struct layout *l, const struct sandbox_path *f)
{
	if (!f->real)
		return;
	int seen = 0, holds = 0;
	for (size_t i = 0; i < l->nvisible && !seen; i++)
		seen = is_under(f->real, l->visible[i]);
	/* A folder that holds a writable path (the state folder, its release)
	 * is there anyway, made by bwrap on the way: hidden, and read-only. */
	for (size_t i = 0; i < l->nvisible && !holds; i++)
		holds =
		    f->dir && is_under(l->visible[i], f->real) && strcmp(l->visible[i], f->real);
	if (seen || holds)
		add(l, f->dir ? M_TMPFS_RO : M_HIDE_FILE, NULL, f->real, "0755");
}

/* A symlink to make whose place is already seen through a binding (a slot
 * inside a writable folder) is there as it is: made again, bwrap would
 * fail on it. Only one in a tmpfs (bwrap's root among them) is made. */
static void drop_bound_symlinks(struct layout *l)
{
	size_t kept = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct mount *m = &l->items[i];
		const struct mount *over = NULL;
		for (size_t k = 0; m->kind == M_SYMLINK && k < l->n; k++) {
			const struct mount *o = &l->items[k];
			if (o->kind != M_SYMLINK && strcmp(o->dest, m->dest) &&
			    is_under(m->dest, o->dest) &&
			    (!over || strlen(o->dest) > strlen(over->dest)))
				over = o;
		}
		if (over && (over->kind == M_BIND || over->kind == M_RO_BIND)) {
			free(m->src);
			free(m->dest);
		} else {
			l->items[kept++] = *m;
		}
	}
	l->n = kept;
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

static void words3(struct strvec *w, const char *a, const char *b, const char *c)
{
	strvec_push(w, a);
	strvec_push(w, b);
	if (c)
		strvec_push(w, c);
}

static void mount_words(struct strvec *w, const struct mount *m)
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
static int user_words(struct strvec *w, const char *user, struct buf *err)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		buf_printf(err, "sandbox_user %s is not a user on this machine", user);
		return -1;
	}
	struct buf uid = BUF_INIT, gid = BUF_INIT;
	buf_printf(&uid, "--reuid=%u", (unsigned)pw->pw_uid);
	buf_printf(&gid, "--regid=%u", (unsigned)pw->pw_gid);
	strvec_push(w, "setpriv");
	words3(w, uid.data, gid.data, "--init-groups");
	strvec_push(w, "--");
	buf_free(&uid);
	buf_free(&gid);
	return 0;
}

/* ---- This machine ---------------------------------------------------------- */

void sandbox_path_free(struct sandbox_path *p)
{
	free(p->real);
	free(p->link);
	memset(p, 0, sizeof(*p));
}

static int local_look(void *ctx, const char *const *paths, size_t n, struct sandbox_path *out,
		      struct buf *err)
{
	(void)ctx;
	(void)err;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		char text[PATH_MAX];
		out[i] = (struct sandbox_path){0};
		ssize_t len;
		if (lstat(paths[i], &st) == 0 && S_ISLNK(st.st_mode) &&
		    (len = readlink(paths[i], text, sizeof(text) - 1)) > 0) {
			text[len] = '\0';
			out[i].link = xstrdup(text);
		}
		if (realpath(paths[i], text) && stat(text, &st) == 0) {
			out[i].real = xstrdup(text);
			out[i].dir = S_ISDIR(st.st_mode);
		}
	}
	return 0;
}

static int local_run(void *ctx, const char *const *argv, struct buf *said, struct buf *err)
{
	(void)ctx;
	struct run_options o = {.argv = argv,
				.out = {.kind = RUN_OUT_DISCARD},
				.err = {.kind = RUN_OUT_CAPTURE, .buf = said},
				.limit_ms = 10000};
	struct run_result r;
	if (run(&r, &o, err) < 0)
		return -1;
	return r.timed_out ? 124 : r.code;
}

/* This machine, with its ssh host keys (every ssh_host_* in /etc/ssh) and
 * the home of gitgate's user, found now. */
struct local {
	struct sandbox_host host;
	struct strlist keys; /* NULL-terminated */
	char *home;	     /* a copy: getpwnam, for sandbox_user, reuses getpwuid's */
};

static void local_open(struct local *l)
{
	*l = (struct local){0};
	DIR *d = opendir("/etc/ssh");
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, "ssh_host_", 9)) {
			struct buf path = BUF_INIT;
			buf_printf(&path, "/etc/ssh/%s", e->d_name);
			strlist_add(&l->keys, path.data);
			buf_free(&path);
		}
	if (d)
		closedir(d);
	*ARRAY_PUSH(l->keys.items, l->keys.n, l->keys.cap) = NULL;
	l->keys.n--;
	struct passwd *pw = getpwuid(getuid());
	l->home = pw ? xstrdup(pw->pw_dir) : NULL;
	l->host = (struct sandbox_host){.home = l->home,
					.host_keys = (const char *const *)l->keys.items,
					.look = local_look,
					.run = local_run};
}

static void local_close(struct local *l)
{
	for (size_t i = 0; i < l->keys.n; i++)
		free(l->keys.items[i]);
	free(l->keys.items);
	free(l->home);
}

/* ---- The layout ------------------------------------------------------------- */

/* Asks h what every path of the layout is: the system's folders, the
 * writable paths, and what must be hidden (the system's secrets, the host
 * keys, the login user's .ssh, the spec's). */
static int look_all(struct looked *k, const struct sandbox_spec *s, const struct sandbox_host *h,
		    struct buf *err)
{
	for (const char *const *d = system_dirs; *d; d++)
		strlist_add(&k->paths, *d);
	k->writable = k->paths.n;
	for (size_t i = 0; i < s->nwritable; i++)
		strlist_add(&k->paths, s->writable[i]);
	k->hidden = k->paths.n;
	for (const char *const *p = system_secrets; *p; p++)
		strlist_add(&k->paths, *p);
	for (const char *const *p = h->host_keys; p && *p; p++)
		strlist_add(&k->paths, *p);
	if (h->home && strcmp(h->home, "/")) {
		struct buf ssh = BUF_INIT;
		buf_printf(&ssh, "%s/.ssh", h->home);
		strlist_add(&k->paths, ssh.data);
		buf_free(&ssh);
	}
	for (size_t i = 0; i < s->nhidden; i++)
		strlist_add(&k->paths, s->hidden[i]);
	k->facts = xcalloc(k->paths.n, sizeof(*k->facts));
	return h->look(h->ctx, (const char *const *)k->paths.items, k->paths.n, k->facts, err);
}

static void looked_free(struct looked *k)
{
	for (size_t i = 0; i < k->paths.n; i++) {
		sandbox_path_free(&k->facts[i]);
		free(k->paths.items[i]);
	}
	free(k->paths.items);
	free(k->facts);
}

char **sandbox_argv(const struct sandbox_spec *s, const char *const *cmd, struct buf *err)
{
	struct strvec w = STRVEC_INIT;
	struct layout l = {0};
	struct looked k = {0};
	struct local here;
	const struct sandbox_host *h = s->host;
	if (!h)
		local_open(&here);
	int ok = !s->user || user_words(&w, s->user, err) == 0;
	ok = ok && look_all(&k, s, h ? h : &here.host, err) == 0;
	strvec_push(&w, s->bwrap);
	if (!s->detached)
		words3(&w, "--die-with-parent", "--new-session", NULL);
	words3(&w, "--unshare-pid", "--unshare-ipc", "--unshare-uts");
	strvec_push(&w, "--unshare-cgroup-try");
	if (!s->network)
		strvec_push(&w, "--unshare-net");
	if (s->user)
		words3(&w, "--unshare-user", "--disable-userns", NULL);
	words3(&w, "--cap-drop", "ALL", NULL);
	if (ok)
		add_system(&l, &k);
	for (size_t i = 0; ok && i < s->nwritable; i++)
		ok = add_writable(&l, s->writable[i], &k.facts[k.writable + i], h, err) == 0;
	for (size_t i = k.hidden; ok && i < k.paths.n; i++)
		add_hidden(&l, &k.facts[i]);
	drop_bound_symlinks(&l);
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
	strvec_push(&w, "--");
	for (size_t i = 0; cmd[i]; i++)
		strvec_push(&w, cmd[i]);
	layout_free(&l);
	looked_free(&k);
	if (!h)
		local_close(&here);
	if (ok)
		return strvec_detach(&w);
	strvec_clear(&w);
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

/* Runs bwrap on h (NULL: here) as sandbox_argv would, around `true`. */
static int probe_on(const struct sandbox_host *h, const char *bwrap, const char *user,
		    struct buf *why)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	const char *truth[] = {"true", NULL};
	struct sandbox_spec s = {.bwrap = bwrap, .user = user, .network = 1, .host = h};
	char **argv = sandbox_argv(&s, truth, &err);
	int code = -1;
	if (argv)
		code = h ? h->run(h->ctx, (const char *const *)argv, &out, &err)
			 : local_run(NULL, (const char *const *)argv, &out, &err);
	while (out.len && out.data[out.len - 1] == '\n')
		out.data[--out.len] = '\0';
	if (code != 0)
		buf_printf(why, "%s cannot make a sandbox %s%s%s: %s", bwrap, h ? "there" : "here",
			   user ? " as " : "", user ? user : "",
			   out.len   ? out.data
			   : err.len ? err.data
				     : "it failed");
	strvec_free(argv);
	buf_free(&out);
	buf_free(&err);
	return code == 0;
}

int sandbox_probe(const char *bwrap, const char *user, struct buf *why)
{
	if (memo.bwrap && !strcmp(memo.bwrap, bwrap) && same(memo.user, user)) {
		if (!memo.ok)
			buf_adds(why, memo.why);
		return memo.ok;
	}
	struct buf reason = BUF_INIT;
	int ok = 0;
	if (access(bwrap, X_OK) < 0)
		buf_printf(&reason, "no bubblewrap at %s (apt-get install bubblewrap)", bwrap);
	else
		ok = probe_on(NULL, bwrap, user, &reason);
	free(memo.bwrap);
	free(memo.user);
	free(memo.why);
	memo = (struct probe_memo){xstrdup(bwrap), user ? xstrdup(user) : NULL, ok,
				   xstrdup(reason.data ? reason.data : "")};
	if (!ok)
		buf_adds(why, memo.why);
	buf_free(&reason);
	return ok;
}

int sandbox_probe_host(const struct sandbox_host *h, struct buf *why)
{
	if (!h->bwrap) {
		buf_adds(why,
			 "no bwrap on the login PATH there (apt-get install bubblewrap there)");
		return 0;
	}
	return probe_on(h, h->bwrap, NULL, why);
}

/* ---- The deploy's choice --------------------------------------------------- */

void sandbox_choose_host(struct sandbox_choice *out, const struct deploy_policy *d,
			 const struct sandbox_host *h)
{
	*out = (struct sandbox_choice){.why = BUF_INIT};
	if (d->sandbox == DEPLOY_SANDBOX_NO) {
		out->explicit = 1;
		buf_adds(&out->why, "sandbox = no in rules.ini");
		return;
	}
	out->on = h ? sandbox_probe_host(h, &out->why)
		    : sandbox_probe(d->sandbox_bwrap, d->sandbox_user, &out->why);
	out->refuse = !out->on && d->sandbox == DEPLOY_SANDBOX_YES;
}

void sandbox_choose(struct sandbox_choice *out, const struct deploy_policy *d)
{
	sandbox_choose_host(out, d, NULL);
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

/* A root's paths: all of them (another target's), or only its releases and
 * run folder (its own). */
static void add_root(struct strlist *list, const char *root, int own)
{
	static const char *const suffixes[] = {"-releases", "-run", "", "-blue", "-green", NULL};
	for (const char *const *s = suffixes; *s && (!own || s - suffixes < 2); s++) {
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
		/* Another target's root of the same path is on another host. */
		if (t->root && (t == own || !own || strcmp(t->root, own->root)))
			add_root(list, t->root, t == own);
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

/* On a host, the app's pid files are in ROOT-run, made by its start: made
 * first, so that it is there to hide from the app. */
static int make_run_dir(const struct sandbox_host *h, const char *root, struct buf *err)
{
	struct buf dir = BUF_INIT, said = BUF_INIT;
	buf_printf(&dir, "%s-run", root);
	const char *argv[] = {"mkdir", "-p", "--", dir.data, NULL};
	int rc = h->run(h->ctx, argv, &said, err);
	if (rc > 0)
		buf_printf(err, "on %s: %s", h->name, said.len ? said.data : "mkdir failed");
	buf_free(&dir);
	buf_free(&said);
	return rc == 0 ? 0 : -1;
}

char **sandbox_wrap(const struct sandbox_call *c, char **argv, struct buf *err)
{
	if (!c->choice->on && !c->choice->refuse)
		return argv;
	char **out = NULL;
	const struct deploy_policy *d = c->policy;
	/* On a host, the login user there: sandbox_user is this machine's. */
	const char *user = c->host ? NULL : d->sandbox_user;
	if (c->choice->refuse) {
		buf_printf(err, "not sandboxed%s%s: %s, and sandbox = yes", c->host ? " on " : "",
			   c->host ? c->host->name : "", c->choice->why.data);
	} else if ((!user || give_to_user(c->dir, user, err) == 0) &&
		   (!c->host || !c->app || make_run_dir(c->host, c->app->root, err) == 0)) {
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
		struct sandbox_spec s = {.bwrap = c->host ? c->host->bwrap : d->sandbox_bwrap,
					 .user = user,
					 .host = c->host,
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
	strvec_free(argv);
	return out;
}

void sandbox_choice_record(struct buf *out, const struct sandbox_choice *c)
{
	if (c->on)
		buf_adds(out, "bubblewrap");
	else
		buf_printf(out, "none: %s", c->why.data);
}
