/* release_delta: what makes a copy of one release folder into another. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "release_delta.h"
#include "helpers.h"
#include "run.h"

static char *tmp;

static void setup(void)
{
	tmp = xstrdup("/tmp/gitgate-delta-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void teardown(void)
{
	remove_tree(tmp);
	free(tmp);
}

TestSuite(release_delta, .init = setup, .fini = teardown, .timeout = 30);

/* tmp/SIDE/PATH */
static const char *at(const char *side, const char *path)
{
	static char b[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(b[k], sizeof(b[k]), "%s/%s%s%s", tmp, side, *path ? "/" : "", path);
	return b[k];
}

/* Writes PATH with text in both sides (base "b" and the new "n") or one. */
static void put(const char *side, const char *path, const char *text)
{
	FILE *f = fopen(at(side, path), "w");
	cr_assert_not_null(f, "%s", at(side, path));
	fputs(text, f);
	fclose(f);
}

static void both(const char *path, const char *text)
{
	put("b", path, text);
	put("n", path, text);
}

static void folder(const char *side, const char *path)
{
	cr_assert_eq(mkdir(at(side, path), 0755), 0, "%s", at(side, path));
}

/* The delta from tmp/b to tmp/n. */
static void delta(struct release_delta *d)
{
	struct buf err = BUF_INIT;
	cr_assert_eq(release_delta_make(d, at("n", ""), at("b", ""), &err), 0, "%s", err.data);
	buf_free(&err);
}

/* The strvec's words joined by spaces. */
static const char *joined(const struct strvec *v)
{
	static char b[2][1024];
	static int k;
	k = !k;
	b[k][0] = '\0';
	for (size_t i = 0; i < v->n; i++)
		snprintf(b[k] + strlen(b[k]), sizeof(b[k]) - strlen(b[k]), "%s%s", i ? " " : "",
			 v->v[i]);
	return b[k];
}

static void releases(void)
{
	folder("b", "");
	folder("n", "");
	folder("b", "src");
	folder("n", "src");
	both("src/a.py", "print('a')\n");
	both("src/b.py", "print('b')\n");
	both("README", "hello\n");
}

Test(release_delta, the_same_folders_differ_in_nothing)
{
	releases();
	cr_assert_eq(symlink("src/a.py", at("b", "link")), 0);
	cr_assert_eq(symlink("src/a.py", at("n", "link")), 0);
	struct release_delta d;
	delta(&d);
	cr_assert_eq(d.send.n, 0, "%s", joined(&d.send));
	cr_assert_eq(d.gone.n, 0, "%s", joined(&d.gone));
	cr_assert_eq(d.files, 4);
	cr_assert_eq(d.changed, 0);
	cr_assert_str_eq(d.digest, d.base_digest);
	cr_assert_eq(strlen(d.digest), 16);
	release_delta_free(&d);
}

/* Bytes, sizes, modes and targets are compared; a new folder is sent alone
 * with what it holds, a removed one is gone whole (what it held is not
 * named again). */
Test(release_delta, what_differs_is_sent_and_what_is_gone_is_removed)
{
	releases();
	put("n", "src/a.py", "print('A')\n"); /* same size, other bytes */
	put("n", "README", "hello, world\n");
	cr_assert_eq(chmod(at("n", "src/b.py"), 0755), 0);
	cr_assert_eq(symlink("src/a.py", at("b", "link")), 0);
	cr_assert_eq(symlink("src/b.py", at("n", "link")), 0);
	folder("n", "new");
	put("n", "new/x", "x\n");
	folder("n", "empty");
	folder("b", "old");
	folder("b", "old/deep");
	put("b", "old/deep/y", "y\n");
	put("b", "gone.txt", "bye\n");
	struct release_delta d;
	delta(&d);
	cr_assert_str_eq(joined(&d.send),
			 "./README ./empty ./link ./new ./new/x ./src/a.py ./src/b.py");
	cr_assert_str_eq(joined(&d.gone), "gone.txt old");
	cr_assert_eq(d.files, 5);
	cr_assert_eq(d.changed, 5);
	cr_assert_eq(d.bytes, strlen("hello, world\n") + 2 * strlen("print('A')\n") + 2);
	cr_assert_str_neq(d.digest, d.base_digest);
	release_delta_free(&d);
}

/* An entry that changed kind is removed, then written: a folder over a
 * file, a file over a folder (whose files are not named), a folder over a
 * symlink (nothing is followed through it). */
Test(release_delta, an_entry_that_changed_kind_is_removed_then_written)
{
	releases();
	put("b", "was-file", "f\n");
	folder("n", "was-file");
	put("n", "was-file/inside", "i\n");
	folder("b", "was-dir");
	put("b", "was-dir/inside", "i\n");
	put("n", "was-dir", "now a file\n");
	cr_assert_eq(symlink("/etc", at("b", "was-link")), 0);
	folder("n", "was-link");
	put("n", "was-link/passwd", "p\n");
	struct release_delta d;
	delta(&d);
	cr_assert_str_eq(joined(&d.gone), "was-dir was-file was-link");
	cr_assert_str_eq(joined(&d.send),
			 "./was-dir ./was-file ./was-file/inside ./was-link ./was-link/passwd");
	release_delta_free(&d);
}

/* A folder comes before what it holds, and before a sibling whose name
 * sorts after it only by what follows its own ("a" < "a/x" < "a.b"). */
Test(release_delta, a_folder_comes_before_what_it_holds)
{
	folder("b", "");
	folder("n", "");
	folder("n", "a");
	put("n", "a/x", "x\n");
	put("n", "a.b", "y\n");
	put("b", "a.b", "z\n");
	folder("b", "a");
	struct release_delta d;
	delta(&d);
	cr_assert_str_eq(joined(&d.send), "./a/x ./a.b");
	cr_assert_eq(d.gone.n, 0);
	release_delta_free(&d);
}

/* Without a base: the digest alone, which any change of the listing moves. */
Test(release_delta, the_digest_names_the_listing)
{
	releases();
	struct release_delta d;
	struct buf err = BUF_INIT;
	cr_assert_eq(release_delta_make(&d, at("n", ""), NULL, &err), 0, "%s", err.data);
	char before[17];
	strcpy(before, d.digest);
	cr_assert_eq(d.send.n + d.gone.n, 0);
	cr_assert_eq(d.files, 3);
	release_delta_free(&d);
	cr_assert_eq(chmod(at("n", "README"), 0600), 0);
	cr_assert_eq(release_delta_make(&d, at("n", ""), NULL, &err), 0, "%s", err.data);
	cr_assert_str_neq(d.digest, before);
	release_delta_free(&d);
	cr_assert_eq(release_delta_make(&d, at("missing", ""), NULL, &err), -1);
	cr_assert(strstr(err.data, "missing"), "%s", err.data);
	buf_free(&err);
}

/* Many files of one size (their bytes compared on two threads, each half
 * of them): exactly those whose bytes differ are sent, in either half,
 * whether the difference is in a file's first bytes or beyond the first
 * read of a large one; empty files are the same. */
Test(release_delta, many_files_alike_in_size_are_told_apart_by_their_bytes)
{
	releases();
	char name[64], text[64];
	for (int i = 0; i < 400; i++) {
		snprintf(name, sizeof(name), "src/m%03d.txt", i);
		snprintf(text, sizeof(text), "module %03d\n", i);
		put("b", name, text);
		if (i == 7 || i == 250 || i == 399)
			text[0] = 'M';
		put("n", name, text);
	}
	both("empty.txt", "");
	/* 200 KiB alike but for one byte past the first 64 KiB read. */
	char *big = xmalloc(200 * 1024 + 1);
	memset(big, 'x', 200 * 1024);
	big[200 * 1024] = '\0';
	put("b", "big.bin", big);
	big[100 * 1024] = 'y';
	put("n", "big.bin", big);
	free(big);
	struct release_delta d;
	delta(&d);
	cr_assert_str_eq(joined(&d.send), "./big.bin ./src/m007.txt ./src/m250.txt ./src/m399.txt");
	cr_assert_eq(d.gone.n, 0, "%s", joined(&d.gone));
	cr_assert_eq(d.changed, 4);
	cr_assert_eq(d.files, 3 + 400 + 2);
	release_delta_free(&d);
}
