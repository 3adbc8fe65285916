/*
 * release_delta: see release_delta.h. Each side is listed first, in one
 * order (a folder, then what it holds, names in byte order), then the two
 * listings are walked together, so that what a folder holds is a run of
 * entries after it: a folder that is gone takes its run with it.
 */
#include "release_delta.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashset.h"

/* Deeper trees are refused rather than recursed into (release.c's bound). */
#define MAX_DEPTH 256
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct entry {
	char *path;    /* relative to the release */
	char kind;     /* 'd' folder, 'f' file, 'l' symlink, 'o' anything else */
	unsigned mode; /* the permission bits */
	unsigned long long size;
	char *target; /* a symlink's */
};

struct listing {
	struct entry *v;
	size_t n, cap;
	int root; /* the release's folder, open */
};

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].target);
	}
	free(l->v);
	if (l->root >= 0)
		close(l->root);
	memset(l, 0, sizeof(*l));
	l->root = -1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in d but . and .., sorted. */
static char **sorted_names(DIR *d, size_t *n)
{
	char **names = NULL;
	size_t cap = 0;
	struct dirent *e;
	*n = 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			*ARRAY_PUSH(names, *n, cap) = xstrdup(e->d_name);
	if (*n)
		qsort(names, *n, sizeof(*names), by_name);
	return names;
}

/* One entry of dirfd, name, as lstat and readlink say. */
static int entry_read(struct entry *e, int dirfd, const char *name, const char *path)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	*e = (struct entry){.path = xstrdup(path),
			    .kind = S_ISDIR(st.st_mode)	  ? 'd'
				    : S_ISREG(st.st_mode) ? 'f'
				    : S_ISLNK(st.st_mode) ? 'l'
							  : 'o',
			    .mode = (unsigned)(st.st_mode & 07777),
			    .size = (unsigned long long)st.st_size};
	if (e->kind == 'l') {
		char target[4096];
		ssize_t len = readlinkat(dirfd, name, target, sizeof(target));
		if (len < 0 || (size_t)len >= sizeof(target))
			return -1;
		e->target = xstrndup(target, (size_t)len);
	}
	return 0;
}

/* Lists what dirfd holds (it is closed) under prefix, recursing into folders. */
static int list_into(struct listing *l, int dirfd, struct buf *prefix, int depth, struct buf *err)
{
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		buf_printf(err, "cannot read %s: %s", prefix->len ? prefix->data : ".",
			   strerror(errno));
		return -1;
	}
	size_t n, at = prefix->len;
	char **names = sorted_names(d, &n);
	int fd = -1, rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		prefix->len = at;
		buf_printf(prefix, "%s%s", at ? "/" : "", names[i]);
		struct entry *e = ARRAY_PUSH(l->v, l->n, l->cap);
		if (entry_read(e, dirfd, names[i], prefix->data) < 0) {
			l->n--;
			buf_printf(err, "cannot read %s: %s", prefix->data, strerror(errno));
			rc = -1;
		} else if (e->kind == 'd' && depth >= MAX_DEPTH) {
			buf_printf(err, "%s: folders deeper than %d", prefix->data, MAX_DEPTH);
			rc = -1;
		} else if (e->kind == 'd' && (fd = openat(dirfd, names[i], DIR_FLAGS)) < 0) {
			buf_printf(err, "cannot open %s: %s", prefix->data, strerror(errno));
			rc = -1;
		} else if (e->kind == 'd') {
			rc = list_into(l, fd, prefix, depth + 1, err);
		}
	}
	prefix->len = at;
	if (prefix->data)
		prefix->data[at] = '\0';
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int listing_read(struct listing *l, const char *dir, struct buf *err)
{
	memset(l, 0, sizeof(*l));
	l->root = open(dir, DIR_FLAGS);
	int fd = l->root < 0 ? -1 : dup(l->root);
	if (fd < 0) {
		buf_printf(err, "cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	struct buf prefix = BUF_INIT;
	int rc = list_into(l, fd, &prefix, 0, err);
	buf_free(&prefix);
	if (rc < 0)
		buf_printf(err, " (in %s)", dir);
	return rc;
}

/* The listing's digest: every entry, in order, as 16 hex digits. */
static void listing_digest(const struct listing *l, char out[17])
{
	struct buf all = BUF_INIT;
	for (size_t i = 0; i < l->n; i++) {
		const struct entry *e = &l->v[i];
		buf_adds(&all, e->path);
		buf_printf(&all, "%c%c %o %llu ", '\0', e->kind, e->mode, e->size);
		if (e->target)
			buf_adds(&all, e->target);
		buf_addc(&all, '\0');
	}
	snprintf(out, 17, "%016llx",
		 (unsigned long long)hashset_key(all.data ? all.data : "", all.len));
	buf_free(&all);
}

/* The listings' order: a folder, then what it holds, then its next
 * sibling ('/' below every other byte, the end of a path below '/'). */
static int path_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int x = *a == '/' ? 0 : *a ? (unsigned char)*a : -1;
		int y = *b == '/' ? 0 : *b ? (unsigned char)*b : -1;
		if (x != y || x < 0)
			return x - y;
	}
}

/* Is path inside the folder dir? */
static int inside(const char *path, const char *dir)
{
	size_t len = strlen(dir);
	return !strncmp(path, dir, len) && path[len] == '/';
}

/* What one comparison reads at a time, of each file: the caller's, so
 * that deltas may be made on more than one thread. */
#define CHUNK 65536

/* Do the files at path in both roots hold the same bytes, size of them as
 * both were listed? 1 or 0 (one that is not that size now differs); -1
 * with why in err. Exactly size bytes are read of each: no read for the
 * end. x and y: CHUNK bytes each. */
static int same_bytes(int a_root, int b_root, const char *path, unsigned long long size, char *x,
		      char *y, struct buf *err)
{
	if (!size)
		return 1;
	int a = openat(a_root, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int b = a < 0 ? -1 : openat(b_root, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int same = a >= 0 && b >= 0 ? 1 : -1;
	while (same == 1 && size) {
		size_t want = size < CHUNK ? (size_t)size : CHUNK;
		ssize_t n = read(a, x, want);
		ssize_t m = n <= 0 ? n : read(b, y, (size_t)n);
		if (n < 0 || m < 0)
			same = -1;
		else if (n == 0 || m != n || memcmp(x, y, (size_t)n))
			same = 0;
		else
			size -= (size_t)n;
	}
	if (same < 0)
		buf_printf(err, "cannot compare %s: %s", path, strerror(errno));
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return same;
}

/* Could the files of both sides at one path be the same: one kind, mode
 * and size? Then their bytes tell. */
static int bytes_tell(const struct entry *n, const struct entry *b)
{
	return n->kind == 'f' && b->kind == 'f' && n->mode == b->mode && n->size == b->size;
}

/* The bytes of the pairs that bytes_tell names, compared on two threads
 * (most of a delta's time is there): same[i], by the new side's index, is
 * 1 or 0 (-1 and why in err when one could not be read). */
struct bytes_work {
	const struct listing *n, *b;
	const size_t *pairs; /* i, j, i, j ... */
	size_t from, to;     /* of the pairs */
	signed char *same;
	struct buf err;
	int failed;
};

static void *bytes_compare(void *arg)
{
	struct bytes_work *w = arg;
	char *scratch = xmalloc(2 * CHUNK);
	for (size_t k = w->from; k < w->to && !w->failed; k++) {
		size_t i = w->pairs[2 * k];
		int same = same_bytes(w->n->root, w->b->root, w->n->v[i].path, w->n->v[i].size,
				      scratch, scratch + CHUNK, &w->err);
		w->same[i] = (signed char)same;
		w->failed = same < 0;
	}
	free(scratch);
	return NULL;
}

/* Fewer pairs than this are compared on one thread. */
#define PAIRS_PER_THREAD 64

static int bytes_of_pairs(const struct listing *n, const struct listing *b, signed char *same,
			  struct buf *err)
{
	size_t *pairs = NULL, npairs = 0, cap = 0;
	for (size_t i = 0, j = 0; i < n->n && j < b->n;) {
		int c = path_cmp(n->v[i].path, b->v[j].path);
		if (c == 0 && bytes_tell(&n->v[i], &b->v[j])) {
			*ARRAY_PUSH(pairs, npairs, cap) = i;
			*ARRAY_PUSH(pairs, npairs, cap) = j;
		}
		i += c <= 0;
		j += c >= 0;
	}
	npairs /= 2;
	struct bytes_work w[2];
	for (int t = 0; t < 2; t++)
		w[t] = (struct bytes_work){.n = n,
					   .b = b,
					   .pairs = pairs,
					   .from = t ? npairs / 2 : 0,
					   .to = t ? npairs : npairs / 2,
					   .same = same,
					   .err = BUF_INIT};
	pthread_t other;
	int two = npairs >= 2 * PAIRS_PER_THREAD &&
		  pthread_create(&other, NULL, bytes_compare, &w[1]) == 0;
	if (!two)
		w[0].to = npairs;
	bytes_compare(&w[0]);
	if (two)
		pthread_join(other, NULL);
	int rc = 0;
	for (int t = 0; t < 2; t++) {
		if (w[t].failed && !rc)
			buf_add(err, w[t].err.data, w[t].err.len);
		rc = rc || w[t].failed ? -1 : 0;
		buf_free(&w[t].err);
	}
	free(pairs);
	return rc;
}

/* Is the entry of dir (n) the same as base's of the same path (b)? A
 * file's bytes are in same (bytes_of_pairs). */
static int entry_same(const struct entry *n, const struct entry *b, signed char same)
{
	if (n->kind != b->kind || n->mode != b->mode)
		return 0;
	if (n->kind == 'l')
		return !strcmp(n->target, b->target);
	if (n->kind == 'f')
		return bytes_tell(n, b) && same == 1;
	return n->kind == 'd';
}

static void send_entry(struct release_delta *d, const struct entry *e)
{
	strvec_pushf(&d->send, "./%s", e->path);
	if (e->kind != 'd')
		d->changed++;
	if (e->kind == 'f')
		d->bytes += e->size;
}

/* Walks both listings together: what base has alone is gone (a folder with
 * its run), what dir has alone is sent, what differs is sent (gone first
 * when its kind changed: a folder over a file, a file over a folder). */
static int compare(struct release_delta *d, const struct listing *n, const struct listing *b,
		   struct buf *err)
{
	signed char *same = xcalloc(n->n ? n->n : 1, 1);
	int rc = bytes_of_pairs(n, b, same, err);
	size_t i = 0, j = 0;
	while (rc == 0 && (i < n->n || j < b->n)) {
		int c = i == n->n ? 1 : j == b->n ? -1 : path_cmp(n->v[i].path, b->v[j].path);
		const struct entry *gone = NULL;
		if (c < 0) {
			send_entry(d, &n->v[i++]);
			continue;
		}
		if (c > 0) {
			gone = &b->v[j++];
		} else {
			int alike = entry_same(&n->v[i], &b->v[j], same[i]);
			if (!alike && n->v[i].kind != b->v[j].kind)
				gone = &b->v[j];
			if (!alike)
				send_entry(d, &n->v[i]);
			i++, j++;
		}
		if (!gone)
			continue;
		strvec_push(&d->gone, gone->path);
		while (gone->kind == 'd' && j < b->n && inside(b->v[j].path, gone->path))
			j++;
	}
	free(same);
	return rc;
}

/* The base, listed on a thread of its own while dir is listed. */
struct base_listing {
	struct listing l;
	const char *dir;
	struct buf err;
	int rc;
};

static void *base_list(void *arg)
{
	struct base_listing *b = arg;
	b->rc = listing_read(&b->l, b->dir, &b->err);
	return NULL;
}

int release_delta_make(struct release_delta *d, const char *dir, const char *base, struct buf *err)
{
	memset(d, 0, sizeof(*d));
	struct listing n;
	struct base_listing b = {.l = {.root = -1}, .dir = base, .err = BUF_INIT};
	pthread_t other;
	int apart = base && pthread_create(&other, NULL, base_list, &b) == 0;
	int rc = listing_read(&n, dir, err);
	if (base && !apart)
		base_list(&b);
	if (apart)
		pthread_join(other, NULL);
	if (rc == 0) {
		listing_digest(&n, d->digest);
		for (size_t i = 0; i < n.n; i++)
			d->files += n.v[i].kind != 'd';
	}
	if (rc == 0 && base && b.rc < 0) {
		buf_add(err, b.err.data, b.err.len);
		rc = -1;
	}
	if (rc == 0 && base) {
		listing_digest(&b.l, d->base_digest);
		rc = compare(d, &n, &b.l, err);
	}
	listing_free(&n);
	listing_free(&b.l);
	buf_free(&b.err);
	if (rc < 0)
		release_delta_free(d);
	return rc;
}

void release_delta_free(struct release_delta *d)
{
	strvec_clear(&d->send);
	strvec_clear(&d->gone);
	memset(d, 0, sizeof(*d));
}
