/* sandbox: the bwrap argv (its layout, in order) and what a command inside
 * can and cannot reach, run for real. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command.h"
#include "helpers.h"
#include "host.h"
#include "proc.h"
#include "run.h"
#include "sandbox.h"
#include "slot.h"

#define BWRAP "/usr/bin/bwrap"

static char dir[64];

static void make_dir_tree(void)
{
	strcpy(dir, "/tmp/gitgate-sandbox-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir_tree(void)
{
	remove_tree(dir);
}

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

static char *path_of(const char *rel)
{
	static char paths[8][256];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, 256, "%s/%s", dir, rel);
	return p;
}

/* The index of the first word equal to w after start, or -1. */
static int find(char **argv, const char *w, int start)
{
	for (int i = start; argv[i]; i++)
		if (!strcmp(argv[i], w))
			return i;
	return -1;
}

/* The index of "OPTION A B" (B NULL: any) in argv, or -1. */
static int find_mount(char **argv, const char *option, const char *a, const char *b)
{
	for (int i = 0; argv[i] && argv[i + 1]; i++)
		if (!strcmp(argv[i], option) && !strcmp(argv[i + 1], a) &&
		    (!b || (argv[i + 2] && !strcmp(argv[i + 2], b))))
			return i;
	return -1;
}

Test(sandbox, the_layout_is_an_allow_list_with_the_admin_paths_hidden_over_it,
     .init = make_dir_tree, .fini = remove_dir_tree)
{
	mkdir(path_of("state"), 0755);
	mkdir(path_of("state/releases"), 0755);
	mkdir(path_of("state/releases/r1"), 0755);
	mkdir(path_of("data"), 0755);
	put("data/secret.env", "TOKEN=x\n");
	const char *writable[] = {path_of("state/releases/r1"), path_of("data")};
	put("rules.ini", "[deploy]\n");
	const char *hidden[] = {path_of("state"), path_of("data/secret.env"), path_of("absent"),
				path_of("rules.ini")};
	const char *cmd[] = {"python3", "-m", "pytest", NULL};
	struct sandbox_spec s = {.bwrap = BWRAP,
				 .network = 1,
				 .writable = writable,
				 .nwritable = 2,
				 .hidden = hidden,
				 .nhidden = 4,
				 .cwd = writable[0]};
	struct buf err = BUF_INIT;
	char **argv = sandbox_argv(&s, cmd, &err);
	cr_assert_not_null(argv, "%s", err.data);
	cr_assert_str_eq(argv[0], BWRAP);
	cr_assert_geq(find(argv, "--die-with-parent", 0), 0, "a deploy's command dies with bwrap");
	cr_assert_geq(find(argv, "--unshare-pid", 0), 0);
	cr_assert_eq(find(argv, "--unshare-net", 0), -1, "the network is on by default");
	cr_assert_geq(find_mount(argv, "--cap-drop", "ALL", NULL), 0);
	cr_assert_geq(find_mount(argv, "--ro-bind", "/usr", "/usr"), 0);
	cr_assert_geq(find_mount(argv, "--ro-bind", "/etc", "/etc"), 0);
	int tmp = find_mount(argv, "--tmpfs", "/tmp", NULL);
	int release = find_mount(argv, "--bind", writable[0], writable[0]);
	int data = find_mount(argv, "--bind", writable[1], writable[1]);
	int env = find_mount(argv, "--ro-bind", "/dev/null", hidden[1]);
	cr_assert(tmp >= 0 && release > tmp && data > tmp, "binds under /tmp come after its tmpfs");
	cr_assert_gt(env, data, "a hidden file inside a writable folder is hidden over it");
	/* The state folder holds the release: bwrap makes it on the way, so it is
	 * an empty tmpfs, read-only once the release is bound in it. */
	int state = find_mount(argv, "--tmpfs", hidden[0], NULL);
	cr_assert(state > tmp && state < release, "%d %d %d", tmp, state, release);
	int ro = find_mount(argv, "--remount-ro", hidden[0], NULL);
	cr_assert_gt(ro, env, "read-only after every mount");
	cr_assert_geq(find_mount(argv, "--remount-ro", "/", NULL), 0);
	cr_assert_eq(find(argv, hidden[2], 0), -1, "a missing path is not made");
	cr_assert_eq(find(argv, hidden[3], 0), -1, "under nothing bound: absent, not made empty");
	cr_assert_geq(find_mount(argv, "--ro-bind", "/dev/null", "/etc/shadow"), 0);
	int sep = find(argv, "--", 0);
	cr_assert_gt(sep, 0);
	cr_assert_str_eq(argv[sep - 2], "--chdir");
	cr_assert_str_eq(argv[sep + 1], "python3");
	cr_assert_null(argv[sep + 4]);
	strvec_free(argv);
	buf_free(&err);
}

Test(sandbox, a_hidden_folder_under_a_bound_one_becomes_an_empty_tmpfs_below_what_is_bound_in_it,
     .init = make_dir_tree, .fini = remove_dir_tree)
{
	mkdir(path_of("srv"), 0755);
	mkdir(path_of("srv/state"), 0755);
	mkdir(path_of("srv/state/rel"), 0755);
	const char *writable[] = {path_of("srv"), path_of("srv/state/rel")};
	const char *hidden[] = {path_of("srv/state")};
	const char *cmd[] = {"true", NULL};
	struct sandbox_spec s = {.bwrap = BWRAP,
				 .detached = 1,
				 .writable = writable,
				 .nwritable = 2,
				 .hidden = hidden,
				 .nhidden = 1};
	struct buf err = BUF_INIT;
	char **argv = sandbox_argv(&s, cmd, &err);
	cr_assert_not_null(argv, "%s", err.data);
	int srv = find_mount(argv, "--bind", writable[0], writable[0]);
	int state = find_mount(argv, "--tmpfs", hidden[0], NULL);
	int rel = find_mount(argv, "--bind", writable[1], writable[1]);
	cr_assert(srv >= 0 && state > srv && rel > state, "%d %d %d", srv, state, rel);
	cr_assert_geq(find(argv, "--unshare-net", 0), 0, "network = 0 cuts it");
	cr_assert_eq(find(argv, "--die-with-parent", 0), -1, "the app outlives gitgate");
	cr_assert_eq(find(argv, "--new-session", 0), -1, "the app stays in its group");
	strvec_free(argv);
	buf_free(&err);
}

Test(sandbox, a_writable_symlink_is_bound_at_its_target_and_made_inside, .init = make_dir_tree,
     .fini = remove_dir_tree)
{
	mkdir(path_of("r1"), 0755);
	cr_assert_eq(symlink(path_of("r1"), path_of("app-blue")), 0);
	const char *writable[] = {path_of("app-blue")};
	const char *cmd[] = {"true", NULL};
	struct sandbox_spec s = {.bwrap = BWRAP, .writable = writable, .nwritable = 1};
	struct buf err = BUF_INIT;
	char **argv = sandbox_argv(&s, cmd, &err);
	cr_assert_geq(find_mount(argv, "--bind", path_of("r1"), path_of("r1")), 0);
	cr_assert_geq(find_mount(argv, "--symlink", path_of("r1"), path_of("app-blue")), 0);
	strvec_free(argv);
	const char *missing[] = {path_of("nope")};
	s.writable = missing;
	cr_assert_null(sandbox_argv(&s, cmd, &err), "a missing writable path refuses");
	cr_assert(strstr(err.data, "nope"), "%s", err.data);
	buf_free(&err);
}

Test(sandbox, a_slot_inside_a_writable_folder_is_seen_through_it_not_made_again,
     .init = make_dir_tree, .fini = remove_dir_tree)
{
	mkdir(path_of("r1"), 0755);
	cr_assert_eq(symlink(path_of("r1"), path_of("app-blue")), 0);
	const char *writable[] = {path_of("app-blue"), dir};
	const char *cmd[] = {"true", NULL};
	struct sandbox_spec s = {.bwrap = BWRAP, .writable = writable, .nwritable = 2};
	struct buf err = BUF_INIT;
	char **argv = sandbox_argv(&s, cmd, &err);
	cr_assert_not_null(argv, "%s", err.data);
	cr_assert_eq(find_mount(argv, "--symlink", path_of("r1"), path_of("app-blue")), -1,
		     "bwrap would fail on the link that is there");
	strvec_free(argv);
	if (access(BWRAP, X_OK) == 0) {
		const char *ls[] = {"test", "-d", path_of("app-blue"), NULL};
		argv = sandbox_argv(&s, ls, &err);
		struct run_result r;
		struct run_options o = {.argv = (const char *const *)argv};
		cr_assert_eq(run(&r, &o, &err), 0, "%s", err.data);
		cr_assert_eq(r.code, 0, "the slot is not there inside");
		strvec_free(argv);
	}
	buf_free(&err);
}

/* A remote host as the builder sees it: what each path is there. */
static const struct {
	const char *path;
	struct sandbox_path fact;
} host_paths[] = {
    {"/usr", {"/usr", 1, NULL}},
    {"/lib", {"/usr/lib", 1, "usr/lib"}},
    {"/etc", {"/etc", 1, NULL}},
    {"/etc/shadow", {"/etc/shadow", 0, NULL}},
    {"/etc/ssh/ssh_host_ed25519_key", {"/etc/ssh/ssh_host_ed25519_key", 0, NULL}},
    {"/srv/app-blue", {"/srv/app-releases/r1", 1, "/srv/app-releases/r1"}},
    {"/srv", {"/srv", 1, NULL}},
    {"/srv/home/.ssh", {"/srv/home/.ssh", 1, NULL}},
    {"/srv/app.env", {"/srv/app.env", 0, NULL}},
};

static int host_asked;

static int host_look(void *ctx, const char *const *paths, size_t n, struct sandbox_path *out,
		     struct buf *err)
{
	(void)ctx;
	(void)err;
	host_asked++;
	for (size_t i = 0; i < n; i++) {
		out[i] = (struct sandbox_path){0};
		for (size_t k = 0; k < sizeof(host_paths) / sizeof(host_paths[0]); k++)
			if (!strcmp(paths[i], host_paths[k].path)) {
				const struct sandbox_path *f = &host_paths[k].fact;
				out[i].real = strdup(f->real);
				out[i].dir = f->dir;
				out[i].link = f->link ? strdup(f->link) : NULL;
			}
	}
	return 0;
}

Test(sandbox, on_a_host_the_layout_is_made_of_the_hosts_paths)
{
	const char *keys[] = {"/etc/ssh/ssh_host_ed25519_key", NULL};
	struct sandbox_host h = {.name = "root@10.0.0.2:22",
				 .bwrap = "/usr/local/bin/bwrap",
				 .home = "/srv/home",
				 .host_keys = keys,
				 .look = host_look};
	const char *writable[] = {"/srv/app-blue", "/srv"};
	const char *hidden[] = {"/srv/app.env", "/srv/other"};
	const char *cmd[] = {"python3", "app.py", NULL};
	struct sandbox_spec s = {.bwrap = h.bwrap,
				 .host = &h,
				 .network = 1,
				 .detached = 1,
				 .writable = writable,
				 .nwritable = 2,
				 .hidden = hidden,
				 .nhidden = 2,
				 .cwd = writable[0]};
	struct buf err = BUF_INIT;
	char **argv = sandbox_argv(&s, cmd, &err);
	cr_assert_not_null(argv, "%s", err.data);
	cr_assert_eq(host_asked, 1, "the host is asked once for the whole layout");
	cr_assert_str_eq(argv[0], "/usr/local/bin/bwrap");
	cr_assert_geq(find_mount(argv, "--symlink", "usr/lib", "/lib"), 0);
	cr_assert_eq(find_mount(argv, "--ro-bind", "/opt", "/opt"), -1, "none there");
	cr_assert_geq(find_mount(argv, "--bind", "/srv/app-releases/r1", "/srv/app-releases/r1"),
		      0);
	cr_assert_eq(find_mount(argv, "--symlink", "/srv/app-releases/r1", "/srv/app-blue"), -1,
		     "seen through /srv");
	cr_assert_geq(find_mount(argv, "--tmpfs", "/srv/home/.ssh", NULL), 0,
		      "the login user's .ssh is hidden");
	cr_assert_geq(find_mount(argv, "--ro-bind", "/dev/null", "/srv/app.env"), 0);
	cr_assert_geq(find_mount(argv, "--ro-bind", "/dev/null", "/etc/ssh/ssh_host_ed25519_key"),
		      0);
	cr_assert_geq(find_mount(argv, "--ro-bind", "/dev/null", "/etc/shadow"), 0);
	cr_assert_eq(find(argv, "/srv/other", 0), -1, "nothing there: nothing made");
	strvec_free(argv);
	const char *gone[] = {"/srv/app-green"};
	s.writable = gone;
	s.nwritable = 1;
	cr_assert_null(sandbox_argv(&s, cmd, &err));
	cr_assert(strstr(err.data, "/srv/app-green") && strstr(err.data, "root@10.0.0.2:22"), "%s",
		  err.data);
	buf_free(&err);
}

Test(sandbox, a_host_without_bwrap_says_so)
{
	struct sandbox_host h = {.name = "root@10.0.0.2:22", .look = host_look};
	struct buf why = BUF_INIT;
	cr_assert_eq(sandbox_probe_host(&h, &why), 0);
	cr_assert(strstr(why.data, "no bwrap on the login PATH there"), "%s", why.data);
	buf_free(&why);
}

Test(sandbox, an_unknown_user_refuses)
{
	const char *cmd[] = {"true", NULL};
	struct sandbox_spec s = {.bwrap = BWRAP, .user = "no-such-user-gitgate"};
	struct buf err = BUF_INIT;
	cr_assert_null(sandbox_argv(&s, cmd, &err));
	cr_assert(strstr(err.data, "no-such-user-gitgate"), "%s", err.data);
	buf_free(&err);
}

/* Runs sh -c script in the sandbox of s; returns its exit code, output in out. */
static int run_in(const struct sandbox_spec *s, const char *script, struct buf *out)
{
	const char *cmd[] = {"sh", "-c", script, NULL};
	struct buf err = BUF_INIT;
	char **argv = sandbox_argv(s, cmd, &err);
	cr_assert_not_null(argv, "%s", err.data);
	struct run_options o = {.argv = (const char *const *)argv,
				.out = {.kind = RUN_OUT_CAPTURE, .buf = out},
				.err = {.kind = RUN_OUT_CAPTURE, .buf = out},
				.limit_ms = 20000};
	struct run_result r;
	cr_assert_eq(run(&r, &o, &err), 0, "%s", err.data);
	strvec_free(argv);
	buf_free(&err);
	return r.code;
}

Test(sandbox, inside_only_the_writable_paths_are_written_and_the_hidden_ones_are_gone,
     .init = make_dir_tree, .fini = remove_dir_tree)
{
	if (access(BWRAP, X_OK) < 0)
		cr_skip_test("no bubblewrap at " BWRAP);
	mkdir(path_of("release"), 0755);
	mkdir(path_of("state"), 0755);
	put("state/history.jsonl", "{}\n");
	put("rules.ini", "[deploy]\n");
	const char *writable[] = {path_of("release")};
	const char *hidden[] = {path_of("state"), path_of("rules.ini")};
	struct sandbox_spec s = {.bwrap = BWRAP,
				 .network = 1,
				 .writable = writable,
				 .nwritable = 1,
				 .hidden = hidden,
				 .nhidden = 2,
				 .cwd = writable[0]};
	struct buf out = BUF_INIT, script = BUF_INIT;
	buf_printf(&script,
		   "echo built > out.txt && touch /tmp/scratch && test \"$HOME\" = /home/sandbox "
		   "&& touch \"$HOME/x\" && ! touch /usr/evil && ! cat %s && ! cat %s && test "
		   "\"$(ls %s)\" = release "
		   "&& ! cat /etc/shadow | grep -q : && test ! -e /proc/1/root/%s",
		   hidden[0], hidden[1], dir, hidden[1]);
	int code = run_in(&s, script.data, &out);
	cr_assert_eq(code, 0, "%s", out.data);
	cr_assert(strstr(out.data, "No such file or directory"), "%s", out.data);
	struct buf built = BUF_INIT;
	cr_assert_eq(buf_read_file(&built, path_of("release/out.txt")), 0);
	cr_assert_str_eq(built.data, "built\n");
	cr_assert_eq(access("/tmp/scratch", F_OK), -1, "its /tmp is its own");
	buf_free(&built);
	buf_free(&out);
	buf_free(&script);
}

Test(sandbox, a_user_runs_it_as_that_user_and_no_capability_is_left)
{
	if (access(BWRAP, X_OK) < 0)
		cr_skip_test("no bubblewrap at " BWRAP);
	struct sandbox_spec s = {.bwrap = BWRAP, .network = 1};
	struct buf out = BUF_INIT;
	cr_assert_eq(run_in(&s, "grep CapEff /proc/self/status", &out), 0);
	cr_assert(strstr(out.data, "0000000000000000"), "no capability: %s", out.data);
	if (geteuid() != 0)
		cr_skip_test("only root may switch users");
	buf_clear(&out);
	s.user = "nobody";
	struct buf why = BUF_INIT;
	if (!sandbox_probe(BWRAP, "nobody", &why))
		cr_skip_test("%s", why.data);
	cr_assert_eq(run_in(&s, "id -u; grep CapEff /proc/self/status", &out), 0, "%s", out.data);
	cr_assert(strstr(out.data, "65534\n"), "%s", out.data);
	buf_free(&out);
	buf_free(&why);
}

Test(sandbox, the_probe_says_why_there_is_none)
{
	struct buf why = BUF_INIT;
	cr_assert_eq(sandbox_probe("/nonexistent/bwrap", NULL, &why), 0);
	cr_assert(strstr(why.data, "no bubblewrap at /nonexistent/bwrap"), "%s", why.data);
	buf_free(&why);
}

Test(sandbox, the_admin_paths_are_every_env_file_key_and_other_root)
{
	struct rules r;
	struct buf errors = BUF_INIT;
	int rc =
	    load_rules_text(&r,
			    "[project argo]\npath = argo/\n"
			    "[environment staging]\n[environment production]\n"
			    "[deploy]\nssh_identity = /etc/gg/id\n"
			    "[target argo staging]\nroot = /srv/argo-st\nports = 8000 8001\n"
			    "env_file = /etc/argo-st.env\nrun = python3 app.py\n"
			    "health_url = http://127.0.0.1:$PORT/\nswitch = link /srv/argo-st\n"
			    "[target argo production]\nroot = /srv/argo-pr\nports = 8010 8011\n"
			    "env_file = /etc/argo-pr.env\nrun = python3 app.py\n"
			    "health_url = http://127.0.0.1:$PORT/\nswitch = link /srv/argo-pr\n",
			    &errors);
	cr_assert_eq(rc, 0, "%s", errors.data);
	struct strlist list = {0};
	sandbox_admin_paths(&list, &r, "/var/lib/gg", "/srv/git/argo.git", &r.deploy.targets[0]);
	cr_assert(strlist_has(&list, r.file));
	cr_assert(strlist_has(&list, "/var/lib/gg"));
	cr_assert(strlist_has(&list, "/srv/git/argo.git"));
	cr_assert(strlist_has(&list, "/etc/gg/id"));
	cr_assert(strlist_has(&list, "/etc/argo-st.env"), "its own env file too");
	cr_assert(strlist_has(&list, "/etc/argo-pr.env"));
	cr_assert(strlist_has(&list, "/srv/argo-pr-blue"));
	cr_assert(!strlist_has(&list, "/srv/argo-st-blue"), "its own root is its own");
	cr_assert(strlist_has(&list, "/srv/argo-st-run"), "but for its pid files");
	cr_assert(strlist_has(&list, "/srv/argo-st-releases"), "and its other releases");
	cr_assert_eq(r.deploy.sandbox, DEPLOY_SANDBOX_AUTO);
	cr_assert(r.deploy.sandbox_network);
	for (size_t i = 0; i < list.n; i++)
		free(list.items[i]);
	free(list.items);
	rules_free(&r);
	buf_free(&errors);
}

Test(sandbox, the_keys_are_checked_with_their_line)
{
	struct rules r;
	struct buf errors = BUF_INIT;
	int rc =
	    load_rules_text(&r, "[deploy]\nsandbox = maybe\nsandbox_writable = data/\n", &errors);
	cr_assert_eq(rc, -1);
	cr_assert(strstr(errors.data, ":2: ") && strstr(errors.data, "sandbox 'maybe'"), "%s",
		  errors.data);
	cr_assert(strstr(errors.data, ":3: ") && strstr(errors.data, "absolute path"), "%s",
		  errors.data);
	rules_free(&r);
	buf_free(&errors);
}

/* How many live processes are in process group pgid. */
static int group_size(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d))) {
		struct proc_info p;
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' &&
		    proc_read((pid_t)atoi(e->d_name), &p) == 0 && p.pgrp == pgid && p.state != 'Z')
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

Test(sandbox, slot_stop_gives_the_sandboxed_app_its_sigterm_and_ends_its_children,
     .init = make_dir_tree, .fini = remove_dir_tree)
{
	if (access(BWRAP, X_OK) < 0)
		cr_skip_test("no bubblewrap at " BWRAP);
	mkdir(path_of("app-blue"), 0755);
	mkdir(path_of("state"), 0755);
	struct slot_target t = {.root = path_of("app"),
				.host = host_local_open(NULL),
				.state_dir = xstrdup(path_of("state")),
				.grace_ms = 5000,
				.limit_ms = 5000};
	t.root = xstrdup(t.root);
	const char *writable[] = {path_of("app-blue")};
	const char *app[] = {"sh", "-c",
			     "sleep 300 & trap 'echo term > got-term; kill $!; exit 0' TERM; "
			     "echo up > up; wait",
			     NULL};
	struct sandbox_spec s = {.bwrap = BWRAP,
				 .detached = 1,
				 .writable = writable,
				 .nwritable = 1,
				 .cwd = writable[0]};
	struct buf err = BUF_INIT;
	char **argv = sandbox_argv(&s, app, &err);
	cr_assert_not_null(argv, "%s", err.data);
	struct slot_command cmd = {.argv = (const char *const *)argv};
	cr_assert_eq(slot_start(&t, SLOT_BLUE, &cmd, &err), 0, "%s", err.data);
	int running = 0;
	cr_assert_eq(slot_running(&t, SLOT_BLUE, &running, &err), 0, "%s", err.data);
	cr_assert(running);
	struct buf pid_text = BUF_INIT;
	cr_assert_eq(buf_read_file(&pid_text, path_of("state/blue.pid")), 0);
	pid_t pid = (pid_t)atoi(pid_text.data);
	buf_free(&pid_text);
	for (int i = 0; i < 500 && access(path_of("app-blue/up"), F_OK) < 0; i++)
		usleep(10000);
	cr_assert_eq(access(path_of("app-blue/up"), F_OK), 0, "the app did not start");
	/* bwrap, its init in the pid namespace, sh and sleep: one group. */
	cr_assert_geq(group_size(pid), 4, "%d", group_size(pid));
	cr_assert_eq(slot_stop(&t, SLOT_BLUE, &err), 0, "%s", err.data);
	cr_assert_eq(group_size(pid), 0, "nothing of the app is left");
	cr_assert_eq(access(path_of("app-blue/got-term"), F_OK), 0, "the app got SIGTERM itself");
	strvec_free(argv);
	free((char *)t.root);
	free((char *)t.state_dir);
	host_close(t.host);
	buf_free(&err);
}
