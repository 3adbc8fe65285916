/*
 * accesslog: the logs a confirmed deploy's checks read as they grow -- an
 * access log whose error rate judges the new slot, and the app's own log,
 * in which no line may match health_log_pattern.
 *
 * A follower (struct logfollow) reads a file from a position, only what was
 * added since, a whole line at a time, as `tail -F` does:
 *   - opened "now", it starts at the file's end (what was logged before the
 *     canary step or the watch began is not the new slot's); a file that is
 *     not there yet is read from its start once it appears;
 *   - rotation: when the path names another file than the one being read
 *     (logrotate renamed it and the server opened a new one), the old one is
 *     read to its end, its unfinished last line taken as a line, and the new
 *     one read from its start. Lines the server writes into the old file
 *     after that are not read: nginx reopens its logs on the signal
 *     logrotate sends right after the rename;
 *   - truncation: a file shorter than the position (copytruncate, or `>`)
 *     is read again from its start;
 *   - a line not yet ended waits for its end; memory is bounded: a line
 *     longer than LOGFOLLOW_LINE_MAX is cut there (the rest skipped, the
 *     line still counted once), and a read holds one buffer.
 * A follower's position (logfollow_position) can be kept and given back to
 * logfollow_open_at: a watch resumed after a crash goes on where it was.
 * A remote host's log is read there (by whatever fetches its new bytes) and
 * fed through logfollow_feed, the same line splitter.
 *
 * The error rate (struct errorrate): each line that names the new slot's
 * HOST:PORT (nginx's $upstream_addr; the README gives the log_format) is
 * one of its requests, and an error when error_pattern matches it. A line
 * that names no slot at all is counted apart: when no line so far names
 * any slot (a log without $upstream_addr, or one in front of one slot
 * only), every line is the new slot's. The verdict: once there are
 * min_requests requests, a share of errors above rate_max fails.
 *
 * The app's log (logmatch_since): the lines since a position that match
 * any of health_log_pattern, and the first of them. What those lines say
 * is the app's, and may hold a secret: a caller masks what it shows.
 */
#ifndef GITGATE_ACCESSLOG_H
#define GITGATE_ACCESSLOG_H

#include <stdint.h>

#include "buf.h"
#include "rules.h"

#define LOGFOLLOW_LINE_MAX 8192

/* Which file (device, inode) and the next byte to read: the start of the
 * first line not read whole yet. */
struct logpos {
	unsigned long long dev, ino, offset;
};

/* Called for each line read, without its "\n" (nor a "\r" before it). */
typedef void (*logfollow_line_fn)(void *arg, const char *line, size_t len);

struct logfollow {
	char *path;
	int fd; /* -1: no file yet */
	struct logpos pos;
	unsigned long long read_to; /* bytes of the file consumed: pos.offset + the unended line */
	struct buf partial;	    /* the unended line's first LOGFOLLOW_LINE_MAX bytes */
	int cut;		    /* that line is longer: the rest is skipped */
	unsigned rotations, truncations;
};

/* Follows path from its end now (missing: from its start once it
 * appears). Returns 0, or -1 with why in err (a file that cannot be read). */
int logfollow_open_end(struct logfollow *f, const char *path, struct buf *err);
/* Follows path from pos: in that file, from pos->offset (from 0 when the
 * file is shorter now); when path names another file now, from its start. */
int logfollow_open_at(struct logfollow *f, const char *path, const struct logpos *pos,
		      struct buf *err);
/* Reads what the file gained since the last read, calling line for each
 * whole line, across a rotation or a truncation. Returns how many lines,
 * or -1 with why in err. */
long logfollow_read(struct logfollow *f, logfollow_line_fn line, void *arg, struct buf *err);
/* Splits bytes read elsewhere (a remote host's log) into lines, as
 * logfollow_read does, keeping the unended line for the next call. */
long logfollow_feed(struct logfollow *f, const char *data, size_t len, logfollow_line_fn line,
		    void *arg);
/* Where the follower stands, to open it there again later. */
void logfollow_position(const struct logfollow *f, struct logpos *out);
void logfollow_close(struct logfollow *f);

/* The error rate of the new slot's requests in an access log. */
struct errorrate {
	const struct pattern *pattern; /* an error line */
	char **slots;		       /* "HOST:PORT" of each slot, the new one first */
	size_t nslots;
	pcre2_match_data *match_data;
	pcre2_match_context *match_context;
	unsigned long long lines, named;     /* every line; those naming some slot */
	unsigned long long requests, errors; /* of the new slot */
	unsigned long long unnamed_errors;   /* errors on lines naming no slot */
};

/* new_slot and the others are HOST:PORT (an IPv6 host in brackets, as
 * nginx writes it); match_limit bounds each match (rules.h). */
void errorrate_init(struct errorrate *c, const struct pattern *pattern, const char *new_slot,
		    const char *const *others, size_t nothers, uint32_t match_limit);
/* A logfollow_line_fn: arg is the struct errorrate. */
void errorrate_line(void *arg, const char *line, size_t len);
void errorrate_free(struct errorrate *c);

struct errorrate_verdict {
	unsigned long long requests, errors;
	int every_line; /* no line named a slot: every line counted */
	int judged;	/* there were min_requests requests */
	int failed;	/* judged, and the share is above rate_max */
	unsigned rate;	/* the share, in hundredths of a percent */
};

/* rate_max in hundredths of a percent (rules.h: error_rate_max). */
void errorrate_judge(const struct errorrate *c, unsigned rate_max, unsigned min_requests,
		     struct errorrate_verdict *out);
/* "3 errors in 40 requests (7.50%, above 5.00%)", or "12 requests, too few
 * to judge (20 needed)". */
void errorrate_describe(struct buf *out, const struct errorrate_verdict *v, unsigned rate_max,
			unsigned min_requests);

/* Lines of the app's log that match any of the patterns. */
struct logmatch {
	const struct pattern *patterns;
	size_t npatterns;
	pcre2_match_data *match_data;
	pcre2_match_context *match_context;
	unsigned long long lines, matched;
	struct buf first; /* the first matching line, cut at LOGMATCH_SHOWN bytes */
};
#define LOGMATCH_SHOWN 200

void logmatch_init(struct logmatch *m, const struct pattern *patterns, size_t n,
		   uint32_t match_limit);
/* A logfollow_line_fn: arg is the struct logmatch. */
void logmatch_line(void *arg, const char *line, size_t len);
void logmatch_free(struct logmatch *m);
/* The lines of path written since *pos (that file from its offset; another
 * file now at path: from its start) matched into m; *pos then stands at
 * the end, for the next check. Returns how many matched, or -1 with why in
 * err. A missing file has no lines. */
long logmatch_since(struct logmatch *m, const char *path, struct logpos *pos, struct buf *err);

#endif
