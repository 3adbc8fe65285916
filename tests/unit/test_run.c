/* run: exit codes, signals, each kind of input and output, environment,
 * working directory, and a time limit that takes the whole group down. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

static struct run_result must_run(const struct run_options *opts)
{
	struct run_result r;
	struct buf err = BUF_INIT;
	cr_assert_eq(run(&r, opts, &err), 0, "%s", err.data);
	buf_free(&err);
	return r;
}

/* opts must fail to start, saying `what`. */
static void must_not_start(const struct run_options *opts, const char *what)
{
	struct run_result r;
	struct buf err = BUF_INIT;
	cr_assert_eq(run(&r, opts, &err), -1);
	cr_assert_not_null(strstr(err.data, what), "%s", err.data);
	buf_free(&err);
}

static char *temp_dir(void)
{
	char *dir = xstrdup("/tmp/gitgate-run-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

static void remove_tree(const char *dir)
{
	const char *argv[] = {"rm", "-rf", dir, NULL};
	struct run_options opts = {.argv = argv};
	must_run(&opts);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(run, exit_code)
{
	const char *argv[] = {"sh", "-c", "exit 3", NULL};
	struct run_options opts = {.argv = argv};
	struct run_result r = must_run(&opts);
	cr_assert_eq(r.code, 3);
	cr_assert_eq(r.signal, 0);
	cr_assert_eq(r.timed_out, 0);
	struct buf said = BUF_INIT;
	run_describe(&said, &r);
	cr_assert_str_eq(said.data, "exited with 3");
	buf_free(&said);
}

Test(run, signal)
{
	const char *argv[] = {"sh", "-c", "kill -TERM $$", NULL};
	struct run_options opts = {.argv = argv};
	struct run_result r = must_run(&opts);
	cr_assert_eq(r.signal, SIGTERM);
	cr_assert_eq(r.code, 128 + SIGTERM);
	cr_assert_eq(r.timed_out, 0);
}

Test(run, a_program_that_is_not_there_is_an_error)
{
	const char *argv[] = {"gitgate-no-such-program", NULL};
	struct run_options opts = {.argv = argv};
	must_not_start(&opts, "cannot run gitgate-no-such-program");
}

Test(run, capture_keeps_stdout_and_stderr_apart)
{
	const char *argv[] = {"sh", "-c", "echo out; echo err >&2", NULL};
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct run_options opts = {.argv = argv,
				   .out = {.kind = RUN_OUT_CAPTURE, .buf = &out},
				   .err = {.kind = RUN_OUT_CAPTURE, .buf = &err}};
	must_run(&opts);
	cr_assert_str_eq(out.data, "out\n");
	cr_assert_str_eq(err.data, "err\n");
	buf_free(&out);
	buf_free(&err);
}

Test(run, a_descriptor_given_without_close_on_exec_is_not_inherited)
{
	/* As git gives a hook its pipes: open across exec. */
	int given = dup2(STDERR_FILENO, 57);
	cr_assert_eq(given, 57);
	const char *argv[] = {"sh", "-c",
			      "if [ -e /proc/self/fd/57 ]; then echo open; fi; echo done", NULL};
	struct buf out = BUF_INIT;
	struct run_options opts = {.argv = argv, .out = {.kind = RUN_OUT_CAPTURE, .buf = &out}};
	must_run(&opts);
	close(given);
	cr_assert_str_eq(out.data, "done\n");
	buf_free(&out);
}

Test(run, stdin_from_a_buffer_larger_than_a_pipe)
{
	size_t len = 1 << 20;
	char *data = xmalloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)('a' + i % 26);
	const char *argv[] = {"cat", NULL};
	struct buf out = BUF_INIT;
	struct run_options opts = {.argv = argv,
				   .in = {.kind = RUN_IN_BUFFER, .data = data, .len = len},
				   .out = {.kind = RUN_OUT_CAPTURE, .buf = &out}};
	struct run_result r = must_run(&opts);
	cr_assert_eq(r.code, 0);
	cr_assert_eq(out.len, len);
	cr_assert(!memcmp(out.data, data, len));
	buf_free(&out);
	free(data);
}

Test(run, a_child_that_reads_nothing_does_not_kill_the_caller)
{
	size_t len = 1 << 20;
	char *data = xcalloc(1, len);
	const char *argv[] = {"true", NULL};
	struct run_options opts = {.argv = argv,
				   .in = {.kind = RUN_IN_BUFFER, .data = data, .len = len}};
	struct run_result r = must_run(&opts);
	cr_assert_eq(r.code, 0);
	free(data);
}

Test(run, stdin_from_a_file_and_null_by_default)
{
	char *dir = temp_dir();
	struct buf path = BUF_INIT, out = BUF_INIT;
	buf_printf(&path, "%s/input", dir);
	FILE *f = fopen(path.data, "w");
	fputs("from a file\n", f);
	fclose(f);
	const char *argv[] = {"cat", NULL};
	struct run_options opts = {.argv = argv,
				   .in = {.kind = RUN_IN_FILE, .path = path.data},
				   .out = {.kind = RUN_OUT_CAPTURE, .buf = &out}};
	must_run(&opts);
	cr_assert_str_eq(out.data, "from a file\n");
	buf_clear(&out);
	opts.in.kind = RUN_IN_NULL;
	must_run(&opts);
	cr_assert_eq(out.len, 0);
	remove_tree(dir);
	free(dir);
	buf_free(&path);
	buf_free(&out);
}

Test(run, environment_added_removed_or_replaced)
{
	setenv("GITGATE_TEST_KEPT", "kept", 1);
	setenv("GITGATE_TEST_GONE", "gone", 1);
	setenv("GITGATE_TEST_CHANGED", "old", 1);
	const char *argv[] = {"sh", "-c",
			      "echo \"$GITGATE_TEST_KEPT ${GITGATE_TEST_GONE-unset} "
			      "$GITGATE_TEST_CHANGED $GITGATE_TEST_NEW\"",
			      NULL};
	const char *env[] = {"GITGATE_TEST_NEW=new", "GITGATE_TEST_GONE",
			     "GITGATE_TEST_CHANGED=new", NULL};
	struct buf out = BUF_INIT;
	struct run_options opts = {
	    .argv = argv, .env = env, .out = {.kind = RUN_OUT_CAPTURE, .buf = &out}};
	must_run(&opts);
	cr_assert_str_eq(out.data, "kept unset new new\n");

	const char *env_argv[] = {"env", NULL};
	const char *only[] = {"ONLY=this", NULL};
	struct run_options replaced = {.argv = env_argv,
				       .env = only,
				       .env_clear = 1,
				       .out = {.kind = RUN_OUT_CAPTURE, .buf = &out}};
	buf_clear(&out);
	must_run(&replaced);
	cr_assert_str_eq(out.data, "ONLY=this\n");
	buf_free(&out);
}

Test(run, working_directory)
{
	char *dir = temp_dir();
	char real[PATH_MAX];
	cr_assert_not_null(realpath(dir, real));
	const char *argv[] = {"pwd", "-P", NULL};
	struct buf out = BUF_INIT;
	struct run_options opts = {
	    .argv = argv, .cwd = dir, .out = {.kind = RUN_OUT_CAPTURE, .buf = &out}};
	must_run(&opts);
	cr_assert_eq(strcspn(out.data, "\n"), strlen(real));
	cr_assert(!strncmp(out.data, real, strlen(real)), "%s", out.data);

	struct buf missing = BUF_INIT;
	buf_printf(&missing, "%s/not-here", dir);
	opts.cwd = missing.data;
	must_not_start(&opts, "not-here");
	remove_tree(dir);
	free(dir);
	buf_free(&out);
	buf_free(&missing);
}

Test(run, log_file_is_appended_to)
{
	char *dir = temp_dir();
	struct buf log = BUF_INIT, content = BUF_INIT;
	buf_printf(&log, "%s/deploy.log", dir);
	const char *first[] = {"sh", "-c", "echo one; echo two >&2", NULL};
	const char *second[] = {"echo", "three", NULL};
	struct run_options opts = {.argv = first,
				   .out = {.kind = RUN_OUT_APPEND, .path = log.data},
				   .err = {.kind = RUN_OUT_APPEND, .path = log.data}};
	must_run(&opts);
	opts.argv = second;
	must_run(&opts);
	cr_assert_eq(buf_read_file(&content, log.data), 0);
	cr_assert_str_eq(content.data, "one\ntwo\nthree\n");
	remove_tree(dir);
	free(dir);
	buf_free(&log);
	buf_free(&content);
}

/* A log in a folder of its own, appended to through a mask of one value. */
struct masked_log {
	char *dir;
	struct buf path, content;
	struct mask mask;
	struct run_output out;
};

static void masked_log_open(struct masked_log *l, const char *value)
{
	*l = (struct masked_log){.dir = temp_dir(), .mask = MASK_INIT};
	buf_printf(&l->path, "%s/deploy.log", l->dir);
	mask_add(&l->mask, value, strlen(value));
	l->out =
	    (struct run_output){.kind = RUN_OUT_APPEND, .path = l->path.data, .mask = &l->mask};
}

static const char *masked_log_read(struct masked_log *l)
{
	buf_clear(&l->content);
	cr_assert_eq(buf_read_file(&l->content, l->path.data), 0);
	return l->content.data ? l->content.data : "";
}

static void masked_log_close(struct masked_log *l)
{
	remove_tree(l->dir);
	free(l->dir);
	buf_free(&l->path);
	buf_free(&l->content);
	mask_free(&l->mask);
}

/* The secret is split across two writes a moment apart and across stdout
 * and stderr, which keep their order; more than a pipe holds passes. */
Test(run, a_masked_log_never_gets_the_values_split_or_interleaved)
{
	struct masked_log l;
	masked_log_open(&l, "sk_live_4eC39Hq");
	const char *argv[] = {
	    "sh", "-c",
	    "echo first; printf 'token sk_li' >&2; sleep 0.3; echo 've_4eC39Hq end'; "
	    "echo 'sk_live_4eC39Hq' >&2; head -c 200000 /dev/zero | tr '\\0' x; echo",
	    NULL};
	struct run_options opts = {.argv = argv, .out = l.out, .err = l.out};
	cr_assert_eq(must_run(&opts).code, 0);
	const char *content = masked_log_read(&l);
	cr_assert_null(strstr(content, "sk_live"), "%.200s", content);
	cr_assert_eq(strncmp(content, "first\ntoken *** end\n***\nxxx", 27), 0, "%.200s", content);
	cr_assert_eq(l.content.len, 24 + 200000 + 1);
	masked_log_close(&l);
}

Test(run, a_masked_log_is_written_as_the_output_comes)
{
	struct masked_log l;
	masked_log_open(&l, "hidden-value");
	const char *argv[] = {"sh", "-c", "echo 'started hidden-value'; sleep 1", NULL};
	struct run_options opts = {.argv = argv, .out = l.out};
	struct run_process p;
	struct run_result r;
	struct buf err = BUF_INIT;
	cr_assert_eq(run_start(&p, &opts, &err), 0, "%s", err.data);
	/* The drain runs in run_finish; another process looks at the file
	 * while the child still sleeps. */
	pid_t reader = fork();
	cr_assert_geq(reader, 0);
	if (reader == 0) {
		struct timespec pause = {0, 500000000L};
		nanosleep(&pause, NULL);
		struct buf seen = BUF_INIT;
		_exit(buf_read_file(&seen, l.path.data) == 0 && seen.data &&
			      !strcmp(seen.data, "started ***\n")
			  ? 0
			  : 1);
	}
	cr_assert_eq(run_finish(&r, &p, &err), 0, "%s", err.data);
	int status;
	cr_assert_eq(waitpid(reader, &status, 0), reader);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the log did not have the line while the child ran");
	buf_free(&err);
	masked_log_close(&l);
}

/* A process the child leaves behind holding its output (an app a start
 * command put in the background) is not waited for. */
Test(run, a_masked_log_does_not_wait_for_what_the_child_left_behind)
{
	struct masked_log l;
	masked_log_open(&l, "hidden-value");
	const char *argv[] = {"sh", "-c", "echo hidden-value; sleep 5 & echo $! >\"$0/bg\"", l.dir,
			      NULL};
	struct run_options opts = {.argv = argv, .out = l.out, .err = l.out};
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(must_run(&opts).code, 0);
	double took = seconds_since(&t0);
	struct buf bg = BUF_INIT, pid = BUF_INIT;
	buf_printf(&bg, "%s/bg", l.dir);
	if (buf_read_file(&pid, bg.data) == 0)
		kill((pid_t)atoi(pid.data), SIGKILL);
	cr_assert_lt(took, 2.0);
	cr_assert_str_eq(masked_log_read(&l), "***\n");
	buf_free(&bg);
	buf_free(&pid);
	masked_log_close(&l);
}

Test(run, discarded_output_goes_nowhere)
{
	const char *argv[] = {"sh", "-c", "echo out; echo err >&2; exit 4", NULL};
	struct run_options opts = {
	    .argv = argv, .out = {.kind = RUN_OUT_DISCARD}, .err = {.kind = RUN_OUT_DISCARD}};
	cr_assert_eq(must_run(&opts).code, 4);
}

Test(run, stdout_streamed_through_a_pipe)
{
	const char *argv[] = {"printf", "a\\nb\\n", NULL};
	struct run_options opts = {.argv = argv, .out = {.kind = RUN_OUT_PIPE}};
	struct run_process p;
	struct buf err = BUF_INIT, line = BUF_INIT;
	cr_assert_eq(run_start(&p, &opts, &err), 0, "%s", err.data);
	cr_assert(buf_read_line(&line, p.out));
	cr_assert_str_eq(line.data, "a");
	cr_assert(buf_read_line(&line, p.out));
	cr_assert_str_eq(line.data, "b");
	cr_assert(!buf_read_line(&line, p.out));
	struct run_result r;
	cr_assert_eq(run_finish(&r, &p, &err), 0);
	cr_assert_eq(r.code, 0);
	buf_free(&err);
	buf_free(&line);
}

Test(run, the_short_forms_answer_the_common_questions)
{
	const char *answer[] = {"sh", "-c", "echo hi; echo noise >&2; exit 1", NULL};
	struct buf out = BUF_INIT, err = BUF_INIT, why = BUF_INIT;
	struct run_result r;
	cr_assert_eq(run_capture(&r, &out, answer, RUN_OUT_DISCARD, &err), 0, "%s", err.data);
	cr_assert_eq(r.code, 1);
	cr_assert_str_eq(out.data, "hi\n");

	const char *fails[] = {"sh", "-c", "exit 128", NULL};
	struct run_options opts = {.argv = fails, .out = {.kind = RUN_OUT_PIPE}};
	struct run_process p;
	cr_assert_eq(run_start(&p, &opts, &err), 0, "%s", err.data);
	cr_assert_eq(run_finish_ok(&p, &why), -1);
	cr_assert_str_eq(why.data, "exited with 128");
	const char *succeeds[] = {"true", NULL};
	opts.argv = succeeds;
	cr_assert_eq(run_start(&p, &opts, &err), 0, "%s", err.data);
	cr_assert_eq(run_finish_ok(&p, &why), 0);
	buf_free(&out);
	buf_free(&err);
	buf_free(&why);
}

Test(run, a_pipe_with_a_buffered_stdin_is_refused)
{
	const char *argv[] = {"cat", NULL};
	struct run_options opts = {.argv = argv,
				   .in = {.kind = RUN_IN_BUFFER, .data = "x", .len = 1},
				   .out = {.kind = RUN_OUT_PIPE}};
	must_not_start(&opts, "only stdout can be piped");
}

Test(run, a_time_limit_not_reached_changes_nothing)
{
	const char *argv[] = {"sh", "-c", "exit 5", NULL};
	struct run_options opts = {.argv = argv, .limit_ms = 10000, .grace_ms = 1000};
	struct run_result r = must_run(&opts);
	cr_assert_eq(r.code, 5);
	cr_assert_eq(r.timed_out, 0);
}

/* Gone, or a zombie that nothing reaped yet: either way, not running. */
static int is_running(pid_t pid)
{
	if (kill(pid, 0) < 0)
		return errno != ESRCH;
	char path[64], state = '?';
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int ok = fscanf(f, "%*d (%*[^)]) %c", &state) == 1;
	fclose(f);
	return !ok || state != 'Z';
}

static pid_t read_pid(const char *path)
{
	struct buf b = BUF_INIT;
	cr_assert_eq(buf_read_file(&b, path), 0, "no pid in %s", path);
	pid_t pid = (pid_t)atoi(b.data);
	buf_free(&b);
	cr_assert_gt(pid, 0);
	return pid;
}

/* Runs `script` (which writes its background child's pid to $1) with a
 * time limit, and checks that the child and the grandchild are both gone
 * within `within` seconds. */
static void limit_kills_the_group(const char *script, unsigned grace_ms, double at_least,
				  double within)
{
	char *dir = temp_dir();
	struct buf pidfile = BUF_INIT, out = BUF_INIT;
	buf_printf(&pidfile, "%s/grandchild.pid", dir);
	const char *argv[] = {"sh", "-c", script, "sh", pidfile.data, NULL};
	/* Captured: the grandchild holds the pipe too, so draining must not wait on it. */
	struct run_options opts = {.argv = argv,
				   .out = {.kind = RUN_OUT_CAPTURE, .buf = &out},
				   .limit_ms = 300,
				   .grace_ms = grace_ms};
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct run_result r = must_run(&opts);
	double took = seconds_since(&t0);
	cr_assert_eq(r.timed_out, 1);
	cr_assert_neq(r.signal, 0);
	cr_assert_geq(took, at_least, "took %.2f s", took);
	cr_assert_lt(took, within, "took %.2f s", took);
	pid_t grandchild = read_pid(pidfile.data);
	while (is_running(grandchild) && seconds_since(&t0) < within)
		usleep(10000);
	cr_assert(!is_running(grandchild), "the grandchild %d is still running", (int)grandchild);
	struct buf said = BUF_INIT;
	run_describe(&said, &r);
	cr_assert_str_eq(said.data, "was stopped at its time limit");
	buf_free(&said);
	remove_tree(dir);
	free(dir);
	buf_free(&pidfile);
	buf_free(&out);
}

Test(run, a_time_limit_kills_the_child_and_its_grandchild)
{
	limit_kills_the_group("sleep 30 & echo $! >\"$1\"; sleep 30", 2000, 0.29, 2.0);
}

Test(run, a_group_that_ignores_sigterm_is_killed_after_the_grace)
{
	limit_kills_the_group("trap '' TERM; sleep 30 & echo $! >\"$1\"; sleep 30", 700, 0.95, 3.0);
}
