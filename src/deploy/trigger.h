/*
 * trigger: what a push to the deploy branch sets going (post-receive).
 *
 * The units the push changed (packages/ changed: every unit; coupled
 * projects: their unit once) each get a job in the queue, with the
 * environments a push may reach: every `auto` one, and those that need the
 * phrase only when the push carried it (git push -o "confirm=PHRASE"; the
 * engine judges it exactly). Then a worker is started, detached in its own
 * session, and the pusher sees its progress until the jobs are done (or
 * the worker is gone), unless the push said -o detach. A client that
 * disconnects loses nothing: the worker goes on.
 *
 * This side never runs a deploy itself and links no HTTP client.
 */
#ifndef GITGATE_TRIGGER_H
#define GITGATE_TRIGGER_H

#include <stdio.h>
#include <sys/types.h>

#include "ask.h"
#include "hook_input.h"
#include "server.h"

struct trigger_options {
	const char *phrase;    /* -o confirm=PHRASE */
	const char *emergency; /* -o emergency=REASON */
	int detach;	       /* -o detach, or a hook held to a time limit */
	const char *user;
	const char *user_source; /* where user's name came from (identity.h) */
	struct ask ask;		 /* how the pusher runs gitgate's read-only commands */
};

/* Reads the push options gitgate knows; others are left alone. */
void trigger_read_push_options(struct trigger_options *o, char *const *options, size_t n);
/* Enqueues the jobs for the deploy branch's update among the input's,
 * starts `worker` (the gitgate binary) and follows it. Returns 0 (nothing
 * to do is 0 too), or -1 with the reason in err. */
int trigger_push(const struct server *s, const struct hook_input *input,
		 const struct trigger_options *o, const char *worker, FILE *out, struct buf *err);

/* pre-receive, once the push passed: notes each tip of the deploy branch
 * among the input's (tips.h), pushed by who through the receive-pack
 * process receiver (0: unknown). A tip that cannot be noted is said on
 * out as a warning; the push goes on. */
void trigger_note_accepted(const struct server *s, const struct hook_input *input, const char *user,
			   const char *user_source, pid_t receiver, FILE *out);

/* The worker and gitgate deploy --reconcile: a tip of the deploy branch
 * that git accepted but whose post-receive never queued it (tips.h; with
 * catch_up, also one never noted and that no deploy has recorded) is
 * queued now, for the auto environments only (no phrase came with it).
 * Returns 0, or -1 with the reason in err. */
int trigger_unqueued(const struct server *s, int catch_up, FILE *out, struct buf *err);

/* gitgate deploy --detach: queues unit (a unit's name or "all") at the full
 * revision into environment, starts `worker` and returns, saying how to
 * follow it. Returns 0, or -1 with the reason in err. */
int trigger_deploy(const struct server *s, const char *unit, const char *environment,
		   const char *revision, const struct trigger_options *o, const char *worker,
		   FILE *out, struct buf *err);

#endif
