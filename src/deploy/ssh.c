/*
 * ssh: see ssh.h. Every ssh this runs is one argv through run.h; the
 * options below are the whole of what gitgate asks of OpenSSH.
 */
#include "ssh.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deploy_policy.h"
#include "hashset.h"
#include "run.h"
#include "shell_quote.h"
#include "state.h"

#define GRACE_MS 1000
/* A master this process has not used for this long may be near its end
 * (another process's use may have kept it, or not): asked before the next
 * use. */
#define QUIET_SECONDS (SSH_PERSIST_SECONDS - 60)

static void arg(struct ssh *s, const char *fmt, const char *value)
{
	strvec_pushf(&s->common, fmt, value);
}

/* "ssh" and the options every use of the connection shares. */
static void common_argv(struct ssh *s, const struct ssh_options *o)
{
	char port[16];
	snprintf(port, sizeof(port), "%u", s->port);
	arg(s, "%s", "ssh");
	arg(s, "%s", "-T");
	arg(s, "-oBatchMode=%s", "yes");
	arg(s, "-oStrictHostKeyChecking=%s", "yes");
	if (o->known_hosts) {
		arg(s, "-oUserKnownHostsFile=%s", o->known_hosts);
		arg(s, "-oGlobalKnownHostsFile=%s", "/dev/null");
	}
	if (o->identity) {
		arg(s, "-oIdentityFile=%s", o->identity);
		arg(s, "-oIdentitiesOnly=%s", "yes");
	}
	arg(s, "-oControlPath=%s", s->control);
	arg(s, "-oConnectTimeout=%s", "10");
	/* A connection that stops answering is given up in about 15 s. */
	arg(s, "-oServerAliveInterval=%s", "5");
	arg(s, "-oServerAliveCountMax=%s", "3");
	arg(s, "-oLogLevel=%s", "ERROR");
	arg(s, "-p%s", port);
	arg(s, "-l%s", s->user);
}

/* argv: the common words, then extra, then the host, NULL-terminated. */
static void argv_with(struct strvec *argv, const struct ssh *s, const char *const *extra)
{
	strvec_push_all(argv, (const char *const *)s->common.v);
	strvec_push_all(argv, extra);
	strvec_push(argv, "--");
	strvec_push(argv, s->host);
}

static void master_keep(const struct ssh *s);

char **ssh_argv(const struct ssh *s, const char *const *words)
{
	master_keep(s);
	struct strvec argv = STRVEC_INIT;
	argv_with(&argv, s, NULL);
	struct buf line = BUF_INIT;
	shell_quote_argv(&line, words);
	strvec_push_owned(&argv, buf_detach(&line));
	return strvec_detach(&argv);
}

/* Runs ssh with extra words and no remote command (-O, -M): what it said
 * on stderr in said; -1 when it failed (said holds why). */
static int control(const struct ssh *s, const char *const *extra, struct buf *said)
{
	struct strvec argv = STRVEC_INIT;
	argv_with(&argv, s, extra);
	struct run_options opts = {.argv = (const char *const *)argv.v,
				   .cwd = s->dir,
				   .out = {.kind = RUN_OUT_DISCARD},
				   .err = {.kind = RUN_OUT_CAPTURE, .buf = said},
				   .limit_ms = s->limit_ms,
				   .grace_ms = GRACE_MS};
	struct run_result r;
	int rc = run(&r, &opts, said);
	while (said->len && isspace((unsigned char)said->data[said->len - 1]))
		said->data[--said->len] = '\0';
	if (rc == 0 && (r.code || r.timed_out)) {
		if (!said->len)
			run_describe(said, &r);
		rc = -1;
	}
	strvec_clear(&argv);
	return rc;
}

/* Masters an older gitgate opened for one deploy each (sockets PID.N),
 * left by one that died: ended (ssh -O runs in their folder, the path
 * being relative). */
static void end_orphans(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char *dot;
		long pid = strtol(e->d_name, &dot, 10);
		if (pid <= 0 || *dot != '.' || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		struct buf path = BUF_INIT;
		buf_printf(&path, "%s/%s", dir, e->d_name);
		const char *argv[] = {"ssh", "-S", e->d_name, "-O", "exit", "gitgate-orphan", NULL};
		struct run_options opts = {.argv = argv,
					   .cwd = dir,
					   .out = {.kind = RUN_OUT_DISCARD},
					   .err = {.kind = RUN_OUT_DISCARD},
					   .limit_ms = 5000,
					   .grace_ms = GRACE_MS};
		struct run_result r;
		struct buf ignored = BUF_INIT;
		run(&r, &opts, &ignored);
		unlink(path.data);
		buf_free(&ignored);
		buf_free(&path);
	}
	if (d)
		closedir(d);
}

/* What an ssh that could not connect said, and what to do about a key. */
static void explain(struct buf *err, const struct ssh *s, const char *known_hosts, const char *said)
{
	buf_printf(err, "cannot connect to %s: %s", s->shown, said);
	if (!strstr(said, "Host key verification failed") && !strstr(said, "host key"))
		return;
	const char *file = known_hosts ? known_hosts : "~/.ssh/known_hosts";
	buf_printf(err,
		   "\nits host key is unknown or has changed: get it, check its fingerprint "
		   "(ssh-keygen -lf) against the host's own, and add it:\n"
		   "  ssh-keyscan -p %u %s >> %s",
		   s->port, s->host, file);
	if (strstr(said, "CHANGED") || strstr(said, "changed"))
		buf_printf(
		    err,
		    "\n(a changed key: remove the old one first: ssh-keygen -R '[%s]:%u' -f %s)",
		    s->host, s->port, file);
}

/* A file as the master's name counts it: its path, and which file is
 * there now (device, inode, size, last change). */
static void name_file(struct buf *key, const char *path)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	if (path)
		stat(path, &st);
	buf_printf(key, "%s%c%llu %llu %lld %lld.%09ld%c", path ? path : "", '\0',
		   (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		   (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, '\0');
}

void ssh_master_name(struct buf *out, const char *user, const char *host, unsigned port,
		     const char *known_hosts, const char *identity)
{
	struct buf key = BUF_INIT;
	buf_printf(&key, "%s%c%s%c%u%c", user, '\0', host, '\0', port, '\0');
	name_file(&key, known_hosts);
	name_file(&key, identity);
	buf_printf(out, "h-%016llx", (unsigned long long)hashset_key(key.data, key.len));
	buf_free(&key);
}

/* Does a command through the master run? Through it only: an ssh that
 * cannot reach the master does not connect by itself (ProxyCommand). A
 * command that ran restarts the master's ControlPersist time. */
static int answers(const struct ssh *s)
{
	struct strvec argv = STRVEC_INIT;
	const char *const extra[] = {"-oProxyCommand=false", NULL};
	argv_with(&argv, s, extra);
	strvec_push(&argv, "true");
	struct run_options opts = {.argv = (const char *const *)argv.v,
				   .cwd = s->dir,
				   .out = {.kind = RUN_OUT_DISCARD},
				   .err = {.kind = RUN_OUT_DISCARD},
				   .limit_ms = s->limit_ms,
				   .grace_ms = GRACE_MS};
	struct run_result r;
	struct buf ignored = BUF_INIT;
	int yes = run(&r, &opts, &ignored) == 0 && r.code == 0 && !r.timed_out;
	buf_free(&ignored);
	strvec_clear(&argv);
	return yes;
}

/* The master there when it answers, else a new one in its place, under
 * its lock (two processes never open two masters on one socket: the
 * second would go on as a plain connection of its own). Forwards of a
 * replaced master are gone with it. */
static int master_ready(const struct ssh *s, struct buf *err)
{
	struct buf path = BUF_INIT, said = BUF_INIT;
	buf_printf(&path, "%s/%s.lock", s->dir, s->control);
	struct state_holder me = {.pid = getpid(), .user = "ssh", .since = time(NULL)};
	struct state_lock lock;
	struct buf busy = BUF_INIT;
	/* Unlocked when the lock cannot be had: a connection first. */
	state_lock(&lock, path.data, &me, s->limit_ms / 1000 + 5, &busy);
	buf_free(&busy);
	int rc = 0;
	s->master->reused = answers(s);
	if (!s->master->reused) {
		buf_clear(&path);
		buf_printf(&path, "%s/%s", s->dir, s->control);
		unlink(path.data);
		s->master->generation++;
		char persist[48];
		snprintf(persist, sizeof(persist), "-oControlPersist=%d", SSH_PERSIST_SECONDS);
		const char *const master[] = {"-M", "-N", "-f", persist, NULL};
		rc = control(s, master, &said);
		if (rc < 0)
			explain(err, s, s->master->known_hosts, said.data ? said.data : "");
	}
	if (lock.fd >= 0)
		state_unlock(&lock);
	if (rc == 0)
		clock_gettime(CLOCK_MONOTONIC, &s->master->used);
	buf_free(&path);
	buf_free(&said);
	return rc;
}

/* Before a use: a master this process has not used for QUIET_SECONDS is
 * asked again (and replaced when gone); what fails is then the use's to
 * say. */
static void master_keep(const struct ssh *s)
{
	struct ssh_master *m = s->master;
	if (!m)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - m->used.tv_sec < QUIET_SECONDS) {
		m->used = now;
		return;
	}
	struct buf ignored = BUF_INIT;
	master_ready(s, &ignored);
	buf_free(&ignored);
}

int ssh_open(struct ssh *s, const char *spec, const struct ssh_options *o, struct buf *err)
{
	memset(s, 0, sizeof(*s));
	if (deploy_policy_parse_host(spec, &s->user, &s->host, &s->port, err) < 0)
		return -1;
	s->limit_ms = o->limit_ms ? o->limit_ms : 30000;
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s@%s:%u", s->user, s->host, s->port);
	s->shown = buf_detach(&b);
	if (mkdir(o->control_dir, 0700) < 0 && errno != EEXIST) {
		buf_printf(err, "cannot make %s: %s", o->control_dir, strerror(errno));
		ssh_close(s);
		return -1;
	}
	end_orphans(o->control_dir);
	s->dir = xstrdup(o->control_dir);
	ssh_master_name(&b, s->user, s->host, s->port, o->known_hosts, o->identity);
	s->control = buf_detach(&b);
	common_argv(s, o);
	s->master = xcalloc(1, sizeof(*s->master));
	s->master->known_hosts = o->known_hosts ? xstrdup(o->known_hosts) : NULL;
	if (master_ready(s, err) < 0) {
		ssh_close(s);
		return -1;
	}
	return 0;
}

/* A port on 127.0.0.1 that is free now. */
static unsigned free_port(struct buf *err)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	unsigned port = 0;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	else
		buf_printf(err, "cannot find a free local port: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return port;
}

/* The -L spec of a forward. */
static void forward_spec(struct buf *out, unsigned local, const char *host, unsigned port)
{
	int v6 = strchr(host, ':') != NULL;
	buf_printf(out, "127.0.0.1:%u:%s%s%s:%u", local, v6 ? "[" : "", host, v6 ? "]" : "", port);
}

/* The forward of host:port this process made through the master as it
 * is now, or NULL. */
static const struct ssh_forward *forward_of(const struct ssh *s, const char *host, unsigned port)
{
	unsigned generation = s->master ? s->master->generation : 0;
	for (size_t i = 0; i < s->nforwards; i++)
		if (s->forwards[i].port == port && !strcmp(s->forwards[i].host, host) &&
		    s->forwards[i].generation == generation)
			return &s->forwards[i];
	return NULL;
}

int ssh_forward(struct ssh *s, const char *host, unsigned port, unsigned *local, struct buf *err)
{
	master_keep(s);
	unsigned generation = s->master ? s->master->generation : 0;
	const struct ssh_forward *made = forward_of(s, host, port);
	if (made) {
		*local = made->local;
		return 0;
	}
	/* A port taken between the probe and ssh's bind is tried again. */
	for (int attempt = 0; attempt < 3; attempt++) {
		unsigned free = free_port(err);
		if (!free)
			return -1;
		struct buf spec = BUF_INIT, said = BUF_INIT;
		forward_spec(&spec, free, host, port);
		const char *const extra[] = {"-O", "forward", "-L", spec.data, NULL};
		int rc = control(s, extra, &said);
		buf_free(&spec);
		if (rc == 0) {
			struct ssh_forward *f =
			    ARRAY_PUSH(s->forwards, s->nforwards, s->cap_forwards);
			*f = (struct ssh_forward){.host = xstrdup(host),
						  .port = port,
						  .local = free,
						  .generation = generation};
			*local = free;
			buf_free(&said);
			return 0;
		}
		if (attempt == 2)
			buf_printf(err, "cannot forward a port to %s:%u on %s: %s", host, port,
				   s->shown, said.data ? said.data : "");
		buf_free(&said);
	}
	return -1;
}

/* The len bytes at host as the name a forward goes to, without brackets,
 * when they name the remote host's own loopback (localhost, 127.x.x.x,
 * ::1); else NULL. */
static char *loopback_name(const char *host, size_t len)
{
	if (len > 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	int yes = (len == 9 && !strncasecmp(host, "localhost", 9)) ||
		  (len > 4 && !strncmp(host, "127.", 4)) || (len == 3 && !strncmp(host, "::1", 3));
	return yes ? xstrndup(host, len) : NULL;
}

int ssh_reach_port(struct ssh *s, const char *host, unsigned port, unsigned *local, struct buf *err)
{
	char *name = loopback_name(host, strlen(host));
	if (!name)
		return 0;
	int rc = ssh_forward(s, name, port, local, err);
	free(name);
	return rc < 0 ? -1 : 1;
}

/* A URL's host (brackets kept) and port, and where its host and port end
 * (rest) and its host begins (after "://"); 0 when it has no "://". */
struct url_target {
	const char *host, *host_end, *rest;
	unsigned port;
};

static int url_target(const char *url, struct url_target *t)
{
	const char *sep = strstr(url, "://");
	if (!sep)
		return 0;
	t->host = sep + 3;
	if (*t->host == '[') {
		t->host_end = strchr(t->host, ']');
		t->host_end = t->host_end ? t->host_end + 1 : t->host + strlen(t->host);
	} else {
		t->host_end = t->host + strcspn(t->host, ":/?#");
	}
	t->port = strncasecmp(url, "https", 5) ? 80 : 443;
	t->rest = t->host_end;
	if (*t->rest == ':') {
		t->port = (unsigned)strtoul(t->rest + 1, NULL, 10);
		t->rest += 1 + strspn(t->rest + 1, "0123456789");
	}
	return 1;
}

int ssh_reach_url(struct ssh *s, const char *url, struct buf *out, struct buf *err)
{
	struct url_target t;
	if (!url_target(url, &t)) {
		buf_adds(out, url);
		return 0;
	}
	char *name = xstrndup(t.host, (size_t)(t.host_end - t.host));
	unsigned local;
	int rc = ssh_reach_port(s, name, t.port, &local, err);
	free(name);
	if (rc == 0)
		buf_adds(out, url);
	else if (rc > 0)
		buf_printf(out, "%.*s127.0.0.1:%u%s", (int)(t.host - url), url, local, t.rest);
	return rc < 0 ? -1 : 0;
}

void ssh_reach_urls(struct ssh *s, const char *const *urls, size_t n)
{
	master_keep(s);
	struct strvec extra = STRVEC_INIT;
	strvec_push(&extra, "-O");
	strvec_push(&extra, "forward");
	struct ssh_forward *wanted = xcalloc(n ? n : 1, sizeof(*wanted));
	size_t k = 0;
	struct buf ignored = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		struct url_target t;
		char *name = urls[i] && url_target(urls[i], &t)
				 ? loopback_name(t.host, (size_t)(t.host_end - t.host))
				 : NULL;
		if (!name)
			continue;
		unsigned local = forward_of(s, name, t.port) ? 0 : free_port(&ignored);
		int twice = 0;
		for (size_t m = 0; m < k; m++)
			twice =
			    twice || (wanted[m].port == t.port && !strcmp(wanted[m].host, name));
		if (!local || twice) {
			free(name);
			continue;
		}
		wanted[k++] = (struct ssh_forward){.host = name, .port = t.port, .local = local};
		struct buf spec = BUF_INIT;
		forward_spec(&spec, local, name, t.port);
		strvec_push(&extra, "-L");
		strvec_push_owned(&extra, buf_detach(&spec));
	}
	/* All at once, or none: a failure leaves each to ssh_forward. */
	int ok = k && control(s, (const char *const *)extra.v, &ignored) == 0;
	for (size_t m = 0; m < k; m++) {
		if (ok) {
			wanted[m].generation = s->master ? s->master->generation : 0;
			*ARRAY_PUSH(s->forwards, s->nforwards, s->cap_forwards) = wanted[m];
		} else {
			free(wanted[m].host);
		}
	}
	free(wanted);
	strvec_clear(&extra);
	buf_free(&ignored);
}

int ssh_alive(struct ssh *s)
{
	struct buf said = BUF_INIT;
	const char *const extra[] = {"-O", "check", NULL};
	int alive = s->master && control(s, extra, &said) == 0;
	buf_free(&said);
	return alive;
}

void ssh_cancel_forwards(struct ssh *s)
{
	struct strvec extra = STRVEC_INIT;
	strvec_push(&extra, "-O");
	strvec_push(&extra, "cancel");
	for (size_t i = 0; s->master && i < s->nforwards; i++) {
		const struct ssh_forward *f = &s->forwards[i];
		if (f->generation != s->master->generation)
			continue;
		struct buf spec = BUF_INIT;
		forward_spec(&spec, f->local, f->host, f->port);
		strvec_push(&extra, "-L");
		strvec_push_owned(&extra, buf_detach(&spec));
	}
	if (extra.n > 2) {
		struct buf ignored = BUF_INIT;
		control(s, (const char *const *)extra.v, &ignored);
		buf_free(&ignored);
	}
	strvec_clear(&extra);
	for (size_t i = 0; i < s->nforwards; i++)
		free(s->forwards[i].host);
	s->nforwards = 0;
}

void ssh_close(struct ssh *s)
{
	/* The master stays for others: the forwards this process added to it
	 * go. */
	ssh_cancel_forwards(s);
	free(s->forwards);
	if (s->master)
		free(s->master->known_hosts);
	free(s->master);
	strvec_clear(&s->common);
	free(s->user);
	free(s->host);
	free(s->shown);
	free(s->control);
	free(s->dir);
	memset(s, 0, sizeof(*s));
}
