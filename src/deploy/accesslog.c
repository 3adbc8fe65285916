/*
 * accesslog: see accesslog.h.
 *
 * A follower reads with pread from the byte after the last one it took, so
 * nothing but its position and one unended line is ever held. Which file
 * it reads is told by device and inode: a path that names another one now
 * was rotated; a file shorter than the position was truncated. A match that
 * PCRE2 cannot finish (its match limit) counts as a match: a check that
 * cannot tell fails, never passes.
 */
#include "accesslog.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK 16384

/* ---- Following a file --------------------------------------------------- */

static void follow_init(struct logfollow *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(path);
	f->fd = -1;
}

/* Opens the file now at f->path (none there: f->fd stays -1) and takes its
 * identity. Returns 0, or -1 with why in err. */
static int follow_open_file(struct logfollow *f, struct stat *st, struct buf *err)
{
	/* Non-blocking: a FIFO put there must not hang the check. */
	int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 0;
	const char *why = fd < 0 || fstat(fd, st) < 0 ? strerror(errno)
			  : !S_ISREG(st->st_mode)     ? "not a regular file"
						      : NULL;
	if (why) {
		buf_printf(err, "cannot read the log %s: %s", f->path, why);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	f->fd = fd;
	f->pos.dev = (unsigned long long)st->st_dev;
	f->pos.ino = (unsigned long long)st->st_ino;
	return 0;
}

static void follow_start_at(struct logfollow *f, unsigned long long offset)
{
	f->pos.offset = f->read_to = offset;
	buf_clear(&f->partial);
	f->cut = 0;
}

int logfollow_open_end(struct logfollow *f, const char *path, struct buf *err)
{
	struct stat st;
	follow_init(f, path);
	if (follow_open_file(f, &st, err) < 0)
		return -1;
	follow_start_at(f, f->fd < 0 ? 0 : (unsigned long long)st.st_size);
	return 0;
}

int logfollow_open_at(struct logfollow *f, const char *path, const struct logpos *pos,
		      struct buf *err)
{
	struct stat st;
	follow_init(f, path);
	if (follow_open_file(f, &st, err) < 0)
		return -1;
	int same = f->fd >= 0 && f->pos.dev == pos->dev && f->pos.ino == pos->ino;
	if (same && (unsigned long long)st.st_size < pos->offset)
		f->truncations++;
	else if (f->fd >= 0 && !same)
		f->rotations++;
	follow_start_at(f, same && (unsigned long long)st.st_size >= pos->offset ? pos->offset : 0);
	return 0;
}

/* Hands the unended line to line() and starts the next one. */
static void line_end(struct logfollow *f, logfollow_line_fn line, void *arg)
{
	size_t len = f->partial.len;
	if (!f->cut && len && f->partial.data[len - 1] == '\r')
		len--;
	line(arg, f->partial.data ? f->partial.data : "", len);
	buf_clear(&f->partial);
	f->cut = 0;
}

long logfollow_feed(struct logfollow *f, const char *data, size_t len, logfollow_line_fn line,
		    void *arg)
{
	long n = 0;
	for (const char *p = data, *end = data + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t take = (size_t)((nl ? nl : end) - p),
		       room = LOGFOLLOW_LINE_MAX - f->partial.len;
		if (!f->cut)
			buf_add(&f->partial, p, take < room ? take : room);
		f->cut |= take > room;
		f->read_to += take + (nl != NULL);
		p += take;
		if (nl) {
			line_end(f, line, arg);
			n++;
			p++;
			f->pos.offset = f->read_to;
		}
	}
	return n;
}

/* Reads the open file from read_to to its end. */
static long follow_drain(struct logfollow *f, logfollow_line_fn line, void *arg, struct buf *err)
{
	char chunk[READ_CHUNK];
	long n = 0;
	for (;;) {
		ssize_t got = pread(f->fd, chunk, sizeof(chunk), (off_t)f->read_to);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			buf_printf(err, "cannot read the log %s: %s", f->path, strerror(errno));
			return -1;
		}
		if (got == 0)
			return n;
		n += logfollow_feed(f, chunk, (size_t)got, line, arg);
	}
}

/* The path names another file than the one read: the old one's unended
 * last line is a line (counted in *lines), and the new one is read from its
 * start. Returns 1 when it switched, 0 when not, -1 with why in err. */
static int follow_rotated(struct logfollow *f, logfollow_line_fn line, void *arg, long *lines,
			  struct buf *err)
{
	struct stat now;
	if (stat(f->path, &now) < 0 || ((unsigned long long)now.st_dev == f->pos.dev &&
					(unsigned long long)now.st_ino == f->pos.ino))
		return 0; /* the same file, or none yet where the old one was */
	if (f->partial.len || f->cut) {
		line_end(f, line, arg);
		(*lines)++;
	}
	close(f->fd);
	f->fd = -1;
	if (follow_open_file(f, &now, err) < 0)
		return -1;
	f->rotations++;
	follow_start_at(f, 0);
	return 1;
}

long logfollow_read(struct logfollow *f, logfollow_line_fn line, void *arg, struct buf *err)
{
	struct stat st;
	if (f->fd < 0) {
		if (follow_open_file(f, &st, err) < 0)
			return -1;
		if (f->fd < 0)
			return 0;
		follow_start_at(f, 0); /* it appeared since: all of it is new */
	}
	if (fstat(f->fd, &st) == 0 && (unsigned long long)st.st_size < f->read_to) {
		f->truncations++;
		follow_start_at(f, 0);
	}
	long n = follow_drain(f, line, arg, err), more = 0;
	int rotated = n < 0 ? -1 : follow_rotated(f, line, arg, &n, err);
	if (rotated > 0)
		more = follow_drain(f, line, arg, err);
	return rotated < 0 || more < 0 ? -1 : n + more;
}

void logfollow_position(const struct logfollow *f, struct logpos *out)
{
	*out = f->pos;
}

void logfollow_close(struct logfollow *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	buf_free(&f->partial);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

/* ---- Matching lines ----------------------------------------------------- */

static void matcher_init(pcre2_match_data **md, pcre2_match_context **mc,
			 const struct pattern *patterns, size_t n, uint32_t match_limit)
{
	*md = n ? pcre2_match_data_create_from_pattern(patterns[0].code, NULL) : NULL;
	*mc = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(*mc, match_limit);
}

/* Does one of the patterns match the line? One PCRE2 cannot finish counts. */
static int any_matches(const struct pattern *patterns, size_t n, pcre2_match_data *md,
		       pcre2_match_context *mc, const char *line, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		int rc = pcre2_match(patterns[i].code, (PCRE2_SPTR)line, len, 0, 0, md, mc);
		if (rc != PCRE2_ERROR_NOMATCH)
			return 1;
	}
	return 0;
}

/* Does the line name addr (HOST:PORT) as a whole: not inside a longer
 * name before it, nor followed by another digit of a port? */
static int names_address(const char *line, size_t len, const char *addr)
{
	size_t alen = strlen(addr);
	for (const char *p = line, *end = line + len;
	     alen && (p = memmem(p, (size_t)(end - p), addr, alen)); p++) {
		int starts = p == line || (!isalnum((unsigned char)p[-1]) && !strchr(".-_", p[-1]));
		int ends = p + alen == end || !isdigit((unsigned char)p[alen]);
		if (starts && ends)
			return 1;
	}
	return 0;
}

void errorrate_init(struct errorrate *c, const struct pattern *pattern, const char *new_slot,
		    const char *const *others, size_t nothers, uint32_t match_limit)
{
	memset(c, 0, sizeof(*c));
	c->pattern = pattern;
	c->nslots = 1 + nothers;
	c->slots = xcalloc(c->nslots, sizeof(*c->slots));
	c->slots[0] = xstrdup(new_slot);
	for (size_t i = 0; i < nothers; i++)
		c->slots[1 + i] = xstrdup(others[i]);
	matcher_init(&c->match_data, &c->match_context, pattern, 1, match_limit);
}

void errorrate_line(void *arg, const char *line, size_t len)
{
	struct errorrate *c = arg;
	int error = any_matches(c->pattern, 1, c->match_data, c->match_context, line, len);
	int mine = names_address(line, len, c->slots[0]), named = mine;
	for (size_t i = 1; i < c->nslots && !named; i++)
		named = names_address(line, len, c->slots[i]);
	c->lines++;
	c->named += named != 0;
	c->requests += mine != 0;
	c->errors += mine && error;
	c->unnamed_errors += !named && error;
}

void errorrate_free(struct errorrate *c)
{
	for (size_t i = 0; i < c->nslots; i++)
		free(c->slots[i]);
	free(c->slots);
	pcre2_match_data_free(c->match_data);
	pcre2_match_context_free(c->match_context);
	memset(c, 0, sizeof(*c));
}

void errorrate_judge(const struct errorrate *c, unsigned rate_max, unsigned min_requests,
		     struct errorrate_verdict *out)
{
	memset(out, 0, sizeof(*out));
	out->every_line = c->named == 0;
	out->requests = out->every_line ? c->lines : c->requests;
	out->errors = out->every_line ? c->unnamed_errors : c->errors;
	out->judged = out->requests >= min_requests;
	out->rate = out->requests ? (unsigned)(out->errors * 10000ULL / out->requests) : 0;
	out->failed =
	    out->judged && out->errors * 10000ULL > (unsigned long long)rate_max * out->requests;
}

void errorrate_describe(struct buf *out, const struct errorrate_verdict *v, unsigned rate_max,
			unsigned min_requests)
{
	if (!v->judged) {
		buf_printf(out, "%llu request%s, too few to judge (%u needed)", v->requests,
			   v->requests == 1 ? "" : "s", min_requests);
		return;
	}
	buf_printf(out, "%llu error%s in %llu requests (%u.%02u%%, %s %u.%02u%%)", v->errors,
		   v->errors == 1 ? "" : "s", v->requests, v->rate / 100, v->rate % 100,
		   v->failed ? "above" : "within", rate_max / 100, rate_max % 100);
}

/* ---- The app's log ------------------------------------------------------ */

void logmatch_init(struct logmatch *m, const struct pattern *patterns, size_t n,
		   uint32_t match_limit)
{
	memset(m, 0, sizeof(*m));
	m->patterns = patterns;
	m->npatterns = n;
	matcher_init(&m->match_data, &m->match_context, patterns, n, match_limit);
}

void logmatch_line(void *arg, const char *line, size_t len)
{
	struct logmatch *m = arg;
	m->lines++;
	if (!any_matches(m->patterns, m->npatterns, m->match_data, m->match_context, line, len))
		return;
	if (!m->matched++)
		buf_add(&m->first, line, len < LOGMATCH_SHOWN ? len : LOGMATCH_SHOWN);
}

void logmatch_free(struct logmatch *m)
{
	pcre2_match_data_free(m->match_data);
	pcre2_match_context_free(m->match_context);
	buf_free(&m->first);
	memset(m, 0, sizeof(*m));
}

long logmatch_since(struct logmatch *m, const char *path, struct logpos *pos, struct buf *err)
{
	struct logfollow f;
	unsigned long long before = m->matched;
	if (logfollow_open_at(&f, path, pos, err) < 0)
		return -1;
	long n = logfollow_read(&f, logmatch_line, m, err);
	logfollow_position(&f, pos);
	logfollow_close(&f);
	return n < 0 ? -1 : (long)(m->matched - before);
}
