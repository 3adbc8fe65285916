/*
 * remote: see remote.h. The scripts are here, whole (the releases' in
 * remote_release.c), so that what runs on a host can be read in one or two
 * places; each takes its variable parts as positional arguments ($1 ...)
 * and nothing else.
 */
#include "remote.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIMIT_MS 30000 /* for the steps that are not a user's command */
#define GRACE_MS 1000

/* Reads NAME=value lines from stdin up to an empty one, exporting each. */
#define READ_ENV                                                                                   \
	"while IFS= read -r kv && [ -n \"$kv\" ]; do\n"                                            \
	"  case $kv in\n"                                                                          \
	"  [A-Za-z_]*=*) export \"$kv\" ;;\n"                                                      \
	"  *) echo 'gitgate: not NAME=value on stdin' >&2; exit 126 ;;\n"                          \
	"  esac\n"                                                                                 \
	"done\n"

/* $1 the folder (empty: stay), $2 the time limit in seconds (0: none),
 * then the command. */
static const char run_script[] =
    "dir=$1 limit=$2; shift 2\n" READ_ENV
    "if [ -n \"$dir\" ]; then cd -- \"$dir\" || exit 126; fi\n"
    /* The time limit there too: when it stops the ssh here, what it ran
     * there would go on. timeout(1) signals the command's whole group. */
    "if [ \"$limit\" -gt 0 ] && command -v timeout >/dev/null 2>&1; then\n"
    "  exec timeout -k 5 \"$limit\" \"$@\" </dev/null\n"
    "fi\n"
    "exec \"$@\" </dev/null\n";

/* $1 the symlink, $2 what it points at. */
static const char link_script[] = REMOTE_LINK "swap_link \"$1\" \"$2\"\n";

/* $1 the file: its bytes, or exit 3 when there is none. Only a regular
 * file: cat would wait on a FIFO for a writer. */
static const char read_script[] =
    "[ -e \"$1\" ] || exit 3\n"
    "[ -f \"$1\" ] || { echo \"$1 is not a regular file\" >&2; exit 1; }\n"
    "exec cat -- \"$1\"\n";

/* $1 the file, $2 "write" (stdin) or "remove". */
static const char write_script[] =
    "if [ \"$2\" = remove ]; then rm -f -- \"$1\"; exit; fi\n"
    "d=${1%/*}; [ -z \"$d\" ] || mkdir -p -- \"$d\" || exit 1\n"
    "tmp=$1.gitgate-new-$$\n"
    "cat >\"$tmp\" && mv -f -- \"$tmp\" \"$1\" || { rm -f -- \"$tmp\"; exit 1; }\n";

/* The app's session leader: $1 the log, $2 its cap in bytes (0: none), $3
 * the old logs kept, then the app, which it becomes. The app's output goes
 * through a FIFO to a log writer in the same group, started as an orphan
 * (no child of the app's), which ignores SIGTERM and ends when the output
 * does. With GNU head, one `head -c ROOM` copies each cap's worth exactly,
 * its output unbuffered (stdbuf -o0: else head holds a short line in its
 * stdio buffer, and the log shows an app's words only by the 4 KiB, too
 * late for a watch); elsewhere (busybox, which writes what it reads) one
 * `dd` a read of up to 64 KiB, the log rotated once it is within 64 KiB of
 * the cap. tee and wc count what was copied: fewer bytes than asked is the
 * end of the output. */
static const char app_script[] =
    "log=$1 max=$2 keep=$3; shift 3\n"
    "[ \"$max\" -gt 0 ] || exec \"$@\" >>\"$log\" 2>&1\n"
    "applog() {\n"
    "  trap '' TERM INT HUP\n"
    "  limit=$max\n"
    "  head --version 2>/dev/null | grep -q GNU || limit=$((max - 65536))\n"
    "  nobuf=; stdbuf --version >/dev/null 2>&1 && nobuf='stdbuf -o0'\n"
    "  size=$(( $(wc -c <\"$log\" 2>/dev/null || echo 0) ))\n"
    "  while :; do\n"
    "    if [ \"$size\" -gt 0 ] && [ \"$size\" -ge \"$limit\" ]; then\n"
    "      i=$keep\n"
    "      while [ \"$i\" -gt 1 ]; do\n"
    "        mv -f -- \"$log.$((i - 1))\" \"$log.$i\" 2>/dev/null; i=$((i - 1))\n"
    "      done\n"
    "      mv -f -- \"$log\" \"$log.1\" 2>/dev/null || : >\"$log\"\n"
    "      size=0\n"
    "    fi\n"
    "    if [ \"$limit\" -eq \"$max\" ]; then\n"
    "      got=$(( $($nobuf head -c $((max - size)) | tee -a -- \"$log\" | wc -c) ))\n"
    "      [ \"$got\" -lt $((max - size)) ] && exit 0\n"
    "    else\n"
    "      got=$(( $(dd bs=65536 count=1 2>/dev/null | tee -a -- \"$log\" | wc -c) ))\n"
    "      [ \"$got\" -eq 0 ] && exit 0\n"
    "    fi\n"
    "    size=$((size + got))\n"
    "  done\n"
    "}\n"
    "fifo=$log.fifo\n"
    "rm -f -- \"$fifo\" && mkfifo -m 600 -- \"$fifo\" || exit 1\n"
    "(applog <\"$fifo\" >/dev/null 2>&1 &)\n"
    "exec >\"$fifo\" 2>&1\n"
    "rm -f -- \"$fifo\"\n"
    "exec \"$@\"\n";

/* $1 the folder, $2 the pid file, $3 the log, $4 its cap, $5 the old logs
 * kept, $6 app_script, then the command. */
static const char start_script[] = REMOTE_ALIVE
    "dir=$1 pidf=$2 log=$3 max=$4 keep=$5 app=$6; shift 6\n" READ_ENV
    "d=${pidf%/*}; [ -d \"$d\" ] || mkdir -p -- \"$d\" || exit 1\n"
    "if [ -s \"$pidf\" ] && read -r pid start <\"$pidf\" && alive \"$pid\" \"$start\"; then\n"
    "  echo \"already running (pid $pid)\" >&2; exit 1\n"
    "fi\n"
    "cd -- \"$dir\" || exit 1\n"
    "setsid sh -c \"$app\" gitgate-app \"$log\" \"$max\" \"$keep\" \"$@\" </dev/null >>\"$log\" "
    "2>&1 &\n"
    "pid=$!; n=0 start=\n"
    /* setsid(1), not a group leader in a shell without job control, makes
     * the session in its own process and execs the app there; its stat
     * and comm are read by the shell itself, every 2 ms. */
    "while :; do\n"
    "  if ! kill -0 \"$pid\" 2>/dev/null; then\n"
    "    echo \"the app exited as it started (see $log there)\" >&2; exit 1\n"
    "  fi\n"
    "  [ -r /proc/$pid/stat ] || break\n"
    "  stat_of \"$pid\"; comm=; { read -r comm </proc/$pid/comm; } 2>/dev/null\n"
    "  set -- $st\n"
    "  [ \"$3\" = \"$pid\" ] && [ \"$comm\" != setsid ] && { start=${20}; break; }\n"
    "  n=$((n + 1)); [ $n -lt 2500 ] || { echo 'the app got no session of its own' >&2; exit 1; }\n"
    "  sleep 0.002\n"
    "done\n"
    "printf '%s %s\\n' \"$pid\" \"$start\" >\"$pidf.new\" && mv -f -- \"$pidf.new\" \"$pidf\"\n";

/* $1 the pid file: exit 0 running, 1 not. */
static const char running_script[] = REMOTE_ALIVE "[ -s \"$1\" ] && read -r pid start <\"$1\" && "
						  "alive \"$pid\" \"$start\"\n";

/* $1 the pid file, $2 the grace in tenths of a second. */
static const char stop_script[] = REMOTE_ALIVE REMOTE_STOP "stop_app \"$1\" \"$2\"\n";

int remote_command_make(struct remote_command *out, const struct ssh *s, const char *const *argv,
			const char *const *env, const char *cwd, unsigned limit_ms, struct buf *err)
{
	size_t n = 0;
	while (argv[n])
		n++;
	memset(out, 0, sizeof(*out));
	for (const char *const *e = env; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		if (strchr(*e, '\n')) {
			buf_printf(err,
				   "%.*s holds a newline, which cannot be handed to a command "
				   "on a remote host",
				   (int)(eq - *e), *e);
			buf_free(&out->input);
			return -1;
		}
		buf_printf(&out->input, "%s\n", *e);
	}
	buf_addc(&out->input, '\n');
	/* Rounded up, and a moment later than here: the limit here is the
	 * one that speaks (its message, its record). */
	char limit[16];
	snprintf(limit, sizeof(limit), "%u", limit_ms ? (limit_ms + 999) / 1000 + 2 : 0);
	const char **words = xcalloc(n + 7, sizeof(*words));
	words[0] = "sh";
	words[1] = "-c";
	words[2] = run_script;
	words[3] = "gitgate";
	words[4] = cwd ? cwd : "";
	words[5] = limit;
	memcpy(words + 6, argv, n * sizeof(*words));
	out->argv = ssh_argv(s, words);
	out->dir = s->dir;
	free(words);
	return 0;
}

void remote_command_free(struct remote_command *c)
{
	strvec_free(c->argv);
	buf_free(&c->input);
	memset(c, 0, sizeof(*c));
}

void remote_command_options(struct run_options *o, const struct remote_command *c)
{
	o->argv = (const char *const *)c->argv;
	o->cwd = c->dir;
	o->in =
	    (struct run_input){.kind = RUN_IN_BUFFER, .data = c->input.data, .len = c->input.len};
}

int remote_script_start(struct remote_running *out, const struct ssh *s, const char *text,
			const char *const *args, const struct run_input *in, struct buf *stdout_to,
			unsigned limit_ms, struct buf *err)
{
	size_t n = 0;
	while (args[n])
		n++;
	const char **words = xcalloc(n + 5, sizeof(*words));
	words[0] = "sh";
	words[1] = "-c";
	words[2] = text;
	words[3] = "gitgate";
	memcpy(words + 4, args, n * sizeof(*words));
	*out = (struct remote_running){.s = s, .argv = ssh_argv(s, words), .said = BUF_INIT};
	free(words);
	struct run_options o = {
	    .argv = (const char *const *)out->argv,
	    .cwd = s->dir,
	    .out = {.kind = stdout_to ? RUN_OUT_CAPTURE : RUN_OUT_DISCARD, .buf = stdout_to},
	    .err = {.kind = RUN_OUT_CAPTURE, .buf = &out->said},
	    .limit_ms = limit_ms ? limit_ms : LIMIT_MS,
	    .grace_ms = GRACE_MS};
	if (in)
		o.in = *in;
	if (run_start(&out->p, &o, err) == 0)
		return 0;
	strvec_free(out->argv);
	buf_free(&out->said);
	return -1;
}

int remote_script_finish(struct remote_running *r, struct buf *err)
{
	struct run_result how;
	struct buf *said = &r->said;
	int rc = run_finish(&how, &r->p, err);
	while (said->len && isspace((unsigned char)said->data[said->len - 1]))
		said->data[--said->len] = '\0';
	if (rc == 0) {
		rc = how.timed_out ? -1 : how.code;
		if (how.code == 255 || how.timed_out)
			rc = -1;
		if (rc) {
			buf_printf(err, "on %s: ", r->s->shown);
			if (said->len)
				buf_add(err, said->data, said->len);
			else
				run_describe(err, &how);
		}
	}
	buf_free(said);
	strvec_free(r->argv);
	return rc;
}

int remote_script(const struct ssh *s, const char *text, const char *const *args,
		  const struct run_input *in, struct buf *out, unsigned limit_ms, struct buf *err)
{
	struct remote_running r;
	if (remote_script_start(&r, s, text, args, in, out, limit_ms, err) < 0)
		return -1;
	return remote_script_finish(&r, err);
}

int remote_link(const struct ssh *s, const char *path, const char *target, struct buf *err)
{
	const char *args[] = {path, target, NULL};
	return remote_script(s, link_script, args, NULL, NULL, 0, err) == 0 ? 0 : -1;
}

int remote_read_file(const struct ssh *s, const char *path, struct buf *out, struct buf *err)
{
	const char *args[] = {path, NULL};
	struct buf why = BUF_INIT;
	int rc = remote_script(s, read_script, args, NULL, out, 0, &why);
	if (rc == 3) {
		buf_free(&why);
		return 0;
	}
	if (rc)
		buf_printf(err, "cannot read %s %s", path, why.data);
	buf_free(&why);
	return rc ? -1 : 1;
}

/* A log's file and where to read it from: "DEV INO START" (0 0 0: none
 * there), then, when asked ($5 a byte count), at most that many bytes of
 * it from START: the offset asked in the same file, or 0 in another one
 * (rotated) or a shorter one (truncated). $1 the path, $2 $3 $4 the
 * position the reader stands at. */
static const char log_script[] =
    "f=$1 dev=$2 ino=$3 off=$4 max=$5\n"
    "s=$(stat -L -c '%d %i %s' -- \"$f\" 2>/dev/null) || { echo '0 0 0'; exit 0; }\n"
    "set -- $s\n"
    "[ -f \"$f\" ] || { echo \"not a regular file: $f\" >&2; exit 1; }\n"
    "if [ -z \"$max\" ]; then echo \"$1 $2 $3\"; exit 0; fi\n"
    "start=0\n"
    "[ \"$1\" = \"$dev\" ] && [ \"$2\" = \"$ino\" ] && [ \"$3\" -ge \"$off\" ] && start=$off\n"
    "echo \"$1 $2 $start\"\n"
    "tail -c +$((start + 1)) -- \"$f\" | head -c \"$max\"\n";

/* Runs log_script: the position line into *at, the bytes after it into
 * data (with max 0: none asked). */
static int log_there(const struct ssh *s, const char *path, const struct logpos *from, size_t max,
		     struct logpos *at, struct buf *data, struct buf *err)
{
	char dev[24], ino[24], off[24], limit[24];
	snprintf(dev, sizeof(dev), "%llu", from->dev);
	snprintf(ino, sizeof(ino), "%llu", from->ino);
	snprintf(off, sizeof(off), "%llu", from->offset);
	snprintf(limit, sizeof(limit), "%zu", max);
	const char *args[] = {path, dev, ino, off, max ? limit : NULL, NULL};
	struct buf out = BUF_INIT;
	int rc = remote_script(s, log_script, args, NULL, &out, 0, err) == 0 ? 0 : -1;
	const char *nl = out.data ? memchr(out.data, '\n', out.len) : NULL;
	if (rc == 0 &&
	    (!nl || sscanf(out.data, "%llu %llu %llu", &at->dev, &at->ino, &at->offset) != 3)) {
		buf_printf(err, "on %s: cannot read the log %s", s->shown, path);
		rc = -1;
	}
	if (rc == 0)
		buf_add(data, nl + 1, out.len - (size_t)(nl + 1 - out.data));
	buf_free(&out);
	return rc;
}

int remote_log_end(const struct ssh *s, const char *path, struct logpos *pos, struct buf *err)
{
	struct logpos none = {0, 0, 0};
	struct buf ignored = BUF_INIT;
	int rc = log_there(s, path, &none, 0, pos, &ignored, err);
	buf_free(&ignored);
	return rc;
}

int remote_log_read(const struct ssh *s, const char *path, const struct logpos *from, size_t max,
		    struct logpos *at, struct buf *data, struct buf *err)
{
	return log_there(s, path, from, max, at, data, err);
}

int remote_write_file(const struct ssh *s, const char *path, const char *data, size_t len,
		      struct buf *err)
{
	const char *args[] = {path, data ? "write" : "remove", NULL};
	struct run_input in = {.kind = RUN_IN_BUFFER, .data = data, .len = len};
	return remote_script(s, write_script, args, data ? &in : NULL, NULL, 0, err) == 0 ? 0 : -1;
}

/* Level 3's dependencies, each as the host sees it. */
static int dependencies_there(struct remote_health *h, struct ssh *s, struct health_spec *spec,
			      const char **deps, struct buf *err)
{
	h->ndeps = spec->ndeps;
	h->forwarded = xcalloc(spec->ndeps + 1, sizeof(*h->forwarded));
	h->shown = xcalloc(spec->ndeps + 1, sizeof(*h->shown));
	for (size_t i = 0; i < spec->ndeps; i++) {
		struct health_dependency d;
		unsigned local;
		if (health_dependency_parse(&d, deps[i], err) < 0)
			return -1;
		int rc = ssh_reach_port(s, d.host, d.port, &local, err);
		if (rc > 0) {
			struct buf b = BUF_INIT;
			buf_printf(&b, "%.*s127.0.0.1:%u",
				   (int)(strstr(d.shown, "://") + 3 - d.shown), d.shown, local);
			deps[i] = h->forwarded[i] = buf_detach(&b);
			buf_printf(&b, "%s on %s", d.shown, s->shown);
			h->shown[i] = buf_detach(&b);
		}
		health_dependency_free(&d);
		if (rc < 0)
			return -1;
	}
	spec->dependency_shown = (const char *const *)h->shown;
	return 0;
}

int remote_health_prepare(struct remote_health *h, struct ssh *s, struct health_spec *spec,
			  const char **deps, struct buf *err)
{
	memset(h, 0, sizeof(*h));
	int rc = spec->nurls ? ssh_reach_url(s, spec->urls[0], &h->url, err) : 0;
	if (rc == 0 && spec->nurls && strcmp(h->url.data, spec->urls[0])) {
		buf_printf(&h->url_shown, "%s on %s", spec->urls[0], s->shown);
		h->urls[0] = h->url.data;
		h->urls_shown[0] = h->url_shown.data;
		spec->urls = h->urls;
		spec->urls_shown = h->urls_shown;
	}
	if (rc == 0 && spec->level == 1)
		rc = ssh_forward(s, "localhost", spec->port, &spec->port, err);
	if (rc == 0 && spec->level >= 3)
		rc = dependencies_there(h, s, spec, deps, err);
	if (rc == 0 && spec->command)
		rc = remote_command_make(&h->cmd, s, spec->command, spec->command_env,
					 spec->command_cwd, spec->command_limit_ms, err);
	if (rc == 0 && spec->command) {
		spec->command_shown = spec->command;
		spec->command = (const char *const *)h->cmd.argv;
		spec->command_input = h->cmd.input.data;
		spec->command_input_len = h->cmd.input.len;
		spec->command_env = NULL;
		spec->command_cwd = h->cmd.dir;
	}
	return rc;
}

void remote_health_free(struct remote_health *h)
{
	for (size_t i = 0; h->forwarded && i < h->ndeps; i++) {
		free(h->forwarded[i]);
		free(h->shown[i]);
	}
	free(h->forwarded);
	free(h->shown);
	remote_command_free(&h->cmd);
	buf_free(&h->url);
	buf_free(&h->url_shown);
	memset(h, 0, sizeof(*h));
}

int remote_app_start(const struct ssh *s, const struct remote_app *app, const char *const *argv,
		     const char *const *env, struct buf *err)
{
	struct remote_command c;
	if (remote_command_make(&c, s, argv, env, NULL, 0, err) < 0)
		return -1;
	size_t n = 0;
	while (argv[n])
		n++;
	char max[32], keep[16];
	snprintf(max, sizeof(max), "%llu", app->log_max_bytes);
	snprintf(keep, sizeof(keep), "%u", app->log_keep ? app->log_keep : 1);
	const char **args = xcalloc(n + 7, sizeof(*args));
	args[0] = app->dir;
	args[1] = app->pid_file;
	args[2] = app->log;
	args[3] = max;
	args[4] = keep;
	args[5] = app_script;
	memcpy(args + 6, argv, n * sizeof(*args));
	struct run_input in = {.kind = RUN_IN_BUFFER, .data = c.input.data, .len = c.input.len};
	int rc = remote_script(s, start_script, args, &in, NULL, 0, err);
	free(args);
	remote_command_free(&c);
	return rc == 0 ? 0 : -1;
}

int remote_app_running(const struct ssh *s, const struct remote_app *app, struct buf *err)
{
	const char *args[] = {app->pid_file, NULL};
	struct buf why = BUF_INIT;
	int rc = remote_script(s, running_script, args, NULL, NULL, 0, &why);
	if (rc < 0)
		buf_add(err, why.data, why.len);
	buf_free(&why);
	return rc < 0 ? -1 : rc == 0;
}

int remote_app_stop(const struct ssh *s, const struct remote_app *app, unsigned grace_ms,
		    struct buf *err)
{
	char tenths[16];
	snprintf(tenths, sizeof(tenths), "%u", remote_grace_tenths(grace_ms));
	const char *args[] = {app->pid_file, tenths, NULL};
	return remote_script(s, stop_script, args, NULL, NULL, (grace_ms + 10000), err) == 0 ? 0
											     : -1;
}

/* ---- The sandbox there -------------------------------------------------- */

/* bwrap on the login PATH (empty: none), HOME, then each ssh host key:
 * each word ends with a NUL. */
static const char sandbox_facts_script[] =
    "b=$(command -v bwrap 2>/dev/null) || b=\n"
    "case $b in /*) ;; *) b= ;; esac\n"
    "printf '%s\\0%s\\0' \"$b\" \"$HOME\"\n"
    "for k in /etc/ssh/ssh_host_*; do [ -e \"$k\" ] && printf '%s\\0' \"$k\"; done\n"
    "exit 0\n";

/* For each path: its kind there ("-" nothing, "d" a folder, "f" anything
 * else), its real path, what it holds when it is a symlink (else empty):
 * each word ends with a NUL. `x` keeps a name's last newline through $( ). */
static const char look_script[] =
    "nl='\n'\n"
    "for p; do\n"
    "  r=$(readlink -f -- \"$p\" 2>/dev/null && echo x) && r=${r%x} && r=${r%\"$nl\"} || r=\n"
    "  if [ -z \"$r\" ] || [ ! -e \"$r\" ]; then k=- r=\n"
    "  elif [ -d \"$r\" ]; then k=d\n"
    "  else k=f; fi\n"
    "  l=\n"
    "  if [ -L \"$p\" ]; then l=$(readlink -- \"$p\"; echo x); l=${l%x}; l=${l%\"$nl\"}; fi\n"
    "  printf '%s\\0%s\\0%s\\0' \"$k\" \"$r\" \"$l\"\n"
    "done\n";

/* The NUL-ended words of out, at most max; returns how many. */
static size_t nul_words(const struct buf *out, const char **words, size_t max)
{
	size_t n = 0;
	for (size_t at = 0; at < out->len && n < max;) {
		words[n++] = out->data + at;
		at += strlen(out->data + at) + 1;
	}
	return n;
}

static int host_look(void *ctx, const char *const *paths, size_t n, struct sandbox_path *out,
		     struct buf *err)
{
	struct buf said = BUF_INIT;
	const char **args = xcalloc(n + 1, sizeof(*args));
	memcpy(args, paths, n * sizeof(*args));
	int rc = remote_script(ctx, look_script, args, NULL, &said, 0, err);
	const char **words = xcalloc(3 * n + 1, sizeof(*words));
	if (rc == 0 && nul_words(&said, words, 3 * n + 1) != 3 * n) {
		buf_printf(err, "on %s: the paths could not be looked up",
			   ((const struct ssh *)ctx)->shown);
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *const *w = words + 3 * i;
		out[i] = (struct sandbox_path){.real = *w[0] != '-' ? xstrdup(w[1]) : NULL,
					       .dir = *w[0] == 'd',
					       .link = *w[2] ? xstrdup(w[2]) : NULL};
	}
	free(words);
	free(args);
	buf_free(&said);
	return rc ? -1 : 0;
}

/* Runs argv there, its stderr in said (the probe). */
static int host_run(void *ctx, const char *const *argv, struct buf *said, struct buf *err)
{
	struct remote_command c;
	if (remote_command_make(&c, ctx, argv, NULL, NULL, LIMIT_MS, err) < 0)
		return -1;
	struct run_options o = {.out = {.kind = RUN_OUT_DISCARD},
				.err = {.kind = RUN_OUT_CAPTURE, .buf = said},
				.limit_ms = LIMIT_MS,
				.grace_ms = GRACE_MS};
	remote_command_options(&o, &c);
	struct run_result r;
	int rc = run(&r, &o, err);
	remote_command_free(&c);
	if (rc == 0 && (r.code == 255 || r.timed_out)) {
		buf_printf(err, "%s could not be asked", ((const struct ssh *)ctx)->shown);
		rc = -1;
	}
	return rc < 0 ? -1 : r.code;
}

int remote_sandbox_open(struct remote_sandbox *rs, const struct ssh *s, struct buf *err)
{
	memset(rs, 0, sizeof(*rs));
	struct buf said = BUF_INIT;
	const char *none[] = {NULL};
	int rc = remote_script(s, sandbox_facts_script, none, NULL, &said, 0, err);
	const char **words = xcalloc(said.len + 2, sizeof(*words));
	size_t n = rc == 0 ? nul_words(&said, words, said.len + 1) : 0;
	if (rc == 0 && n < 2) {
		buf_printf(err, "on %s: the sandbox's facts could not be read", s->shown);
		rc = -1;
	}
	if (rc == 0) {
		rs->bwrap = *words[0] ? xstrdup(words[0]) : NULL;
		rs->home = *words[1] ? xstrdup(words[1]) : NULL;
		for (size_t i = 2; i < n; i++)
			*ARRAY_PUSH(rs->keys, rs->nkeys, rs->cap_keys) = xstrdup(words[i]);
		*ARRAY_PUSH(rs->keys, rs->nkeys, rs->cap_keys) = NULL;
		rs->nkeys--;
		rs->host = (struct sandbox_host){.name = s->shown,
						 .bwrap = rs->bwrap,
						 .home = rs->home,
						 .host_keys = (const char *const *)rs->keys,
						 .look = host_look,
						 .run = host_run,
						 .ctx = (void *)s};
	}
	free(words);
	buf_free(&said);
	return rc ? -1 : 0;
}

void remote_sandbox_free(struct remote_sandbox *rs)
{
	for (size_t i = 0; i < rs->nkeys; i++)
		free(rs->keys[i]);
	free(rs->keys);
	free(rs->bwrap);
	free(rs->home);
	memset(rs, 0, sizeof(*rs));
}
