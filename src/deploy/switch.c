/*
 * switch: see switch.h. nginx is driven only through its command line and
 * /proc: the master's pid from its pid file, its workers from
 * /proc/PID/task/PID/children, a worker's state from its title.
 */
#include "switch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deadline.h"
#include "remote.h"
#include "run.h"
#include "slot.h"
#include "state.h"

#define UPSTREAM_HEAD "# gitgate: the live slot of this target; rewritten at each switch\n"
/* The lines of a failed command's output that go into err. */
#define TAIL_LINES 10
#define POLL_US 10000

/* Adds the last TAIL_LINES lines of a command's output to err. */
static void add_tail(struct buf *err, const struct buf *output)
{
	size_t end = output->len;
	while (end && output->data[end - 1] == '\n')
		end--;
	size_t start = end;
	for (int lines = 0; start && lines < TAIL_LINES; start--)
		if (output->data[start - 1] == '\n' && ++lines == TAIL_LINES)
			break;
	if (start < end) {
		buf_adds(err, ":\n");
		buf_add(err, output->data + start, end - start);
	}
}

/* Runs argv (with `extra` after it) under limit_ms; 0 when it exited 0,
 * else -1 with how it ended and what it said in err. */
static int run_checked(const struct ssh *ssh, const char *const *argv, const char *const *extra,
		       const char *const *env, unsigned limit_ms, struct buf *err)
{
	size_t n = 0, m = 0;
	while (argv[n])
		n++;
	while (extra && extra[m])
		m++;
	const char **all = xcalloc(n + m + 1, sizeof(*all));
	memcpy(all, argv, n * sizeof(*all));
	if (m)
		memcpy(all + n, extra, m * sizeof(*all));
	struct buf output = BUF_INIT;
	struct run_options o = {
	    .argv = all,
	    .env = env,
	    .out = {.kind = RUN_OUT_CAPTURE, .buf = &output},
	    .err = {.kind = RUN_OUT_CAPTURE, .buf = &output},
	    .limit_ms = limit_ms,
	    .grace_ms = 1000,
	};
	struct remote_command remote = {0};
	if (ssh && remote_command_make(&remote, ssh, all, env, NULL, limit_ms, err) < 0) {
		free(all);
		return -1;
	}
	if (ssh) {
		remote_command_options(&o, &remote);
		o.env = NULL;
	}
	struct run_result r;
	int rc = run(&r, &o, err);
	remote_command_free(&remote);
	if (rc == 0 && r.code != 0) {
		if (ssh)
			buf_printf(err, "on %s: ", ssh->shown);
		buf_adds(err, all[0]);
		for (size_t i = 0; i < m; i++)
			buf_printf(err, " %s", extra[i]);
		buf_addc(err, ' ');
		run_describe(err, &r);
		add_tail(err, &output);
		rc = -1;
	}
	free(all);
	buf_free(&output);
	return rc;
}

int switch_command(const struct ssh *ssh, const char *const *argv, const char *const *env,
		   unsigned limit_ms, struct buf *err)
{
	return run_checked(ssh, argv, NULL, env, limit_ms, err);
}

int switch_link(const struct ssh *ssh, const char *path, const char *slot_dir, struct buf *err)
{
	return ssh ? remote_link(ssh, path, slot_dir, err) : slot_symlink(path, slot_dir, err);
}

/* ---- nginx ------------------------------------------------------------- */

/* The pids in a small /proc file of numbers; returns how many. */
static size_t read_pids(const char *path, pid_t *out, size_t max)
{
	struct buf text = BUF_INIT;
	size_t n = 0;
	if (buf_read_file(&text, path) == 0)
		for (char *p = text.data, *end; n < max; p = end) {
			long v = strtol(p, &end, 10);
			if (end == p)
				break;
			out[n++] = (pid_t)v;
		}
	buf_free(&text);
	return n;
}

#define MAX_WORKERS 1024

static size_t workers(pid_t master, pid_t *out)
{
	char path[80];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)master, (int)master);
	return read_pids(path, out, MAX_WORKERS);
}

/* An old worker that got the master's QUIT retitles itself, then closes
 * its listening sockets; one that is gone has no title left. */
static int shutting_down(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	struct buf title = BUF_INIT;
	int done = buf_read_file(&title, path) < 0 || title.len == 0 ||
		   memmem(title.data, title.len, "shutting down", 13) != NULL;
	buf_free(&title);
	return done;
}

static int has(const pid_t *pids, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return 1;
	return 0;
}

/* Has the master taken the new configuration: a worker it did not have
 * before, and every old one leaving? */
static int reloaded(pid_t master, const pid_t *before, size_t n_before)
{
	pid_t now[MAX_WORKERS];
	size_t n = workers(master, now);
	int fresh = 0;
	for (size_t i = 0; i < n; i++) {
		if (!has(before, n_before, now[i]))
			fresh = 1;
		else if (!shutting_down(now[i]))
			return 0;
	}
	return fresh;
}

/* Puts FILE back as it was before the switch. */
static void restore(const char *file, const struct buf *old, int had_old, struct buf *err)
{
	struct buf why = BUF_INIT;
	if (had_old ? state_replace(file, old->data, old->len, &why) < 0
		    : unlink(file) < 0 && errno != ENOENT)
		buf_printf(err, "\nand %s could not be put back: %s", file,
			   had_old ? why.data : strerror(errno));
	else
		buf_printf(err, "\n%s is as it was", file);
	buf_free(&why);
}

/* `nginx -s reload`, then the wait until it has taken (see reloaded). */
static int nginx_reload(const struct switch_nginx *opts, struct buf *err)
{
	static const char *const reload[] = {"-s", "reload", NULL};
	pid_t master, before[MAX_WORKERS];
	if (read_pids(opts->pid_file, &master, 1) != 1 || master <= 1) {
		buf_printf(err, "cannot read nginx's pid from %s (is nginx running?)",
			   opts->pid_file);
		return -1;
	}
	size_t n_before = workers(master, before);
	if (run_checked(NULL, opts->nginx, reload, NULL, opts->limit_ms, err) < 0)
		return -1;
	struct deadline until;
	deadline_start_ms(&until, opts->limit_ms ? opts->limit_ms : 1);
	while (!reloaded(master, before, n_before)) {
		if (deadline_passed(&until)) {
			buf_printf(err,
				   "nginx (pid %d) kept its old workers after the reload: it could "
				   "not apply the configuration (see its error log)",
				   (int)master);
			return -1;
		}
		usleep(POLL_US);
	}
	return 0;
}

/* On a remote host: `nginx -s reload` and the same wait as above, in one
 * script run there. $1 the pid file, $2 the limit in tenths of a second,
 * then nginx's argv. */
static const char remote_reload_script[] =
    "pidf=$1 limit=$2; shift 2\n"
    "master=$(cat -- \"$pidf\" 2>/dev/null) && [ -n \"$master\" ] ||\n"
    "  { echo \"cannot read nginx's pid from $pidf (is nginx running?)\" >&2; exit 1; }\n"
    "kids() { cat /proc/$master/task/$master/children 2>/dev/null; }\n"
    "before=\" $(kids) \"\n"
    "\"$@\" -s reload || exit 1\n"
    "n=0\n"
    "while :; do\n"
    "  fresh=0 old=0\n"
    "  for w in $(kids); do\n"
    "    case $before in\n"
    "    *\" $w \"*) case $(tr '\\000' ' ' </proc/$w/cmdline 2>/dev/null) in\n"
    "              *'shutting down'*) ;; *) old=1 ;; esac ;;\n"
    "    *) fresh=1 ;;\n"
    "    esac\n"
    "  done\n"
    "  [ $fresh = 1 ] && [ $old = 0 ] && exit 0\n"
    "  n=$((n + 1))\n"
    "  [ $n -lt \"$limit\" ] && sleep 0.1 && continue\n"
    "  echo \"nginx (pid $master) kept its old workers after the reload: it could not "
    "apply the configuration (see its error log)\" >&2\n"
    "  exit 1\n"
    "done\n";

static int switch_nginx_remote(const struct switch_nginx *opts, unsigned port, struct buf *err)
{
	const struct ssh *ssh = opts->ssh;
	struct buf old = BUF_INIT, text = BUF_INIT;
	int had_old = remote_read_file(ssh, opts->file, &old, err);
	if (had_old < 0) {
		buf_free(&old);
		return -1;
	}
	buf_printf(&text, UPSTREAM_HEAD "server 127.0.0.1:%u;\n", port);
	int rc = remote_write_file(ssh, opts->file, text.data, text.len, err);
	buf_free(&text);
	static const char *const test[] = {"-t", NULL};
	if (rc == 0)
		rc = run_checked(ssh, opts->nginx, test, NULL, opts->limit_ms, err);
	if (rc == 0) {
		char limit[16];
		snprintf(limit, sizeof(limit), "%u",
			 opts->limit_ms / 100 ? opts->limit_ms / 100 : 1);
		const char *const head[] = {
		    "sh", "-c", remote_reload_script, "gitgate", opts->pid_file, limit, NULL};
		rc = run_checked(ssh, head, opts->nginx, NULL, opts->limit_ms + 5000, err);
	}
	if (rc < 0) {
		struct buf why = BUF_INIT;
		if (remote_write_file(ssh, opts->file, had_old ? old.data : NULL, old.len, &why) <
		    0)
			buf_printf(err, "\nand %s could not be put back: %s", opts->file, why.data);
		else
			buf_printf(err, "\n%s is as it was", opts->file);
		buf_free(&why);
	}
	buf_free(&old);
	return rc;
}

int switch_nginx(const struct switch_nginx *opts, unsigned port, struct buf *err)
{
	if (port < 1 || port > 65535) {
		buf_printf(err, "cannot switch nginx to port %u: not a port", port);
		return -1;
	}
	if (opts->ssh)
		return switch_nginx_remote(opts, port, err);
	struct buf old = BUF_INIT, text = BUF_INIT;
	int had_old = buf_read_file(&old, opts->file) == 0;
	if (!had_old && errno != ENOENT) {
		buf_printf(err, "cannot read %s: %s", opts->file, strerror(errno));
		buf_free(&old);
		return -1;
	}
	buf_printf(&text, UPSTREAM_HEAD "server 127.0.0.1:%u;\n", port);
	int rc = state_replace(opts->file, text.data, text.len, err);
	buf_free(&text);
	if (rc < 0) {
		buf_free(&old);
		return -1;
	}
	static const char *const test[] = {"-t", NULL};
	rc = run_checked(NULL, opts->nginx, test, NULL, opts->limit_ms, err);
	if (rc == 0)
		rc = nginx_reload(opts, err);
	if (rc < 0)
		restore(opts->file, &old, had_old, err);
	buf_free(&old);
	return rc;
}
