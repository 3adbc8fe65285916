/*
 * switch: sending a target's traffic to one slot, in one of three ways
 * (rules.ini `switch = ...`). Each returns 0 once the traffic goes to the
 * new slot, or -1 with why in err and the traffic where it was.
 *
 * nginx FILE: FILE is an upstream block's body, replaced atomically
 * (state_replace) with exactly:
 *
 *     # gitgate: the live slot of this target; rewritten at each switch
 *     server 127.0.0.1:PORT;
 *
 * and the site configuration includes it inside an upstream of its own:
 *
 *     upstream argo_production {
 *         include /etc/nginx/gitgate/argo-production.upstream;
 *     }
 *     server {
 *         listen 80;
 *         location / { proxy_pass http://argo_production; }
 *     }
 *
 * Then `nginx -t` checks the whole configuration and `nginx -s reload`
 * applies it. When nginx -t fails (the new file, or anything else in the
 * configuration), or the reload does, the old FILE is put back (or removed,
 * when there was none) and nginx's words are in err; nginx was not
 * reloaded, so it serves what it served. A reload is asynchronous in nginx
 * (the master starts new workers, the old ones finish their requests): the
 * switch waits until the master has a worker started after the reload and
 * every older one is shutting down (its title says so), so a request made
 * after the switch returns reaches the new port. A master that keeps its
 * old workers (it could not apply the configuration: a port it cannot
 * bind) fails the switch after the time limit, FILE put back.
 *
 * link PATH: PATH becomes a symlink to the slot folder (ROOT-blue or
 * ROOT-green), swapped atomically.
 *
 * command ARGV: ARGV (with $PORT and $SLOT substituted by the caller) runs
 * under a time limit; exit 0 is success.
 */
#ifndef GITGATE_SWITCH_H
#define GITGATE_SWITCH_H

#include "buf.h"

struct host;

/* Each way works on the target's host (host.h: this machine or a remote
 * one): FILE, PATH and the commands are the host's, and nginx is checked,
 * reloaded and waited for there. */
struct switch_nginx {
	struct host *host;
	const char *file; /* the upstream file */
	/* nginx and the options that find its configuration, each check and
	 * reload gets them: {"nginx", NULL}, or for an nginx of one's own
	 * {"nginx", "-p", PREFIX, "-c", CONF, "-e", ERROR_LOG, NULL} */
	const char *const *nginx;
	const char *pid_file; /* the master's (the `pid` directive; Debian's: /run/nginx.pid) */
	unsigned limit_ms;    /* for each nginx command, and for the reload to take */
};

/* Sends nginx's traffic to 127.0.0.1:port (1 to 65535). */
int switch_nginx(const struct switch_nginx *opts, unsigned port, struct buf *err);
/* A canary's step: percent (1 to 99) of the requests to new_port, the rest
 * to old_port, by nginx's weighted round robin (`weight=` in FILE, the
 * same checks and reload as above). */
int switch_nginx_split(const struct switch_nginx *opts, unsigned old_port, unsigned new_port,
		       unsigned percent, struct buf *err);
/* Points the symlink path at slot_dir. */
int switch_link(struct host *host, const char *path, const char *slot_dir, struct buf *err);
/* Runs argv with env as run.h takes it (NULL: gitgate's own environment),
 * its output kept for err when it fails. */
int switch_command(struct host *host, const char *const *argv, const char *const *env,
		   unsigned limit_ms, struct buf *err);

#endif
