/* state: appends whole or not at all (a full disk included), atomic
 * replacement, errors for directories that cannot be written, and locks
 * that say who holds them. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "run.h"
#include "state.h"

static char *dir;
static int dropped;

static void make_temp_dir(void)
{
	dir = xstrdup("/tmp/gitgate-state-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	chmod(dir, 0755);
}

static void remove_temp_dir(void)
{
	if (dropped)
		cr_assert_eq(setresuid(0, 0, 0), 0);
	remove_tree(dir);
	free(dir);
}

TestSuite(state, .init = make_temp_dir, .fini = remove_temp_dir);

static char *path_in(const char *name)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s/%s", dir, name);
	return buf_detach(&b);
}

static char *content(const char *path)
{
	struct buf b = BUF_INIT;
	cr_assert_eq(buf_read_file(&b, path), 0, "cannot read %s", path);
	return buf_detach(&b);
}

static void append(const char *path, const char *line)
{
	struct buf err = BUF_INIT;
	cr_assert_eq(state_append_jsonl(path, line, &err), 0, "%s", err.data);
	buf_free(&err);
}

/* Runs as nobody until the test ends, so that permissions bind even for
 * root; the saved id lets the clean-up take root back. */
static void become_nobody(void)
{
	if (geteuid() != 0)
		return;
	cr_assert_eq(setresuid(65534, 65534, 0), 0);
	dropped = 1;
}

Test(state, the_state_dir_is_gitgate_in_the_git_dir)
{
	struct buf b = BUF_INIT;
	state_dir_path(&b, "/srv/repo.git/");
	cr_assert_str_eq(b.data, "/srv/repo.git/gitgate");
	state_dir_path(&b, ".");
	cr_assert_str_eq(b.data, "./gitgate");
	buf_free(&b);
}

Test(state, append_creates_the_directory_and_the_file_and_keeps_lines_whole)
{
	char *path = path_in("a/b/pushes.jsonl");
	append(path, "{\"n\":1}");
	append(path, "{\"n\":2}");
	char *text = content(path);
	cr_assert_str_eq(text, "{\"n\":1}\n{\"n\":2}\n");
	free(text);
	free(path);
}

/* What lines_backward handed over: each line and a "|" after it. */
struct seen {
	struct buf lines;
	size_t n, stop_after;
};

static int collect(const char *line, size_t len, void *arg)
{
	struct seen *s = arg;
	buf_add(&s->lines, line, len);
	buf_addc(&s->lines, '|');
	return ++s->n != s->stop_after;
}

Test(state, lines_come_back_last_first_across_blocks_and_stop_when_asked)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/lines", dir);
	/* 3,000 numbered lines, one of 200,000 bytes (more than a block), two
	 * empty ones, and no newline at the end. */
	struct buf text = BUF_INIT, want = BUF_INIT, ignored = BUF_INIT;
	for (int i = 0; i < 3000; i++) {
		struct buf line = BUF_INIT;
		if (i == 1500)
			for (int k = 0; k < 20000; k++)
				buf_adds(&line, "0123456789");
		else
			buf_printf(&line, "line %d", i);
		buf_printf(&text, "%s%s", line.data, i == 2999 ? "" : "\n");
		if (i == 10)
			buf_adds(&text, "\n\n");
		struct buf before = BUF_INIT;
		buf_printf(&before, "%s|%s", line.data, want.data ? want.data : "");
		buf_free(&want);
		want = before;
		buf_free(&line);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_eq(state_write_all(fd, text.data, text.len), 0);
	close(fd);
	struct seen all = {.lines = BUF_INIT};
	cr_assert_eq(state_lines_backward(path, collect, &all, &ignored), 0);
	cr_assert_eq(all.n, 3000);
	cr_assert(all.lines.len == want.len && !memcmp(all.lines.data, want.data, want.len),
		  "the lines differ from the file's, last first");
	struct seen two = {.lines = BUF_INIT, .stop_after = 2};
	cr_assert_eq(state_lines_backward(path, collect, &two, &ignored), 0);
	cr_assert_str_eq(two.lines.data, "line 2999|line 2998|");
	struct seen none = {.lines = BUF_INIT};
	snprintf(path, sizeof(path), "%s/missing", dir);
	cr_assert_eq(state_lines_backward(path, collect, &none, &ignored), 0);
	cr_assert_eq(none.n, 0);
	buf_free(&text);
	buf_free(&want);
	buf_free(&ignored);
	buf_free(&all.lines);
	buf_free(&two.lines);
}

Test(state, a_record_of_more_than_one_line_is_refused)
{
	char *path = path_in("log.jsonl");
	append(path, "{}");
	struct buf err = BUF_INIT;
	cr_assert_eq(state_append_jsonl(path, "{}\n{}", &err), -1);
	cr_assert_eq(state_append_jsonl(path, "", &err), -1);
	char *text = content(path);
	cr_assert_str_eq(text, "{}\n");
	free(text);
	free(path);
	buf_free(&err);
}

Test(state, a_full_disk_leaves_the_file_as_it_was_and_the_next_line_whole)
{
	char *path = path_in("audit.jsonl");
	append(path, "{\"first\":true}");
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	/* The file may grow by 10 bytes: the write stops part way, then EFBIG. */
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old, small;
	getrlimit(RLIMIT_FSIZE, &old);
	small = old;
	small.rlim_cur = (rlim_t)st.st_size + 10;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	struct buf err = BUF_INIT;
	cr_assert_eq(state_append_jsonl(path, "{\"second\":\"longer than ten bytes\"}", &err), -1);
	cr_assert_not_null(strstr(err.data, "File too large"), "%s", err.data);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	char *text = content(path);
	cr_assert_str_eq(text, "{\"first\":true}\n");
	free(text);
	append(path, "{\"third\":true}");
	text = content(path);
	cr_assert_str_eq(text, "{\"first\":true}\n{\"third\":true}\n");
	free(text);
	free(path);
	buf_free(&err);
}

Test(state, a_directory_that_cannot_be_written_is_an_error)
{
	char *ro = path_in("read-only");
	cr_assert_eq(mkdir(ro, 0555), 0);
	become_nobody();
	char *path = path_in("read-only/pushes.jsonl");
	struct buf err = BUF_INIT;
	cr_assert_eq(state_append_jsonl(path, "{}", &err), -1);
	cr_assert_not_null(strstr(err.data, "Permission denied"), "%s", err.data);
	buf_clear(&err);
	char *below = path_in("read-only/gitgate/pushes.jsonl");
	cr_assert_eq(state_append_jsonl(below, "{}", &err), -1);
	cr_assert_not_null(strstr(err.data, "cannot create the directory"), "%s", err.data);
	buf_clear(&err);
	cr_assert_eq(state_replace(path, "x", 1, &err), -1);
	free(ro);
	free(path);
	free(below);
	buf_free(&err);
}

Test(state, a_file_in_the_way_of_the_directory_is_an_error)
{
	char *file = path_in("gitgate");
	append(file, "{}");
	char *path = path_in("gitgate/pushes.jsonl");
	struct buf err = BUF_INIT;
	cr_assert_eq(state_append_jsonl(path, "{}", &err), -1);
	cr_assert_not_null(strstr(err.data, "cannot create the directory"), "%s", err.data);
	free(file);
	free(path);
	buf_free(&err);
}

static size_t entries(const char *d)
{
	DIR *dh = opendir(d);
	size_t n = 0;
	for (struct dirent *e; (e = readdir(dh));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(dh);
	return n;
}

Test(state, replace_swaps_the_whole_file_at_once)
{
	char *path = path_in("slots/argo-production");
	struct buf err = BUF_INIT;
	cr_assert_eq(state_replace(path, "live=blue\n", 10, &err), 0, "%s", err.data);
	int reader = open(path, O_RDONLY);
	cr_assert_geq(reader, 0);
	cr_assert_eq(state_replace(path, "live=green\n", 11, &err), 0, "%s", err.data);
	char *text = content(path);
	cr_assert_str_eq(text, "live=green\n");
	free(text);
	/* A reader that opened the old file still sees it whole: a new file
	 * took its name, nothing was written over it. */
	char old[32] = {0};
	cr_assert_eq(read(reader, old, sizeof(old) - 1), 10);
	cr_assert_str_eq(old, "live=blue\n");
	close(reader);
	char *slots = path_in("slots");
	cr_assert_eq(entries(slots), 1, "a temporary file was left behind");
	free(slots);
	free(path);
	buf_free(&err);
}

Test(state, a_replace_that_fails_keeps_the_old_file)
{
	char *path = path_in("slot");
	struct buf err = BUF_INIT;
	cr_assert_eq(state_replace(path, "old\n", 4, &err), 0, "%s", err.data);
	chmod(dir, 0555);
	become_nobody();
	cr_assert_eq(state_replace(path, "new\n", 4, &err), -1);
	char *text = content(path);
	cr_assert_str_eq(text, "old\n");
	free(text);
	free(path);
	buf_free(&err);
}

static const struct state_holder alice = {.pid = 42,
					  .user = "alice",
					  .revision = "0123456789abcdef0123456789abcdef01234567",
					  .since = 1700000000};

Test(state, a_lock_says_who_holds_it)
{
	char *path = path_in("locks/argo-production.lock");
	struct state_lock lock;
	struct buf err = BUF_INIT;
	cr_assert_eq(state_lock(&lock, path, &alice, 0, &err), 0, "%s", err.data);
	cr_assert(fcntl(lock.fd, F_GETFD) & FD_CLOEXEC, "the lock would outlive exec");
	struct state_holder h;
	cr_assert_eq(state_lock_holder(&h, path, &err), 1, "%s", err.data);
	cr_assert_eq(h.pid, 42);
	cr_assert_str_eq(h.user, "alice");
	cr_assert_str_eq(h.revision, alice.revision);
	cr_assert_eq(h.since, alice.since);
	struct buf said = BUF_INIT;
	state_holder_describe(&said, &h);
	cr_assert(!strncmp(said.data, "alice (rev 0123456789ab, since ", 31), "%s", said.data);
	cr_assert_not_null(strstr(said.data, ", pid 42)"), "%s", said.data);
	state_holder_free(&h);
	state_unlock(&lock);
	cr_assert_eq(state_lock_holder(&h, path, &err), 0);
	free(path);
	buf_free(&err);
	buf_free(&said);
}

Test(state, a_second_lock_waits_then_gives_up_naming_the_holder)
{
	char *path = path_in("deploy.lock");
	struct state_lock first, second;
	struct buf err = BUF_INIT;
	cr_assert_eq(state_lock(&first, path, &alice, 0, &err), 0, "%s", err.data);
	struct state_holder bob = {.pid = getpid(), .user = "bob", .since = time(NULL)};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(state_lock(&second, path, &bob, 1, &err), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_assert_geq(waited, 1.0, "waited %.2f s", waited);
	cr_assert_lt(waited, 3.0, "waited %.2f s", waited);
	cr_assert_not_null(strstr(err.data, "is held by alice (rev 0123456789ab"), "%s", err.data);
	cr_assert_not_null(strstr(err.data, "gave up after 1 s"), "%s", err.data);
	state_unlock(&first);
	buf_clear(&err);
	cr_assert_eq(state_lock(&second, path, &bob, 0, &err), 0, "%s", err.data);
	state_unlock(&second);
	free(path);
	buf_free(&err);
}

Test(state, a_waiting_lock_is_taken_when_the_holder_dies)
{
	char *path = path_in("deploy.lock");
	int ready[2];
	cr_assert_eq(pipe(ready), 0);
	pid_t holder = fork();
	if (holder == 0) {
		struct state_lock lock;
		struct buf err = BUF_INIT;
		if (state_lock(&lock, path, &alice, 0, &err) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		usleep(300 * 1000);
		_exit(0); /* no unlock: the kernel drops the flock */
	}
	char c;
	cr_assert_eq(read(ready[0], &c, 1), 1);
	struct state_lock lock;
	struct buf err = BUF_INIT;
	struct state_holder bob = {.pid = getpid(), .user = "bob"};
	cr_assert_eq(state_lock(&lock, path, &bob, 5, &err), 0, "%s", err.data);
	struct state_holder h;
	cr_assert_eq(state_lock_holder(&h, path, &err), 1);
	cr_assert_str_eq(h.user, "bob");
	state_holder_free(&h);
	state_unlock(&lock);
	waitpid(holder, NULL, 0);
	free(path);
	buf_free(&err);
}
