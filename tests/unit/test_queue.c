/* queue: deploy jobs written whole, listed oldest first, claimed, orphaned, superseded. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "queue.h"

static char dir[] = "/tmp/gitgate-queue-XXXXXX";

static void setup(void)
{
	strcpy(dir, "/tmp/gitgate-queue-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void teardown(void)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(queue, .init = setup, .fini = teardown);

static void add(const char *id, const char *unit)
{
	char *envs[] = {"staging", "production"};
	struct job job = {.id = (char *)id,
			  .unit = (char *)unit,
			  .environments = envs,
			  .nenvironments = 2,
			  .revision = "2222222222222222222222222222222222222222",
			  .user = "alice",
			  .phrase = "deploy fully to production",
			  .queued = 1700000000};
	struct buf err = BUF_INIT;
	cr_assert_eq(queue_add(dir, &job, &err), 0, "%s", err.data);
	buf_free(&err);
}

Test(queue, jobs_come_back_oldest_first_and_whole)
{
	add("20261127-120001-aaaa", "alpine-analytics");
	add("20261127-120002-bbbb", "argo");
	struct job *jobs;
	size_t n;
	struct buf err = BUF_INIT;
	cr_assert_eq(queue_list(&jobs, &n, dir, NULL, &err), 0, "%s", err.data);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(jobs[0].unit, "alpine-analytics");
	cr_assert_eq(jobs[1].nenvironments, 2);
	cr_assert_str_eq(jobs[1].environments[1], "production");
	cr_assert_str_eq(jobs[1].phrase, "deploy fully to production");
	cr_assert_null(jobs[1].emergency);
	queue_jobs_free(jobs, n);
	buf_free(&err);
}

Test(queue, a_newer_job_of_the_same_unit_supersedes_an_older_one)
{
	add("20261127-120001-aaaa", "argo");
	add("20261127-120002-bbbb", "alpine-analytics");
	add("20261127-120003-cccc", "argo");
	struct job *jobs;
	size_t n;
	struct buf err = BUF_INIT;
	cr_assert_eq(queue_list(&jobs, &n, dir, NULL, &err), 0);
	cr_assert_eq(queue_newer_of_unit(jobs, n, 0), 2);
	cr_assert_eq(queue_newer_of_unit(jobs, n, 1), -1);
	cr_assert_eq(queue_newer_of_unit(jobs, n, 2), -1);
	queue_jobs_free(jobs, n);
	buf_free(&err);
}

Test(queue, a_newer_job_of_every_unit_supersedes_each_older_one)
{
	add("20261127-120001-aaaa", "argo");
	add("20261127-120002-bbbb", "all");
	add("20261127-120003-cccc", "alpine-analytics");
	struct job *jobs;
	size_t n;
	struct buf err = BUF_INIT;
	cr_assert_eq(queue_list(&jobs, &n, dir, NULL, &err), 0);
	cr_assert_eq(queue_newer_of_unit(jobs, n, 0), 1, "\"all\" deploys argo too");
	cr_assert_eq(queue_newer_of_unit(jobs, n, 1), -1, "one unit never covers every unit");
	queue_jobs_free(jobs, n);
	buf_free(&err);
}

Test(queue, a_job_whose_worker_died_is_orphaned)
{
	add("20261127-120001-aaaa", "argo");
	struct job *jobs;
	size_t n;
	struct buf err = BUF_INIT;
	cr_assert_eq(queue_list(&jobs, &n, dir, NULL, &err), 0);
	cr_assert_not(queue_job_orphaned(&jobs[0]), "an unclaimed job is waiting, not orphaned");
	cr_assert_eq(queue_claim(dir, &jobs[0], &err), 0, "%s", err.data);
	cr_assert_not(queue_job_orphaned(&jobs[0]), "this process is alive");
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	jobs[0].worker = child;
	cr_assert(queue_job_orphaned(&jobs[0]), "a dead worker's job is orphaned");
	queue_jobs_free(jobs, n);
	buf_free(&err);
}

/* A broken file, a FIFO (which would block a reader) and a folder among
 * the jobs: each moved to queue/bad/ and named, the good job still listed. */
Test(queue, what_is_not_a_job_is_quarantined_and_named)
{
	struct buf path = BUF_INIT, err = BUF_INIT, notes = BUF_INIT;
	add("20261127-120001-aaaa", "argo");
	buf_printf(&path, "%s/queue/20261127-120009-zzzz.json", dir);
	FILE *f = fopen(path.data, "w");
	fputs("{\"id\": 1", f);
	fclose(f);
	buf_clear(&path);
	buf_printf(&path, "%s/queue/20261127-120010-fifo.json", dir);
	cr_assert_eq(mkfifo(path.data, 0600), 0);
	struct job *jobs;
	size_t n;
	cr_assert_eq(queue_list(&jobs, &n, dir, &notes, &err), 0, "%s", err.data);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(jobs[0].id, "20261127-120001-aaaa");
	queue_jobs_free(jobs, n);
	cr_assert_not_null(strstr(notes.data, "20261127-120009-zzzz.json"), "%s", notes.data);
	cr_assert_not_null(strstr(notes.data, "not a regular file"), "%s", notes.data);
	buf_clear(&path);
	buf_printf(&path, "%s/queue/bad/20261127-120010-fifo.json", dir);
	struct stat st;
	cr_assert_eq(lstat(path.data, &st), 0, "the FIFO was not moved to queue/bad");
	buf_clear(&notes);
	cr_assert_eq(queue_list(&jobs, &n, dir, &notes, &err), 0, "%s", err.data);
	cr_assert_eq(n, 1);
	cr_assert_eq(notes.len, 0, "%s", notes.data);
	queue_jobs_free(jobs, n);
	buf_free(&path);
	buf_free(&err);
	buf_free(&notes);
}

/* Jobs queued within one second run in the order they were queued, whatever
 * their ids' random part says. */
Test(queue, jobs_of_one_second_keep_the_order_they_were_queued_in)
{
	const char *ids[] = {"20261127-120001-ffff", "20261127-120001-0000", "20261127-120001-8888",
			     "20261127-120001-1111"};
	for (size_t i = 0; i < 4; i++)
		add(ids[i], "argo");
	struct buf err = BUF_INIT;
	struct job *jobs;
	size_t n;
	cr_assert_eq(queue_list(&jobs, &n, dir, NULL, &err), 0, "%s", err.data);
	cr_assert_eq(n, 4);
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(jobs[i].id, ids[i]);
	queue_jobs_free(jobs, n);
	buf_free(&err);
}

Test(queue, an_empty_or_missing_queue_lists_nothing)
{
	struct job *jobs;
	size_t n = 1;
	struct buf err = BUF_INIT;
	cr_assert_eq(queue_list(&jobs, &n, dir, NULL, &err), 0, "%s", err.data);
	cr_assert_eq(n, 0);
	cr_assert_null(jobs);
	buf_free(&err);
}
