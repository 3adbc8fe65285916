/*
 * remote: what a deploy does on a remote target's host, through its ssh
 * connection (ssh.h): run a command in a folder with variables, swap a
 * symlink, read and replace a file, receive and prune releases, supervise
 * an app (start it detached, see whether it runs, stop its process group),
 * and make a health check reach what runs there.
 *
 * Each is a short POSIX sh script that is part of gitgate, run as
 * `sh -c SCRIPT gitgate ARG...`: the script is a constant and everything
 * variable -- paths, the command's words -- is an argument, quoted by
 * shell_quote, so no name, path or pushed byte is ever shell syntax there.
 * Variables a command gets (the env file's secrets among them) travel on
 * its stdin, one NAME=value a line, and are exported by the script before
 * it execs the command: never on a command line, where `ps` on the host
 * would show them. A value holding a newline cannot travel that way and
 * is refused.
 *
 * The scripts are in remote.c, but for the releases' (remote_release.c).
 *
 * What the host needs: sh, tar, and for the steps that use them stat -c
 * (the logs a confirmed deploy reads), setsid
 * (run), mv -T (GNU or busybox: the symlink swap), /proc (the start time
 * beside a pid, so that a reused pid is never taken for the app; a group
 * of zombies is a group gone) and timeout(1) (a command's limit there).
 * Without /proc a pid is trusted alone; without timeout(1) a command's
 * limit stops only the ssh here. The sandbox there needs bwrap on the
 * login PATH and readlink -f (GNU or busybox).
 *
 * The app's commands run there in bubblewrap when it works there (see
 * remote_sandbox_open): the sandbox's argv is made here, of the host's
 * paths, and is the command's argv like any other.
 *
 * On the host, beside ROOT-blue and ROOT-green:
 *   ROOT-releases/<id>/      the releases, each received whole or not at all
 *   ROOT-releases/.pristine/ gitgate's own copy of the last release sent,
 *                            out of every app's reach, and .pristine.id
 *                            naming it: what the next is built on
 *   ROOT-run/blue.pid, .log  the supervised app: "PID STARTTIME", its output
 */
#ifndef GITGATE_REMOTE_H
#define GITGATE_REMOTE_H

#include "accesslog.h"
#include "buf.h"
#include "health.h"
#include "release_delta.h"
#include "run.h"
#include "sandbox.h"
#include "ssh.h"

/* The sh functions the scripts share, read with the shell's own read (no
 * process started for them). stat_of PID: the fields of /proc/PID/stat
 * after the process's name into $st (state, parent, group, session ...,
 * the start time 20th), empty when there is none. alive PID START: is that
 * process (with that start time, where /proc tells it) still there and
 * not a zombie? */
#define REMOTE_ALIVE                                                                               \
	"stat_of() {\n"                                                                            \
	"  st=; { read -r st <\"/proc/$1/stat\"; } 2>/dev/null; st=${st##*\") \"}\n"               \
	"}\n"                                                                                      \
	"alive() {\n"                                                                              \
	"  [ -r /proc/$1/stat ] || { kill -0 \"$1\" 2>/dev/null; return; }\n"                      \
	"  stat_of \"$1\"; set -- \"$2\" $st\n"                                                    \
	"  [ $# -ge 21 ] && [ \"$2\" != Z ] && [ \"${21}\" = \"$1\" ]\n"                           \
	"}\n"

/* The sh function that swaps a symlink: swap_link PATH TARGET makes PATH
 * (its folder made when missing) a symlink to TARGET through a temporary
 * one renamed over it; anything but a symlink at PATH is refused. */
#define REMOTE_LINK                                                                                \
	"swap_link() {\n"                                                                          \
	"  if [ -e \"$1\" ] && [ ! -L \"$1\" ]; then\n"                                            \
	"    echo \"$1 is not a symlink: gitgate replaces only links\" >&2; return 1\n"            \
	"  fi\n"                                                                                   \
	"  d=${1%/*}; [ -z \"$d\" ] || [ -d \"$d\" ] || mkdir -p -- \"$d\" || return 1\n"          \
	"  tmp=$1.gitgate-new-$$\n"                                                                \
	"  { [ ! -L \"$tmp\" ] || rm -f -- \"$tmp\"; } && ln -s -- \"$2\" \"$tmp\" &&\n"           \
	"  mv -Tf -- \"$tmp\" \"$1\" || { rm -f -- \"$tmp\"; return 1; }\n"                        \
	"}\n"

/* The sh function that stops a supervised app: stop_app PIDFILE TENTHS
 * sends SIGTERM to the process group its pid file names (and SIGCONT: a
 * stopped process acts on SIGTERM only then), SIGKILL after TENTHS tenths
 * of a second, and removes the pid file once the group is gone; nothing
 * running is no failure. A pid that is another process's now is never
 * signalled; one that is gone may still lead a group of leftovers (a group
 * with nobody in it takes no signal; one of zombies alone takes it
 * harmlessly, and is gone at the first look). Gone (gone): no process of
 * the group left but zombies (an app that died is one until whoever
 * adopted it reaps it; kill(2) still counts it), every process's state and
 * group read by one awk (a loop of sh reads takes 20 ms where a hundred
 * processes run). The group is looked at every 2 ms for the first 20 (most
 * apps are gone by then), every 10 ms up to the first tenth, then every
 * tenth (waitgone). With REMOTE_ALIVE. */
#define REMOTE_STOP                                                                                \
	"gone() {\n"                                                                               \
	"  kill -s 0 -- \"-$pid\" 2>/dev/null || return 0\n"                                       \
	"  [ -r /proc/self/stat ] || return 1\n"                                                   \
	"  ! cat /proc/[0-9]*/stat 2>/dev/null | awk -v g=\"$pid\" '\n"                            \
	"    { sub(/.*\\) /, \"\"); if ($3 == g && $1 != \"Z\") { alive = 1; exit } }\n"           \
	"    END { exit !alive }'\n"                                                               \
	"}\n"                                                                                      \
	"waitgone() {\n"                                                                           \
	"  n=0 f=0\n"                                                                              \
	"  while ! gone && [ $n -lt $1 ]; do\n"                                                    \
	"    if [ $f -lt 10 ]; then sleep 0.002\n"                                                 \
	"    elif [ $f -lt 18 ]; then sleep 0.01\n"                                                \
	"    else sleep 0.1; n=$((n + 1)); fi\n"                                                   \
	"    f=$((f + 1))\n"                                                                       \
	"  done\n"                                                                                 \
	"}\n"                                                                                      \
	"stop_app() {\n"                                                                           \
	"  [ -s \"$1\" ] || return 0\n"                                                            \
	"  read -r pid start <\"$1\" || return 1\n"                                                \
	"  if [ -r /proc/$pid/stat ] && ! alive \"$pid\" \"$start\"; then\n"                       \
	"    rm -f -- \"$1\"; return\n"                                                            \
	"  fi\n"                                                                                   \
	"  if kill -s TERM -- \"-$pid\" 2>/dev/null; then\n"                                       \
	"    kill -s CONT -- \"-$pid\" 2>/dev/null\n"                                              \
	"    waitgone \"$2\"\n"                                                                    \
	"    gone || { kill -s KILL -- \"-$pid\" 2>/dev/null; waitgone 50; }\n"                    \
	"    gone || { echo \"process group $pid outlived SIGKILL\" >&2; return 1; }\n"            \
	"  fi\n"                                                                                   \
	"  rm -f -- \"$1\"\n"                                                                      \
	"}\n"

/* A grace in ms as stop_app takes it: tenths of a second, at least one. */
static inline unsigned remote_grace_tenths(unsigned grace_ms)
{
	return grace_ms / 100 ? grace_ms / 100 : 1;
}

/* Runs one of gitgate's constant sh scripts on the host with its arguments
 * (NULL-terminated), stdin from in (NULL: none), stdout into out (NULL:
 * discarded), under limit_ms (0: the steps' own). Returns the exit code,
 * or -1 when it could not run or ssh failed (255), with why in err;
 * stderr of a script that failed is in err. */
int remote_script(const struct ssh *s, const char *text, const char *const *args,
		  const struct run_input *in, struct buf *out, unsigned limit_ms, struct buf *err);
/* remote_script in two halves, so that the caller may go on while the
 * script runs there: started (0, or -1 with why in err), then finished
 * (remote_script's return, once; in and out must last until then). */
struct remote_running {
	const struct ssh *s;
	char **argv;
	struct run_process p;
	struct buf said;
};
int remote_script_start(struct remote_running *out, const struct ssh *s, const char *text,
			const char *const *args, const struct run_input *in, struct buf *stdout_to,
			unsigned limit_ms, struct buf *err);
int remote_script_finish(struct remote_running *r, struct buf *err);

/* A command made ready to run here through ssh: its argv, and the stdin
 * that carries its variables. */
struct remote_command {
	char **argv;
	struct buf input;
	const char *dir; /* where it runs here: the connection's folder */
};

/* argv run on the host in cwd (NULL: the login folder) with env ("NAME=value"
 * entries set there; bare names, which only remove a variable here, are
 * skipped), under limit_ms there too when the host has timeout(1) (0: no
 * limit): the caller's limit stops ssh here, not what it ran there.
 * Returns 0, or -1 with why in err (a value with a newline). */
int remote_command_make(struct remote_command *out, const struct ssh *s, const char *const *argv,
			const char *const *env, const char *cwd, unsigned limit_ms,
			struct buf *err);
void remote_command_free(struct remote_command *c);
/* The run.h options that run c (argv, stdin, folder); the caller adds the
 * rest, and never its own cwd: the command's folder there is c's. */
void remote_command_options(struct run_options *o, const struct remote_command *c);

/* Makes path a symlink to target on the host, swapped atomically; refuses
 * to replace anything but a symlink. */
int remote_link(const struct ssh *s, const char *path, const char *target, struct buf *err);
/* Reads the file at path: 1 with its bytes in out, 0 when there is none,
 * -1 with why in err. */
int remote_read_file(const struct ssh *s, const char *path, struct buf *out, struct buf *err);
/* Replaces the file at path with data, atomically (data NULL: removes it). */
int remote_write_file(const struct ssh *s, const char *path, const char *data, size_t len,
		      struct buf *err);
/* A log on the host (accesslog.h's positions, the host's file): where it
 * ends now (a missing file: 0 0 0), and the bytes after from, at most max
 * of them, from where *at says (from's offset in the same file, else the
 * start of the file there now). */
int remote_log_end(const struct ssh *s, const char *path, struct logpos *pos, struct buf *err);
int remote_log_read(const struct ssh *s, const char *path, const struct logpos *from, size_t max,
		    struct logpos *at, struct buf *data, struct buf *err);
/* A release to send: the export here (dir, id) into releases_dir/id on
 * the host, built there on the host's copy of base when it has it. */
struct remote_release {
	const char *dir, *id;
	const char *base_dir, *base_id; /* an earlier export here, sent there; NULL: none */
	const char *releases_dir;	/* ROOT-releases there */
	const char *link;		/* made to point at it there; NULL: none */
	/* The pid file of an app to stop there before link is made (as
	 * remote_app_stop does, while the release travels); NULL: none. */
	const char *stop_pid_file;
	unsigned stop_grace_ms;
	unsigned limit_ms;
};
/* What sending r takes, worked out here alone (no command there, so it may
 * run on a thread of its own while the connection is busy): the delta
 * from its base (based), or, without a base that can be read here, r's
 * own listing. Returns 0, or -1 with why in err. */
struct remote_plan {
	struct release_delta d;
	int based;
};
int remote_release_plan(struct remote_plan *out, const struct remote_release *r, struct buf *err);
void remote_plan_free(struct remote_plan *p);
/* Sends r as planned: what differs from the host's copy of the base
 * (remote_release.c says how), else the whole release as a tar stream,
 * then points r->link at it, in the same command there. Returns 0 with
 * what travelled in said ("sent 10 changed files, 0 removed, 1990 copied
 * there") and the releases there now in listing (a line each), or -1 with
 * why in err. */
int remote_receive_release(const struct ssh *s, const struct remote_release *r,
			   const struct remote_plan *plan, struct buf *said, struct buf *listing,
			   struct buf *err);

/* Starts the removal of the oldest releases in releases_dir on the host
 * until keep are left, never one in in_use (release_prune's choice), of
 * those in listing (as remote_receive_release gave it; NULL: asked there
 * first), and the host's spare copy (remote_release.c), made in the
 * background there. Returns 0 with how many are to go in *removed, the
 * command going on until remote_script_finish; -1 with why in err. */
int remote_prune_start(struct remote_running *out, const struct ssh *s, const char *releases_dir,
		       const char *listing, size_t keep, const char *const *in_use, size_t nin_use,
		       size_t *removed, struct buf *err);

/* A health check (health.h) of what runs on the host, made to reach it
 * from here: a URL or dependency on the host's loopback through a forward
 * of the connection (ssh_reach_url, ssh_reach_port), level 1's port as
 * localhost there, the health command run there; every check named in the
 * report as the host sees it ("GET http://localhost:8000/health on
 * USER@HOST:PORT"), never by a forward's local port. What it made is kept
 * here until remote_health_free, after the check ran. */
struct remote_health {
	struct buf url, url_shown;
	const char *urls[1], *urls_shown[1];
	struct remote_command cmd;
	char **forwarded, **shown; /* a dependency each: what was made, its name */
	size_t ndeps;
};
/* Rewrites spec for the host; deps is the spec's own array of dependency
 * URLs, whose forwarded entries are replaced. Returns 0, or -1 with why in
 * err. */
int remote_health_prepare(struct remote_health *out, struct ssh *s, struct health_spec *spec,
			  const char **deps, struct buf *err);
void remote_health_free(struct remote_health *h);

/* The supervised app, its pid file and log on the host. */
struct remote_app {
	const char *dir;      /* where it runs: the slot folder */
	const char *pid_file; /* ROOT-run/<slot>.pid */
	const char *log;      /* ROOT-run/<slot>.log */
	/* The log's cap (0: none) and old logs kept, as slot.h says. */
	unsigned long long log_max_bytes;
	unsigned log_keep;
};
/* Starts argv detached in a session of its own with env (as above).
 * Returns 0 once it leads its group and its pid file is written. */
int remote_app_start(const struct ssh *s, const struct remote_app *app, const char *const *argv,
		     const char *const *env, struct buf *err);
/* 1 running, 0 not (no pid file, gone, or the pid is another process's),
 * -1 when the host cannot be asked (err). */
int remote_app_running(const struct ssh *s, const struct remote_app *app, struct buf *err);
/* SIGTERM to its group, SIGKILL after grace_ms; nothing running is no error. */
int remote_app_stop(const struct ssh *s, const struct remote_app *app, unsigned grace_ms,
		    struct buf *err);

/* The sandbox on the host (sandbox.h): the bwrap its login PATH finds, the
 * login user's home and the ssh host keys there, asked once per
 * connection; host is what sandbox_argv and sandbox_choose_host need, and
 * asks the host what the layout's paths are there at each use. */
struct remote_sandbox {
	struct sandbox_host host;
	char *bwrap, *home;
	char **keys; /* NULL-terminated */
	size_t nkeys, cap_keys;
};
/* Returns 0, or -1 with why in err (the host could not be asked). */
int remote_sandbox_open(struct remote_sandbox *out, const struct ssh *s, struct buf *err);
void remote_sandbox_free(struct remote_sandbox *rs);

#endif
