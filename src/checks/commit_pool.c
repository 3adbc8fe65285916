/*
 * commit_pool: see commit_pool.h.
 *
 * Workers are threads, each with its own repository handle (libgit2 objects
 * are not shared across threads) and scanner; the rules are read-only once
 * scan_prepare_all ran. Measured here, threads beat worker processes: they
 * share the parent's warm pack mappings and skip a fork and a repository
 * open per worker.
 */
#include "commit_pool.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commits.h"
#include "repo.h"

#define BATCH_COMMITS 16
#define QUEUE_BATCHES 16
#define MAX_WORKERS 8

struct batch {
	size_t seq;
	size_t n;
	git_oid oids[BATCH_COMMITS];
};

struct batch_result {
	struct findings findings;
	struct buf err;
	int rc;
	int late; /* the deadline passed in this batch */
};

struct commit_pool {
	pthread_mutex_t lock;
	pthread_cond_t has_work, has_room;
	struct batch *queue[QUEUE_BATCHES];
	size_t head, queued;
	struct batch *filling;
	struct batch_result **results; /* by batch seq; grown by the walking thread only */
	size_t nresults, results_cap;
	int closing, failed;
	const struct rules *rules;
	const struct findings *skips_from;
	struct deadline deadline;
	pthread_t threads[MAX_WORKERS];
	size_t nthreads;
};

static int check_batch(git_repository *repo, struct commit_checker *cc, const struct batch *b,
		       struct buf *err)
{
	for (size_t i = 0; i < b->n; i++) {
		git_commit *commit;
		if (git_commit_lookup(&commit, repo, &b->oids[i]) < 0) {
			repo_error(err, "cannot read a commit");
			return -1;
		}
		int rc = commit_checker_run(cc, commit, err);
		git_commit_free(commit);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void run_batch(struct commit_pool *pool, git_repository *repo, const struct buf *open_err,
		      const struct batch *b, struct batch_result *result)
{
	findings_copy_skips(&result->findings, pool->skips_from);
	if (!repo) {
		buf_add(&result->err, open_err->data, open_err->len);
		result->rc = -1;
		return;
	}
	struct commit_checker cc;
	if (commit_checker_init(&cc, repo, pool->rules, &result->findings, &pool->deadline) < 0) {
		buf_adds(&result->err, "cannot set up PCRE2 matching (out of memory)");
		result->rc = -1;
	} else {
		result->rc = check_batch(repo, &cc, b, &result->err);
		result->late = cc.late;
	}
	commit_checker_free(&cc);
}

static void *worker(void *arg)
{
	struct commit_pool *pool = arg;
	git_repository *repo = NULL;
	struct buf open_err = BUF_INIT;
	if (repo_open(&repo, &open_err) < 0)
		repo = NULL;
	for (;;) {
		pthread_mutex_lock(&pool->lock);
		while (!pool->queued && !pool->closing)
			pthread_cond_wait(&pool->has_work, &pool->lock);
		if (!pool->queued) {
			pthread_mutex_unlock(&pool->lock);
			break;
		}
		struct batch *b = pool->queue[pool->head];
		pool->head = (pool->head + 1) % QUEUE_BATCHES;
		pool->queued--;
		struct batch_result *result = pool->results[b->seq];
		int skip = pool->failed;
		pthread_cond_signal(&pool->has_room);
		pthread_mutex_unlock(&pool->lock);

		if (!skip) /* after a failure the verdict is already a fault */
			run_batch(pool, repo, &open_err, b, result);
		free(b);
		if (result->rc < 0) {
			pthread_mutex_lock(&pool->lock);
			pool->failed = 1;
			pthread_mutex_unlock(&pool->lock);
		}
	}
	repo_close(repo);
	buf_free(&open_err);
	return NULL;
}

int commit_pool_start(struct commit_pool **out, const struct rules *rules,
		      const struct findings *skips_from, const struct deadline *deadline,
		      struct buf *err)
{
	struct commit_pool *pool = xcalloc(1, sizeof(*pool));
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->has_work, NULL);
	pthread_cond_init(&pool->has_room, NULL);
	pool->rules = rules;
	pool->skips_from = skips_from;
	pool->deadline = *deadline;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = cores < 1 ? 1 : cores > MAX_WORKERS ? MAX_WORKERS : (size_t)cores;
	/* Workers read thousands of objects into short-lived buffers: keep
	 * their heaps instead of returning and re-faulting pages, blobs of up
	 * to a few MB included (each one above glibc's 128 KB would be a fresh
	 * mmap, faulted in page by page, then unmapped). One heap a worker (the
	 * walking thread shares one), not one a thread and a spare: every heap
	 * keeps freed blobs that the others cannot use. */
	mallopt(M_TRIM_THRESHOLD, 4 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_ARENA_MAX, (int)want);
	for (; pool->nthreads < want; pool->nthreads++)
		if (pthread_create(&pool->threads[pool->nthreads], NULL, worker, pool) != 0)
			break;
	*out = pool;
	if (!pool->nthreads) {
		buf_adds(err, "cannot start a worker thread");
		return -1;
	}
	return 0;
}

static void queue_filling(struct commit_pool *pool)
{
	struct batch *b = pool->filling;
	pool->filling = NULL;
	pthread_mutex_lock(&pool->lock);
	while (pool->queued == QUEUE_BATCHES)
		pthread_cond_wait(&pool->has_room, &pool->lock);
	pool->queue[(pool->head + pool->queued) % QUEUE_BATCHES] = b;
	pool->queued++;
	pthread_cond_signal(&pool->has_work);
	pthread_mutex_unlock(&pool->lock);
}

int commit_pool_submit(struct commit_pool *pool, const git_oid *oid)
{
	if (!pool->filling) {
		struct batch_result *r = xcalloc(1, sizeof(*r));
		pool->filling = xcalloc(1, sizeof(*pool->filling));
		pthread_mutex_lock(&pool->lock);
		int failed = pool->failed;
		pool->filling->seq = pool->nresults;
		*ARRAY_PUSH(pool->results, pool->nresults, pool->results_cap) = r;
		pthread_mutex_unlock(&pool->lock);
		if (failed)
			return -1;
	}
	git_oid_cpy(&pool->filling->oids[pool->filling->n++], oid);
	if (pool->filling->n == BATCH_COMMITS)
		queue_filling(pool);
	return 0;
}

int commit_pool_finish(struct commit_pool *pool, struct findings *out, struct buf *err)
{
	if (pool->filling)
		queue_filling(pool);
	pthread_mutex_lock(&pool->lock);
	pool->closing = 1;
	pthread_cond_broadcast(&pool->has_work);
	pthread_mutex_unlock(&pool->lock);
	for (size_t i = 0; i < pool->nthreads; i++)
		pthread_join(pool->threads[i], NULL);
	int rc = pool->nthreads ? 0 : -1, late = 0;
	for (size_t i = 0; i < pool->nresults; i++) {
		struct batch_result *r = pool->results[i];
		/* A missed deadline outranks a fault it may have caused. */
		if (r->rc < 0 && (rc == 0 || (r->late && !late))) {
			rc = r->rc;
			late = r->late;
			buf_clear(err);
			buf_add(err, r->err.data, r->err.len);
		}
		findings_take(out, &r->findings);
		findings_free(&r->findings);
		buf_free(&r->err);
		free(r);
	}
	free(pool->results);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->has_work);
	pthread_cond_destroy(&pool->has_room);
	free(pool);
	return rc;
}
