/*
 * switch: see switch.h. Every way goes through the target's host (host.h):
 * nginx is driven only through its command line and /proc there, by one
 * constant script (below), the same on this machine and on a remote host.
 */
#include "switch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "run.h"

#define UPSTREAM_HEAD "# gitgate: the live slot of this target; rewritten at each switch\n"
/* The lines of a failed command's output that go into err. */
#define TAIL_LINES 10

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

/* Runs head then argv (when not NULL) on host under limit_ms; 0 when it
 * exited 0, else -1 with how it ended and what it said in err, naming it
 * what (NULL: head's first word and argv). */
static int run_checked(struct host *host, const char *const *head, const char *const *argv,
		       const char *const *env, const char *what, unsigned limit_ms, struct buf *err)
{
	size_t n = 0, m = 0;
	while (head[n])
		n++;
	while (argv && argv[m])
		m++;
	const char **all = xcalloc(n + m + 1, sizeof(*all));
	memcpy(all, head, n * sizeof(*all));
	if (m)
		memcpy(all + n, argv, m * sizeof(*all));
	struct buf output = BUF_INIT;
	struct host_command c = {
	    .argv = all,
	    .env = env,
	    .out = {.kind = RUN_OUT_CAPTURE, .buf = &output},
	    .err = {.kind = RUN_OUT_CAPTURE, .buf = &output},
	    .limit_ms = limit_ms,
	    .grace_ms = 1000,
	};
	struct run_result r;
	int rc = host_run(host, &c, &r, err);
	if (rc == 0 && (r.code != 0 || r.timed_out)) {
		if (host->address)
			buf_printf(err, "on %s: ", host->address);
		if (what)
			buf_adds(err, what);
		else
			for (size_t i = 0; i < m + 1; i++)
				buf_printf(err, "%s%s", i ? " " : "", i ? argv[i - 1] : all[0]);
		buf_addc(err, ' ');
		run_describe(err, &r);
		add_tail(err, &output);
		rc = -1;
	}
	free(all);
	buf_free(&output);
	return rc;
}

int switch_command(struct host *host, const char *const *argv, const char *const *env,
		   unsigned limit_ms, struct buf *err)
{
	return run_checked(host, argv, NULL, env, NULL, limit_ms, err);
}

int switch_link(struct host *host, const char *path, const char *slot_dir, struct buf *err)
{
	return host_link(host, path, slot_dir, err);
}

/* ---- nginx ------------------------------------------------------------- */

/* `nginx -s reload`, then the wait until the master has taken it: a worker
 * it did not have before, and every old one shutting down (an old worker
 * that got the master's QUIT retitles itself, then closes its listening
 * sockets; one that is gone has no title left). Run on the target's host,
 * read through /proc there. $1 the pid file, $2 the limit in fiftieths of
 * a second, then nginx's argv. */
static const char reload_script[] =
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
    "  [ $n -lt \"$limit\" ] && sleep 0.02 && continue\n"
    "  echo \"nginx (pid $master) kept its old workers after the reload: it could not "
    "apply the configuration (see its error log)\" >&2\n"
    "  exit 1\n"
    "done\n";

/* Puts FILE back as it was before the switch. */
static void restore(const struct switch_nginx *opts, const struct buf *old, int had_old,
		    struct buf *err)
{
	struct buf why = BUF_INIT;
	if (host_replace_file(opts->host, opts->file, had_old ? old->data : NULL, old->len, &why) <
	    0)
		buf_printf(err, "\nand %s could not be put back: %s", opts->file, why.data);
	else
		buf_printf(err, "\n%s is as it was", opts->file);
	buf_free(&why);
}

/* Replaces FILE with text, checks and reloads nginx; FILE put back when
 * either fails. */
static int nginx_apply(const struct switch_nginx *opts, const struct buf *text, struct buf *err)
{
	struct buf old = BUF_INIT;
	int had_old;
	if (host_read_file(opts->host, opts->file, &old, &had_old, err) < 0 ||
	    host_replace_file(opts->host, opts->file, text->data, text->len, err) < 0) {
		buf_free(&old);
		return -1;
	}
	static const char *const test[] = {"-t", NULL};
	int rc = run_checked(opts->host, opts->nginx, test, NULL, NULL, opts->limit_ms, err);
	if (rc == 0) {
		char limit[16];
		snprintf(limit, sizeof(limit), "%u", opts->limit_ms / 20 ? opts->limit_ms / 20 : 1);
		const char *const head[] = {"sh",	    "-c",  reload_script, "gitgate",
					    opts->pid_file, limit, NULL};
		rc = run_checked(opts->host, head, opts->nginx, NULL, "nginx -s reload",
				 opts->limit_ms + 5000, err);
	}
	if (rc < 0)
		restore(opts, &old, had_old, err);
	buf_free(&old);
	return rc;
}

static int not_a_port(unsigned port, struct buf *err)
{
	if (port >= 1 && port <= 65535)
		return 0;
	buf_printf(err, "cannot switch nginx to port %u: not a port", port);
	return 1;
}

int switch_nginx(const struct switch_nginx *opts, unsigned port, struct buf *err)
{
	if (not_a_port(port, err))
		return -1;
	struct buf text = BUF_INIT;
	buf_printf(&text, UPSTREAM_HEAD "server 127.0.0.1:%u;\n", port);
	int rc = nginx_apply(opts, &text, err);
	buf_free(&text);
	return rc;
}

int switch_nginx_split(const struct switch_nginx *opts, unsigned old_port, unsigned new_port,
		       unsigned percent, struct buf *err)
{
	if (not_a_port(old_port, err) || not_a_port(new_port, err))
		return -1;
	if (percent < 1 || percent > 99) {
		buf_printf(err, "cannot give %u%% of requests to a canary", percent);
		return -1;
	}
	struct buf text = BUF_INIT;
	buf_printf(&text,
		   UPSTREAM_HEAD "server 127.0.0.1:%u weight=%u;\nserver 127.0.0.1:%u weight=%u;\n",
		   old_port, 100 - percent, new_port, percent);
	int rc = nginx_apply(opts, &text, err);
	buf_free(&text);
	return rc;
}
