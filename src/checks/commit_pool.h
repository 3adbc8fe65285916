/*
 * commit_pool: checking many commits on every core.
 *
 * The walk hands commit ids to the pool in order; the pool cuts them into
 * small batches for worker threads, each with its own repository, scanner
 * and findings. The queue is bounded, so the walk never runs far ahead and
 * memory stays flat; findings come back in walk order, whatever order the
 * batches finished in.
 */
#ifndef GITGATE_COMMIT_POOL_H
#define GITGATE_COMMIT_POOL_H

#include <git2.h>
#include "deadline.h"

#include "findings.h"
#include "rules.h"

struct commit_pool;

/* Starts the workers. skips_from gives each batch's findings the same skip
 * list. Returns 0, or -1 with the reason in err. */
int commit_pool_start(struct commit_pool **out, const struct rules *rules,
		      const struct findings *skips_from, const struct deadline *deadline,
		      struct buf *err);
/* Queues one commit; blocks while the workers are busy. Returns -1 once a
 * worker stopped reading (the walk should stop). */
int commit_pool_submit(struct commit_pool *pool, const git_oid *oid);
/* Waits for every batch, appends all findings to out in walk order, and
 * frees the pool. Returns 0, or -1 on a fault or when the deadline passed,
 * with the first reason in err. */
int commit_pool_finish(struct commit_pool *pool, struct findings *out, struct buf *err);

#endif
