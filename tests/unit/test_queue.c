/* queue: deploy jobs written whole, listed oldest first, claimed, orphaned, superseded. */
#include <criterion/criterion.h>
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

static void teardown(void)
{
	struct buf queue_dir = BUF_INIT;
	buf_printf(&queue_dir, "%s/queue", dir);
	struct job *jobs;
	size_t n;
	struct buf err = BUF_INIT;
	if (queue_list(&jobs, &n, dir, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			queue_remove(dir, jobs[i].id, &err);
		queue_jobs_free(jobs, n);
	}
	rmdir(queue_dir.data);
	rmdir(dir);
	buf_free(&queue_dir);
	buf_free(&err);
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
	add("20261127-120002-bbbb", "argo");
	add("20261127-120001-aaaa", "alpine-analytics");
	struct job *jobs;
	size_t n;
	struct buf err = BUF_INIT;
	cr_assert_eq(queue_list(&jobs, &n, dir, &err), 0, "%s", err.data);
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
	cr_assert_eq(queue_list(&jobs, &n, dir, &err), 0);
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
	cr_assert_eq(queue_list(&jobs, &n, dir, &err), 0);
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
	cr_assert_eq(queue_list(&jobs, &n, dir, &err), 0);
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

Test(queue, a_broken_job_file_is_named)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	add("20261127-120001-aaaa", "argo");
	buf_printf(&path, "%s/queue/20261127-120009-zzzz.json", dir);
	FILE *f = fopen(path.data, "w");
	fputs("{\"id\": 1", f);
	fclose(f);
	struct job *jobs;
	size_t n;
	cr_assert_eq(queue_list(&jobs, &n, dir, &err), -1);
	cr_assert_not_null(strstr(err.data, "20261127-120009-zzzz.json"), "%s", err.data);
	unlink(path.data);
	buf_free(&path);
	buf_free(&err);
}

Test(queue, an_empty_or_missing_queue_lists_nothing)
{
	struct job *jobs;
	size_t n = 1;
	struct buf err = BUF_INIT;
	cr_assert_eq(queue_list(&jobs, &n, dir, &err), 0, "%s", err.data);
	cr_assert_eq(n, 0);
	cr_assert_null(jobs);
	buf_free(&err);
}
