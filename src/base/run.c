/*
 * run: see run.h. Built on posix_spawnp, which clones vfork-like on glibc
 * (a hook that starts git pays for no page-table copy) and reports a failed
 * exec or chdir as its own error. Every descriptor the parent opens is
 * close-on-exec, so no child inherits another child's pipes, logs or locks.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* How often the drain of a masked log looks whether the child has gone. */
#define LOG_LOOK_MS 100

/* The watchdog of a child with a time limit: a thread that sleeps until
 * the limit, then signals the child's whole process group. */
struct run_watchdog {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pid_t group;
	struct deadline at; /* when to act next */
	unsigned grace_ms;
	int stop, terminated;
};

static void *watch(void *arg)
{
	struct run_watchdog *w = arg;
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		/* A zero grace is a zero time, long past: SIGKILL follows at once. */
		if (pthread_cond_timedwait(&w->wake, &w->lock, &w->at.at) != ETIMEDOUT)
			continue;
		if (w->terminated) {
			kill(-w->group, SIGKILL);
			break;
		}
		kill(-w->group, SIGTERM);
		w->terminated = 1;
		deadline_start_ms(&w->at, w->grace_ms);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static struct run_watchdog *watchdog_start(pid_t group, const struct deadline *at,
					   unsigned grace_ms)
{
	struct run_watchdog *w = xcalloc(1, sizeof(*w));
	w->group = group;
	w->at = *at;
	w->grace_ms = grace_ms;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&w->lock, NULL);
	if (pthread_create(&w->thread, NULL, watch, w) != 0) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

/* Called once the child has exited but before it is reaped, so its pid,
 * and with it the group id, cannot have been reused. Whatever of a timed-out
 * group is still there gets no more grace. Returns whether the limit hit. */
static int watchdog_stop(struct run_watchdog *w)
{
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	int fired = w->terminated;
	if (fired)
		kill(-w->group, SIGKILL);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return fired;
}

/* Waits for the child and reaps it. With a watchdog, the child is only
 * looked at until the watchdog has stopped (see watchdog_stop). */
static int reap(struct run_result *r, struct run_process *p, struct buf *err)
{
	if (p->watchdog) {
		siginfo_t info;
		while (waitid(P_PID, (id_t)p->pid, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR)
			;
		r->timed_out = watchdog_stop(p->watchdog);
		p->watchdog = NULL;
	}
	int status, waited;
	while ((waited = waitpid(p->pid, &status, 0)) < 0 && errno == EINTR)
		;
	pid_t pid = p->pid;
	p->pid = -1;
	if (waited < 0) {
		buf_printf(err, "cannot wait for process %d: %s", (int)pid, strerror(errno));
		return -1;
	}
	if (WIFSIGNALED(status)) {
		r->signal = WTERMSIG(status);
		r->code = 128 + r->signal;
	} else {
		r->code = WEXITSTATUS(status);
	}
	return 0;
}

/* The parent's ends of the child's descriptors, closed once it is started. */
struct child_ends {
	int fds[3];
	size_t n;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int open_or_fail(const char *path, int flags, const char *what, struct buf *err)
{
	int fd = open(path, flags | O_CLOEXEC, 0666);
	if (fd < 0)
		buf_printf(err, "cannot open %s %s: %s", what, path, strerror(errno));
	return fd;
}

static int pipe_or_fail(int fds[2], struct buf *err)
{
	if (pipe2(fds, O_CLOEXEC) == 0)
		return 0;
	buf_printf(err, "cannot make a pipe: %s", strerror(errno));
	return -1;
}

static int setup_input(posix_spawn_file_actions_t *fa, const struct run_input *in,
		       struct run_process *p, struct child_ends *ends, struct buf *err)
{
	int fds[2], fd;
	switch (in->kind) {
	case RUN_IN_NULL:
		posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
		return 0;
	case RUN_IN_BUFFER:
		if (pipe_or_fail(fds, err) < 0)
			return -1;
		fcntl(fds[1], F_SETFL, O_NONBLOCK);
		p->in_fd = fds[1];
		p->in_data = in->data;
		p->in_len = in->len;
		fd = fds[0];
		break;
	case RUN_IN_FILE:
		if ((fd = open_or_fail(in->path, O_RDONLY, "the input file", err)) < 0)
			return -1;
		break;
	case RUN_IN_FD:
		posix_spawn_file_actions_adddup2(fa, in->fd, STDIN_FILENO);
		return 0;
	default:
		buf_printf(err, "unknown input kind %d", (int)in->kind);
		return -1;
	}
	ends->fds[ends->n++] = fd;
	posix_spawn_file_actions_adddup2(fa, fd, STDIN_FILENO);
	return 0;
}

static int setup_output(posix_spawn_file_actions_t *fa, int target, const struct run_output *o,
			int *parent_end, struct child_ends *ends, struct buf *err)
{
	int fds[2], fd;
	switch (o->kind) {
	case RUN_OUT_INHERIT:
		return 0;
	case RUN_OUT_DISCARD:
		posix_spawn_file_actions_addopen(fa, target, "/dev/null", O_WRONLY, 0);
		return 0;
	case RUN_OUT_CAPTURE:
	case RUN_OUT_PIPE:
		if (pipe_or_fail(fds, err) < 0)
			return -1;
		*parent_end = fds[0];
		fd = fds[1];
		break;
	case RUN_OUT_APPEND:
		fd = open_or_fail(o->path, O_WRONLY | O_APPEND | O_CREAT, "the log", err);
		if (fd < 0)
			return -1;
		break;
	default:
		buf_printf(err, "unknown output kind %d", (int)o->kind);
		return -1;
	}
	ends->fds[ends->n++] = fd;
	posix_spawn_file_actions_adddup2(fa, fd, target);
	return 0;
}

static int is_masked_log(const struct run_output *o)
{
	return o->kind == RUN_OUT_APPEND && o->mask;
}

/* A masked log: target is the child's end of a pipe; the parent's end and
 * the file, opened now, are pump's. */
static int setup_masked_log(posix_spawn_file_actions_t *fa, int target, const struct run_output *o,
			    struct run_process *p, struct child_ends *ends, struct buf *err)
{
	int fds[2];
	if (p->log_fd >= 0) {
		buf_adds(err, "cannot mask two logs at once");
		return -1;
	}
	mask_stream_init(&p->log_mask, o->mask);
	p->log_path = o->path;
	p->log_file = open_or_fail(o->path, O_WRONLY | O_APPEND | O_CREAT, "the log", err);
	if (p->log_file < 0 || pipe_or_fail(fds, err) < 0)
		return -1;
	/* Once the child has gone, what is waiting is read without blocking. */
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	p->log_fd = fds[0];
	ends->fds[ends->n++] = fds[1];
	posix_spawn_file_actions_adddup2(fa, fds[1], target);
	return 0;
}

static int same_masked_log(const struct run_output *a, const struct run_output *b)
{
	return is_masked_log(a) && is_masked_log(b) && a->mask == b->mask &&
	       !strcmp(a->path, b->path);
}

static int setup_outputs(posix_spawn_file_actions_t *fa, const struct run_options *o,
			 struct run_process *p, struct child_ends *ends, struct buf *err)
{
	int rc = is_masked_log(&o->out)
		     ? setup_masked_log(fa, STDOUT_FILENO, &o->out, p, ends, err)
		     : setup_output(fa, STDOUT_FILENO, &o->out, &p->out_fd, ends, err);
	if (rc < 0)
		return -1;
	if (same_masked_log(&o->out, &o->err)) {
		posix_spawn_file_actions_adddup2(fa, STDOUT_FILENO, STDERR_FILENO);
		return 0;
	}
	return is_masked_log(&o->err)
		   ? setup_masked_log(fa, STDERR_FILENO, &o->err, p, ends, err)
		   : setup_output(fa, STDERR_FILENO, &o->err, &p->err_fd, ends, err);
}

static void log_write(struct run_process *p, const struct buf *b)
{
	for (size_t at = 0; at < b->len && !p->log_errno;) {
		ssize_t n = write(p->log_file, b->data + at, b->len - at);
		if (n > 0)
			at += (size_t)n;
		else if (errno != EINTR)
			p->log_errno = errno;
	}
}

/* The rest of a masked log into its file, and both its ends closed. */
static void log_finish(struct run_process *p)
{
	if (p->log_fd < 0 && p->log_file < 0)
		return;
	struct buf rest = BUF_INIT;
	mask_stream_end(&p->log_mask, &rest);
	if (p->log_file >= 0)
		log_write(p, &rest);
	buf_free(&rest);
	close_fd(&p->log_fd);
	close_fd(&p->log_file);
}

static size_t name_length(const char *entry)
{
	return strcspn(entry, "=");
}

static int is_overridden(const char *const *env, const char *entry)
{
	size_t len = name_length(entry);
	for (; *env; env++)
		if (name_length(*env) == len && !strncmp(*env, entry, len))
			return 1;
	return 0;
}

/* environ itself when nothing changes (no copy on the hot path), else a
 * new array of pointers into the same strings. */
char **run_environ(const char *const *changes, int env_clear)
{
	if (!changes && !env_clear)
		return environ;
	static const char *const none[] = {NULL};
	const char *const *env = changes ? changes : none;
	size_t n = 0, cap = 0;
	char **out = NULL;
	for (char **e = environ; !env_clear && *e; e++)
		if (!is_overridden(env, *e))
			*ARRAY_PUSH(out, n, cap) = *e;
	for (; *env; env++)
		if ((*env)[name_length(*env)] == '=')
			*ARRAY_PUSH(out, n, cap) = (char *)*env;
	*ARRAY_PUSH(out, n, cap) = NULL;
	return out;
}

/* A child that was started but cannot be looked after is killed (its group
 * too, when it has one) and reaped. */
static int abandon(struct run_process *p, int group, const char *why, struct buf *err)
{
	buf_printf(err, "%s: %s", why, strerror(errno));
	close_fd(&p->in_fd);
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
	log_finish(p);
	kill(group ? -p->pid : p->pid, SIGKILL);
	struct run_result ignored;
	reap(&ignored, p, err);
	return -1;
}

/* posix_spawnp of o's argv with fa's descriptors, in a process group of
 * its own when it has a limit. Returns 0 with p->pid, or -1 with why. */
static int spawn(struct run_process *p, const struct run_options *o, posix_spawn_file_actions_t *fa,
		 struct buf *err)
{
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	if (o->limit_ms) {
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
		posix_spawnattr_setpgroup(&attr, 0);
	}
	char **envp = run_environ(o->env, o->env_clear);
	int spawn_rc = posix_spawnp(&p->pid, o->argv[0], fa, &attr, (char *const *)o->argv, envp);
	posix_spawnattr_destroy(&attr);
	if (envp != environ)
		free(envp);
	if (!spawn_rc)
		return 0;
	p->pid = -1;
	buf_printf(err, "cannot run %s%s%s: %s", o->argv[0], o->cwd ? " in " : "",
		   o->cwd ? o->cwd : "", strerror(spawn_rc));
	return -1;
}

/* After the spawn: the watchdog over the limit, and stdout as a stream
 * when it is piped. Returns 0, or -1 (the process abandoned, why in err). */
static int started(struct run_process *p, const struct run_options *o, const struct deadline *limit,
		   struct buf *err)
{
	p->out_buf = o->out.kind == RUN_OUT_CAPTURE ? o->out.buf : NULL;
	p->err_buf = o->err.kind == RUN_OUT_CAPTURE ? o->err.buf : NULL;
	if (o->limit_ms) {
		p->watchdog = watchdog_start(p->pid, limit, o->grace_ms);
		if (!p->watchdog)
			return abandon(p, 1, "cannot start a watchdog thread", err);
	}
	if (o->out.kind == RUN_OUT_PIPE) {
		p->out = fdopen(p->out_fd, "r");
		if (!p->out)
			return abandon(p, o->limit_ms != 0, "cannot read from a pipe", err);
		p->out_fd = -1;
	}
	return 0;
}

int run_start(struct run_process *p, const struct run_options *o, struct buf *err)
{
	*p = (struct run_process){
	    .pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1, .log_fd = -1, .log_file = -1};
	if (o->err.kind == RUN_OUT_PIPE ||
	    (o->out.kind == RUN_OUT_PIPE &&
	     (o->in.kind == RUN_IN_BUFFER || o->err.kind == RUN_OUT_CAPTURE ||
	      is_masked_log(&o->err)))) {
		buf_printf(err, "cannot run %s: only stdout can be piped, and then alone",
			   o->argv[0]);
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	struct child_ends ends = {.n = 0};
	int rc = -1;
	if (setup_input(&fa, &o->in, p, &ends, err) == 0 &&
	    setup_outputs(&fa, o, p, &ends, err) == 0) {
		if (o->cwd)
			posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
		/* gitgate's own descriptors are close-on-exec; this closes what it
		 * was given without the flag (a hook's pipes from git, a
		 * terminal's), so an app a deploy starts holds no push open. */
		posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
		struct deadline limit;
		deadline_start_ms(&limit, o->limit_ms);
		/* Past the limit and its grace, pipes that something outside the
		 * group holds open are no longer drained. */
		deadline_start_ms(&p->give_up, o->limit_ms ? o->limit_ms + o->grace_ms + 1000 : 0);
		rc = spawn(p, o, &fa, err) == 0 ? started(p, o, &limit, err) : -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	for (size_t i = 0; i < ends.n; i++)
		close(ends.fds[i]);
	if (rc < 0) {
		close_fd(&p->in_fd);
		close_fd(&p->out_fd);
		close_fd(&p->err_fd);
		log_finish(p);
	}
	return rc;
}

/* A write to a child that stopped reading must fail with EPIPE, not kill
 * the caller: SIGPIPE is blocked in this thread while feeding, and one it
 * raised is taken back before the mask is restored. */
static void feed(struct run_process *p)
{
	ssize_t n = write(p->in_fd, p->in_data, p->in_len);
	if (n > 0) {
		p->in_data += n;
		p->in_len -= (size_t)n;
	}
	if ((n < 0 && errno != EAGAIN && errno != EINTR) || p->in_len == 0) {
		if (n < 0 && errno == EPIPE) {
			sigset_t pipe_only;
			sigemptyset(&pipe_only);
			sigaddset(&pipe_only, SIGPIPE);
			struct timespec zero = {0, 0};
			sigtimedwait(&pipe_only, NULL, &zero);
		}
		close_fd(&p->in_fd);
	}
}

/* Reads what the masked log's pipe has into its file, masked. */
static ssize_t drain_log(struct run_process *p)
{
	char chunk[65536];
	ssize_t n = read(p->log_fd, chunk, sizeof(chunk));
	if (n > 0) {
		struct buf masked = BUF_INIT;
		mask_stream_add(&p->log_mask, chunk, (size_t)n, &masked);
		log_write(p, &masked);
		buf_free(&masked);
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		log_finish(p);
	}
	return n;
}

/* Has the child exited? It is left to reap. */
static int child_gone(const struct run_process *p)
{
	siginfo_t info;
	memset(&info, 0, sizeof(info));
	if (waitid(P_PID, (id_t)p->pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno != EINTR;
	return info.si_pid != 0;
}

static void drain(int *fd, struct buf *into)
{
	char chunk[65536];
	ssize_t n = read(*fd, chunk, sizeof(chunk));
	if (n > 0)
		buf_add(into, chunk, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		close_fd(fd);
}

/* Feeds stdin and drains the captured outputs together, so that a child
 * blocked writing never waits on a parent blocked writing. */
static int pump(struct run_process *p, struct buf *err)
{
	if (p->in_fd >= 0 && p->in_len == 0)
		close_fd(&p->in_fd);
	if (p->in_fd < 0 && p->out_fd < 0 && p->err_fd < 0 && p->log_fd < 0)
		return 0;
	sigset_t pipe_only, old;
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
	int rc = 0;
	while (p->in_fd >= 0 || p->out_fd >= 0 || p->err_fd >= 0 || p->log_fd >= 0) {
		struct pollfd fds[4] = {{p->in_fd, POLLOUT, 0},
					{p->out_fd, POLLIN, 0},
					{p->err_fd, POLLIN, 0},
					{p->log_fd, POLLIN, 0}};
		int timeout = deadline_left_ms(&p->give_up);
		if (p->log_fd >= 0 && (timeout < 0 || timeout > LOG_LOOK_MS))
			timeout = LOG_LOOK_MS;
		int ready = poll(fds, 4, timeout);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0) {
			buf_printf(err, "cannot wait for the child's output: %s", strerror(errno));
			rc = -1;
			break;
		}
		if (ready == 0 && deadline_passed(&p->give_up))
			break;
		if (fds[0].revents)
			feed(p);
		if (fds[1].revents)
			drain(&p->out_fd, p->out_buf);
		if (fds[2].revents)
			drain(&p->err_fd, p->err_buf);
		if (fds[3].revents)
			drain_log(p);
		/* What a process the child left behind writes later is not
		 * waited for. */
		if (p->log_fd >= 0 && child_gone(p)) {
			while (p->log_fd >= 0 && drain_log(p) > 0)
				;
			log_finish(p);
		}
	}
	close_fd(&p->in_fd);
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
	log_finish(p);
	if (p->log_errno) {
		buf_printf(err, "cannot write the log %s: %s", p->log_path, strerror(p->log_errno));
		rc = -1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int run_finish(struct run_result *r, struct run_process *p, struct buf *err)
{
	*r = (struct run_result){0};
	if (p->out) {
		fclose(p->out);
		p->out = NULL;
	}
	int rc = pump(p, err);
	if (p->pid <= 0) {
		buf_adds(err, "no child to wait for");
		return -1;
	}
	if (reap(r, p, err) < 0)
		return -1;
	return rc;
}

int run(struct run_result *out, const struct run_options *opts, struct buf *err)
{
	struct run_process p;
	if (run_start(&p, opts, err) < 0)
		return -1;
	return run_finish(out, &p, err);
}

int run_capture(struct run_result *result, struct buf *out, const char *const argv[],
		enum run_output_kind errors, struct buf *err)
{
	struct run_options opts = {
	    .argv = argv, .out = {.kind = RUN_OUT_CAPTURE, .buf = out}, .err = {.kind = errors}};
	return run(result, &opts, err);
}

int run_finish_ok(struct run_process *p, struct buf *why)
{
	struct run_result r;
	struct buf err = BUF_INIT;
	int rc = run_finish(&r, p, &err);
	if (rc < 0) {
		buf_printf(why, "failed (%s)", err.data);
	} else if (r.code) {
		run_describe(why, &r);
		rc = -1;
	}
	buf_free(&err);
	return rc;
}

void run_describe(struct buf *out, const struct run_result *r)
{
	if (r->timed_out)
		buf_adds(out, "was stopped at its time limit");
	else if (r->signal)
		buf_printf(out, "was killed by signal %d (%s)", r->signal, strsignal(r->signal));
	else
		buf_printf(out, "exited with %d", r->code);
}
