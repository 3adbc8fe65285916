/*
 * slot: the two slots of a blue/green target, what each one runs, and the
 * app running in each.
 *
 * A target (a project in an environment) has a ROOT and two slots,
 * ROOT-blue and ROOT-green. Each slot is a symlink to a release folder
 * (release.h), replaced atomically (a symlink made under a temporary name
 * and renamed over the old one), and has a port, blue's first. Which slot
 * is live (gets the traffic) is what switch.h changes; this module keeps
 * the record of it.
 *
 * On disk, in the target's state folder STATE (a folder of its own per
 * target, e.g. STATE_DIR/targets/argo-production):
 *   STATE/slots.json            which slot is live and what each slot runs
 *                               (release id, revision, since when, running
 *                               or stopped, on which port), replaced whole
 *                               (state_replace): the old record or the
 *                               new, never a mix
 *   STATE/blue.pid, green.pid   the supervised app: "PID STARTTIME\n", the
 *                               start time as /proc/PID/stat gives it
 *   STATE/blue.log, green.log   the app's stdout and stderr, appended; the
 *                               user's own start/stop commands' output too;
 *                               capped: see log_max_bytes below
 *   STATE/blue.log.1, ...       the log as it was at its last rotations
 *
 * The app runs either supervised by gitgate (slot_start: detached, in a
 * session and process group of its own, so it outlives the deploy and a
 * stop reaches everything it started; stopped with SIGTERM to the group,
 * then SIGKILL after the grace period; its output goes through a log
 * writer of the same group, detach.h, which caps the log), through the user's own start and
 * stop commands (systemd), run with a time limit, or as a Compose project
 * of its own (compose.h: a Compose target's, whose containers say whether
 * it runs, and which stops as `down` does).
 * A pid alone is not trusted: it may have been reused since the pid file
 * was written. The start time recorded beside it must match before the
 * process counts as the app, or is signalled. A process that left the
 * group (its own setsid) is out of reach, as with any supervisor that is
 * not a cgroup.
 *
 * Commands are argv arrays with $PORT and $SLOT already substituted by the
 * caller; they run in the slot folder (ROOT-blue: its release). Every
 * function that changes slots.json loads, changes and replaces it: the
 * caller holds the target's deploy lock.
 */
#ifndef GITGATE_SLOT_H
#define GITGATE_SLOT_H

#include <time.h>

#include "buf.h"

enum slot_color { SLOT_NONE = -1, SLOT_BLUE = 0, SLOT_GREEN = 1 };

/* Where the slots are: this machine or a remote host (host.h). */
struct host;
struct host_release;
struct compose_target;

struct slot_target {
	const char *root; /* ROOT: the slots are ROOT-blue and ROOT-green */
	/* The host the slots are on: ROOT is a path there, where the
	 * symlinks are swapped and the app runs (and where its pid file and
	 * log are kept: STATE here, ROOT-run/ on a remote host); slots.json
	 * stays in STATE, on this machine. */
	struct host *host;
	const char *state_dir; /* STATE, this target's own; its parent must exist */
	unsigned ports[2];     /* blue's, green's */
	unsigned limit_ms;     /* for the user's start and stop commands */
	unsigned grace_ms;     /* from SIGTERM to SIGKILL */
	/* The slot's log: when the next write would take it past
	 * log_max_bytes (0: no cap), it becomes SLOT.log.1 (.1 becomes .2,
	 * up to log_keep files) and a new one starts. Here by the app's log
	 * writer, on a remote host by its start script; before a start or
	 * stop command, a log that has reached the cap is rotated. */
	unsigned long long log_max_bytes;
	unsigned log_keep;
	/* A Compose target's: its slots are its Compose projects (NULL: a
	 * supervised app, or the user's start/stop). */
	const struct compose_target *compose;
};

/* A command for a slot. env as run.h takes it: "NAME=value" entries over
 * gitgate's own environment, or alone with env_clear (an app should not
 * inherit the hook's GIT_DIR). */
struct slot_command {
	const char *const *argv;
	const char *const *env;
	int env_clear;
};

struct slot_info {
	char *release;	/* the release id, NULL: nothing assigned yet */
	char *revision; /* its full revision */
	time_t since;	/* when the release was assigned */
	int running;	/* gitgate last started it (1) or stopped it (0) */
	unsigned port;	/* the port it was last started on */
};

struct slot_state {
	enum slot_color live; /* SLOT_NONE until the first switch */
	time_t switched;      /* when live last changed */
	struct slot_info slots[2];
};

/* "blue", "green", "none". */
const char *slot_name(enum slot_color c);
/* The slot that is not c. */
enum slot_color slot_other(enum slot_color c);
/* ROOT-blue or ROOT-green. */
void slot_dir(struct buf *out, const struct slot_target *t, enum slot_color c);

/* Reads STATE/slots.json (missing: nothing assigned, nothing live).
 * Returns 0, or -1 with the reason in err. */
int slot_state_load(struct slot_state *out, const struct slot_target *t, struct buf *err);
void slot_state_free(struct slot_state *st);

/* Makes path a symlink to target, atomically: a temporary symlink beside
 * it renamed over it, the folder synced. Refuses to replace anything but a
 * symlink. Returns 0, or -1 with the reason in err and path as it was. */
int slot_symlink(const char *path, const char *target, struct buf *err);

/* Makes release r available on the slot's host and points slot c at it,
 * the supervised app of slot c stopped first when stop is set (as
 * slot_stop does): host_receive with the slot's symlink and app, one trip
 * to a remote host. Then records the release: where gets the folder it is
 * in there, said how it travelled. The live slot is refused: what serves
 * traffic only changes by a switch. */
int slot_assign(const struct slot_target *t, enum slot_color c, const struct host_release *r,
		int stop, const char *revision, struct buf *where, struct buf *said,
		struct buf *err);
/* Records that slot c is live from now on (after the switch itself). */
int slot_set_live(const struct slot_target *t, enum slot_color c, struct buf *err);

/* Starts cmd supervised in slot c. Returns 0 once the app is in its own
 * session and its pid file is written, or -1 with the reason in err
 * (already running, its port taken by another process, cannot start). */
int slot_start(const struct slot_target *t, enum slot_color c, const struct slot_command *cmd,
	       struct buf *err);
/* Stops the supervised app of slot c: SIGTERM to its process group, and
 * SIGKILL to what is left after the grace period. Nothing running is not
 * an error. Returns 0 once the group is gone, or -1 with the reason. */
int slot_stop(const struct slot_target *t, enum slot_color c, struct buf *err);
/* Is the supervised app of slot c running? *running 0 when there is no pid
 * file, or its process is gone or is another one now; for a Compose
 * project, when it has no container or one that does not run. Returns 0,
 * or -1 with the reason in err (its host could not be asked). */
int slot_running(const struct slot_target *t, enum slot_color c, int *running, struct buf *err);
/* Records slot c as running (on its port) or stopped: after its app was
 * started by other means than slot_start (a Compose project's `up`). */
int slot_mark_running(const struct slot_target *t, enum slot_color c, int running, struct buf *err);

/* Where the supervised app of slot c writes its output (on its host). */
void slot_app_log(const struct slot_target *t, enum slot_color c, struct buf *out);

/* The user's own start or stop command for slot c, run in the slot folder
 * with output appended to the slot's log, under t->limit_ms; the state
 * records the slot as running after a start, stopped after a stop.
 * Returns 0 when it exited 0, else -1 with how it ended in err. */
int slot_start_command(const struct slot_target *t, enum slot_color c,
		       const struct slot_command *cmd, struct buf *err);
int slot_stop_command(const struct slot_target *t, enum slot_color c,
		      const struct slot_command *cmd, struct buf *err);

#endif
