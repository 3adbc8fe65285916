/*
 * engine: what the parts of the deploy engine share (private to
 * src/deploy): the job and its parts, and each part's functions. See
 * deploy.h for what the engine does, and the files for how:
 *
 *   deploy.c     deploy_run: each request's run, the gates before any deploy
 *   job.c        the job: parts, connections, lock, state, record
 *   part.c       one part's commands, env file, app and health checks
 *   part_compose.c  a Compose target's part: images, projects (compose.h)
 *   env_command.c   a target's env_command, laid over its env file
 *   gates.c      the gate table and its gates, gate_report
 *   live.c       the slot, the switch, gate 11, a host's turn at a time
 *
 * Every part lives on a host (host.h): this machine's, or a remote one's
 * opened at the first need; the engine asks the host and never which
 * backend it is.
 *   rollback.c   rollback, to the warm slot or --to
 *   reconcile.c  what a deploy that died left, ended
 *
 * Paths under the state directory:
 *   targets/PROJECT-ENV/   the slots' state, pid files and app logs (slot.h)
 *   releases/PROJECT-ENV/  the exports (release.h)
 *   logs/ID.log            every command's output for deploy ID
 *   locks/UNIT-ENV.lock    one deploy of a unit into an environment at a time
 *   history.jsonl          the records (history.h)
 *
 * The values of every env file and env_command the job reads
 * (part_read_env) join the job's mask: from then on, commands write into
 * logs/ID.log through it, and what the job prints, records and sends is
 * masked (mask.h).
 */
#ifndef GITGATE_DEPLOY_ENGINE_H
#define GITGATE_DEPLOY_ENGINE_H

#include <stdio.h>
#include <time.h>

#include "command.h"
#include "compose.h"
#include "deploy.h"
#include "accesslog.h"
#include "envfile.h"
#include "history.h"
#include "mask.h"
#include "release.h"
#include "host.h"
#include "sandbox.h"
#include "slot.h"
#include "state.h"
#include "switch.h"

/* From SIGTERM to SIGKILL: a target's commands and apps, and what a dead
 * deploy left running. */
#define GRACE_MS 5000

/* One project's target in this deploy, on one of its hosts. */
struct part {
	const struct deploy_target *t;
	const char *address;  /* USER@HOST[:PORT], or NULL: this machine */
	size_t turn;	      /* the host's place in the target's hosts: the rolling order */
	struct host *host;    /* where it lives, once part_connect opened it (host.h) */
	struct part *primary; /* the target's first part, whose release every host gets */
	struct buf label;     /* "argo", or "argo on root@10.0.0.2:22" */
	struct buf state_dir, releases_dir;
	struct slot_target slot;       /* its host is the part's */
	struct compose_target compose; /* a Compose target's (slot.compose points here) */
	struct slot_state state;
	enum slot_color live, next;
	struct release release;
	int exported;
	struct envfile env;
	struct mask *mask; /* the job's: the env file's values join it when read */
	int started;	   /* the next slot's app was started by this deploy */
	/* The next slot's app log on its host, and where it stood when the
	 * app started: what it wrote since is what health_log_pattern judges. */
	struct buf app_log;
	struct logpos app_since;
	time_t app_started; /* a Compose project's: its containers' logs are read since */
	int app_marked;
	int switched;
	int stranded; /* switching back failed: its pending mark stays for reconcile */
};

struct deploy_job {
	const struct deploy_site *site;
	const struct deploy_request *req;
	const struct rules *rules;
	const struct unit *unit;
	const struct deploy_environment *env;
	struct part *parts;
	size_t nparts;
	size_t turn, nturns;  /* the hosts' turn going live, and how many there are */
	struct host *here;    /* this machine: the exports, gates 3-5, local parts */
	struct host **remote; /* each remote host opened, once: parts point at them */
	size_t nremote, cap_remote;
	char revision[GIT_OID_HEXSZ + 1];
	const char *from; /* the revision live before, or NULL */
	struct buf id, log;
	struct mask mask; /* the values it must never show, log, record or send */
	json_t *record;
	FILE *out;
	unsigned level;	 /* gitgate health --level: instead of the environment's */
	FILE *table;	 /* gitgate health: each check's table is printed here */
	json_t *reports; /* gitgate health --format json: each target's report */
	int pruned;	 /* releases were set aside: swept once the record is written */
};

/* What the table says of a gate besides its number, name and check. */
enum gate_flags {
	GATE_BEFORE_ANY = 1,   /* when several units deploy together, passed by
				  every one before any deploys (a leading run) */
	GATE_CHEAP = 2,	       /* judged before the lock, with the cheap refusals;
				  reported in its place */
	GATE_EXPORTS = 4,      /* exports the revision and runs install first */
	GATE_AFTER_SWITCH = 8, /* judged after the switch, by live.c: no run */
};

/* A gate's check: its result, and what to say in detail. */
typedef enum gate_result (*gate_check)(struct deploy_job *j, struct buf *detail);

/* One of the team's numbered gates. */
struct gate {
	int number;
	const char *name;
	gate_check run;
	/* the project's command it runs (a dry run says it instead), or NULL */
	const struct deploy_command *(*command)(const struct deploy_target *t);
	unsigned flags;
};

/* The gate table, in the order the gates run (gates.c): the one place that
 * says which gates there are, their numbers and names, and what each does. */
extern const struct gate deploy_gates[];
extern const size_t deploy_ngates;
/* The gate numbered so (it is in the table). */
const struct gate *gate_numbered(int number);
/* How many gates, from the table's start, carry flag (GATE_BEFORE_ANY), or
 * come before the first that does (GATE_AFTER_SWITCH). */
size_t gates_leading(unsigned flag);
size_t gates_before(unsigned flag);

/* How a part's next slot is made ready to go live: a deploy's
 * slot_prepare, a rollback's warm_up. Returns 0 when it is, else -1 with
 * why in detail. */
typedef int (*prepare_fn)(struct deploy_job *j, struct part *p, int migrate, struct buf *detail);

/* How a switch ended. Traffic moving and the state saying so are two
 * writes: the second can fail (a full disk) after the first took effect,
 * and then what serves is not what the state names. */
enum switch_outcome {
	SWITCH_FAILED,	   /* traffic did not move */
	SWITCH_DONE,	   /* traffic moved, and the state says so */
	SWITCH_UNRECORDED, /* traffic moved; the state still names the slot before */
};

/* job.c */
double seconds_since(const struct timespec *t0);
int is_primary(const struct part *p);
int in_turn(const struct deploy_job *j, const struct part *p);
void part_init(struct deploy_job *j, struct part *p, const struct deploy_target *t,
	       const struct deploy_environment *env, size_t turn);
int part_load(struct part *p, struct buf *err);
void part_free(struct part *p);
int part_connect(struct deploy_job *j, struct part *p, struct buf *err);
int job_connect(struct deploy_job *j);
int job_load(struct deploy_job *j, struct buf *err);
int resolve_revision(struct deploy_job *j, const char *name, struct buf *err);
void prune_releases(struct deploy_job *j);
enum gitgate_status job_open(struct deploy_job *j, struct buf *err);
void job_start_record(struct deploy_job *j, const char *kind);
int job_lock(struct deploy_job *j, struct state_lock *lock, struct buf *detail);
int job_load_reported(struct deploy_job *j);
void job_close(struct deploy_job *j);
/* What the job's hosts still do in the background (a remote prune) waited
 * for, its failure said as a warning, and what the job held there let go
 * (host_settle): before the target's lock is given up. */
void job_settle(struct deploy_job *j);
enum gitgate_status job_end(struct deploy_job *j, enum history_outcome outcome);

/* part.c */
/* The variables of the part's commands for slot c (port: room for its
 * number), and the environment of a command with them (secrets: the env
 * file's variables too), over gitgate's own without git's. */
void part_vars(struct command_vars *vars, const struct deploy_job *j, const struct part *p,
	       enum slot_color c, char *port, size_t port_size);
char **part_environ(const struct part *p, const struct command_vars *vars, int secrets);
/* The last lines of the deploy log at path, for a failure's detail. */
void log_tail(struct buf *out, const char *path);
int command_run(struct deploy_job *j, struct part *p, const struct deploy_command *cmd,
		const char *cwd, enum slot_color c, int on_target, struct buf *detail);
int health_check(struct deploy_job *j, struct part *p, const struct deploy_environment *env,
		 const char *url_template, enum slot_color c, struct buf *detail);
const char *live_url_of(const struct part *p);
/* word with gitgate's variables for p's slot c filled in ($SLOT, $PORT ...). */
void part_expand(struct deploy_job *j, struct part *p, enum slot_color c, const char *word,
		 struct buf *out);
int part_read_env(struct part *p, struct buf *err);
int part_export(struct deploy_job *j, struct part *p, struct buf *detail);
int part_receive(struct deploy_job *j, struct part *p, enum slot_color slot, struct buf *there,
		 struct buf *sent, struct buf *detail);
/* Does gitgate supervise p's app itself (run), rather than Compose or the
 * user's start and stop commands? */
int part_supervised(const struct part *p);
/* Tells p's host the URLs that gate 9 and the next slot's check will ask
 * it for (the live slot's, the next slot's), so that a remote host makes
 * them reachable in one go (host_reach). */
void part_reach_checks(struct deploy_job *j, struct part *p);
/* Tells p's host which release part_receive will ask it for next, so that
 * it may begin on it while the slot is cleared (host.h's offer). */
void part_offer(struct part *p);
int app_stop(struct deploy_job *j, struct part *p, enum slot_color c, struct buf *err);
void stop_next(struct deploy_job *j, struct part *p);
int app_start(struct deploy_job *j, struct part *p, struct buf *detail);

/* part_compose.c */
int part_compose_build(struct deploy_job *j, struct part *p, struct buf *detail);
int part_compose_up(struct deploy_job *j, struct part *p, struct buf *detail);
void part_compose_prune(struct deploy_job *j, struct part *p);
/* Each line the next slot's containers wrote since p->app_started, to
 * line(arg, ...); p->app_started then moves to now, for the next call. */
int part_compose_logs(struct part *p, void (*line)(void *arg, const char *line, size_t len),
		      void *arg, struct buf *detail);

/* env_command.c: the part's env_command run on its host, its variables
 * added to p->env (after the env file's: they win). Returns 0, or -1 with
 * how it ended in err (never what it printed). */
int env_command_read(struct part *p, struct buf *err);

/* gates.c */
enum gate_result gate_described(struct deploy_job *j, const struct gate *g, struct buf *detail);
void gate_report(struct deploy_job *j, int number, const char *name, enum gate_result result,
		 double seconds, const char *detail);
/* The refusals that need neither lock nor state and have no number: who
 * may deploy there, an emergency's reason and user, the freeze. 1 with the
 * step's name and why when one refuses. (Gate 10, cheap too, is a gate of
 * the table: GATE_CHEAP.) */
int cheap_refusal(struct deploy_job *j, struct buf *detail, const char **name);
/* A numbered gate's result said and recorded under the table's name. */
void gate_said(struct deploy_job *j, int number, enum gate_result result, double seconds,
	       const char *detail);
/* The gate numbered so, run (check, or NULL: the table's own), timed and
 * said: a rollback's gates, which it runs its own way. */
enum gate_result gate_run_as(struct deploy_job *j, int number, gate_check check);

/* confirm.c */
/* Where the next slot's app log stands now, before the app starts. */
void app_log_mark(struct deploy_job *j, struct part *p);
/* The lines the app logged since it started (or the last call): none may
 * match health_log_pattern. Returns 0, or -1 with why in detail. */
int app_log_check(struct deploy_job *j, struct part *p, struct buf *detail);

/* The new slot's share of errors in a target's access log over a span (a
 * canary step, the watch). */
struct access_span {
	int on; /* the target has an error_log */
	struct logpos pos;
	struct errorrate rate;
	char *slots[2]; /* "127.0.0.1:PORT": the new slot's, the old one's */
};
/* Begins the span now: only lines written from here on count. */
int access_span_begin(struct deploy_job *j, struct part *p, struct access_span *a,
		      const struct logpos *resume, struct buf *err);
/* Reads what the log gained and judges the span so far. Returns 0, or -1
 * with why in detail (a failing error rate, a log that cannot be read). */
int access_span_judge(struct deploy_job *j, struct part *p, struct access_span *a,
		      struct errorrate_verdict *v, struct buf *detail);
void access_span_end(struct access_span *a);
/* One confirmation check of part p's slot c, reached at url: its health
 * at the environment's level, its app log, its access log's error rate.
 * Returns 0, or -1 with why in detail. */
int confirm_check(struct deploy_job *j, struct part *p, struct access_span *a, enum slot_color c,
		  const char *url, struct buf *detail);
/* The canary's steps for the parts of this turn, before their full
 * switch: each step's share of requests to the new slot, checked every
 * watch_interval_seconds. Returns 0 when every step passed (or there is no
 * canary), -1 with why in detail once the old slot has every request
 * again. */
int canary_steps(struct deploy_job *j, struct buf *detail);

/* watch.c */
/* After gate 11 passed, where the environment has watch_seconds: the
 * watch's file, its watcher started, the record and the output say so.
 * Returns 0, or -1 (said: the deploy stands, unwatched). */
int watch_begin(struct deploy_job *j);
/* The job holds its lock and will change the slots: every watch of its
 * unit there ends, superseded (recorded). */
void watches_supersede(struct deploy_job *j);

/* live.c */
enum switch_outcome switch_to(struct deploy_job *j, struct part *p, enum slot_color c,
			      struct buf *detail);
/* The nginx switch of p's target, on p's host. */
void part_nginx(struct deploy_job *j, struct part *p, struct switch_nginx *out);
enum history_outcome live_turns(struct deploy_job *j, prepare_fn prepare, int migrate,
				const char *note);
enum history_outcome go_live(struct deploy_job *j, int migrate);

#endif
