/*
 * layout: the server's state folder ([deploy] state_dir, by default
 * BARE_REPO/gitgate), every folder and file of it named here once:
 *
 *   targets/PROJECT-ENV[@HOST]/   a target's slots, pid files, app logs,
 *                                 pending.json (slot.h, the engine)
 *   releases/PROJECT-ENV/         the exports (release.h)
 *   logs/ID.log, ID.progress      a deploy's commands' output, a job's
 *   logs/worker.log               progress; the worker's own output
 *   locks/UNIT-ENV.lock           one deploy of a unit into an environment
 *   watches/ID.json               a deploy's watch while it runs (watch.c)
 *   worker.lock                   one worker at a time
 *   queue/ID.json, queue/.seq     the jobs (queue.h), queue/bad/ what is not
 *   tips/NAME.json                accepted and queued tips (tips.h)
 *   ssh/                          the SSH masters' sockets (ssh.h)
 *   history.jsonl                 the records (history.h)
 *
 * Each function appends the path to out; state_dir is the folder itself.
 */
#ifndef GITGATE_LAYOUT_H
#define GITGATE_LAYOUT_H

#include "buf.h"

/* targets/PROJECT-ENV, or PROJECT-ENV@HOST for one of a target's hosts. */
void layout_target(struct buf *out, const char *state_dir, const char *project,
		   const char *environment, const char *host);
void layout_releases(struct buf *out, const char *state_dir, const char *project,
		     const char *environment);
/* logs, or logs/NAME (an id and ".log" or ".progress", or "worker.log"). */
void layout_logs(struct buf *out, const char *state_dir, const char *name, const char *suffix);
/* locks, or locks/UNIT-ENV.lock. */
void layout_locks(struct buf *out, const char *state_dir, const char *unit,
		  const char *environment);
/* watches, or watches/ID.json. */
void layout_watches(struct buf *out, const char *state_dir, const char *id);
void layout_worker_lock(struct buf *out, const char *state_dir);
void layout_ssh(struct buf *out, const char *state_dir);
/* Makes the folder path when missing (its parent must exist). Returns 0,
 * or -1 (err). */
int layout_make_folder(const char *path, struct buf *err);
/* Makes the folders a deploy writes into (the state folder, targets,
 * releases, logs, locks, watches) when missing. Returns 0, or -1 (err). */
int layout_make(const char *state_dir, struct buf *err);
/* Makes the logs folder when missing. Returns 0, or -1 (err). */
int layout_make_logs(const char *state_dir, struct buf *err);

#endif
