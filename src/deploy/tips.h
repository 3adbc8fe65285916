/*
 * tips: the deploy branch's tips that pre-receive accepted, and the ones a
 * push's post-receive queued, so that a tip accepted but never queued is
 * found.
 *
 * git moves a pushed ref once pre-receive passes and runs post-receive
 * after it has told the client; when the client has gone meanwhile,
 * receive-pack dies writing to it: the ref moved, post-receive never ran.
 * Every platform runs pre-receive (gitolite, GitLab and Gitea run no
 * reference-transaction hook of a repository's), so it notes the tip it
 * lets through. In STATE_DIR:
 *   tips/accepted.json  the last tips of the deploy branch pre-receive
 *                       accepted (the newest TIPS_KEPT), each with who
 *                       pushed it and which receive-pack process took it
 *   tips/queued.json    the last tip post-receive queued the deploys of
 *                       (or found nothing to deploy in)
 * What the branch's tip is, is asked of the repository: an accepted tip
 * that another hook refused after pre-receive never becomes the tip. A
 * tip is unqueued when it is the branch's tip, was accepted, was not
 * queued, and the receive-pack that took it is gone: while that process
 * lives, its post-receive may still come.
 */
#ifndef GITGATE_TIPS_H
#define GITGATE_TIPS_H

#include <sys/types.h>

#include "buf.h"

/* How many accepted tips are kept: pushes in flight at once. */
#define TIPS_KEPT 8

/* pre-receive let the deploy branch go from old_id to new_id, pushed by
 * user (whose name came from user_source, identity.h) through the
 * receive-pack process `receiver` (0: unknown). Returns 0, or -1 with the
 * reason in err. */
int tips_note_accepted(const char *state_dir, const char *old_id, const char *new_id,
		       const char *user, const char *user_source, pid_t receiver, struct buf *err);
/* post-receive: revision's deploys are queued (or it had none). */
int tips_note_queued(const char *state_dir, const char *revision, struct buf *err);

/* Is tip, the deploy branch's tip now, accepted and never queued? 1 with
 * from (the tip queued before it, else the branch's tip before that push)
 * user and user_source (empty when unknown) filled, 0 when not, -1 with the
 * reason in err. With catch_up, a tip never noted as accepted counts too, once some
 * tip was queued before and it is not that one: pre-receive could not note
 * it (the state folder was read-only then, or a ref was moved on the
 * server without a push). Only gitgate deploy --reconcile asks so: a push
 * whose post-receive has not run yet looks the same then. */
int tips_unqueued(const char *state_dir, const char *tip, int catch_up, struct buf *from,
		  struct buf *user, struct buf *user_source, struct buf *err);

#endif
