/*
 * ssh: one OpenSSH connection to a remote target's host, for one deploy.
 *
 * A deploy opens a master connection per host (ssh -M, its control socket
 * in STATE_DIR/ssh/), and every command, file and port forward of that
 * deploy goes through it; ssh_close ends it (ssh -O exit). Nothing of
 * gitgate runs on the remote: it needs a POSIX shell and tar.
 *
 * Trust is OpenSSH's, made strict: BatchMode (no password, no prompt),
 * StrictHostKeyChecking=yes against the known_hosts file the admin filled
 * (and only it, when one is named), the identity named. An unknown or
 * changed host key stops the connection with the ssh-keyscan line that
 * fetches the key to check and add.
 *
 * Remote commands are argv words, joined into the one line OpenSSH hands
 * the remote shell by shell_quote_argv (base/shell_quote.h), the only way
 * anything reaches that shell. The line never holds a secret: what a
 * command must not show goes on its stdin (see remote.h).
 *
 * A master whose deploy died is found by the next ssh_open (its socket is
 * named after the pid that opened it) and ended, so the next deploy starts
 * clean.
 */
#ifndef GITGATE_SSH_H
#define GITGATE_SSH_H

#include "buf.h"
#include "strvec.h"

struct ssh_options {
	const char *known_hosts; /* NULL: OpenSSH's own files */
	const char *identity;	 /* NULL: OpenSSH's own keys */
	const char *control_dir; /* STATE_DIR/ssh: made 0700 when missing */
	unsigned limit_ms;	 /* for connecting, and for each ssh -O */
};

struct ssh_forward {
	char *host;	/* as the remote resolves it */
	unsigned port;	/* there */
	unsigned local; /* on 127.0.0.1 here */
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
	int open;
};

/* Connects (the master) to spec, USER@HOST[:PORT]. Returns 0, or -1 with why in err (nothing left
 * running); an unknown or changed host key says how to check and add it. */
int ssh_open(struct ssh *out, const char *spec, const struct ssh_options *o, struct buf *err);
/* The argv that runs words (NULL-terminated, each quoted for the remote
 * shell) on the host through the master, to be run in s->dir. Free with
 * strvec_free. */
char **ssh_argv(const struct ssh *s, const char *const *words);
/* A local port on 127.0.0.1 that reaches host:port as the remote sees
 * them, kept until ssh_close. Returns 0, or -1 with why in err. */
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
/* Does the master still answer (ssh -O check)? 1 or 0: once it is gone,
 * every command, file and forward of the connection fails. */
int ssh_alive(struct ssh *s);
/* Ends the master and frees s. */
void ssh_close(struct ssh *s);

#endif
