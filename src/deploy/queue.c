/*
 * queue: see queue.h.
 */
#include "queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "state.h"

static void job_path(struct buf *out, const char *state_dir, const char *id)
{
	buf_printf(out, "%s/queue/%s.json", state_dir, id);
}

/* The start time of pid, 0 when there is no such process. */
static unsigned long long process_start_time(pid_t pid)
{
	struct proc_info p;
	return proc_read(pid, &p) == 0 ? p.start : 0;
}

static json_t *strings_json(char **items, size_t n)
{
	json_t *array = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(array, json_string(items[i]));
	return array;
}

/* What a pusher gave (name, phrase, reason), kept byte for byte: a JSON
 * string when it is UTF-8, else {"hex": "..."} (JSON holds no other
 * bytes), so a job is always queued and its deploy gets the bytes given.
 * NULL for none. */
static json_t *given_text(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	if (j || !s)
		return j;
	struct buf hex = BUF_INIT;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		buf_printf(&hex, "%02x", *p);
	j = json_pack("{s:s}", "hex", hex.data);
	buf_free(&hex);
	return j;
}

/* given_text's bytes again, or NULL. */
static char *given_dup(json_t *value)
{
	if (json_is_string(value))
		return xstrdup(json_string_value(value));
	const char *hex = json_string_value(json_object_get(value, "hex"));
	if (!hex)
		return NULL;
	size_t n = strlen(hex) / 2;
	char *out = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned byte;
		out[i] = sscanf(hex + 2 * i, "%2x", &byte) == 1 && byte ? (char)byte : '?';
	}
	out[n] = '\0';
	return out;
}

static json_t *job_json(const struct job *job)
{
	return json_pack(
	    "{s:s, s:s, s:o, s:s, s:o?, s:s?, s:o?, s:o?, s:b, s:o?, s:o?, s:I, s:I, "
	    "s:i, s:I, s:b}",
	    "id", job->id, "unit", job->unit, "environments",
	    strings_json(job->environments, job->nenvironments), "revision", job->revision, "user",
	    given_text(job->user), "user_source", job->user_source, "phrase",
	    given_text(job->phrase), "emergency", given_text(job->emergency), "detach", job->detach,
	    "ask", given_text(job->ask), "repository", given_text(job->repository), "queued",
	    (json_int_t)job->queued, "seq", (json_int_t)job->seq, "worker", (int)job->worker,
	    "worker_start", (json_int_t)job->worker_start, "ask_ref", job->ask_ref);
}

static char *dup_or_null(json_t *value)
{
	return json_is_string(value) ? xstrdup(json_string_value(value)) : NULL;
}

static int job_from_json(struct job *job, json_t *j)
{
	memset(job, 0, sizeof(*job));
	json_t *envs = json_object_get(j, "environments");
	if (!json_is_string(json_object_get(j, "id")) ||
	    !json_is_string(json_object_get(j, "unit")) ||
	    !json_is_string(json_object_get(j, "revision")) || !json_is_array(envs))
		return -1;
	job->id = dup_or_null(json_object_get(j, "id"));
	job->unit = dup_or_null(json_object_get(j, "unit"));
	job->revision = dup_or_null(json_object_get(j, "revision"));
	job->user = given_dup(json_object_get(j, "user"));
	job->user_source = dup_or_null(json_object_get(j, "user_source"));
	job->phrase = given_dup(json_object_get(j, "phrase"));
	job->emergency = given_dup(json_object_get(j, "emergency"));
	job->detach = json_is_true(json_object_get(j, "detach"));
	job->ask = given_dup(json_object_get(j, "ask"));
	job->repository = given_dup(json_object_get(j, "repository"));
	job->ask_ref = json_is_true(json_object_get(j, "ask_ref"));
	job->queued = (time_t)json_integer_value(json_object_get(j, "queued"));
	job->seq = (unsigned long long)json_integer_value(json_object_get(j, "seq"));
	job->worker = (pid_t)json_integer_value(json_object_get(j, "worker"));
	job->worker_start =
	    (unsigned long long)json_integer_value(json_object_get(j, "worker_start"));
	job->environments = xcalloc(json_array_size(envs) + 1, sizeof(char *));
	for (size_t i = 0; i < json_array_size(envs); i++)
		if (json_is_string(json_array_get(envs, i)))
			job->environments[job->nenvironments++] =
			    xstrdup(json_string_value(json_array_get(envs, i)));
	return 0;
}

static int job_write(const char *state_dir, const struct job *job, struct buf *err)
{
	struct buf path = BUF_INIT;
	job_path(&path, state_dir, job->id);
	json_t *j = job_json(job);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int rc = text ? state_replace(path.data, text, strlen(text), err) : -1;
	if (!text)
		buf_printf(err, "cannot serialise job %s", job->id);
	free(text);
	json_decref(j);
	buf_free(&path);
	return rc;
}

int queue_get(struct job *job, const char *state_dir, const char *id)
{
	struct buf path = BUF_INIT;
	job_path(&path, state_dir, id);
	json_t *j = json_load_file(path.data, 0, NULL);
	int rc = j ? job_from_json(job, j) : -1;
	json_decref(j);
	buf_free(&path);
	return rc < 0 ? 0 : 1;
}

/* The next number of STATE_DIR/queue/.seq, under its lock: two post-receives
 * queueing in the same second still get two numbers, in the order they
 * took them. Returns 0, or -1 (err). */
static int next_seq(unsigned long long *out, const char *state_dir, struct buf *err)
{
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/queue", state_dir);
	if (mkdir(path.data, 0775) < 0 && errno != EEXIST) {
		buf_printf(err, "cannot make %s: %s", path.data, strerror(errno));
		buf_free(&path);
		return -1;
	}
	buf_adds(&path, "/.seq");
	int fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0664);
	char text[32] = "";
	ssize_t got = -1;
	if (fd >= 0 && flock(fd, LOCK_EX) == 0)
		got = pread(fd, text, sizeof(text) - 1, 0);
	int rc = -1;
	if (got >= 0) {
		text[got] = '\0';
		*out = strtoull(text, NULL, 10) + 1;
		int len = snprintf(text, sizeof(text), "%llu\n", *out);
		rc = pwrite(fd, text, (size_t)len, 0) == len && ftruncate(fd, len) == 0 ? 0 : -1;
	}
	if (rc < 0)
		buf_printf(err, "cannot take a number from %s: %s", path.data, strerror(errno));
	if (fd >= 0)
		close(fd); /* and the lock with it */
	buf_free(&path);
	return rc;
}

int queue_add(const char *state_dir, const struct job *job, struct buf *err)
{
	struct job numbered = *job;
	return next_seq(&numbered.seq, state_dir, err) == 0 ? job_write(state_dir, &numbered, err)
							    : -1;
}

int queue_claim(const char *state_dir, struct job *job, struct buf *err)
{
	job->worker = getpid();
	job->worker_start = process_start_time(job->worker);
	return job_write(state_dir, job, err);
}

int queue_remove(const char *state_dir, const char *id, struct buf *err)
{
	struct buf path = BUF_INIT;
	job_path(&path, state_dir, id);
	int rc = unlink(path.data) == 0 || errno == ENOENT ? 0 : -1;
	if (rc < 0)
		buf_printf(err, "cannot remove %s: %s", path.data, strerror(errno));
	buf_free(&path);
	return rc;
}

/* A worker killed with -9 stays a zombie until its parent reaps it: the
 * post-receive that started it is still following the job, or an init
 * that does not reap (a container's) has it. Its stat still shows the
 * same start time, so a zombie counts as gone. */
int queue_job_orphaned(const struct job *job)
{
	return job->worker > 0 && !proc_alive(job->worker, job->worker_start);
}

/* In the order they were queued: by number, then (a job from before the
 * numbers) by id. */
static int by_seq(const void *a, const void *b)
{
	const struct job *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The job file at path, read without blocking on what is not a regular
 * file (a FIFO would hang the worker). Returns the JSON, or NULL with why. */
static json_t *job_file_load(const char *path, struct buf *why)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	json_t *j = NULL;
	json_error_t error;
	if (fd < 0)
		buf_printf(why, "%s", strerror(errno));
	else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		buf_adds(why, "not a regular file");
	else if (st.st_size > QUEUE_JOB_MAX)
		buf_printf(why, "larger than %d bytes", QUEUE_JOB_MAX);
	else if (!(j = json_loadfd(fd, 0, &error)))
		buf_adds(why, error.text);
	if (fd >= 0)
		close(fd);
	return j;
}

/* A file of the queue that is not a job goes to queue/bad/, out of the
 * worker's way, and is said in notes. */
static void quarantine(const char *dir, const char *name, const char *why, struct buf *notes)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	buf_printf(&from, "%s/%s", dir, name);
	buf_printf(&to, "%s/bad", dir);
	mkdir(to.data, 0775);
	buf_printf(&to, "/%s", name);
	int moved = rename(from.data, to.data) == 0;
	if (notes)
		buf_printf(notes, "the queued job %s is not a job (%s): %s%s\n", from.data, why,
			   moved ? "moved to " : "skipped; it cannot be moved to ", to.data);
	buf_free(&from);
	buf_free(&to);
}

int queue_list(struct job **jobs, size_t *n, const char *state_dir, struct buf *notes,
	       struct buf *err)
{
	struct buf dir_path = BUF_INIT, path = BUF_INIT;
	size_t cap = 0;
	*jobs = NULL;
	*n = 0;
	buf_printf(&dir_path, "%s/queue", state_dir);
	DIR *dir = opendir(dir_path.data);
	int rc = 0;
	if (!dir && errno != ENOENT) {
		buf_printf(err, "cannot read %s: %s", dir_path.data, strerror(errno));
		rc = -1;
	}
	struct dirent *entry;
	while (dir && rc == 0 && (entry = readdir(dir))) {
		size_t len = strlen(entry->d_name);
		if (len < 6 || strcmp(entry->d_name + len - 5, ".json") || entry->d_name[0] == '.')
			continue;
		buf_clear(&path);
		buf_printf(&path, "%s/%s", dir_path.data, entry->d_name);
		struct buf why = BUF_INIT;
		json_t *j = job_file_load(path.data, &why);
		struct job *job = ARRAY_PUSH(*jobs, *n, cap);
		memset(job, 0, sizeof(*job));
		if (!j || job_from_json(job, j) < 0) {
			quarantine(dir_path.data, entry->d_name, j ? "not a job" : why.data, notes);
			queue_job_free(job);
			(*n)--;
		}
		json_decref(j);
		buf_free(&why);
	}
	if (dir)
		closedir(dir);
	if (rc == 0) {
		if (*n)
			qsort(*jobs, *n, sizeof(**jobs), by_seq);
	} else {
		queue_jobs_free(*jobs, *n);
		*jobs = NULL;
		*n = 0;
	}
	buf_free(&dir_path);
	buf_free(&path);
	return rc;
}

ssize_t queue_newer_of_unit(const struct job *jobs, size_t n, size_t i)
{
	for (size_t k = n; k-- > i + 1;)
		if (!strcmp(jobs[k].unit, jobs[i].unit) || !strcmp(jobs[k].unit, "all"))
			return (ssize_t)k;
	return -1;
}

void queue_job_free(struct job *job)
{
	free(job->id);
	free(job->unit);
	for (size_t e = 0; e < job->nenvironments; e++)
		free(job->environments[e]);
	free(job->environments);
	free(job->revision);
	free(job->user);
	free(job->user_source);
	free(job->phrase);
	free(job->emergency);
	free(job->ask);
	free(job->repository);
	memset(job, 0, sizeof(*job));
}

void queue_jobs_free(struct job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		queue_job_free(&jobs[i]);
	free(jobs);
}
