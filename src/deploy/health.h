/*
 * health: is a running service healthy? One engine for every question of
 * that kind a deploy asks: `gitgate health`, gates 6, 9 and 11,
 * and the slot check before a switch.
 *
 * What a spec asks, by level:
 * 1  the port accepts a TCP connection;
 * 2  every URL answers an expected status (default 2xx) within the timeout,
 *    with a body that matches the pattern when one is given;
 * 3  level 2 with each response under the latency bound, plus a TCP
 *    connection to the host and port of each dependency URL (DATABASE_URL,
 *    REDIS_URL), plus the health command exiting 0 within its limit.
 * A level is tried whole, again and again, until `successes` attempts pass
 * in a row, or the failed attempts exceed `retries`, or the deadline comes.
 * The report keeps each check of the last attempt: what, ms, ok or why.
 *
 * What it guarantees:
 * - Only http and https are spoken, no proxy is used whatever the
 *   environment says, redirects are not followed (a health URL names the
 *   endpoint that must answer: a redirect elsewhere, to a login page
 *   answering 200 say, is not that endpoint being healthy; a 3xx is a
 *   status like any other), and no more than 1 MiB of a body is read.
 * - No secret is shown: a dependency is shown as scheme://host:port, a URL
 *   without its user and password; what and why are escaped (escape.h), so
 *   they are safe to print and are valid UTF-8 for JSON.
 * - Nothing outlasts the deadline by more than a moment: every request and
 *   the command get at most the time left, and no check starts after it.
 * - health_run may be called from several threads at once: libcurl's
 *   global set-up is done once (pthread_once) before the first request,
 *   each request has its own handle, and no signal is used for timeouts.
 *
 * The spec is plain data that the caller fills (the deploy engine from
 * rules.ini and the target's env file); nothing here reads configuration.
 */
#ifndef GITGATE_HEALTH_H
#define GITGATE_HEALTH_H

#include <jansson.h>
#include <stdio.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "buf.h"
#include "mask.h"

#define HEALTH_TIMEOUT_MS 5000 /* a request's timeout when the spec names none */

struct health_spec {
	int level;	  /* 1, 2 or 3 */
	const char *host; /* level 1: NULL is 127.0.0.1 */
	unsigned port;	  /* level 1 */
	/* Levels 2 and 3: at least one URL, http or https. */
	const char *const *urls;
	size_t nurls;
	/* How each is named in the report (NULL, or an entry NULL: the URL
	 * without its user and password): what a forward stands for. */
	const char *const *urls_shown;
	const char *status;	/* codes and classes: "200 204", "2xx 301"; NULL is 2xx */
	const pcre2_code *body; /* NULL: any body */
	unsigned timeout_ms;	/* each connection and request; 0 is HEALTH_TIMEOUT_MS */
	/* Level 3. */
	unsigned latency_ms; /* each response under this; 0: not bounded */
	/* Reached by TCP: postgres://user:password@db:5432/app, redis://cache */
	const char *const *dependency_urls;
	size_t ndeps;
	/* How each is named in the report (NULL, or an entry NULL: as parsed):
	 * what a forward stands for. */
	const char *const *dependency_shown;
	const char *const *command;	/* argv; NULL: none (see run.h) */
	const char *const *command_env; /* over the inherited environment */
	const char *command_cwd;
	const char *command_log;	     /* its output is appended here; NULL: discarded */
	const struct mask *command_log_mask; /* what the log must not get (NULL: none) */
	const char *command_input;	     /* its stdin (NULL: none), command_input_len bytes */
	size_t command_input_len;
	const char *const *command_shown; /* what the report names (NULL: command) */
	unsigned command_limit_ms;	  /* 0: bounded by the deadline only */
	/* Attempts. */
	unsigned successes;   /* passes in a row that make it healthy; 0 is 1 */
	unsigned retries;     /* failed attempts that are tried again; 0: none */
	unsigned interval_ms; /* from the end of one attempt to the next */
	unsigned deadline_ms; /* for everything, from the call; 0: none */
	/* Asked after a failed attempt, when set: 0 when the way to the app is
	 * gone (a remote host's connection), which ends the check at once
	 * (health_report.unreachable) instead of retrying to the deadline. */
	int (*reachable)(void *ctx);
	void *reachable_ctx;
};

struct health_check_result {
	char *what; /* "GET http://127.0.0.1:8000/health", "tcp redis://cache:6379" */
	unsigned ms;
	int ok;
	char *why; /* NULL when ok: "HTTP 503", "connection refused", ... */
};

struct health_report {
	struct health_check_result *items; /* the last attempt's checks */
	size_t n, cap;
	int level;
	int passed;
	int deadline_reached; /* the deadline, not the retries, ended it */
	int unreachable;      /* spec->reachable said the way to the app is gone */
	unsigned attempts;
	unsigned ms; /* all attempts and the waits between them */
};

/* Checks what spec asks. Returns 0 when it ran, the verdict in out->passed
 * (out is always filled, free it with health_report_free), or -1 when the
 * spec itself is wrong (a level without what it needs, a status that is
 * not one, a URL that is not http or https, a dependency URL that names no
 * host) or libcurl cannot start, with the reason in err. */
int health_run(struct health_report *out, const struct health_spec *spec, struct buf *err);
void health_report_free(struct health_report *r);
/* Hides the mask's values in what each check says (see mask.h). */
void health_report_mask(struct health_report *r, const struct mask *m);

/* The table `gitgate health` prints: a summary line, then a check a line. */
void health_report_text(FILE *out, const struct health_report *r);
/* {"level", "passed", "attempts", "ms", "deadline_reached", "checks"}:
 * for --format json. A new reference. */
json_t *health_report_json(const struct health_report *r);
/* Its "checks": [{"what", "ms", "ok", "why" (failed checks only)}], as a
 * deploy record's "health" holds them (history.h). A new reference. */
json_t *health_report_checks_json(const struct health_report *r);

/* Where a dependency URL points and how it may be shown. */
struct health_dependency {
	char *host; /* as in a URL: an IPv6 address in brackets */
	unsigned port;
	char *shown; /* scheme://host:port, nothing else of the URL */
};

/* Reads url with libcurl's URL parser; a URL without a port gets its
 * scheme's (postgres and postgresql 5432, redis 6379, rediss 6380, mysql
 * 3306, amqp 5672, amqps 5671, mongodb 27017, http 80, https 443). Returns
 * 0, or -1 with the reason in err, which never quotes the URL. */
int health_dependency_parse(struct health_dependency *out, const char *url, struct buf *err);
void health_dependency_free(struct health_dependency *d);

#endif
