/*
 * worker: runs the queued deploy jobs, one worker at a time
 * (STATE_DIR/worker.lock), detached from the push that queued them.
 *
 * First, a deploy that died after its switch is undone (deploy_reconcile),
 * and a tip of the deploy branch that was accepted but never queued is
 * queued (trigger_unqueued). Then for each job, oldest first: a job its
 * worker died under is closed as abandoned, once, in the environment it
 * died in, and what that worker was running (a test, a build: its session)
 * is killed; a job a newer job of the same unit is queued behind is
 * superseded (only the newest revision deploys); else the job is claimed
 * and its unit deployed to its environments in order, stopping at the first
 * that does not deploy. Its progress goes to STATE_DIR/logs/ID.progress,
 * which the pushing post-receive follows. Jobs queued meanwhile are taken
 * too; the worker stops when the queue is empty.
 */
#ifndef GITGATE_WORKER_H
#define GITGATE_WORKER_H

#include "buf.h"
#include "server.h"

/* Called after each job's records are written, before the job leaves the
 * queue (and a pusher following it stops waiting). */
typedef void (*worker_recorded_fn)(const struct server *s);

/* Returns 0, or -1 with the reason in err (the lock, the queue). catch_up
 * (gitgate deploy --reconcile): a tip of the deploy branch past the last
 * one queued is deployed even when no hook noted it (tips.h). recorded may
 * be NULL. */
int worker_run(const struct server *s, int catch_up, worker_recorded_fn recorded, struct buf *err);

#endif
