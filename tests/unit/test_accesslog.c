/* accesslog: following real log files (rotation, truncation, a partial last line, long lines),
 * the new slot's error rate in an nginx access log, and an app log's lines matching a pattern. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accesslog.h"

static char dir[] = "/tmp/gitgate-accesslog-XXXXXX";
static struct buf log_path = BUF_INIT;

static void setup(void)
{
	strcpy(dir, "/tmp/gitgate-accesslog-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	buf_clear(&log_path);
	buf_printf(&log_path, "%s/access.log", dir);
}

static void teardown(void)
{
	char *argv[] = {"rm", "-rf", dir, NULL};
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	buf_free(&log_path);
}

TestSuite(accesslog, .init = setup, .fini = teardown);

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* The lines a read hands over, joined by '|'. */
struct seen {
	struct buf lines;
	size_t n, longest;
};

static void collect(void *arg, const char *line, size_t len)
{
	struct seen *s = arg;
	if (s->n++)
		buf_addc(&s->lines, '|');
	buf_add(&s->lines, line, len);
	if (len > s->longest)
		s->longest = len;
}

/* Reads what is new into a fresh struct seen; returns what it holds. */
static const char *read_new(struct logfollow *f, struct seen *s)
{
	struct buf err = BUF_INIT;
	buf_clear(&s->lines);
	s->n = s->longest = 0;
	long n = logfollow_read(f, collect, s, &err);
	cr_assert_geq(n, 0, "%s", err.data);
	cr_assert_eq((size_t)n, s->n, "the count is the lines handed over");
	buf_free(&err);
	return s->lines.data ? s->lines.data : "";
}

Test(accesslog, from_now_only_new_lines_and_a_partial_line_waits_for_its_end)
{
	struct logfollow f;
	struct seen s = {BUF_INIT, 0, 0};
	struct buf err = BUF_INIT;
	append(log_path.data, "before 1\nbefore 2\n");
	cr_assert_eq(logfollow_open_end(&f, log_path.data, &err), 0, "%s", err.data);
	cr_assert_str_eq(read_new(&f, &s), "", "what was there before is not read");
	append(log_path.data, "one\ntw");
	cr_assert_str_eq(read_new(&f, &s), "one");
	cr_assert_str_eq(read_new(&f, &s), "", "an unended line waits");
	append(log_path.data, "o\r\nthree\n");
	cr_assert_str_eq(read_new(&f, &s), "two|three", "its end comes; a \\r before \\n goes");
	struct logpos pos;
	logfollow_position(&f, &pos);
	struct stat st;
	cr_assert_eq(stat(log_path.data, &st), 0);
	cr_assert_eq(pos.offset, (unsigned long long)st.st_size);
	cr_assert_eq(pos.ino, (unsigned long long)st.st_ino);
	logfollow_close(&f);
	buf_free(&s.lines);
	buf_free(&err);
}

Test(accesslog, a_rotated_log_is_finished_then_the_new_one_read_from_its_start)
{
	struct logfollow f;
	struct seen s = {BUF_INIT, 0, 0};
	struct buf err = BUF_INIT, old = BUF_INIT;
	buf_printf(&old, "%s.1", log_path.data);
	append(log_path.data, "old 0\n");
	cr_assert_eq(logfollow_open_end(&f, log_path.data, &err), 0);
	append(log_path.data, "old 1\n");
	cr_assert_str_eq(read_new(&f, &s), "old 1");
	/* logrotate renames; the server writes on into the renamed file until
	 * it reopens, then into a new one. */
	cr_assert_eq(rename(log_path.data, old.data), 0);
	append(old.data, "old 2\nold 3 unended");
	append(log_path.data, "new 1\nnew 2\n");
	cr_assert_str_eq(read_new(&f, &s), "old 2|old 3 unended|new 1|new 2");
	cr_assert_eq(f.rotations, 1);
	append(log_path.data, "new 3\n");
	cr_assert_str_eq(read_new(&f, &s), "new 3");
	/* Renamed away with no new file yet: the old one is still read. */
	cr_assert_eq(rename(log_path.data, old.data), 0);
	append(old.data, "late\n");
	cr_assert_str_eq(read_new(&f, &s), "late");
	append(log_path.data, "newest\n");
	cr_assert_str_eq(read_new(&f, &s), "newest");
	cr_assert_eq(f.rotations, 2);
	logfollow_close(&f);
	buf_free(&s.lines);
	buf_free(&err);
	buf_free(&old);
}

Test(accesslog, a_truncated_log_is_read_again_from_its_start)
{
	struct logfollow f;
	struct seen s = {BUF_INIT, 0, 0};
	struct buf err = BUF_INIT;
	append(log_path.data, "a long line from before the start\n");
	cr_assert_eq(logfollow_open_end(&f, log_path.data, &err), 0);
	append(log_path.data, "first\n");
	cr_assert_str_eq(read_new(&f, &s), "first");
	cr_assert_eq(truncate(log_path.data, 0), 0, "copytruncate");
	append(log_path.data, "x\n");
	cr_assert_str_eq(read_new(&f, &s), "x");
	cr_assert_eq(f.truncations, 1);
	logfollow_close(&f);
	buf_free(&s.lines);
	buf_free(&err);
}

Test(accesslog, a_log_that_appears_later_is_read_from_its_start)
{
	struct logfollow f;
	struct seen s = {BUF_INIT, 0, 0};
	struct buf err = BUF_INIT;
	cr_assert_eq(logfollow_open_end(&f, log_path.data, &err), 0, "%s", err.data);
	cr_assert_str_eq(read_new(&f, &s), "");
	append(log_path.data, "first ever\n");
	cr_assert_str_eq(read_new(&f, &s), "first ever");
	logfollow_close(&f);
	/* Not a file: refused at once, never waited on. */
	cr_assert_eq(unlink(log_path.data), 0);
	cr_assert_eq(mkfifo(log_path.data, 0600), 0);
	cr_assert_eq(logfollow_open_end(&f, log_path.data, &err), -1);
	cr_assert_not_null(strstr(err.data, "not a regular file"), "%s", err.data);
	logfollow_close(&f);
	buf_free(&s.lines);
	buf_free(&err);
}

Test(accesslog, a_long_line_is_cut_counted_once_and_memory_stays_bounded)
{
	struct logfollow f;
	struct seen s = {BUF_INIT, 0, 0};
	struct buf err = BUF_INIT;
	cr_assert_eq(logfollow_open_end(&f, log_path.data, &err), 0);
	size_t big = 5 * 1024 * 1024;
	char *line = malloc(big + 1);
	memset(line, 'x', big);
	line[big] = '\0';
	append(log_path.data, "short\n");
	append(log_path.data, line);
	cr_assert_str_eq(read_new(&f, &s), "short");
	cr_assert_leq(f.partial.cap, 2 * LOGFOLLOW_LINE_MAX, "the unended line is held cut");
	append(log_path.data, "\nafter\n");
	read_new(&f, &s);
	cr_assert_eq(s.n, 2, "the long line once, then the next");
	cr_assert_eq(s.longest, LOGFOLLOW_LINE_MAX);
	cr_assert_str_eq(strchr(s.lines.data, '|') + 1, "after");
	free(line);
	logfollow_close(&f);
	buf_free(&s.lines);
	buf_free(&err);
}

Test(accesslog, a_kept_position_goes_on_where_it_was)
{
	struct logfollow f;
	struct seen s = {BUF_INIT, 0, 0};
	struct buf err = BUF_INIT;
	struct logpos pos;
	append(log_path.data, "old\n");
	cr_assert_eq(logfollow_open_end(&f, log_path.data, &err), 0);
	append(log_path.data, "one\nhal");
	cr_assert_str_eq(read_new(&f, &s), "one");
	logfollow_position(&f, &pos);
	logfollow_close(&f);
	append(log_path.data, "f\ntwo\n");
	cr_assert_eq(logfollow_open_at(&f, log_path.data, &pos, &err), 0);
	cr_assert_str_eq(read_new(&f, &s), "half|two", "the unended line is read whole");
	logfollow_close(&f);
	/* Shorter than the position now: from its start. */
	FILE *over = fopen(log_path.data, "w");
	fputs("re\n", over);
	fclose(over);
	cr_assert_eq(logfollow_open_at(&f, log_path.data, &pos, &err), 0);
	cr_assert_str_eq(read_new(&f, &s), "re");
	cr_assert_eq(f.truncations, 1);
	logfollow_close(&f);
	/* Another file at the path (made beside it, moved over it): from its
	 * start. */
	struct buf other = BUF_INIT;
	buf_printf(&other, "%s.new", log_path.data);
	append(other.data, "another\nfile\n");
	cr_assert_eq(rename(other.data, log_path.data), 0);
	buf_free(&other);
	cr_assert_eq(logfollow_open_at(&f, log_path.data, &pos, &err), 0);
	cr_assert_str_eq(read_new(&f, &s), "another|file");
	cr_assert_eq(f.rotations, 1);
	logfollow_close(&f);
	buf_free(&s.lines);
	buf_free(&err);
}

Test(accesslog, bytes_fed_from_elsewhere_split_the_same_way)
{
	struct logfollow f;
	struct seen s = {BUF_INIT, 0, 0};
	struct buf err = BUF_INIT;
	cr_assert_eq(logfollow_open_end(&f, log_path.data, &err), 0);
	cr_assert_eq(logfollow_feed(&f, "a\nb", 3, collect, &s), 1);
	cr_assert_eq(logfollow_feed(&f, "c\n\n", 3, collect, &s), 2);
	cr_assert_str_eq(s.lines.data, "a|bc|");
	cr_assert_eq(f.pos.offset, 6);
	logfollow_close(&f);
	buf_free(&s.lines);
	buf_free(&err);
}

/* ---- The error rate ----------------------------------------------------- */

static struct pattern compiled(const char *source)
{
	int code;
	PCRE2_SIZE offset;
	struct pattern p = {.source = (char *)source};
	p.code = pcre2_compile((PCRE2_SPTR)source, PCRE2_ZERO_TERMINATED,
			       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &offset, NULL);
	cr_assert_not_null(p.code, "%s", source);
	return p;
}

/* A line as nginx writes it with the README's log_format. */
static void request(struct buf *out, int status, const char *upstream)
{
	buf_printf(out,
		   "127.0.0.1 - - [10/Jan/2026:10:00:00 +0000] \"GET /a?x=%%22%d HTTP/1.1\" %d 12 "
		   "\"-\" \"curl/8\" %s\n",
		   status, status, upstream);
}

static void requests(struct buf *out, int n, int status, const char *upstream)
{
	for (int i = 0; i < n; i++)
		request(out, status, upstream);
}

static struct errorrate_verdict judged_log(const char *text, const struct pattern *p,
					   unsigned rate_max, unsigned min_requests)
{
	struct logfollow f;
	struct errorrate c;
	struct buf err = BUF_INIT;
	const char *old = "127.0.0.1:8000";
	cr_assert_eq(logfollow_open_end(&f, log_path.data, &err), 0);
	append(log_path.data, text);
	errorrate_init(&c, p, "127.0.0.1:8001", &old, 1, 100000);
	cr_assert_geq(logfollow_read(&f, errorrate_line, &c, &err), 0, "%s", err.data);
	struct errorrate_verdict v;
	errorrate_judge(&c, rate_max, min_requests, &v);
	errorrate_free(&c);
	logfollow_close(&f);
	buf_free(&err);
	return v;
}

Test(accesslog, only_lines_naming_the_new_slot_are_its_requests)
{
	struct pattern p = compiled(DEPLOY_ERROR_PATTERN);
	struct buf text = BUF_INIT;
	requests(&text, 30, 200, "127.0.0.1:8001");
	requests(&text, 2, 502, "127.0.0.1:8001");
	requests(&text, 50, 500, "127.0.0.1:8000");   /* the old slot's errors */
	requests(&text, 5, 500, "127.0.0.1:80010");   /* another port */
	requests(&text, 5, 500, "10.127.0.0.1:8001"); /* another host */
	requests(&text, 5, 503, "-");		      /* nginx's own answer */
	struct errorrate_verdict v = judged_log(text.data, &p, 500, 20);
	cr_assert_eq(v.requests, 32);
	cr_assert_eq(v.errors, 2);
	cr_assert(!v.every_line && v.judged && v.failed, "2 in 32 is 6.25%%, above 5%%");
	cr_assert_eq(v.rate, 625);
	buf_free(&text);
	pcre2_code_free(p.code);
}

Test(accesslog, the_default_pattern_takes_a_5xx_status_only)
{
	struct pattern p = compiled(DEPLOY_ERROR_PATTERN);
	struct buf text = BUF_INIT;
	request(&text, 200, "127.0.0.1:8001"); /* its request holds %22500 */
	request(&text, 404, "127.0.0.1:8001");
	request(&text, 499, "127.0.0.1:8001");
	request(&text, 500, "127.0.0.1:8001");
	request(&text, 599, "127.0.0.1:8001");
	buf_adds(&text, "127.0.0.1 - - [x] \"GET /\\x22 500 HTTP/1.1\" 200 1 \"-\" \"a\" "
			"127.0.0.1:8001\n");
	struct errorrate_verdict v = judged_log(text.data, &p, 0, 1);
	cr_assert_eq(v.requests, 6);
	cr_assert_eq(v.errors, 2, "500 and 599; a quoted 500 inside the request is no status");
	buf_free(&text);
	pcre2_code_free(p.code);
}

Test(accesslog, thresholds_judge_once_there_are_enough_requests)
{
	struct pattern p = compiled(DEPLOY_ERROR_PATTERN);
	struct buf text = BUF_INIT;
	requests(&text, 10, 500, "127.0.0.1:8001");
	struct errorrate_verdict v = judged_log(text.data, &p, 500, 20);
	cr_assert(!v.judged && !v.failed, "10 requests, all errors, are too few");
	buf_clear(&text);
	requests(&text, 19, 200, "127.0.0.1:8001");
	requests(&text, 1, 500, "127.0.0.1:8001");
	v = judged_log(text.data, &p, 500, 20);
	cr_assert(v.judged && !v.failed, "1 in 20 is 5%%: not above");
	v = judged_log(text.data, &p, 499, 20);
	cr_assert(v.failed, "1 in 20 is above 4.99%%");
	struct buf said = BUF_INIT;
	errorrate_describe(&said, &v, 499, 20);
	cr_assert_str_eq(said.data, "1 error in 20 requests (5.00%, above 4.99%)");
	buf_clear(&said);
	v = judged_log(text.data, &p, 0, 21);
	errorrate_describe(&said, &v, 0, 21);
	cr_assert_str_eq(said.data, "20 requests, too few to judge (21 needed)");
	buf_clear(&said);
	v = judged_log(text.data, &p, 0, 1);
	cr_assert(v.failed, "error_rate_max = 0: one error fails");
	buf_free(&said);
	buf_free(&text);
	pcre2_code_free(p.code);
}

Test(accesslog, with_no_slot_named_every_line_counts_and_a_pattern_of_ones_own)
{
	struct pattern p = compiled("\" (5\\d\\d|429) ");
	struct buf text = BUF_INIT;
	requests(&text, 6, 200, "-");
	requests(&text, 2, 429, "-");
	requests(&text, 2, 404, "-");
	struct errorrate_verdict v = judged_log(text.data, &p, 1000, 10);
	cr_assert(v.every_line);
	cr_assert_eq(v.requests, 10);
	cr_assert_eq(v.errors, 2);
	cr_assert(v.failed, "20%% is above 10%%");
	buf_free(&text);
	pcre2_code_free(p.code);
}

/* ---- The app's log ------------------------------------------------------ */

Test(accesslog, app_log_lines_matching_since_a_position)
{
	struct pattern ps[2] = {compiled("Traceback \\(most recent call last\\)"),
				compiled("(?i)\\bcritical\\b")};
	struct logmatch m;
	struct logpos pos = {0, 0, 0};
	struct logfollow start;
	struct buf err = BUF_INIT, rotated = BUF_INIT;
	append(log_path.data, "CRITICAL from the old release\n");
	cr_assert_eq(logfollow_open_end(&start, log_path.data, &err), 0); /* the app starts */
	logfollow_position(&start, &pos);
	logfollow_close(&start);
	logmatch_init(&m, ps, 2, 100000);
	append(log_path.data, "listening on 8001\nGET /health 200\n");
	cr_assert_eq(logmatch_since(&m, log_path.data, &pos, &err), 0, "%s", err.data);
	append(log_path.data, "Traceback (most recent call last):\n  File \"app.py\"\n");
	append(log_path.data, "worker critical: out of memory\n");
	cr_assert_eq(logmatch_since(&m, log_path.data, &pos, &err), 2);
	cr_assert_str_eq(m.first.data, "Traceback (most recent call last):");
	cr_assert_eq(logmatch_since(&m, log_path.data, &pos, &err), 0, "no line twice");
	/* The log writer rotates SLOT.log into SLOT.log.1 and starts anew. */
	buf_printf(&rotated, "%s.1", log_path.data);
	cr_assert_eq(rename(log_path.data, rotated.data), 0);
	append(log_path.data, "fine\nCRITICAL again\n");
	cr_assert_eq(logmatch_since(&m, log_path.data, &pos, &err), 1);
	cr_assert_eq(m.matched, 3);
	cr_assert_eq(m.lines, 7);
	cr_assert_eq(unlink(log_path.data), 0);
	cr_assert_eq(unlink(rotated.data), 0);
	cr_assert_eq(logmatch_since(&m, log_path.data, &pos, &err), 0, "no log, no lines");
	logmatch_free(&m);
	buf_free(&err);
	buf_free(&rotated);
	pcre2_code_free(ps[0].code);
	pcre2_code_free(ps[1].code);
}

/* A line PCRE2 cannot finish within the match limit counts as a match: a
 * check that cannot tell fails, never passes. */
Test(accesslog, a_match_past_the_limit_counts)
{
	struct pattern p = compiled("^(a+)+$");
	struct logmatch m;
	logmatch_init(&m, &p, 1, 1000);
	const char *line = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab";
	logmatch_line(&m, line, strlen(line));
	cr_assert_eq(m.matched, 1);
	logmatch_line(&m, "b", 1);
	cr_assert_eq(m.matched, 1);
	logmatch_free(&m);
	pcre2_code_free(p.code);
}
