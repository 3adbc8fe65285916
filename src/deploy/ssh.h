/*
 * ssh: one OpenSSH connection to a remote target's host.
 *
 * A master connection (ssh -M, its control socket in STATE_DIR/ssh/) per
 * host, user and key, shared by every deploy, watch and check that needs
 * that host, and kept between them: it ends by itself once no one has used
 * it for PERSIST_SECONDS (OpenSSH's ControlPersist). Every command, file
 * and port forward goes through it; OpenSSH multiplexes the uses of
 * several processes at once. ssh_open takes the master that is there when
 * a command through it still answers, else opens a new one (a socket whose
 * master died, was killed or lost its host is replaced, never an error),
 * under a lock of its own so that two processes never open two; a use that
 * comes after a long quiet spell in the same process (a deploy's tests)
 * asks again first. ssh_close leaves the master to the others and takes
 * back the forwards this process made. Nothing of gitgate runs on the
 * remote: it needs a POSIX shell and tar.
 *
 * Trust is OpenSSH's, made strict: BatchMode (no password, no prompt),
 * StrictHostKeyChecking=yes against the known_hosts file the admin filled
 * (and only it, when one is named), the identity named. An unknown or
 * changed host key stops the connection with the ssh-keyscan line that
 * fetches the key to check and add. The known_hosts file and the identity,
 * as they are, are part of what names a master: a target with another key
 * never uses a connection another key opened, and a file the admin changes
 * (a host key removed) is read by the next deploy's new connection, even
 * while the old one is kept busy.
 *
 * Remote commands are argv words, joined into the one line OpenSSH hands
 * the remote shell by shell_quote_argv (base/shell_quote.h), the only way
 * anything reaches that shell. The line never holds a secret: what a
 * command must not show goes on its stdin (see remote.h).
 */
#ifndef GITGATE_SSH_H
#define GITGATE_SSH_H

#include <time.h>

#include "buf.h"
#include "strvec.h"

/* How long a master nobody uses stays (ControlPersist). */
#define SSH_PERSIST_SECONDS 300

struct ssh_options {
	const char *known_hosts; /* NULL: OpenSSH's own files */
	const char *identity;	 /* NULL: OpenSSH's own keys */
	const char *control_dir; /* STATE_DIR/ssh: made 0700 when missing */
	unsigned limit_ms;	 /* for connecting, and for each ssh -O */
};

struct ssh_forward {
	char *host;	     /* as the remote resolves it */
	unsigned port;	     /* there */
	unsigned local;	     /* on 127.0.0.1 here */
	unsigned generation; /* the master's it was made in */
};

/* When this process last knew the master to be there (a use of it
 * restarts its ControlPersist time), and what reopening it needs. */
struct ssh_master {
	struct timespec used;
	unsigned generation; /* counts the masters opened in its place */
	char *known_hosts;
	int reused; /* ssh_open found it there */
};

struct ssh {
	char *user, *host;
	unsigned port;
	char *shown; /* user@host:port */
	/* The master's socket, named relative to its folder, where every ssh
	 * of the connection runs: a socket's path may not be longer than 107
	 * bytes, a state folder's may. */
	char *dir, *control;
	struct strvec common; /* ssh and the options every use shares */
	unsigned limit_ms;
	struct ssh_forward *forwards;
	size_t nforwards, cap_forwards;
	struct ssh_master *master; /* NULL: not open */
};

/* Connects to spec, USER@HOST[:PORT]: the master there, or a new one.
 * Returns 0, or -1 with why in err (nothing left running); an unknown or
 * changed host key says how to check and add it. */
int ssh_open(struct ssh *out, const char *spec, const struct ssh_options *o, struct buf *err);
/* The argv that runs words (NULL-terminated, each quoted for the remote
 * shell) on the host through the master, to be run in s->dir; a master
 * this process has not used for a while is asked first (and replaced when
 * it is gone). Free with strvec_free. */
char **ssh_argv(const struct ssh *s, const char *const *words);
/* A local port on 127.0.0.1 that reaches host:port as the remote sees
 * them, kept until ssh_close (or until the master is replaced: ask again
 * before each use). Returns 0, or -1 with why in err. */
int ssh_forward(struct ssh *s, const char *host, unsigned port, unsigned *local, struct buf *err);
/* host:port as the remote host sees them, reached from here: a loopback
 * name (localhost, 127.x.x.x, ::1, in brackets or not) is the host's own,
 * so it goes through a forward (ssh_forward): 1 with the local port in
 * *local; any other host is reached directly: 0. -1 with why in err. */
int ssh_reach_port(struct ssh *s, const char *host, unsigned port, unsigned *local,
		   struct buf *err);
/* url (http or https) as it is reached from here: one whose host is a
 * loopback name (localhost, 127.x.x.x, [::1]) names the remote host's own,
 * so it goes through a forward to that name there; any other is reached
 * directly, as it is. Appends it to out; returns 0, or -1 with why in err. */
int ssh_reach_url(struct ssh *s, const char *url, struct buf *out, struct buf *err);
/* The URLs of urls (NULL ones skipped) that ssh_reach_url would forward,
 * forwarded now in one ssh -O forward, for the checks that will ask for
 * them; any trouble leaves each to ssh_reach_url, which says it. */
void ssh_reach_urls(struct ssh *s, const char *const *urls, size_t n);
/* Does the master still answer (ssh -O check)? 1 or 0: once it is gone,
 * every command, file and forward of the connection fails. */
int ssh_alive(struct ssh *s);
/* Takes back this process's forwards (one ssh -O cancel); a later
 * ssh_forward makes a new one. */
void ssh_cancel_forwards(struct ssh *s);
/* Takes back this process's forwards and frees s; the master stays for
 * the next use. */
void ssh_close(struct ssh *s);
/* The master's socket name for spec's user, host and port with these
 * known_hosts and identity files (NULL: OpenSSH's own), as they are now: a
 * file changed or replaced (a key revoked, another identity) names another
 * master. "h-" and 16 hex digits. */
void ssh_master_name(struct buf *out, const char *user, const char *host, unsigned port,
		     const char *known_hosts, const char *identity);

#endif
