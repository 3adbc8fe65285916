/* slot and switch: a real HTTP server supervised in a slot and stopped
 * with everything it started, the state file along the way, stale and
 * reused pids, the user's own start/stop commands, and the three switch
 * kinds, nginx through an nginx of the test's own (never the system's).
 * Everything listens on 127.0.0.1; every wait is bounded; whatever a test
 * started is killed by pid in .fini, failed test or not. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "proc.h"
#include "helpers.h"
#include "run.h"
#include "slot.h"
#include "switch.h"

static char *tmp;
static struct slot_target target;
static char *root, *state;
/* Process groups this test started, and nginx's pid file. */
static pid_t groups[8];
static size_t n_groups;
static char *nginx_pid_file;

static char *path_in(const char *name)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s/%s", tmp, name);
	return buf_detach(&b);
}

/* A folder standing for a release: index.html says which. */
static char *make_release(const char *name, const char *says)
{
	char *dir = path_in(name);
	cr_assert_eq(mkdir(dir, 0755), 0);
	struct buf index = BUF_INIT;
	buf_printf(&index, "%s/index.html", dir);
	FILE *f = fopen(index.data, "w");
	cr_assert_not_null(f);
	fputs(says, f);
	fclose(f);
	buf_free(&index);
	return dir;
}

/* A port nobody listens on now (the kernel's choice of a free one). */
static unsigned free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void setup(void)
{
	tmp = xstrdup("/tmp/gitgate-slot-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	chmod(tmp, 0755); /* nginx's workers run as nobody */
	root = path_in("app");
	state = path_in("state");
	target = (struct slot_target){.root = root,
				      .state_dir = state,
				      .ports = {free_port(), free_port()},
				      .limit_ms = 10000,
				      .grace_ms = 2000,
				      .host = host_local_open(NULL)};
}

static int alive(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	struct buf text = BUF_INIT;
	int there = buf_read_file(&text, path) == 0;
	const char *end = there ? strrchr(text.data, ')') : NULL;
	there = end && end[2] != 'Z' && end[2] != 'X';
	buf_free(&text);
	return there;
}

/* Is slot c's app running, as gitgate asks (-1: it cannot say). */
static int running(enum slot_color c, struct buf *err)
{
	int is = 0;
	return slot_running(&target, c, &is, err) < 0 ? -1 : is;
}

/* The pid in slot c's pid file. */
static pid_t app_pid(enum slot_color c)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	buf_printf(&path, "%s/%s.pid", state, slot_name(c));
	pid_t pid = buf_read_file(&text, path.data) == 0 ? (pid_t)atoi(text.data) : 0;
	buf_free(&path);
	buf_free(&text);
	return pid;
}

static void teardown(void)
{
	if (!tmp)
		return;
	struct buf pid = BUF_INIT;
	if (nginx_pid_file && buf_read_file(&pid, nginx_pid_file) == 0 && atoi(pid.data) > 1) {
		/* nginx's fast shutdown takes its workers along; its group
		 * gets SIGKILL if it is still there after a while. */
		pid_t master = atoi(pid.data);
		kill(master, SIGTERM);
		for (int i = 0; i < 200 && alive(master); i++)
			usleep(10000);
		if (alive(master))
			kill(-master, SIGKILL);
	}
	buf_free(&pid);
	/* Only a leader still there vouches that its number is still its
	 * group's. */
	for (size_t i = 0; i < n_groups; i++)
		if (alive(groups[i]))
			kill(-groups[i], SIGKILL);
	for (size_t i = 0; i < n_groups; i++)
		waitpid(groups[i], NULL, WNOHANG);
	n_groups = 0;
	remove_tree(tmp);
	free(nginx_pid_file);
	nginx_pid_file = NULL;
	free(root);
	free(state);
	free(tmp);
	tmp = root = state = NULL;
	host_close(target.host);
	target.host = NULL;
}

TestSuite(slot, .init = setup, .fini = teardown, .timeout = 90);

/* ---- HTTP on 127.0.0.1 -------------------------------------------------- */

static int connect_to(unsigned port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval limit = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	close(fd);
	return -1;
}

/* Waits up to 15 s for something to listen on port. */
static void wait_listening(unsigned port)
{
	for (int i = 0; i < 1500; i++) {
		int fd = connect_to(port);
		if (fd >= 0) {
			close(fd);
			return;
		}
		usleep(10000);
	}
	cr_assert_fail("nothing listens on 127.0.0.1:%u", port);
}

/* GET /index.html: the body, or "" when nothing answered. */
static char *get(unsigned port)
{
	struct buf answer = BUF_INIT;
	int fd = connect_to(port);
	if (fd >= 0) {
		const char req[] = "GET /index.html HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
		if (write(fd, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1) {
			char chunk[4096];
			ssize_t n;
			while ((n = read(fd, chunk, sizeof(chunk))) > 0)
				buf_add(&answer, chunk, (size_t)n);
		}
		close(fd);
	}
	const char *body = answer.data ? strstr(answer.data, "\r\n\r\n") : NULL;
	char *out = xstrdup(body ? body + 4 : "");
	buf_free(&answer);
	return out;
}

static void assert_serves(unsigned port, const char *want)
{
	char *body = get(port);
	cr_assert_str_eq(body, want, "127.0.0.1:%u", port);
	free(body);
}

/* ---- slots -------------------------------------------------------------- */

static json_t *load_state(void)
{
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/slots.json", state);
	json_error_t je;
	json_t *j = json_load_file(path.data, 0, &je);
	cr_assert_not_null(j, "%s: %s", path.data, je.text);
	buf_free(&path);
	return j;
}

static const char *state_string(json_t *j, const char *slot, const char *key)
{
	json_t *o = slot ? json_object_get(j, slot) : j;
	return json_string_value(json_object_get(o, key));
}

static void must(int rc, struct buf *err)
{
	cr_assert_eq(rc, 0, "%s", err->data);
	buf_clear(err);
}

static void remember(pid_t pid)
{
	groups[n_groups++] = pid;
}

/* Starts a python HTTP server in slot c, serving its release; the shell
 * before it leaves a child behind, in the group, whose pid goes to
 * CHILD_PID. */
static pid_t start_server(enum slot_color c, const char *child_pid_file)
{
	struct buf port = BUF_INIT, child = BUF_INIT, err = BUF_INIT;
	buf_printf(&port, "PORT=%u", target.ports[c]);
	buf_printf(&child, "CHILD_PID=%s", child_pid_file);
	const char *env[] = {port.data, child.data, NULL};
	const char *argv[] = {"sh", "-c",
			      "sleep 300 & echo $! >\"$CHILD_PID\"; "
			      "exec python3 -m http.server --bind 127.0.0.1 \"$PORT\"",
			      NULL};
	struct slot_command cmd = {.argv = argv, .env = env};
	must(slot_start(&target, c, &cmd, &err), &err);
	pid_t pid;
	cr_assert_eq(running(c, &err), 1, "%s", err.data);
	pid = app_pid(c);
	remember(pid);
	wait_listening(target.ports[c]);
	buf_free(&port);
	buf_free(&child);
	buf_free(&err);
	return pid;
}

/* The pid a shell wrote to path, waiting up to 10 s for the whole line. */
static pid_t read_pid(const char *path)
{
	struct buf text = BUF_INIT;
	for (int i = 0; i < 1000; i++) {
		buf_clear(&text);
		if (buf_read_file(&text, path) == 0 && strchr(text.data, '\n'))
			break;
		usleep(10000);
	}
	pid_t pid = text.data ? atoi(text.data) : 0;
	buf_free(&text);
	cr_assert_gt(pid, 1, "%s", path);
	return pid;
}

static void assign(enum slot_color c, const char *release_dir, const char *id)
{
	struct buf err = BUF_INIT;
	struct host_release r = {.root = target.root, .dir = release_dir, .id = id};
	struct buf where = BUF_INIT, said = BUF_INIT;
	must(slot_assign(&target, c, &r, 1, "0123456789abcdef0123456789abcdef01234567", &where,
			 &said, &err),
	     &err);
	cr_assert_str_eq(where.data, release_dir);
	buf_free(&where);
	buf_free(&said);
	buf_free(&err);
}

Test(slot, a_supervised_server_starts_answers_and_stops_with_its_children)
{
	char *release = make_release("r1", "blue release\n"), *child_file = path_in("child.pid");
	assign(SLOT_BLUE, release, "r1");
	pid_t pid = start_server(SLOT_BLUE, child_file);
	pid_t child = read_pid(child_file);
	assert_serves(target.ports[SLOT_BLUE], "blue release\n");

	/* its own session and group, apart from the test's */
	cr_assert_eq(getpgid(pid), pid);
	cr_assert_eq(getsid(pid), pid);
	cr_assert_eq(getpgid(child), pid);

	json_t *j = load_state();
	cr_assert(json_is_null(json_object_get(j, "live")));
	cr_assert_str_eq(state_string(j, "blue", "release"), "r1");
	cr_assert(json_is_true(json_object_get(json_object_get(j, "blue"), "running")));
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "blue"), "port")),
		     target.ports[SLOT_BLUE]);
	cr_assert(json_is_null(json_object_get(j, "green")));
	json_decref(j);

	struct buf err = BUF_INIT;
	cr_assert_eq(slot_start(&target, SLOT_BLUE, &(struct slot_command){0}, &err), -1);
	cr_assert_not_null(strstr(err.data, "already running"), "%s", err.data);
	buf_clear(&err);

	must(slot_set_live(&target, SLOT_BLUE, &err), &err);
	j = load_state();
	cr_assert_str_eq(state_string(j, NULL, "live"), "blue");
	cr_assert_not_null(state_string(j, NULL, "switched"));
	json_decref(j);

	must(slot_stop(&target, SLOT_BLUE, &err), &err);
	cr_assert(!alive(pid), "the server is gone");
	cr_assert(!alive(child), "and the child it had");
	cr_assert_eq(running(SLOT_BLUE, &err), 0);
	j = load_state();
	cr_assert(json_is_false(json_object_get(json_object_get(j, "blue"), "running")));
	cr_assert_str_eq(state_string(j, NULL, "live"), "blue");
	json_decref(j);
	struct buf pid_file = BUF_INIT;
	buf_printf(&pid_file, "%s/blue.pid", state);
	cr_assert_eq(access(pid_file.data, F_OK), -1, "the pid file goes");
	/* stopping what is not running is no error */
	must(slot_stop(&target, SLOT_BLUE, &err), &err);
	buf_free(&pid_file);
	buf_free(&err);
	free(release);
	free(child_file);
}

Test(slot, a_group_that_ignores_sigterm_gets_sigkill_after_the_grace)
{
	char *release = make_release("r1", "x"), *ready = path_in("ready");
	assign(SLOT_GREEN, release, "r1");
	target.grace_ms = 300;
	struct buf ready_env = BUF_INIT;
	buf_printf(&ready_env, "READY=%s", ready);
	const char *env[] = {ready_env.data, NULL};
	const char *argv[] = {"sh", "-c", "trap '' TERM; sleep 300 & echo $! >\"$READY\"; wait",
			      NULL};
	struct slot_command cmd = {.argv = argv, .env = env};
	struct buf err = BUF_INIT;
	must(slot_start(&target, SLOT_GREEN, &cmd, &err), &err);
	pid_t pid;
	cr_assert_eq(running(SLOT_GREEN, &err), 1);
	pid = app_pid(SLOT_GREEN);
	remember(pid);
	pid_t child = read_pid(ready); /* written once the trap is set */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	must(slot_stop(&target, SLOT_GREEN, &err), &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_assert(!alive(pid));
	cr_assert(!alive(child));
	cr_assert_geq(ms, 300, "SIGKILL came after the grace: %ld ms", ms);
	cr_assert_lt(ms, 5000);
	buf_free(&ready_env);
	buf_free(&err);
	free(release);
	free(ready);
}

static void write_pid_file(pid_t pid, unsigned long long start)
{
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/blue.pid", state);
	mkdir(state, 0755);
	FILE *f = fopen(path.data, "w");
	cr_assert_not_null(f);
	fprintf(f, "%d %llu\n", (int)pid, start);
	fclose(f);
	buf_free(&path);
}

Test(slot, a_stale_or_reused_pid_is_not_running_and_never_signalled)
{
	/* a process that has gone */
	pid_t gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	write_pid_file(gone, 12345);
	struct buf err = BUF_INIT;
	cr_assert_eq(running(SLOT_BLUE, &err), 0, "%s", err.data);
	must(slot_stop(&target, SLOT_BLUE, &err), &err);

	/* a pid that is another process's now: this test's own, with a start
	 * time that is not its own */
	write_pid_file(getpid(), 1);
	cr_assert_eq(running(SLOT_BLUE, &err), 0, "%s", err.data);
	must(slot_stop(&target, SLOT_BLUE, &err), &err);
	cr_assert(alive(getpid()), "still here");

	write_pid_file(0, 0);
	cr_assert_eq(running(SLOT_BLUE, &err), -1);
	cr_assert_not_null(strstr(err.data, "not a pid file"), "%s", err.data);
	buf_free(&err);
}

Test(slot, an_app_that_cannot_start_is_reported)
{
	char *release = make_release("r1", "x");
	assign(SLOT_BLUE, release, "r1");
	const char *argv[] = {"gitgate-no-such-app", NULL};
	struct slot_command cmd = {.argv = argv};
	struct buf err = BUF_INIT;
	cr_assert_eq(slot_start(&target, SLOT_BLUE, &cmd, &err), -1);
	cr_assert_not_null(strstr(err.data, "cannot run gitgate-no-such-app in "), "%s", err.data);
	cr_assert_not_null(strstr(err.data, "No such file"), "%s", err.data);
	cr_assert_eq(running(SLOT_BLUE, &err), 0);
	buf_free(&err);
	free(release);
}

/* The processes of group pgid that are not zombies; *writer: the one
 * called gitgate-log, or 0. */
static int group_members(pid_t pgid, pid_t *writer)
{
	DIR *d = opendir("/proc");
	cr_assert_not_null(d);
	struct dirent *e;
	int n = 0;
	*writer = 0;
	while ((e = readdir(d))) {
		struct proc_info p;
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid <= 0 || proc_read(pid, &p) < 0 || p.pgrp != pgid || p.state == 'Z')
			continue;
		n++;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		struct buf comm = BUF_INIT;
		if (buf_read_file(&comm, path) == 0 && !strcmp(comm.data, "gitgate-log\n"))
			*writer = pid;
		buf_free(&comm);
	}
	closedir(d);
	return n;
}

static char *state_text(const char *name)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	buf_printf(&path, "%s/%s", state, name);
	if (buf_read_file(&text, path.data) < 0)
		buf_clear(&text);
	buf_free(&path);
	return buf_detach(&text);
}

/* Every line of text is "line NNNNNN" and 64 bytes long, one after the
 * other from first; returns the number after the last. */
static int assert_lines(const char *text, int first, const char *file)
{
	int want = first;
	for (const char *at = text; *at; want++) {
		const char *end = strchr(at, '\n');
		cr_assert_not_null(end, "%s: a line cut short at line %d", file, want);
		int got = -1;
		cr_assert_eq(sscanf(at, "line %d", &got), 1, "%s: %.20s", file, at);
		cr_assert_eq(got, want, "%s: line %d where %d was due", file, got, want);
		cr_assert_eq(end - at + 1, 64, "%s: line %d is whole", file, got);
		at = end + 1;
	}
	return want;
}

Test(slot, the_app_log_is_capped_rotated_and_its_writer_stops_with_the_app)
{
	char *release = make_release("r1", "x"), *ready = path_in("ready");
	assign(SLOT_BLUE, release, "r1");
	target.log_max_bytes = 65536;
	target.log_keep = 1;
	/* A descriptor gitgate was given without close-on-exec (a push's pipe
	 * from git): neither the app nor its log writer may hold it. */
	int held[2];
	cr_assert_eq(pipe(held), 0);
	struct buf ready_env = BUF_INIT;
	buf_printf(&ready_env, "READY=%s", ready);
	const char *env[] = {ready_env.data, NULL};
	/* 3 x 64 KiB of numbered 64-byte lines, then it waits; on SIGTERM it
	 * says goodbye. */
	const char *argv[] = {"sh", "-c",
			      "trap 'echo bye; exit 0' TERM; i=0; while [ $i -lt 3072 ]; do "
			      "printf 'line %06d %051d\\n' $i 0; i=$((i + 1)); done; "
			      "sleep 300 & echo $! >\"$READY\"; wait",
			      NULL};
	struct slot_command cmd = {.argv = argv, .env = env};
	struct buf err = BUF_INIT;
	must(slot_start(&target, SLOT_BLUE, &cmd, &err), &err);
	close(held[1]);
	pid_t pid;
	cr_assert_eq(running(SLOT_BLUE, &err), 1);
	pid = app_pid(SLOT_BLUE);
	remember(pid);
	pid_t child = read_pid(ready);
	struct pollfd eof = {held[0], POLLIN, 0};
	cr_assert_eq(poll(&eof, 1, 5000), 1, "someone still holds the test's pipe");
	char byte;
	cr_assert_eq(read(held[0], &byte, 1), 0, "the pipe has no writer left");
	close(held[0]);

	/* The writer is in the app's group and session, apart from the test's. */
	pid_t writer;
	cr_assert_eq(group_members(pid, &writer), 3, "sh, sleep and the writer");
	cr_assert_gt(writer, 1);
	cr_assert_eq(getsid(writer), pid);

	char *log = NULL, *old = NULL;
	for (int i = 0; i < 1000; i++) {
		free(log);
		log = state_text("blue.log");
		if (strstr(log, "line 003071 "))
			break;
		usleep(10000);
	}
	old = state_text("blue.log.1");
	cr_assert_leq(strlen(log), 65536, "blue.log: %zu bytes", strlen(log));
	cr_assert_leq(strlen(old), 65536, "blue.log.1: %zu bytes", strlen(old));
	cr_assert_gt(strlen(old), 0);
	int next = assert_lines(old, (int)(3072 - (strlen(old) + strlen(log)) / 64), "blue.log.1");
	cr_assert_eq(assert_lines(log, next, "blue.log"), 3072, "the newest lines are in blue.log");
	struct buf second = BUF_INIT;
	buf_printf(&second, "%s/blue.log.2", state);
	cr_assert_eq(access(second.data, F_OK), -1, "keep 1: no blue.log.2");

	must(slot_stop(&target, SLOT_BLUE, &err), &err);
	cr_assert(!alive(pid), "the app is gone");
	cr_assert(!alive(child), "its child too");
	cr_assert(!alive(writer), "and its log writer");
	cr_assert_eq(group_members(pid, &writer), 0);
	free(log);
	log = state_text("blue.log");
	size_t len = strlen(log);
	cr_assert(len >= 4 && !strcmp(log + len - 4, "bye\n"), "the app's last words are logged");
	buf_free(&second);
	buf_free(&ready_env);
	buf_free(&err);
	free(log);
	free(old);
	free(release);
	free(ready);
}

Test(slot, a_full_log_is_rotated_before_the_users_own_command)
{
	char *release = make_release("r1", "x");
	assign(SLOT_GREEN, release, "r1");
	target.log_max_bytes = 65536;
	target.log_keep = 2;
	mkdir(state, 0755);
	struct buf path = BUF_INIT, old = BUF_INIT, err = BUF_INIT;
	for (int i = 0; i < 1024; i++)
		buf_printf(&old, "old %059d\n", i);
	buf_printf(&path, "%s/green.log", state);
	FILE *f = fopen(path.data, "w");
	cr_assert_not_null(f);
	fwrite(old.data, 1, old.len, f);
	fclose(f);
	const char *start[] = {"sh", "-c", "echo started", NULL};
	struct slot_command cmd = {.argv = start};
	must(slot_start_command(&target, SLOT_GREEN, &cmd, &err), &err);
	char *now = state_text("green.log"), *before = state_text("green.log.1");
	cr_assert_str_eq(now, "started\n");
	cr_assert_str_eq(before, old.data, "the full log became green.log.1");
	free(now);
	free(before);
	/* Under the cap: appended to. */
	must(slot_start_command(&target, SLOT_GREEN, &cmd, &err), &err);
	now = state_text("green.log");
	cr_assert_str_eq(now, "started\nstarted\n");
	free(now);
	buf_free(&path);
	buf_free(&old);
	buf_free(&err);
	free(release);
}

Test(slot, the_users_start_and_stop_commands_run_in_the_slot_with_a_limit)
{
	char *release = make_release("r1", "x");
	assign(SLOT_GREEN, release, "r1");
	const char *start[] = {"sh", "-c", "pwd -P; echo started on $PORT", NULL};
	const char *env[] = {"PORT=8001", NULL};
	struct slot_command cmd = {.argv = start, .env = env};
	struct buf err = BUF_INIT;
	must(slot_start_command(&target, SLOT_GREEN, &cmd, &err), &err);
	json_t *j = load_state();
	cr_assert(json_is_true(json_object_get(json_object_get(j, "green"), "running")));
	json_decref(j);
	struct buf log = BUF_INIT, want = BUF_INIT;
	buf_printf(&log, "%s/green.log", state);
	struct buf text = BUF_INIT;
	cr_assert_eq(buf_read_file(&text, log.data), 0);
	buf_printf(&want, "%s\nstarted on 8001\n", release);
	cr_assert_str_eq(text.data, want.data);

	const char *failing[] = {"sh", "-c", "exit 3", NULL};
	cmd.argv = failing;
	cr_assert_eq(slot_stop_command(&target, SLOT_GREEN, &cmd, &err), -1);
	cr_assert_not_null(strstr(err.data, "exited with 3"), "%s", err.data);
	buf_clear(&err);
	j = load_state();
	cr_assert(json_is_true(json_object_get(json_object_get(j, "green"), "running")),
		  "a stop that failed leaves it running");
	json_decref(j);

	const char *slow[] = {"sleep", "30", NULL};
	cmd.argv = slow;
	target.limit_ms = 200;
	cr_assert_eq(slot_stop_command(&target, SLOT_GREEN, &cmd, &err), -1);
	cr_assert_not_null(strstr(err.data, "time limit"), "%s", err.data);
	buf_free(&log);
	buf_free(&want);
	buf_free(&text);
	buf_free(&err);
	free(release);
}

Test(slot, a_release_goes_to_a_slot_by_an_atomic_symlink_never_to_the_live_one)
{
	char *r1 = make_release("r1", "1"), *r2 = make_release("r2", "2");
	assign(SLOT_BLUE, r1, "r1");
	struct buf dir = BUF_INIT, err = BUF_INIT;
	slot_dir(&dir, &target, SLOT_BLUE);
	char link[4096];
	ssize_t n = readlink(dir.data, link, sizeof(link) - 1);
	cr_assert_gt(n, 0);
	link[n] = '\0';
	cr_assert_str_eq(link, r1);
	must(slot_set_live(&target, SLOT_BLUE, &err), &err);
	struct host_release again = {.root = target.root, .dir = r2, .id = "r2"};
	struct buf where = BUF_INIT, said = BUF_INIT;
	cr_assert_eq(slot_assign(&target, SLOT_BLUE, &again, 1, "abc", &where, &said, &err), -1);
	buf_free(&where);
	buf_free(&said);
	cr_assert_not_null(strstr(err.data, "live"), "%s", err.data);
	buf_clear(&err);
	assign(SLOT_GREEN, r2, "r2");
	struct slot_state st;
	must(slot_state_load(&st, &target, &err), &err);
	cr_assert_eq(st.live, SLOT_BLUE);
	cr_assert_str_eq(st.slots[SLOT_BLUE].release, "r1");
	cr_assert_str_eq(st.slots[SLOT_GREEN].release, "r2");
	cr_assert_gt(st.slots[SLOT_GREEN].since, 0);
	slot_state_free(&st);
	buf_free(&dir);
	buf_free(&err);
	free(r1);
	free(r2);
}

/* A first deploy into a root whose folder does not exist yet: the folder is
 * made, as Capistrano makes a deploy_to, not an error about a temp name. */
Test(slot, a_slot_link_makes_the_folders_its_root_needs)
{
	char *r1 = make_release("r1", "1"), *link = path_in("srv/nested/argo-staging-blue");
	struct buf err = BUF_INIT;
	must(slot_symlink(link, r1, &err), &err);
	char to[4096];
	ssize_t n = readlink(link, to, sizeof(to) - 1);
	cr_assert_gt(n, 0);
	to[n] = '\0';
	cr_assert_str_eq(to, r1);
	buf_free(&err);
	free(r1);
	free(link);
}

/* ---- switch ------------------------------------------------------------- */

Test(slot, switch_link_swaps_a_symlink_and_leaves_a_real_folder_alone)
{
	char *current = path_in("current"), *folder = path_in("folder");
	struct buf blue = BUF_INIT, green = BUF_INIT, err = BUF_INIT;
	slot_dir(&blue, &target, SLOT_BLUE);
	slot_dir(&green, &target, SLOT_GREEN);
	char link[4096];
	must(switch_link(target.host, current, blue.data, &err), &err);
	ssize_t n = readlink(current, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	cr_assert_str_eq(link, blue.data);
	must(switch_link(target.host, current, green.data, &err), &err);
	n = readlink(current, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	cr_assert_str_eq(link, green.data);
	cr_assert_eq(mkdir(folder, 0755), 0);
	cr_assert_eq(switch_link(target.host, folder, green.data, &err), -1);
	cr_assert_not_null(strstr(err.data, "not a symlink"), "%s", err.data);
	struct stat st;
	cr_assert_eq(lstat(folder, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	buf_free(&blue);
	buf_free(&green);
	buf_free(&err);
	free(current);
	free(folder);
}

Test(slot, switch_command_runs_with_a_limit_and_says_why_it_failed)
{
	struct buf err = BUF_INIT;
	const char *ok[] = {"sh", "-c", "test \"$SLOT\" = green", NULL};
	const char *env[] = {"SLOT=green", NULL};
	must(switch_command(target.host, ok, env, 5000, &err), &err);
	const char *failing[] = {"sh", "-c", "echo one; echo two >&2; exit 4", NULL};
	cr_assert_eq(switch_command(target.host, failing, NULL, 5000, &err), -1);
	cr_assert_not_null(strstr(err.data, "exited with 4:\none\ntwo"), "%s", err.data);
	buf_clear(&err);
	const char *slow[] = {"sleep", "30", NULL};
	cr_assert_eq(switch_command(target.host, slow, NULL, 200, &err), -1);
	cr_assert_not_null(strstr(err.data, "time limit"), "%s", err.data);
	buf_free(&err);
}

/* nginx is a test dependency (install.sh --test installs it). Where it is
 * missing the nginx test says so and is skipped, in ctest's output too. */
static const char *nginx_binary(void)
{
	static const char *const places[] = {"/usr/sbin/nginx", "/usr/local/sbin/nginx",
					     "/usr/bin/nginx"};
	for (size_t i = 0; i < sizeof(places) / sizeof(*places); i++)
		if (access(places[i], X_OK) == 0)
			return places[i];
	return NULL;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* A suite of its own, which ctest runs as a test of its own, so that a
 * skip shows there as one. */
TestSuite(switch_nginx, .init = setup, .fini = teardown, .timeout = 90);

Test(switch_nginx, moves_the_traffic_and_a_failed_check_keeps_the_old)
{
	const char *nginx = nginx_binary();
	if (!nginx) {
		fprintf(stderr, "switch_nginx: SKIPPED: nginx is not installed "
				"(./install.sh --test installs it)\n");
		teardown(); /* Criterion runs no .fini after a skip */
		cr_skip_test("nginx is not installed (./install.sh --test installs it)");
	}
	char *r1 = make_release("r1", "blue\n"), *r2 = make_release("r2", "green\n");
	char *c1 = path_in("c1.pid"), *c2 = path_in("c2.pid");
	assign(SLOT_BLUE, r1, "r1");
	assign(SLOT_GREEN, r2, "r2");
	start_server(SLOT_BLUE, c1);
	start_server(SLOT_GREEN, c2);

	char *prefix = path_in("nginx"), *conf = path_in("nginx/nginx.conf");
	char *upstream = path_in("nginx/app.upstream"), *log = path_in("nginx/error.log");
	nginx_pid_file = path_in("nginx/nginx.pid");
	cr_assert_eq(mkdir(prefix, 0755), 0);
	unsigned port = free_port();
	struct buf text = BUF_INIT;
	buf_printf(&text,
		   "daemon on;\npid %s;\nerror_log %s;\nworker_processes 1;\n"
		   "events { worker_connections 64; }\n"
		   "http {\n  access_log off;\n"
		   "  client_body_temp_path %s/body;\n  proxy_temp_path %s/proxy;\n"
		   "  fastcgi_temp_path %s/fastcgi;\n  uwsgi_temp_path %s/uwsgi;\n"
		   "  scgi_temp_path %s/scgi;\n"
		   "  upstream app {\n    include %s;\n  }\n"
		   "  server {\n    listen 127.0.0.1:%u;\n"
		   "    location / { proxy_pass http://app; }\n  }\n}\n",
		   nginx_pid_file, log, prefix, prefix, prefix, prefix, prefix, upstream, port);
	write_file(conf, text.data);
	buf_clear(&text);
	buf_printf(&text, "server 127.0.0.1:%u;\n", target.ports[SLOT_BLUE]);
	write_file(upstream, text.data);

	const char *argv[] = {nginx, "-p", prefix, "-c", conf, "-e", log, NULL};
	struct run_options opts = {
	    .argv = argv, .err = {.kind = RUN_OUT_CAPTURE, .buf = &text}, .limit_ms = 10000};
	struct run_result r;
	struct buf err = BUF_INIT;
	buf_clear(&text);
	must(run(&r, &opts, &err), &err);
	cr_assert_eq(r.code, 0, "nginx: %s", text.data);
	wait_listening(port);
	assert_serves(port, "blue\n");

	struct switch_nginx sw = {.host = target.host,
				  .file = upstream,
				  .nginx = argv,
				  .pid_file = nginx_pid_file,
				  .limit_ms = 10000};
	must(switch_nginx(&sw, target.ports[SLOT_GREEN], &err), &err);
	/* at once: the switch returned only once nginx had the new workers */
	assert_serves(port, "green\n");
	assert_serves(port, "green\n");
	buf_clear(&text);
	cr_assert_eq(buf_read_file(&text, upstream), 0);
	struct buf want = BUF_INIT;
	buf_printf(&want,
		   "# gitgate: the live slot of this target; rewritten at each switch\n"
		   "server 127.0.0.1:%u;\n",
		   target.ports[SLOT_GREEN]);
	cr_assert_str_eq(text.data, want.data);

	/* a configuration that nginx -t refuses: the old file stays, and so
	 * does the traffic */
	FILE *f = fopen(conf, "a");
	cr_assert_not_null(f);
	fputs("gitgate_no_such_directive on;\n", f);
	fclose(f);
	cr_assert_eq(switch_nginx(&sw, target.ports[SLOT_BLUE], &err), -1);
	cr_assert_not_null(strstr(err.data, "-t exited with 1"), "%s", err.data);
	cr_assert_not_null(strstr(err.data, "gitgate_no_such_directive"), "%s", err.data);
	cr_assert_not_null(strstr(err.data, "is as it was"), "%s", err.data);
	buf_clear(&err);
	buf_clear(&text);
	cr_assert_eq(buf_read_file(&text, upstream), 0);
	cr_assert_str_eq(text.data, want.data);
	assert_serves(port, "green\n");

	cr_assert_eq(switch_nginx(&sw, 0, &err), -1);
	cr_assert_not_null(strstr(err.data, "not a port"), "%s", err.data);

	buf_free(&want);
	buf_free(&text);
	buf_free(&err);
	free(prefix);
	free(conf);
	free(upstream);
	free(log);
	free(r1);
	free(r2);
	free(c1);
	free(c2);
}
