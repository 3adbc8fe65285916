/* release: a revision exported with its modes, symlinks and odd names,
 * submodules skipped, .deployignore and the server's list applied to what
 * the export wrote only, crafted trees that try to write outside refused,
 * and the time a 2,000-file tree takes. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <git2.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "release.h"
#include "helpers.h"
#include "run.h"

static char *tmp;
static git_repository *repo;

static void setup(void)
{
	tmp = xstrdup("/tmp/gitgate-release-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	git_libgit2_init();
}

static void teardown(void)
{
	git_repository_free(repo);
	repo = NULL;
	git_libgit2_shutdown();
	remove_tree(tmp);
	free(tmp);
}

TestSuite(release, .init = setup, .fini = teardown, .timeout = 60);

static char *path_in(const char *rel)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s/%s", tmp, rel);
	return buf_detach(&b);
}

/* Runs git in the work tree tmp/work; it must succeed. */
static void git(const char *const *args)
{
	const char *argv[16] = {"git",
				"-c",
				"user.name=T",
				"-c",
				"user.email=t@example.com",
				"-c",
				"protocol.file.allow=always"};
	size_t n = 7;
	while (*args)
		argv[n++] = *args++;
	char *work = path_in("work");
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct run_options opts = {.argv = argv,
				   .cwd = work,
				   .out = {.kind = RUN_OUT_CAPTURE, .buf = &out},
				   .err = {.kind = RUN_OUT_CAPTURE, .buf = &out},
				   .limit_ms = 30000};
	struct run_result r;
	cr_assert_eq(run(&r, &opts, &err), 0, "%s", err.data);
	cr_assert_eq(r.code, 0, "git %s: %s", argv[7], out.data);
	buf_free(&out);
	buf_free(&err);
	free(work);
}

/* Writes a file under tmp/work, making its folders. */
static void put(const char *rel, const char *content, mode_t mode)
{
	char *path = path_in("work");
	for (const char *p = rel;; p++) {
		if (*p == '/' || !*p) {
			struct buf dir = BUF_INIT;
			buf_printf(&dir, "%s/%.*s", path, (int)(p - rel), rel);
			if (*p)
				mkdir(dir.data, 0755);
			else {
				FILE *f = fopen(dir.data, "w");
				cr_assert_not_null(f, "%s", dir.data);
				fputs(content, f);
				fclose(f);
				chmod(dir.data, mode);
			}
			buf_free(&dir);
		}
		if (!*p)
			break;
	}
	free(path);
}

static void open_repo(void)
{
	char *work = path_in("work");
	cr_assert_eq(git_repository_open(&repo, work), 0);
	free(work);
}

static char *release_path(const struct release *rel, const char *name)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s/%s", rel->dir, name);
	return buf_detach(&b);
}

static int exists(const struct release *rel, const char *name)
{
	char *p = release_path(rel, name);
	struct stat st;
	int there = lstat(p, &st) == 0;
	free(p);
	return there;
}

static mode_t mode_of(const struct release *rel, const char *name)
{
	char *p = release_path(rel, name);
	struct stat st;
	cr_assert_eq(lstat(p, &st), 0, "%s", p);
	free(p);
	return st.st_mode;
}

static void assert_content(const struct release *rel, const char *name, const char *want)
{
	char *p = release_path(rel, name);
	struct buf b = BUF_INIT;
	cr_assert_eq(buf_read_file(&b, p), 0, "%s", p);
	cr_assert_str_eq(b.data, want);
	buf_free(&b);
	free(p);
}

/* How many entries a folder holds, "." and ".." aside. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static const char deployignore[] = "# local-only files\n"
				   "tests/\n"
				   "*.local.json\n"
				   "/scripts/local_*\n"
				   "\n"
				   "!keep.local.json\n"
				   "!secret.env\n"
				   "trailing.txt   \r\n";

/* The repository of the export tests: every kind of entry, odd names, a
 * submodule, a .deployignore. */
static void make_project(void)
{
	char *work = path_in("work"), *sub = path_in("sub");
	mkdir(work, 0755);
	mkdir(sub, 0755);
	const char *init[] = {"init", "-q", ".", NULL};
	git(init);
	static const struct {
		const char *path, *content;
		mode_t mode;
	} files[] = {
	    {"hello.txt", "hello\n", 0644},
	    {"bin/run.sh", "#!/bin/sh\necho run\n", 0755},
	    {"with space/a b.txt", "spaces\n", 0644},
	    {"new\nline", "newline\n", 0644},
	    {"-dash", "dash\n", 0644},
	    {"latin-\xe9\xff", "bytes\n", 0644},
	    {".deployignore", deployignore, 0644},
	    {"tests/test_a.py", "test\n", 0644},
	    {"src/tests/deep.py", "deep\n", 0644},
	    {"src/app.py", "app\n", 0644},
	    {"config.local.json", "{}\n", 0644},
	    {"keep.local.json", "{}\n", 0644},
	    {"secret.env", "KEY=1\n", 0644},
	    {"server.log", "log\n", 0644},
	    {"scripts/local_run.sh", "local\n", 0755},
	    {"scripts/deploy-prod.sh", "deploy\n", 0755},
	    {"lib/scripts/local_x.sh", "nested\n", 0644},
	    {"trailing.txt", "t\n", 0644},
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
		put(files[i].path, files[i].content, files[i].mode);
	struct buf link = BUF_INIT;
	buf_printf(&link, "%s/link", work);
	cr_assert_eq(symlink("hello.txt", link.data), 0);
	buf_free(&link);
	/* A submodule: a commit of another repository at vendor/lib. */
	const char *sub_init[] = {"-C", sub, "init", "-q", ".", NULL};
	git(sub_init);
	const char *sub_commit[] = {"-C", sub, "commit", "-q", "--allow-empty", "-m", "s", NULL};
	git(sub_commit);
	const char *add_sub[] = {"submodule", "add", "-q", sub, "vendor/lib", NULL};
	git(add_sub);
	const char *add[] = {"add", "-A", NULL};
	git(add);
	const char *commit[] = {"commit", "-q", "-m", "project", NULL};
	git(commit);
	free(work);
	free(sub);
	open_repo();
}

static void server_list(struct globlist *list)
{
	const char *why;
	cr_assert_eq(globlist_add(list, "*.log", &why), 0);
	cr_assert_eq(globlist_add(list, "secret.env", &why), 0);
}

static void export_ok(struct release *rel, const struct release_options *opts)
{
	struct buf err = BUF_INIT;
	cr_assert_eq(release_export(rel, repo, "HEAD", opts, &err), 0, "%s", err.data);
	buf_free(&err);
}

Test(release, writes_modes_symlinks_odd_names_and_skips_submodules)
{
	make_project();
	char *releases = path_in("releases");
	struct globlist server = {0};
	server_list(&server);
	struct release rel;
	struct release_options opts = {.releases_dir = releases, .exclude = &server};
	export_ok(&rel, &opts);

	regex_t id;
	cr_assert_eq(regcomp(&id, "^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{12}$", REG_EXTENDED), 0);
	cr_assert_eq(regexec(&id, rel.id, 0, NULL, 0), 0, "%s", rel.id);
	regfree(&id);
	cr_assert_eq(strncmp(rel.id + 17, rel.revision, 12), 0);
	struct buf want = BUF_INIT;
	buf_printf(&want, "%s/%s", releases, rel.id);
	cr_assert_str_eq(rel.dir, want.data);
	buf_free(&want);
	cr_assert_eq(entries(releases), 1, "only the release, no scratch folder");

	assert_content(&rel, "hello.txt", "hello\n");
	cr_assert_eq(mode_of(&rel, "hello.txt") & 07777, 0644);
	cr_assert_eq(mode_of(&rel, "bin/run.sh") & 07777, 0755);
	cr_assert_eq(mode_of(&rel, "bin") & 07777, 0755);
	cr_assert(S_ISLNK(mode_of(&rel, "link")));
	char *link = release_path(&rel, "link"), target[64];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	cr_assert_eq(n, 9);
	target[n] = '\0';
	cr_assert_str_eq(target, "hello.txt");
	free(link);
	assert_content(&rel, "with space/a b.txt", "spaces\n");
	assert_content(&rel, "new\nline", "newline\n");
	assert_content(&rel, "-dash", "dash\n");
	assert_content(&rel, "latin-\xe9\xff", "bytes\n");

	cr_assert_eq(rel.n_submodules, 1);
	cr_assert_str_eq(rel.submodules[0], "vendor/lib");
	cr_assert(!exists(&rel, "vendor/lib/.git"));

	/* .deployignore, with gitignore's reading of it */
	cr_assert(!exists(&rel, "tests"), "tests/ and the folder with it");
	cr_assert(!exists(&rel, "src/tests"), "tests/ matches at any depth");
	assert_content(&rel, "src/app.py", "app\n");
	cr_assert(!exists(&rel, "config.local.json"));
	cr_assert(exists(&rel, "keep.local.json"), "re-included by !");
	cr_assert(!exists(&rel, "scripts/local_run.sh"));
	cr_assert(exists(&rel, "scripts/deploy-prod.sh"));
	cr_assert(exists(&rel, "lib/scripts/local_x.sh"), "/scripts/ is anchored at the top");
	cr_assert(!exists(&rel, "trailing.txt"), "trailing spaces and CR dropped");
	cr_assert(exists(&rel, ".deployignore"));
	/* the server's list, which the pushed "!secret.env" cannot undo */
	cr_assert(!exists(&rel, "server.log"));
	cr_assert(!exists(&rel, "secret.env"));
	cr_assert_eq(rel.excluded, 7);

	release_free(&rel);
	globlist_free(&server);
	free(releases);
}

Test(release, deferred_exclusions_spare_what_the_build_made)
{
	make_project();
	char *releases = path_in("releases"), *outside = path_in("outside");
	struct globlist server = {0};
	server_list(&server);
	struct release rel;
	struct release_options opts = {
	    .releases_dir = releases, .exclude = &server, .defer_exclusions = 1};
	export_ok(&rel, &opts);
	cr_assert(exists(&rel, "tests/test_a.py"), "the tests run in the export");
	cr_assert(exists(&rel, "server.log"));

	/* The build: new files that patterns name, and a folder of the export
	 * replaced by a symlink to a folder outside. */
	char *made = release_path(&rel, "node_modules"), *log = release_path(&rel, "build.log");
	cr_assert_eq(mkdir(made, 0755), 0);
	FILE *f = fopen(log, "w");
	cr_assert_not_null(f);
	fclose(f);
	char *made_test = release_path(&rel, "tests/generated.txt");
	f = fopen(made_test, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_eq(mkdir(outside, 0755), 0);
	char *deep = path_in("outside/deep.py");
	f = fopen(deep, "w");
	cr_assert_not_null(f);
	fclose(f);
	char *src_tests = release_path(&rel, "src/tests"),
	     *src_deep = release_path(&rel, "src/tests/deep.py");
	cr_assert_eq(unlink(src_deep), 0);
	cr_assert_eq(rmdir(src_tests), 0);
	cr_assert_eq(symlink(outside, src_tests), 0);

	struct buf err = BUF_INIT;
	cr_assert_eq(release_apply_exclusions(&rel, &server, &err), 0, "%s", err.data);
	cr_assert(!exists(&rel, "tests/test_a.py"));
	cr_assert(exists(&rel, "tests/generated.txt"), "made by the build: stays");
	cr_assert(exists(&rel, "build.log"), "made by the build, though *.log");
	cr_assert(exists(&rel, "node_modules"));
	cr_assert(!exists(&rel, "server.log"));
	cr_assert_eq(access(deep, F_OK), 0, "the symlinked folder is not followed");
	size_t removed = rel.excluded;
	cr_assert_eq(release_apply_exclusions(&rel, &server, &err), 0, "%s", err.data);
	cr_assert_eq(rel.excluded, removed, "a second pass finds nothing more");

	buf_free(&err);
	release_free(&rel);
	globlist_free(&server);
	free(made);
	free(log);
	free(made_test);
	free(deep);
	free(src_tests);
	free(src_deep);
	free(outside);
	free(releases);
}

/* ---- crafted trees ------------------------------------------------------ */

static git_oid blob(const char *content)
{
	git_oid oid;
	cr_assert_eq(git_blob_create_from_buffer(&oid, repo, content, strlen(content)), 0);
	return oid;
}

/* Writes an object as it is, with none of libgit2's checks. */
static git_oid write_raw(const struct buf *raw, git_object_t type)
{
	git_odb *odb;
	git_oid oid;
	cr_assert_eq(git_repository_odb(&odb, repo), 0);
	cr_assert_eq(git_odb_write(&oid, odb, raw->data, raw->len, type), 0);
	git_odb_free(odb);
	return oid;
}

/* A tree object written raw, as git's own parser would never let a tree
 * be built: entries given as "MODE NAME" with their objects. */
static git_oid raw_tree(size_t n, const char *const *entries, const git_oid *oids)
{
	struct buf raw = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		buf_add(&raw, entries[i], strlen(entries[i]) + 1);
		buf_add(&raw, oids[i].id, GIT_OID_RAWSZ);
	}
	git_oid oid = write_raw(&raw, GIT_OBJECT_TREE);
	buf_free(&raw);
	return oid;
}

static void commit_raw(const git_oid *tree, char hex[GIT_OID_HEXSZ + 1])
{
	struct buf raw = BUF_INIT;
	char tree_hex[GIT_OID_HEXSZ + 1];
	git_oid_tostr(tree_hex, sizeof(tree_hex), tree);
	buf_printf(&raw,
		   "tree %s\nauthor A <a@example.com> 0 +0000\ncommitter A <a@example.com> 0 "
		   "+0000\n\nhostile\n",
		   tree_hex);
	git_oid oid = write_raw(&raw, GIT_OBJECT_COMMIT);
	buf_free(&raw);
	git_oid_tostr(hex, GIT_OID_HEXSZ + 1, &oid);
}

static void empty_repo(void)
{
	char *work = path_in("work");
	cr_assert_eq(git_repository_init(&repo, work, 1), 0);
	free(work);
}

/* The export of commit hex fails saying `why`, and leaves nothing in
 * releases nor in outside. */
static void refused(const char *hex, const char *why)
{
	char *releases = path_in("releases"), *outside = path_in("outside");
	struct release rel;
	struct release_options opts = {.releases_dir = releases};
	struct buf err = BUF_INIT;
	cr_assert_eq(release_export(&rel, repo, hex, &opts, &err), -1);
	cr_assert_not_null(strstr(err.data, why), "%s", err.data);
	cr_assert_eq(entries(releases), 0, "nothing left behind");
	cr_assert_eq(entries(outside), 0, "nothing written outside: %s", err.data);
	buf_free(&err);
	free(releases);
	free(outside);
}

Test(release, a_symlinked_folder_and_a_file_below_it_write_nothing_outside)
{
	empty_repo();
	char *outside = path_in("outside");
	cr_assert_eq(mkdir(outside, 0755), 0);
	git_oid link = blob(outside), passwd = blob("root::0:0::/root:/bin/sh\n");
	const char *inner_names[] = {"100644 passwd"};
	git_oid inner = raw_tree(1, inner_names, &passwd);

	/* `a -> OUTSIDE` and a folder `a` holding passwd, in one tree */
	const char *same_name[] = {"120000 a", "40000 a"};
	git_oid same_oids[] = {link, inner};
	git_oid tree = raw_tree(2, same_name, same_oids);
	char hex[GIT_OID_HEXSZ + 1];
	commit_raw(&tree, hex);
	refused(hex, "\"a/\"");

	/* `a -> OUTSIDE` and a name with a slash in it */
	const char *slashed[] = {"120000 a", "100644 a/passwd"};
	git_oid slashed_oids[] = {link, passwd};
	tree = raw_tree(2, slashed, slashed_oids);
	commit_raw(&tree, hex);
	refused(hex, "holds a \"/\"");

	/* `..` and `.git` */
	const char *dotdot[] = {"40000 .."};
	tree = raw_tree(1, dotdot, &inner);
	commit_raw(&tree, hex);
	refused(hex, "not a name");
	const char *dotgit[] = {"40000 .GIT"};
	tree = raw_tree(1, dotgit, &inner);
	commit_raw(&tree, hex);
	refused(hex, ".git folder");
	free(outside);
}

Test(release, a_malformed_deployignore_refuses_the_export)
{
	empty_repo();
	char *outside = path_in("outside");
	cr_assert_eq(mkdir(outside, 0755), 0);
	git_oid ignore = blob("ok/\n[unclosed\n");
	const char *names[] = {"100644 .deployignore"};
	git_oid tree = raw_tree(1, names, &ignore);
	char hex[GIT_OID_HEXSZ + 1];
	commit_raw(&tree, hex);
	char *releases = path_in("releases");
	mkdir(releases, 0755);
	refused(hex, ".deployignore:2: unclosed '['");
	free(releases);
	free(outside);
}

/* ---- time --------------------------------------------------------------- */

static double seconds(long s, long us)
{
	return (double)s + (double)us / 1e6;
}

/* Seconds that run(argv) takes, in the work tree. */
static double timed_run(const char *const *argv)
{
	char *work = path_in("work");
	struct run_options opts = {.argv = argv, .cwd = work, .limit_ms = 60000};
	struct run_result r;
	struct buf err = BUF_INIT;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(run(&r, &opts, &err), 0, "%s", err.data);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(r.code, 0, "%s", argv[0]);
	buf_free(&err);
	free(work);
	return seconds(t1.tv_sec - t0.tv_sec, (t1.tv_nsec - t0.tv_nsec) / 1000);
}

Test(release, a_2000_file_tree_exports_in_well_under_a_second)
{
	char *work = path_in("work");
	mkdir(work, 0755);
	const char *init[] = {"init", "-q", ".", NULL};
	git(init);
	for (int d = 0; d < 40; d++) {
		for (int f = 0; f < 50; f++) {
			char name[64], content[128];
			snprintf(name, sizeof(name), "pkg%02d/sub/file%02d.js", d, f);
			snprintf(content, sizeof(content),
				 "export const v%d_%d = %d; // some content to write\n", d, f,
				 d * f);
			put(name, content, f % 10 ? 0644 : 0755);
		}
	}
	const char *add[] = {"add", "-A", NULL};
	git(add);
	const char *commit[] = {"commit", "-q", "-m", "many", NULL};
	git(commit);
	open_repo();
	char *releases = path_in("releases");
	struct globlist server = {0};
	server_list(&server);
	struct release_options opts = {.releases_dir = releases, .exclude = &server};
	struct release rel;
	struct timespec t0, t1;
	struct rusage u0, u1;
	getrusage(RUSAGE_SELF, &u0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	export_ok(&rel, &opts);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &u1);
	double wall = seconds(t1.tv_sec - t0.tv_sec, (t1.tv_nsec - t0.tv_nsec) / 1000);
	double user = seconds(u1.ru_utime.tv_sec - u0.ru_utime.tv_sec,
			      u1.ru_utime.tv_usec - u0.ru_utime.tv_usec);
	cr_assert_eq(rel.n_files, 2000);

	/* git writing the same files, synced the same way (syncfs), on the
	 * same machine at the same moment: the yardstick when the machine is
	 * busy, since making 2,000 inodes and syncing are the kernel's time. */
	char *copy = path_in("git-copy");
	mkdir(copy, 0755);
	struct buf tree_opt = BUF_INIT;
	buf_printf(&tree_opt, "--work-tree=%s", copy);
	const char *checkout[] = {"git", tree_opt.data, "checkout", "-f", "HEAD", "--", ".", NULL};
	const char *sync[] = {"sync", "-f", copy, NULL};
	double by_git = timed_run(checkout) + timed_run(sync);
	fprintf(stderr,
		"release: exported %zu files in %.3f s (%.3f s of it in gitgate's code); git "
		"checkout + syncfs: %.3f s\n",
		rel.n_files, wall, user, by_git);
	/* The kernel's share swings from run to run on a busy machine (ext4
	 * looks for a free inode among recently deleted ones): the margin
	 * over git is wide, and gitgate's own share is held tight. */
	cr_assert(wall < 1.0 || wall < 3 * by_git + 0.5, "%.3f s, git %.3f s", wall, by_git);
	cr_assert_lt(user, 0.5, "%.3f s in user space", user);
	buf_free(&tree_opt);
	release_free(&rel);
	globlist_free(&server);
	free(copy);
	free(releases);
	free(work);
}

Test(release, pruning_keeps_the_newest_and_what_a_slot_holds)
{
	char dir[] = "/tmp/gitgate-prune-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	const char *names[] = {"20250101T000000Z-1", "20250102T000000Z-2", "20250103T000000Z-3",
			       "20250104T000000Z-4", "20250105T000000Z-5", "20250106T000000Z-6"};
	struct buf path = BUF_INIT, err = BUF_INIT;
	for (size_t i = 0; i < 6; i++) {
		buf_clear(&path);
		buf_printf(&path, "%s/%s", dir, names[i]);
		cr_assert_eq(mkdir(path.data, 0755), 0);
		buf_adds(&path, "/file");
		FILE *f = fopen(path.data, "w");
		fputs("x", f);
		fclose(f);
	}
	const char *in_use[] = {names[0], NULL};
	size_t removed;
	cr_assert_eq(release_prune(dir, 3, in_use, 2, &removed, &err), 0, "%s", err.data);
	cr_assert_eq(removed, 3);
	for (size_t i = 0; i < 6; i++) {
		buf_clear(&path);
		buf_printf(&path, "%s/%s", dir, names[i]);
		int kept = i == 0 || i >= 4;
		cr_assert_eq(access(path.data, F_OK) == 0, kept, "%s", names[i]);
	}
	cr_assert_eq(release_prune(dir, 3, in_use, 2, &removed, &err), 0);
	cr_assert_eq(removed, 0, "three are left");
	/* The pruned were set aside, hidden; the sweep removes them. */
	size_t hidden = 0;
	DIR *d = opendir(dir);
	for (struct dirent *e; (e = readdir(d));)
		hidden += !strncmp(e->d_name, ".pruned-", 8);
	closedir(d);
	cr_assert_eq(hidden, 3);
	release_sweep(dir);
	d = opendir(dir);
	for (struct dirent *e; (e = readdir(d));)
		cr_assert(e->d_name[0] != '.' || !strcmp(e->d_name, ".") ||
			      !strcmp(e->d_name, ".."),
			  "%s is left", e->d_name);
	closedir(d);
	for (size_t i = 0; i < 6; i++) {
		buf_clear(&path);
		buf_printf(&path, "%s/%s", dir, names[i]);
		buf_adds(&path, "/file");
		unlink(path.data);
		path.len -= 5;
		path.data[path.len] = '\0';
		rmdir(path.data);
	}
	rmdir(dir);
	buf_free(&path);
	buf_free(&err);
}

/* An export killed mid-way leaves its hidden scratch folder; the next
 * export (the one export of the target at a time) removes it. */
Test(release, the_scratch_of_a_killed_export_is_removed_by_the_next)
{
	make_project();
	char *releases = path_in("releases"), *stale = path_in("releases/.export-dead01"),
	     *inside = path_in("releases/.export-dead01/half.py");
	cr_assert_eq(mkdir(releases, 0755), 0);
	cr_assert_eq(mkdir(stale, 0755), 0);
	FILE *f = fopen(inside, "w");
	cr_assert_not_null(f);
	fclose(f);
	struct release rel;
	struct release_options opts = {.releases_dir = releases};
	export_ok(&rel, &opts);
	struct stat st;
	cr_assert_neq(lstat(stale, &st), 0, "the stale scratch folder is still there");
	cr_assert_eq(lstat(rel.dir, &st), 0, "the new release is missing");
	release_free(&rel);
	free(releases);
	free(stale);
	free(inside);
}

/* A pushed .deployignore is the pusher's: its exclusion pass stops at the
 * release's time limit and says so (here 1 ms, against 4,000 wildcard
 * patterns over 600 files: about a second of matching). */
Test(release, the_exclusion_pass_stops_at_its_time_limit)
{
	char *work = path_in("work");
	mkdir(work, 0755);
	const char *init[] = {"init", "-q", ".", NULL};
	git(init);
	for (int f = 0; f < 600; f++) {
		char name[64];
		snprintf(name, sizeof(name), "pkg%02d/deep/er/file%03d.js", f % 20, f);
		put(name, "x\n", 0644);
	}
	struct buf ignore = BUF_INIT;
	for (int i = 0; i < 4000; i++)
		buf_printf(&ignore, "q*w*e%d\n", i);
	put(".deployignore", ignore.data, 0644);
	const char *add[] = {"add", "-A", NULL};
	git(add);
	const char *commit[] = {"commit", "-q", "-m", "many patterns", NULL};
	git(commit);
	open_repo();
	char *releases = path_in("releases");
	struct release_options opts = {
	    .releases_dir = releases, .defer_exclusions = 1, .limit_ms = 1};
	struct release rel;
	export_ok(&rel, &opts);
	struct buf err = BUF_INIT;
	cr_assert_eq(release_apply_exclusions(&rel, NULL, &err), -1);
	cr_assert_not_null(strstr(err.data, "took longer than"), "%s", err.data);
	release_free(&rel);
	buf_free(&ignore);
	buf_free(&err);
	free(releases);
	free(work);
}
