/*
 * detach: see detach.h. The caller may have threads (libcurl's, run.h's
 * watchdog), so after fork(2) the children run only async-signal-safe
 * system calls until the program's exec, and the writer never leaves
 * them: everything they need (descriptors, the log's names, the
 * environment) is made before the fork.
 *
 * The processes: the caller forks P; P makes its session, forks W1, which
 * forks the writer W and exits (so W is no child of the program's, which
 * would never reap it, but is adopted like any orphan), and P then execs
 * the program: its pid is P's, which leads the session and the group that
 * W is in. A close-on-exec pipe tells the caller how P fared: nothing
 * before it closes (the exec happened), or the step that failed and its
 * errno.
 */
#include "detach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

/* How long P may take from the fork to its exec. */
#define START_MS 10000

/* ---- Async-signal-safe: the children's part ----------------------------- */

/* The log's names: PATH, PATH.1 .. PATH.keep. */
struct log_names {
	char **names;
	unsigned keep;
};

/* PATH.keep-1 to PATH.keep, ..., PATH to PATH.1: -1 (errno set) when the
 * log itself could not be renamed. */
static int rotate(const struct log_names *n)
{
	for (unsigned i = n->keep - 1; i >= 1; i--)
		rename(n->names[i], n->names[i + 1]);
	return rename(n->names[0], n->names[1]) == 0 || errno == ENOENT ? 0 : -1;
}

static void close_from(int lowest)
{
	if (close_range((unsigned)lowest, ~0U, 0) == 0)
		return;
	struct rlimit r;
	int top = getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < 65536 ? (int)r.rlim_cur : 65536;
	for (int fd = lowest; fd < top; fd++)
		close(fd);
}

/* Every signal as a fresh process has it: default actions, none blocked
 * (the caller's, such as an ignored SIGPIPE, are not the program's). */
static void set_signal(int s, void (*handler)(int))
{
	struct sigaction a;
	memset(&a, 0, sizeof(a));
	a.sa_handler = handler;
	sigaction(s, &a, NULL);
}

static void default_signals(void)
{
	for (int s = 1; s < NSIG; s++)
		set_signal(s, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

struct writer {
	int in, out;
	unsigned long long size, max;
	struct log_names names;
};

/* A new log after a rotation; where none can be had, the old one is
 * emptied instead, so that the cap holds whatever failed. */
static void writer_rotate(struct writer *w)
{
	int fd = -1;
	if (rotate(&w->names) == 0)
		fd = open(w->names.names[0], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd >= 0) {
		close(w->out);
		w->out = fd;
	} else {
		ftruncate(w->out, 0);
	}
	w->size = 0;
}

/* What fits of data before the cap: up to its last newline that fits, or
 * as much as fits when the log is empty (a line longer than the cap). */
static size_t fits(const struct writer *w, const char *data, size_t len)
{
	if (!w->max || w->size + len <= w->max)
		return len;
	size_t room = w->size < w->max ? (size_t)(w->max - w->size) : 0;
	size_t take = room;
	while (take > 0 && data[take - 1] != '\n')
		take--;
	return take || w->size ? take : room;
}

/* A write that fails (a full disk) drops the piece: the program goes on. */
static void writer_put(struct writer *w, const char *data, size_t len)
{
	while (len > 0) {
		size_t take = fits(w, data, len);
		if (!take) {
			writer_rotate(w);
			continue;
		}
		for (size_t at = 0; at < take;) {
			ssize_t n = write(w->out, data + at, take - at);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			at += (size_t)n;
			w->size += (unsigned long long)n;
		}
		data += take;
		len -= take;
	}
}

static void writer_main(struct writer *w)
{
	static char chunk[65536];
	prctl(PR_SET_NAME, "gitgate-log", 0, 0, 0);
	default_signals();
	set_signal(SIGTERM, SIG_IGN);
	set_signal(SIGINT, SIG_IGN);
	set_signal(SIGHUP, SIG_IGN);
	/* Its two descriptors, and none of the caller's (a lock, a push's pipe). */
	dup2(w->in, 0);
	dup2(w->out, 1);
	w->in = 0;
	w->out = 1;
	close_from(2);
	for (;;) {
		ssize_t n = read(w->in, chunk, sizeof(chunk));
		if (n == 0)
			_exit(0);
		if (n < 0 && errno != EINTR)
			_exit(1);
		if (n > 0)
			writer_put(w, chunk, (size_t)n);
	}
}

/* The parent's descriptors for P, all above 2 so that P's dup2s onto
 * 0..2 never overwrite one it still needs. */
struct fds {
	int null, out[2], status[2], log;
};

enum step { STEP_SESSION = 1, STEP_WRITER, STEP_CWD, STEP_EXEC };

static void fail(int status_fd, enum step step)
{
	int report[2] = {(int)step, errno};
	ssize_t ignored = write(status_fd, report, sizeof(report));
	(void)ignored;
	_exit(127);
}

static void child_main(struct fds *f, struct writer *w, const struct detach_options *o, char **envp)
{
	default_signals();
	if (setsid() < 0)
		fail(f->status[1], STEP_SESSION);
	pid_t w1 = fork();
	if (w1 == 0) {
		pid_t writer = fork();
		if (writer == 0)
			writer_main(w);
		_exit(writer < 0);
	}
	int status = 0;
	while (w1 > 0 && waitpid(w1, &status, 0) < 0 && errno == EINTR)
		;
	if (w1 < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		if (w1 > 0)
			errno = EAGAIN;
		fail(f->status[1], STEP_WRITER);
	}
	dup2(f->null, 0);
	dup2(f->out[1], 1);
	dup2(f->out[1], 2);
	/* The report's pipe becomes 3, the only one P keeps past 2. */
	if (f->status[1] != 3 && dup3(f->status[1], 3, O_CLOEXEC) < 0)
		fail(f->status[1], STEP_EXEC);
	int status_fd = 3;
	close_from(4);
	if (o->cwd && chdir(o->cwd) < 0)
		fail(status_fd, STEP_CWD);
	/* What posix_spawnp itself runs in its child: no allocation. */
	execvpe(o->argv[0], (char *const *)o->argv, envp);
	fail(status_fd, STEP_EXEC);
}

/* ---- The caller's part -------------------------------------------------- */

static void names_make(struct log_names *n, const struct detach_log *l)
{
	n->keep = l->keep ? l->keep : 1;
	n->names = xcalloc(n->keep + 2, sizeof(*n->names));
	n->names[0] = xstrdup(l->path);
	for (unsigned i = 1; i <= n->keep; i++) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "%s.%u", l->path, i);
		n->names[i] = buf_detach(&b);
	}
}

static void names_free(struct log_names *n)
{
	for (unsigned i = 0; n->names && i <= n->keep; i++)
		free(n->names[i]);
	free(n->names);
	n->names = NULL;
}

int detach_log_rotate_full(const struct detach_log *l, struct buf *err)
{
	struct stat st;
	if (!l->max_bytes || stat(l->path, &st) < 0 ||
	    (unsigned long long)st.st_size < l->max_bytes)
		return 0;
	struct log_names n;
	names_make(&n, l);
	int rc = rotate(&n);
	if (rc < 0)
		buf_printf(err, "cannot rotate the log %s: %s", l->path, strerror(errno));
	names_free(&n);
	return rc;
}

/* fd moved above 2 (close-on-exec), or -1 as it was. */
static int above_stdio(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return moved;
}

static void fds_close(struct fds *f)
{
	int *all[] = {&f->null, &f->out[0], &f->out[1], &f->status[0], &f->status[1], &f->log};
	for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++) {
		if (*all[i] >= 0)
			close(*all[i]);
		*all[i] = -1;
	}
}

static int fds_open(struct fds *f, const char *log, struct buf *err)
{
	*f = (struct fds){-1, {-1, -1}, {-1, -1}, -1};
	f->log = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (f->log < 0) {
		buf_printf(err, "cannot open the log %s: %s", log, strerror(errno));
		return -1;
	}
	f->null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (f->null < 0 || pipe2(f->out, O_CLOEXEC) < 0 || pipe2(f->status, O_CLOEXEC) < 0) {
		buf_printf(err, "cannot make the program's pipes: %s", strerror(errno));
		return -1;
	}
	int *all[] = {&f->null, &f->out[0], &f->out[1], &f->status[0], &f->status[1], &f->log};
	for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++)
		if ((*all[i] = above_stdio(*all[i])) < 0) {
			buf_printf(err, "cannot move a descriptor: %s", strerror(errno));
			return -1;
		}
	return 0;
}

/* What P said before its exec: 0 (nothing: the exec happened), 1 with
 * the step and errno, or -1 when it said nothing in time. */
static int read_report(int fd, int report[2])
{
	struct pollfd p = {fd, POLLIN, 0};
	int ready;
	while ((ready = poll(&p, 1, START_MS)) < 0 && errno == EINTR)
		;
	if (ready <= 0)
		return -1;
	ssize_t n;
	while ((n = read(fd, report, 2 * sizeof(int))) < 0 && errno == EINTR)
		;
	return n == (ssize_t)(2 * sizeof(int)) ? 1 : n == 0 ? 0 : -1;
}

static void describe(struct buf *err, const int report[2], const struct detach_options *o)
{
	const char *why = strerror(report[1]);
	switch (report[0]) {
	case STEP_SESSION:
		buf_printf(err, "cannot give %s a session of its own: %s", o->argv[0], why);
		break;
	case STEP_WRITER:
		buf_printf(err, "cannot start the log writer of %s: %s", o->argv[0], why);
		break;
	default:
		buf_printf(err, "cannot run %s%s%s: %s", o->argv[0], o->cwd ? " in " : "",
			   o->cwd ? o->cwd : "", why);
	}
}

/* Waits for P's report: 0 once it has exec'd the program, else -1 with
 * why in err, P killed (when it said nothing in time) and reaped. */
static int await_exec(pid_t pid, int status_fd, const struct detach_options *o, struct buf *err)
{
	int report[2] = {0, 0};
	int said = read_report(status_fd, report);
	if (said == 0)
		return 0;
	if (said < 0) {
		buf_printf(err, "%s did not start in %d ms", o->argv[0], START_MS);
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	} else {
		describe(err, report, o);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return -1;
}

int detach_start(pid_t *pid, const struct detach_options *o, struct buf *err)
{
	struct fds f;
	struct writer w = {.max = o->log.max_bytes};
	struct stat st;
	if (detach_log_rotate_full(&o->log, err) < 0)
		return -1;
	if (fds_open(&f, o->log.path, err) < 0) {
		fds_close(&f);
		return -1;
	}
	w.in = f.out[0];
	w.out = f.log;
	w.size = fstat(f.log, &st) == 0 ? (unsigned long long)st.st_size : 0;
	names_make(&w.names, &o->log);
	char **envp = run_environ(o->env, o->env_clear);
	*pid = fork();
	if (*pid == 0)
		child_main(&f, &w, o, envp);
	int fork_errno = errno;
	if (envp != environ)
		free(envp);
	names_free(&w.names);
	int status0 = f.status[0];
	f.status[0] = -1;
	fds_close(&f);
	int rc = -1;
	if (*pid < 0)
		buf_printf(err, "cannot start %s: %s", o->argv[0], strerror(fork_errno));
	else
		rc = await_exec(*pid, status0, o, err);
	close(status0);
	return rc;
}
