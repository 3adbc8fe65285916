/*
 * state: the one place that writes the server's state, by default in
 * GITDIR/gitgate/: the logs (pushes.jsonl, audit.jsonl, the deploy
 * history), the files replaced whole (what each slot runs), and the locks.
 *
 * What it guarantees:
 * - An appended line is in the file whole, with its newline, or not at all:
 *   writers hold an exclusive flock, and a write that fails part way (a
 *   full disk) is cut back to the file's previous size, so no fragment is
 *   left for the next line to be glued to. It is fsynced before success.
 * - A replaced file is the old one or the new one, never a mix: a temporary
 *   file in the same directory is written, fsynced and renamed over it, and
 *   the directory is fsynced.
 * - A lock is a flock on a lock file that is never removed, through a
 *   close-on-exec descriptor (no command gitgate starts can keep it alive);
 *   the kernel drops it when its holder dies. While it is held, the file
 *   says who holds it.
 * - A directory that is missing is made, with its parents; failing to make
 *   it is an error the caller sees.
 *
 * It deals in bytes: callers hand it a line already serialised, because the
 * shape of a record belongs to the layer that knows the record. So base/
 * needs no JSON library and any layer above can write state.
 */
#ifndef GITGATE_STATE_H
#define GITGATE_STATE_H

#include <sys/types.h>
#include <time.h>

#include "buf.h"

/* The state directory of the repository whose git dir is given:
 * GITDIR/gitgate. The caller names the git dir (a hook knows it from git);
 * nothing here reads the environment. */
void state_dir_path(struct buf *out, const char *gitdir);

/* mkdir -p of the folder path is in. Returns 0, or -1 (err). */
int state_make_parent(const char *path, struct buf *err);
/* Appends line (one line, no newline of its own) and a newline to the file
 * at path, creating it and its directory when missing. Returns 0, or -1
 * with the reason in err and the file as it was. */
int state_append_jsonl(const char *path, const char *line, struct buf *err);

/* Hands each line of the file at path to fn, the last first (without its
 * newline; empty lines left out), until fn returns 0 or the file's start:
 * the newest records of a JSON-lines file are read without the rest. What
 * is appended meanwhile is not read. A missing file has no lines. Returns
 * 0, or -1 with the reason in err. */
int state_lines_backward(const char *path, int (*fn)(const char *line, size_t len, void *arg),
			 void *arg, struct buf *err);

/* Writes all len bytes to fd, again after a short write or EINTR. Returns
 * 0, or -1 with errno (ENOSPC for a write that wrote nothing). */
int state_write_all(int fd, const void *data, size_t len);

/* Reads the file at path into out (replacing what it held), only when it
 * is a regular file: a FIFO would wait for a writer (a deploy holding its
 * lock, forever), and a folder reads as nothing. *found 0 when there is no
 * file. Returns 0, or -1 with the reason in err. */
int state_read_regular(const char *path, struct buf *out, int *found, struct buf *err);

/* Replaces the file at path with data, atomically and durably. Returns 0,
 * or -1 with the reason in err and the old file untouched. */
int state_replace(const char *path, const void *data, size_t len, struct buf *err);

/* Who holds a lock. Text fields are stored escaped (escape.h), so what is
 * read back is safe to show. */
struct state_holder {
	pid_t pid;
	char *user;
	char *revision;
	time_t since;
};

struct state_lock {
	int fd;
};

/* Takes the lock whose file is path (made, with its directory, if missing),
 * waiting up to wait_seconds for another holder, and records `me` in it.
 * Returns 0, or -1 with the reason in err: on a timeout, who holds it. */
int state_lock(struct state_lock *out, const char *path, const struct state_holder *me,
	       unsigned wait_seconds, struct buf *err);
void state_unlock(struct state_lock *lock);
/* Who holds the lock at path: 1 with out filled, 0 when nobody does, -1 on
 * an error (in err). It probes with a shared lock for an instant, so a
 * state_lock that does not wait may find the lock busy at that instant. */
int state_lock_holder(struct state_holder *out, const char *path, struct buf *err);
/* "alice (rev 0123456789ab, since 2024-05-03 12:00, pid 42)" */
void state_holder_describe(struct buf *out, const struct state_holder *h);
void state_holder_free(struct state_holder *h);

#endif
