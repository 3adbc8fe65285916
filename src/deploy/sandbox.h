/*
 * sandbox: the bubblewrap jail around the commands a push brings with it.
 *
 * install, test, lint, build (gates 3-5), migrate, start, stop, run (the
 * supervised app) and the health command are the pusher's code. Bare, they
 * run as the user that owns rules.ini, the state folder, every env file and
 * the ssh key. In the sandbox (bwrap(1), Debian's bubblewrap) they see an
 * allow-list of the machine:
 *
 *   /usr /bin /sbin /lib* /etc /opt      read-only (a symlink stays one)
 *   /proc /dev                           their own, minimal (a pid namespace)
 *   /tmp, HOME (/home/sandbox)           empty, private (tmpfs)
 *   the writable paths                   read-write, at their real paths:
 *                                        the release (gates 3-5), the slot's
 *                                        release (the app), sandbox_writable
 *
 * and nothing else: the state folder, the bare repository, rules.ini, the
 * env files, the ssh key are simply not there unless they lie under a
 * bound folder, and then each is hidden explicitly (an empty tmpfs over a
 * folder, /dev/null over a file), so that rules.ini in /etc/gitgate or an
 * env file in /opt stays out of reach wherever the admin put it. Mounts are
 * made shortest path first: a release inside the hidden state folder is
 * bound back over the hiding, a hidden file inside a writable folder is
 * hidden over the binding. The system's own secrets under /etc (shadow,
 * the ssh host keys, /etc/ssl/private) and the login user's ~/.ssh are
 * hidden the same way. A symlink to make whose place is seen through a
 * binding already is left as it is there.
 *
 * The machine is a struct sandbox_host: the builder asks it what each path
 * of the layout is (exists, folder, symlink, real path), so that the same
 * layout is made of this machine's paths or of a remote host's, where the
 * app's commands run (remote.h); only the deploy's own commands of gates
 * 3-5 are always this machine's.
 *
 * Capabilities are dropped (--cap-drop ALL: as root, bwrap would keep
 * them), the network is shared unless network is 0 (--unshare-net). With a
 * user, bwrap runs as that user (setpriv(1) before it, an unprivileged
 * bwrap in a user namespace of its own): files owned by gitgate's user are
 * then not the command's either.
 *
 * A command of a deploy (detached 0) gets --die-with-parent and
 * --new-session: a time limit's SIGTERM to its group ends bwrap and with it
 * the whole pid namespace. The supervised app (detached 1) gets neither:
 * it must outlive gitgate, and its group (bwrap and, in the pid namespace,
 * bwrap's init and the app) is what slot_stop signals; the app gets the
 * SIGTERM itself, and when it exits bwrap's init and bwrap follow.
 */
#ifndef GITGATE_SANDBOX_H
#define GITGATE_SANDBOX_H

#include <stddef.h>

#include "buf.h"
#include "rules.h"

/* What a path is on the machine a command runs on. */
struct sandbox_path {
	char *real; /* symlinks resolved; NULL: nothing is there */
	int dir;    /* real is a folder */
	char *link; /* the path itself is a symlink, holding this; else NULL */
};
void sandbox_path_free(struct sandbox_path *p);

/* The machine a command runs on, as the sandbox's builder needs to know
 * it: this one (NULL in a spec or call), or a remote target's host, known
 * through its connection (remote_sandbox_host, remote.h). The layout is
 * the same on both; only the paths are each machine's own. */
struct sandbox_host {
	const char *name;	      /* "USER@HOST:PORT" */
	const char *bwrap;	      /* bwrap there, NULL: none on its PATH */
	const char *home;	      /* the login user's home there: its .ssh is hidden */
	const char *const *host_keys; /* its ssh host keys, NULL-terminated */
	/* What each of n paths is there, out[i] for paths[i]. Returns 0, or -1
	 * with why in err. */
	int (*look)(void *ctx, const char *const *paths, size_t n, struct sandbox_path *out,
		    struct buf *err);
	/* Runs argv there: its exit code, its stderr in said; -1 with why in err
	 * when it could not be run. */
	int (*run)(void *ctx, const char *const *argv, struct buf *said, struct buf *err);
	void *ctx;
};

struct sandbox_spec {
	const char *bwrap;		 /* the binary: "/usr/bin/bwrap" */
	const char *user;		 /* NULL: gitgate's own user (never on a host) */
	const struct sandbox_host *host; /* NULL: this machine */
	int network;			 /* 0: no network (--unshare-net) */
	int detached;			 /* the supervised app: see above */
	/* Read-write, bound at their real paths; each must exist. One that is a
	 * symlink (a slot, ROOT-blue) is made inside too, pointing there. */
	const char *const *writable;
	size_t nwritable;
	const char *const *hidden; /* absent inside; missing ones are skipped */
	size_t nhidden;
	const char *cwd; /* where the command starts, or NULL */
};

/* The whole argv: the sandbox's words, "--", then cmd's. NULL-terminated,
 * free with strvec_free (command.h). Returns NULL with why in err when a
 * writable path does not exist or the user is unknown. */
char **sandbox_argv(const struct sandbox_spec *s, const char *const *cmd, struct buf *err);

/* Can a sandbox be made here (as user, NULL: gitgate's own)? Runs bwrap
 * once, as sandbox_argv would, around `true`. Returns 1, or 0 with why not
 * in why. The answer is kept for the rest of the process. */
int sandbox_probe(const char *bwrap, const char *user, struct buf *why);

/* The same on a host, with its bwrap, as the login user there; the caller
 * keeps the answer for the connection. */
int sandbox_probe_host(const struct sandbox_host *h, struct buf *why);

/* What a deploy does about sandboxing, decided from [deploy] and a probe. */
struct sandbox_choice {
	int on;		/* commands run in the sandbox */
	int refuse;	/* sandbox = yes, and none can be had: no deploy */
	int explicit;	/* the admin's own sandbox = no */
	struct buf why; /* when not on: why, e.g. "no bwrap at /usr/bin/bwrap" */
};
void sandbox_choose(struct sandbox_choice *out, const struct deploy_policy *d);
/* The same for a remote host (h), probed there. */
void sandbox_choose_host(struct sandbox_choice *out, const struct deploy_policy *d,
			 const struct sandbox_host *h);
void sandbox_choice_free(struct sandbox_choice *c);
/* One line for gate 1 and `gitgate rules`: "sandboxed (bubblewrap)",
 * "not sandboxed: sandbox = no in rules.ini", ... */
void sandbox_choice_describe(struct buf *out, const struct sandbox_choice *c);

/* The admin's paths no command may see: rules.ini, the state folder, the
 * bare repository, every target's env file and root (its slots, releases,
 * run folder) except `own`'s (and one of the same path: it is on another
 * host), of which only its releases and run folder
 * (the pid files; the slot's own release is bound back), every ssh key and
 * known_hosts. Appended to list. On a host, the same paths, there. */
void sandbox_admin_paths(struct strlist *list, const struct rules *r, const char *state_dir,
			 const char *repo_dir, const struct deploy_target *own);

/* One command of a deploy, made ready for the sandbox the job chose. */
struct sandbox_call {
	const struct sandbox_choice *choice;
	const struct deploy_policy *policy;
	const struct rules *rules;
	const char *state_dir, *repo_dir;
	/* NULL: a command of gates 3-5, dir the release it runs in, which alone
	 * it may write. Else the app's target: dir is its slot (ROOT-blue),
	 * written with [deploy]'s and the target's sandbox_writable. */
	const struct deploy_target *app;
	const char *dir;
	int detached; /* the supervised app */
	/* NULL: this machine. Else the app's host (choice is its own): bwrap
	 * there, as the login user there (sandbox_user is this machine's). */
	const struct sandbox_host *host;
};

/* argv inside the sandbox: a new argv (argv itself is freed), argv as it
 * is when the choice is to run bare, or NULL with why in err (argv freed)
 * when there must be a sandbox and there is none, or it cannot be made.
 * With sandbox_user, dir is given to that user first (chown -R) when it is
 * not its yet. */
char **sandbox_wrap(const struct sandbox_call *c, char **argv, struct buf *err);
/* The record's "sandbox": "bubblewrap", or "none: why". */
void sandbox_choice_record(struct buf *out, const struct sandbox_choice *c);

#endif
