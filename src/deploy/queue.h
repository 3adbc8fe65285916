/*
 * queue: deploy jobs waiting for the worker, one file a job in
 * STATE_DIR/queue/<id>.json, each written whole (state_replace).
 *
 * A push only enqueues; a detached worker takes the jobs in the order they
 * were queued (a number taken from queue/.seq under its lock: two jobs of
 * one second never tie), so a client that disconnects loses nothing. A file
 * there that is not a job (broken, a FIFO, too large) is moved to
 * queue/bad/ and said, never left to stop every deploy. A job the worker started carries its pid
 * and start time: when that process is gone and the job is still there, the worker died under it,
 * and the next worker closes it as abandoned. A job that a newer job of the same unit (or of every
 * unit: "all") is queued behind is superseded: only the newest revision of a unit deploys.
 */
#ifndef GITGATE_QUEUE_H
#define GITGATE_QUEUE_H

#include <sys/types.h>
#include <time.h>

#include "buf.h"

struct job {
	char *id;
	char *unit;	     /* a unit's name, or "all": every unit (a shared package changed) */
	char **environments; /* in order: auto ones first */
	size_t nenvironments;
	char *revision; /* full hex */
	char *user;
	char *user_source; /* where user's name came from (identity.h) */
	char *phrase;	   /* the confirmation phrase as given, or NULL */
	char *emergency;   /* the reason given, or NULL */
	int detach;
	/* How the pusher runs gitgate's read-only commands (ask.h): the
	 * platform's way, or NULL at a shell; its name for the repository. */
	char *ask;
	char *repository;
	int ask_ref; /* or by git, reading the deploys ref (ask.h) */
	time_t queued;
	unsigned long long seq;		 /* its place in the queue: queue_add gives it */
	pid_t worker;			 /* 0 until a worker starts it */
	unsigned long long worker_start; /* its start in ticks after boot: a pid is reused */
};

int queue_add(const char *state_dir, const struct job *job, struct buf *err);
/* The queued job with this id: 1 with job filled, 0 when it is not queued
 * (done, or never was). */
int queue_get(struct job *job, const char *state_dir, const char *id);
/* The most a job file may hold. */
#define QUEUE_JOB_MAX (1 << 20)

/* Every queued job, oldest first. A file that is not a job is moved to
 * queue/bad/, and a line saying so appended to notes (when not NULL).
 * Returns 0, or -1 (err) when the queue cannot be read. */
int queue_list(struct job **jobs, size_t *n, const char *state_dir, struct buf *notes,
	       struct buf *err);
/* Records that this process runs the job. */
int queue_claim(const char *state_dir, struct job *job, struct buf *err);
int queue_remove(const char *state_dir, const char *id, struct buf *err);
/* Is the job's worker gone (it was claimed, and its process is not the one
 * that claimed it, or is a zombie: killed, not reaped yet)? */
int queue_job_orphaned(const struct job *job);
/* Index of a job queued after jobs[i] for the same unit or for "all" (every
 * unit), or -1. */
ssize_t queue_newer_of_unit(const struct job *jobs, size_t n, size_t i);
void queue_job_free(struct job *job);
void queue_jobs_free(struct job *jobs, size_t n);

#endif
