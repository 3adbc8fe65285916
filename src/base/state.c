/*
 * state: see state.h. Every descriptor is close-on-exec, and every write
 * is checked: state that may not have reached the disk is reported, never
 * assumed.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deadline.h"
#include "escape.h"

void state_dir_path(struct buf *out, const char *gitdir)
{
	size_t len = strlen(gitdir);
	while (len > 1 && gitdir[len - 1] == '/')
		len--;
	buf_clear(out);
	buf_add(out, gitdir, len);
	buf_adds(out, "/gitgate");
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p: each missing level of dir, made in turn. */
static int make_dirs(const char *dir, struct buf *err)
{
	if (is_dir(dir))
		return 0;
	char *path = xstrdup(dir);
	int rc = 0;
	for (char *p = path + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0775) < 0 && errno != EEXIST) {
			buf_printf(err, "cannot create the directory %s: %s", path,
				   strerror(errno));
			rc = -1;
			break;
		}
		*p = c;
		if (!c)
			break;
	}
	free(path);
	if (rc == 0 && !is_dir(dir)) {
		buf_printf(err, "cannot create the directory %s: something else is there", dir);
		rc = -1;
	}
	return rc;
}

/* The directory a file is in ("." for a bare name). */
static void parent_dir(struct buf *out, const char *path)
{
	const char *slash = strrchr(path, '/');
	buf_clear(out);
	if (!slash)
		buf_adds(out, ".");
	else
		buf_add(out, path, slash == path ? 1 : (size_t)(slash - path));
}

int state_make_parent(const char *path, struct buf *err)
{
	struct buf dir = BUF_INIT;
	parent_dir(&dir, path);
	int rc = make_dirs(dir.data, err);
	buf_free(&dir);
	return rc;
}

/* A new or renamed entry survives a crash only once its directory is
 * synced too. Returns 0, or -1 with errno set. */
static int sync_parent(const char *path)
{
	struct buf dir = BUF_INIT;
	parent_dir(&dir, path);
	int fd = open(dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	buf_free(&dir);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

#define BACKWARD_BLOCK 65536

/* The lines of data[0, *end) that end before it, the last first, to fn;
 * *end is left at the start of the first (whose start may be further back).
 * Returns 0 when fn said stop. */
static int lines_of_block(const char *data, size_t *end,
			  int (*fn)(const char *line, size_t len, void *arg), void *arg)
{
	for (size_t i = *end; i-- > 0;) {
		if (data[i] != '\n')
			continue;
		size_t len = *end - i - 1;
		*end = i;
		if (len && !fn(data + i + 1, len, arg))
			return 0;
	}
	return 1;
}

int state_lines_backward(const char *path, int (*fn)(const char *line, size_t len, void *arg),
			 void *arg, struct buf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		buf_printf(err, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	int rc = fstat(fd, &st) == 0 ? 0 : -1;
	/* data: the block read last, then the part of a line that went on
	 * past it (its start not read yet). */
	struct buf data = BUF_INIT, rest = BUF_INIT;
	off_t pos = rc == 0 ? st.st_size : 0;
	int more = 1;
	while (rc == 0 && more && pos > 0) {
		size_t n = pos < BACKWARD_BLOCK ? (size_t)pos : BACKWARD_BLOCK;
		pos -= (off_t)n;
		buf_clear(&data);
		buf_reserve(&data, n + rest.len);
		if (pread(fd, data.data, n, pos) != (ssize_t)n) {
			rc = -1;
			break;
		}
		data.len = n;
		buf_add(&data, rest.data, rest.len);
		size_t end = data.len;
		more = lines_of_block(data.data, &end, fn, arg);
		buf_clear(&rest);
		buf_add(&rest, data.data, end);
	}
	if (rc == 0 && more && rest.len)
		fn(rest.data, rest.len, arg);
	if (rc < 0)
		buf_printf(err, "cannot read %s: %s", path, errno ? strerror(errno) : "short read");
	buf_free(&data);
	buf_free(&rest);
	close(fd);
	return rc;
}

int state_write_all(int fd, const void *bytes, size_t len)
{
	const char *data = bytes;
	while (len) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int flock_retrying(int fd, int op)
{
	int rc;
	while ((rc = flock(fd, op)) < 0 && errno == EINTR)
		;
	return rc;
}

int state_append_jsonl(const char *path, const char *line, struct buf *err)
{
	size_t len = strlen(line);
	if (!len || memchr(line, '\n', len)) {
		buf_printf(err, "cannot append to %s: a record must be one line", path);
		return -1;
	}
	if (state_make_parent(path, err) < 0)
		return -1;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0664);
	if (fd < 0) {
		buf_printf(err, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat before;
	int rc = -1;
	if (flock_retrying(fd, LOCK_EX) < 0 || fstat(fd, &before) < 0) {
		buf_printf(err, "cannot lock %s: %s", path, strerror(errno));
		goto done;
	}
	struct buf record = BUF_INIT;
	buf_add(&record, line, len);
	buf_addc(&record, '\n');
	int failed = state_write_all(fd, record.data, record.len) < 0 || fsync(fd) < 0 ||
		     (before.st_size == 0 && sync_parent(path) < 0);
	buf_free(&record);
	if (failed) {
		int why = errno;
		/* Whole or nothing: no fragment stays for the next line to join. */
		int cut = ftruncate(fd, before.st_size);
		buf_printf(err, "cannot write %s: %s", path, strerror(why));
		if (cut < 0)
			buf_printf(err, "; and a partial line may remain (%s)", strerror(errno));
		goto done;
	}
	rc = 0;
done:
	close(fd);
	return rc;
}

int state_read_regular(const char *path, struct buf *out, int *found, struct buf *err)
{
	buf_clear(out);
	*found = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 0;
	struct stat st;
	const char *why = NULL;
	if (fd < 0 || fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	for (char chunk[8192]; !why;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			why = strerror(errno);
		else if (n == 0)
			break;
		else
			buf_add(out, chunk, (size_t)n);
	}
	if (fd >= 0)
		close(fd);
	if (why) {
		buf_clear(out);
		buf_printf(err, "cannot read %s: %s", path, why);
		return -1;
	}
	*found = 1;
	return 0;
}

int state_replace(const char *path, const void *data, size_t len, struct buf *err)
{
	if (state_make_parent(path, err) < 0)
		return -1;
	/* Same directory, so the rename cannot cross file systems; the thread
	 * id keeps concurrent writers apart, and a crashed one's leftover is
	 * simply overwritten by the next writer with its id. */
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp.%d", path, (int)gettid());
	int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0664);
	int rc = -1;
	if (fd < 0) {
		buf_printf(err, "cannot create %s: %s", tmp.data, strerror(errno));
		goto done;
	}
	int failed = state_write_all(fd, data, len) < 0 || fsync(fd) < 0;
	if (close(fd) < 0)
		failed = 1;
	if (failed || rename(tmp.data, path) < 0) {
		buf_printf(err, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp.data);
		goto done;
	}
	rc = sync_parent(path);
	if (rc < 0)
		buf_printf(err, "cannot sync the directory of %s: %s", path, strerror(errno));
done:
	buf_free(&tmp);
	return rc;
}

static void holder_format(struct buf *out, const struct state_holder *h)
{
	const char *user = h->user ? h->user : "", *revision = h->revision ? h->revision : "";
	buf_printf(out, "pid %d\nuser ", (int)h->pid);
	escape_bytes(out, user, strlen(user));
	buf_adds(out, "\nrevision ");
	escape_bytes(out, revision, strlen(revision));
	buf_printf(out, "\nsince %lld\n", (long long)h->since);
}

/* Reads what holder_format wrote; fields missing stay empty. */
static void holder_read(struct state_holder *out, int fd)
{
	struct buf text = BUF_INIT;
	char chunk[1024];
	ssize_t n;
	off_t at = 0;
	while ((n = pread(fd, chunk, sizeof(chunk), at)) > 0 && text.len < 65536) {
		buf_add(&text, chunk, (size_t)n);
		at += n;
	}
	for (const char *p = text.data ? text.data : ""; *p;) {
		size_t len = strcspn(p, "\n");
		const char *value = memchr(p, ' ', len);
		if (value) {
			size_t key = (size_t)(value - p), vlen = len - key - 1;
			value++;
			if (key == 3 && !strncmp(p, "pid", 3))
				out->pid = (pid_t)atoi(value);
			else if (key == 4 && !strncmp(p, "user", 4) && !out->user)
				out->user = xstrndup(value, vlen);
			else if (key == 8 && !strncmp(p, "revision", 8) && !out->revision)
				out->revision = xstrndup(value, vlen);
			else if (key == 5 && !strncmp(p, "since", 5))
				out->since = (time_t)strtoll(value, NULL, 10);
		}
		p += len + (p[len] == '\n');
	}
	buf_free(&text);
}

int state_lock(struct state_lock *out, const char *path, const struct state_holder *me,
	       unsigned wait_seconds, struct buf *err)
{
	out->fd = -1;
	if (state_make_parent(path, err) < 0)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0664);
	if (fd < 0) {
		buf_printf(err, "cannot open the lock %s: %s", path, strerror(errno));
		return -1;
	}
	/* flock has no timeout of its own: try ten times a second. */
	struct deadline give_up;
	deadline_start(&give_up, wait_seconds);
	while (flock_retrying(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			buf_printf(err, "cannot lock %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (!wait_seconds || deadline_passed(&give_up)) {
			struct state_holder holder = {0};
			holder_read(&holder, fd);
			buf_printf(err, "%s is held by ", path);
			state_holder_describe(err, &holder);
			if (wait_seconds)
				buf_printf(err, "; gave up after %u s", wait_seconds);
			state_holder_free(&holder);
			close(fd);
			return -1;
		}
		struct timespec tenth = {0, 100 * 1000 * 1000};
		nanosleep(&tenth, NULL);
	}
	struct buf text = BUF_INIT;
	holder_format(&text, me);
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
	    state_write_all(fd, text.data, text.len) < 0) {
		buf_printf(err, "cannot record the holder of %s: %s", path, strerror(errno));
		close(fd);
		buf_free(&text);
		return -1;
	}
	buf_free(&text);
	out->fd = fd;
	return 0;
}

void state_unlock(struct state_lock *lock)
{
	if (lock->fd < 0)
		return;
	/* An empty lock file names no holder. One left stale is harmless:
	 * readers believe the flock, not the text. Closing drops the flock. */
	int emptied = ftruncate(lock->fd, 0);
	(void)emptied;
	close(lock->fd);
	lock->fd = -1;
}

int state_lock_holder(struct state_holder *out, const char *path, struct buf *err)
{
	*out = (struct state_holder){0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		buf_printf(err, "cannot open the lock %s: %s", path, strerror(errno));
		return -1;
	}
	int held = flock_retrying(fd, LOCK_SH | LOCK_NB) < 0;
	if (held && errno != EWOULDBLOCK) {
		buf_printf(err, "cannot probe the lock %s: %s", path, strerror(errno));
		held = -1;
	} else if (held) {
		holder_read(out, fd);
	}
	close(fd);
	return held;
}

void state_holder_describe(struct buf *out, const struct state_holder *h)
{
	char since[32] = "?";
	struct tm tm;
	if (h->since && localtime_r(&h->since, &tm))
		strftime(since, sizeof(since), "%Y-%m-%d %H:%M", &tm);
	/* The file is gitgate's, but a terminal gets no byte of it raw. */
	const char *user = h->user && *h->user ? h->user : "?";
	const char *revision = h->revision && *h->revision ? h->revision : "?";
	escape_bytes(out, user, strlen(user));
	buf_adds(out, " (rev ");
	escape_bytes(out, revision, strlen(revision) < 12 ? strlen(revision) : 12);
	buf_printf(out, ", since %s, pid %d)", since, (int)h->pid);
}

void state_holder_free(struct state_holder *h)
{
	free(h->user);
	free(h->revision);
	h->user = h->revision = NULL;
}
