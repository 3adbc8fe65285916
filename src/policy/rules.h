/*
 * rules: the policy, loaded from one rules.ini and validated as a whole.
 *
 * Everything a check needs to know about the team's rules lives here:
 * projects and the deploy units they form, the isolation and version-bump
 * rules, the paths that must never be committed, the scan sections (file
 * globs, PCRE2 patterns), and the deploy policy: [deploy], its
 * environments and its targets (a project in an environment: where it
 * lives, its commands, how traffic moves to it, how its health is checked).
 * Loading never stops at the first problem:
 * every error is collected as "file:line: what is wrong", so a user fixes a
 * broken file in one pass.
 *
 * rules_load.c holds what the file may say (one table of keys per section,
 * read through schema.h) and the checks across sections, deploy_load.c the
 * same for the deploy sections; rules.c answers the checks' questions and
 * deploy_policy.c the deploy engine's.
 */
#ifndef GITGATE_RULES_H
#define GITGATE_RULES_H

#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "buf.h"
#include "glob.h"
#include "identity.h"
#include "literals.h"
#include "severity.h"

/* Words of a list key; `given` says the key was there, even with no word,
 * which is how "protected =" differs from no "protected" at all. */
struct strlist {
	char **items;
	size_t n, cap;
	int given;
};

/* Is s (NULL: never) one of the list's words? */
int strlist_has(const struct strlist *list, const char *s);
/* A list of users (users, emergency_users, bypass_users): does it name
 * user? Never a deploy key (identity.h), whatever the list says. */
int strlist_has_user(const struct strlist *list, const char *user);
void strlist_add(struct strlist *list, const char *s);

struct project {
	char *name;
	char *path; /* always ends with "/" */
	char *description;
	const struct unit *unit;
	int line;
};

struct unit {
	char *name;
	struct strlist aliases;
	struct strlist projects;
	int line;
};

struct pattern {
	char *source;
	pcre2_code *code;
	int jit_ready; /* JIT is compiled once a pattern has matched enough lines to pay for it */
	unsigned long uses;
	pcre2_code *buffer_code;  /* the same pattern over whole files (scan.c) */
	struct literals literals; /* one of them is in every match (none: unknown) */
	int line;
};

struct scan_rule {
	char *name;
	char *rule_id;
	enum severity severity;
	struct globlist files, exclude;
	struct pattern *patterns;
	size_t npatterns, patterns_cap;
	char *message;
	char *hint;
	int line;
};

/* Commit-time policy: read by pre-commit and `gitgate check --staged`. */
struct commit_policy {
	unsigned deadline_seconds; /* a longer check is refused, never passed */
};

/* Push-time policy: read by pre-receive on the server and by pre-push. */
struct push_policy {
	/* Full ref names; force pushes and deletion refused. Unless given, the
	 * deploy branch alone. */
	struct strlist protected_refs;
	char *deploy_branch;
	char *baseline; /* a revision: commits reachable from it are accepted */
	unsigned deadline_seconds;
	struct strlist bypass_users;	 /* who may use `git push -o gitgate.bypass=RULE:REASON` */
	struct identity_policy identity; /* who pushes, as the server says (identity.h) */
	enum severity non_commit_refs;	 /* a ref to a blob or tree: its content goes unchecked */
};

/* A command line: as written, and split as a shell would split it
 * (words.h); its words hold $NAME only for deploy_variables, which
 * deploy/command.c fills in when it runs. argv NULL: no command. */
struct deploy_command {
	char *text;
	char **argv; /* NULL-terminated */
	size_t argc;
};

enum deploy_switch_kind {
	DEPLOY_SWITCH_NONE,
	DEPLOY_SWITCH_NGINX,   /* write "server 127.0.0.1:PORT;" to path, nginx -t, reload */
	DEPLOY_SWITCH_LINK,    /* point the symlink path at the live slot's folder */
	DEPLOY_SWITCH_COMMAND, /* run command */
};

/* How traffic moves to the new slot: "nginx FILE", "link PATH" or
 * "command ...". */
struct deploy_switch {
	enum deploy_switch_kind kind;
	char *text; /* as written */
	char *path; /* nginx, link: an absolute path */
	struct deploy_command command;
};

/* [environment NAME] canary: the new slot's share of requests, in percent
 * (1-99, rising), one step after another before it gets them all. */
#define DEPLOY_CANARY_MAX 10
struct deploy_canary {
	unsigned percents[DEPLOY_CANARY_MAX];
	size_t n; /* 0: no canary */
};

/* [environment NAME] deploy_hours: when a deploy may start, in [deploy]
 * freeze_timezone. Each span runs from `from` (in) to `to` (out), minutes
 * after midnight; one whose `from` is after its `to` runs through
 * midnight. */
#define DEPLOY_HOURS_MAX 8
struct deploy_hours {
	struct {
		unsigned from, to;
	} spans[DEPLOY_HOURS_MAX];
	size_t n; /* 0: any time */
};

/* [target] error_pattern unless given: a 5xx status where nginx's combined
 * log format writes it, after the request's closing quote (a '"' inside the
 * request is written \x22, so none other is followed by a status). */
#define DEPLOY_ERROR_PATTERN "\" 5\\d\\d\\b"

/* [environment NAME] */
struct deploy_environment {
	char *name;
	int line;
	int auto_deploy;       /* a push deploys here without the phrase */
	char *requires;	       /* gate 6: live there, at the same revision, first */
	int confirm;	       /* gate 10: the exact phrase is needed */
	unsigned health_level; /* 1..3, gates 9 and 11 and the slot check */
	struct strlist users;  /* who may deploy here; none listed: everyone */
	int freeze;	       /* the freeze days apply here */
	/* Confirmed deploys: when one may start; the canary's steps before the
	 * full switch, and the watch after gate 11, each checked every
	 * watch_interval_seconds. */
	struct deploy_hours hours;
	struct deploy_canary canary;
	unsigned canary_step_seconds;
	unsigned watch_seconds; /* 0: no watch */
	unsigned watch_interval_seconds;
	int watch_rollback; /* a failing watch check switches back to the old slot */
	const struct deploy_environment *required; /* requires, once loaded */
};

/* [target PROJECT ENVIRONMENT]: a project in an environment. */
struct deploy_target {
	char *project, *environment;
	int line;
	char *root;	   /* the slots are ROOT-blue and ROOT-green */
	unsigned ports[2]; /* blue's, green's; 0: not given */
	char *env_file;	   /* the server's own variables for run, start, stop, migrate, health */
	struct strlist env_required; /* gate 7 */
	/* env_command: run where the env file is read; its NAME=value lines
	 * are laid over the env file's (its words take only $PROJECT
	 * $ENVIRONMENT $UNIT $ROOT: the variables are the target's, not a
	 * slot's). */
	struct deploy_command env_command;
	struct deploy_command install, test, lint, build, migrate, run, start, stop;
	/* A Compose target: compose names its file in the release, and its
	 * slots are Compose projects PROJECT-ENVIRONMENT-SLOT (deploy/
	 * compose.h), started by compose_command (or [deploy]'s, or found:
	 * "docker compose", else "docker-compose"); never with run or
	 * start/stop. */
	char *compose;
	struct deploy_command compose_command;
	struct deploy_switch live_switch;
	/* Health. The slot check uses health_url with $PORT the
	 * slot's port; gate 11 uses live_url, through the switch, or when it
	 * is not given health_url with the live slot's port. */
	char *live_url, *health_url;
	char *health_status;	     /* codes and classes: "2xx", "200 204" */
	struct pattern *health_body; /* at most one: the body must match it */
	size_t nhealth_body, health_body_cap;
	unsigned health_latency_ms;	      /* level 3: slower fails */
	struct strlist health_dependencies;   /* level 3: env file variables holding URLs */
	struct deploy_command health_command; /* level 3: must exit 0 */
	unsigned health_timeout_ms;	      /* one request or connection */
	unsigned health_retries;	      /* failed attempts allowed before the check fails */
	unsigned health_interval_ms;	      /* between attempts */
	unsigned health_successes;	      /* consecutive passes needed */
	unsigned health_deadline_seconds;     /* the whole check, every attempt */
	unsigned command_timeout_seconds;     /* each command run for this target */
	/* A remote target: `host` or `hosts`, USER@HOST[:PORT]
	 * each, deployed one after another; once loaded, hosts holds both
	 * forms (empty: this machine). The trust and key, when not [deploy]'s. */
	char *host;
	struct strlist hosts;
	char *ssh_known_hosts, *ssh_identity;
	/* The app's (run, start, stop, migrate, health_command) writable paths
	 * in the sandbox, besides its slot and [deploy]'s sandbox_writable. */
	struct strlist sandbox_writable;
	/* Logs, for confirmed deploys. No line the new slot's app wrote since
	 * it started may match a health_log_pattern (level 3, the canary's and
	 * the watch's checks): its supervised log (run), or health_log_file
	 * (gitgate's $VARIABLES filled in: $SLOT). error_log, an access log,
	 * during the canary and the watch: of the lines naming the new slot's
	 * HOST:PORT, the share matching error_pattern (one; DEPLOY_ERROR_PATTERN
	 * when not given) must not pass error_rate_max once there are
	 * error_min_requests of them. Paths on the target's host. */
	struct pattern *health_log_pattern;
	size_t nhealth_log_pattern, health_log_pattern_cap;
	char *health_log_file;
	char *error_log;
	struct pattern *error_pattern;
	size_t nerror_pattern, error_pattern_cap;
	unsigned error_rate_max; /* hundredths of a percent: 500 is 5% */
	unsigned error_min_requests;
	const struct project *project_of;     /* once loaded */
	const struct deploy_environment *env; /* once loaded */
};

/* [deploy] sandbox: whether the pushed code's commands run in bubblewrap
 * (deploy/sandbox.h). AUTO: where it works, and said where it does not. */
enum deploy_sandbox { DEPLOY_SANDBOX_AUTO, DEPLOY_SANDBOX_YES, DEPLOY_SANDBOX_NO };

/* [deploy], and the environments and targets. */
struct deploy_policy {
	char *branch;	 /* default: [push] deploy_branch */
	char *state_dir; /* NULL: BARE_REPO/gitgate, for the caller to make */
	char *confirm_phrase;
	unsigned freeze_days;  /* bit N set: frozen on tm_wday N (0 Sunday .. 6 Saturday) */
	char *freeze_timezone; /* "UTC" or a name under /usr/share/zoneinfo */
	struct strlist emergency_users;
	unsigned keep_releases;
	unsigned lock_wait_seconds;
	/* A supervised app's log (SLOT.log) is rotated before it would pass
	 * this size, into SLOT.log.1 .. SLOT.log.app_log_keep. */
	unsigned long long app_log_max_bytes;
	unsigned app_log_keep;
	struct globlist exclude;	 /* removed from every release (gitignore syntax) */
	struct strlist env_placeholders; /* gate 7: envfile_is_placeholder (deploy/) */
	struct deploy_command notify_command;
	/* The `switch = nginx FILE` kind checks and reloads this nginx ("nginx
	 * -p PREFIX -c CONF" for one of the server's own), whose master writes
	 * its pid to nginx_pid_file. */
	struct deploy_command nginx;
	char *nginx_pid_file;
	char *notify_url;
	unsigned notify_timeout_seconds;
	/* Remote targets: the known_hosts file and the key (NULL: OpenSSH's own). */
	char *ssh_known_hosts, *ssh_identity;
	struct deploy_command compose_command; /* every Compose target's, unless its own */
	enum deploy_sandbox sandbox;
	char *sandbox_bwrap;		 /* the binary: /usr/bin/bwrap */
	int sandbox_network;		 /* no: the commands get no network */
	char *sandbox_user;		 /* NULL: gitgate's own user */
	struct strlist sandbox_writable; /* every target's app may write there */
	struct deploy_environment *environments;
	size_t nenvironments, environments_cap;
	struct deploy_target *targets;
	size_t ntargets, targets_cap;
};

struct rules {
	char *file;
	char *allow_marker;
	size_t max_line_bytes;
	uint32_t match_limit;
	enum severity isolation;
	char *shared_path;
	enum severity version_bump;
	enum severity forbidden_severity;
	struct globlist forbidden;
	struct project *projects;
	size_t nprojects, projects_cap;
	struct unit *units;
	size_t nunits, units_cap;
	struct scan_rule *scans;
	size_t nscans, scans_cap;
	struct commit_policy commit;
	struct push_policy push;
	struct deploy_policy deploy;
};

/* Loads and validates a rules file. On failure returns -1 and appends one
 * "file:line: problem" line per error to `errors`. */
int rules_load(struct rules *rules, const char *path, struct buf *errors);
void rules_free(struct rules *rules);

const struct project *rules_project_of(const struct rules *rules, const char *path);
/* A project by its name, or NULL. */
const struct project *rules_find_project(const struct rules *rules, const char *name);
int rules_is_shared(const struct rules *rules, const char *path);
/* A unit by its name or one of its aliases, or a project's own unit. */
const struct unit *rules_find_unit(const struct rules *rules, const char *name);
/* Is this full ref name ("refs/heads/main") protected? */
int rules_ref_is_protected(const struct rules *rules, const char *ref);
int rules_user_may_bypass(const struct rules *rules, const char *user);

#endif
