/*
 * gitdiff: see gitdiff.h.
 *
 * The patch reader is a small state machine: outside a hunk it looks for
 * "+++ " and "@@ " headers; inside one it counts down the old and new line
 * counts from the hunk header, so an added line whose text starts with
 * "++ " is never mistaken for a header.
 */
#include "gitdiff.h"

#include <stdlib.h>
#include <string.h>

#include "escape.h"

static int read_field(FILE *in, struct buf *field)
{
	if (!buf_getline(field, in, '\0'))
		return 0;
	if (field->len && field->data[field->len - 1] == '\0')
		field->len--;
	return 1;
}

/* ":100644 100644 <old> <new> M" */
static int parse_meta(const char *s, struct file_change *fc)
{
	char old_oid[65], new_oid[65], status[8];
	if (sscanf(s, ":%o %o %64[0-9a-f] %64[0-9a-f] %7s", &fc->old_mode, &fc->new_mode, old_oid,
		   new_oid, status) != 5)
		return -1;
	fc->old_oid = xstrdup(old_oid);
	fc->new_oid = xstrdup(new_oid);
	fc->status = status[0];
	return strchr("AMDRCTU", fc->status) ? 0 : -1;
}

int gitdiff_read_raw(FILE *in, struct changeset *cs, struct buf *err)
{
	struct buf field = BUF_INIT;
	int rc = 0;
	while (read_field(in, &field) && field.len) {
		struct file_change *fc = changeset_add(cs);
		if (field.data[0] != ':' || parse_meta(field.data, fc) < 0) {
			buf_printf(err, "unexpected record in git's raw diff: ");
			escape_bytes(err, field.data, field.len > 80 ? 80 : field.len);
			rc = -1;
			break;
		}
		if (!read_field(in, &field)) {
			buf_adds(err, "git's raw diff ended inside a record");
			rc = -1;
			break;
		}
		char *first = xstrndup(field.data, field.len);
		if (fc->status == 'R' || fc->status == 'C') {
			if (!read_field(in, &field)) {
				free(first);
				buf_adds(err, "git's raw diff ended inside a rename record");
				rc = -1;
				break;
			}
			fc->old_path = first;
			fc->path = xstrndup(field.data, field.len);
		} else {
			fc->path = first;
		}
	}
	buf_free(&field);
	return rc;
}

static int compare_paths(const void *a, const void *b)
{
	const struct file_change *x = *(const struct file_change *const *)a;
	const struct file_change *y = *(const struct file_change *const *)b;
	return strcmp(x->path, y->path);
}

static const struct file_change *find_change(const struct file_change **sorted, size_t n,
					     const char *path)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(sorted[mid]->path, path);
		if (!c)
			return sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* "+++ b/path", "+++ \"b/pa\\tth\"" (git quotes), or "+++ /dev/null". */
static int parse_new_name(const char *s, size_t len, struct buf *name)
{
	buf_clear(name);
	if (len && s[len - 1] == '\n')
		len--;
	if (len && s[0] == '"') {
		if (!unquote_c_style(name, s, len))
			return -1;
	} else {
		/* git ends a name that holds a space with a tab, for patch(1). */
		if (len && s[len - 1] == '\t')
			len--;
		buf_add(name, s, len);
	}
	if (name->len >= 2 && !memcmp(name->data, "b/", 2))
		return 0;
	return 1; /* /dev/null: a deletion has no new side */
}

static int parse_count(const char **p, unsigned long *start, unsigned long *count)
{
	char *end;
	*start = strtoul(*p, &end, 10);
	if (end == *p)
		return -1;
	*count = 1;
	if (*end == ',') {
		const char *q = end + 1;
		*count = strtoul(q, &end, 10);
		if (end == q)
			return -1;
	}
	*p = end;
	return 0;
}

/* "@@ -a[,b] +c[,d] @@" */
static int parse_hunk(const char *s, unsigned long *old_count, unsigned long *new_start,
		      unsigned long *new_count)
{
	unsigned long old_start;
	const char *p = s + 3;
	if (*p++ != '-' || parse_count(&p, &old_start, old_count) < 0)
		return -1;
	if (*p++ != ' ' || *p++ != '+' || parse_count(&p, new_start, new_count) < 0)
		return -1;
	return strncmp(p, " @@", 3) ? -1 : 0;
}

/* Where gitdiff_read_patch is in git's patch. */
struct patch_reader {
	const struct file_change **sorted; /* the changeset by path */
	size_t n;
	const struct line_sink *sink;
	struct buf name;
	unsigned long old_left, new_left, new_line; /* in a hunk: what is left of it */
	int wanted;				    /* the file's added lines go to the sink */
};

/* A line inside a hunk: an added line to the sink. -1 when it is not one. */
static int hunk_line(struct patch_reader *r, const char *s, size_t len)
{
	if (s[0] == '+' || s[0] == ' ') {
		if (!r->new_left)
			return -1;
		if (s[0] == '+' && r->wanted) {
			size_t text_len = len - 1;
			if (text_len && s[len - 1] == '\n')
				text_len--;
			r->sink->added_line(r->sink->ctx, r->new_line, s + 1, text_len);
		}
		r->new_left--;
		r->new_line++;
	} else if (s[0] == '-') {
		if (!r->old_left)
			return -1;
		r->old_left--;
	} else if (s[0] != '\\') {
		return -1;
	}
	return 0;
}

/* A line between hunks: a file's header or a hunk's. -1 when it cannot be
 * read (a file name: said in err, *described set). */
static int header_line(struct patch_reader *r, const char *s, size_t len, int *described,
		       struct buf *err)
{
	if (!strncmp(s, "diff --git ", 11)) {
		r->wanted = 0;
	} else if (!strncmp(s, "+++ ", 4)) {
		int kind = parse_new_name(s + 4, len - 4, &r->name);
		r->wanted = 0;
		if (kind < 0) {
			buf_adds(err, "cannot read a file name in git's diff: ");
			escape_bytes(err, s, len);
			*described = 1;
			return -1;
		}
		if (kind == 0) {
			const struct file_change *fc =
			    find_change(r->sorted, r->n, r->name.data + 2);
			r->wanted = fc && r->sink->begin_file(r->sink->ctx, fc);
		}
	} else if (!strncmp(s, "@@ ", 3)) {
		unsigned long old_count, new_count;
		if (parse_hunk(s, &old_count, &r->new_line, &new_count) < 0)
			return -1;
		r->old_left = old_count;
		r->new_left = new_count;
	}
	return 0;
}

int gitdiff_read_patch(FILE *in, const struct changeset *cs, const struct line_sink *sink,
		       struct buf *err)
{
	struct patch_reader r = {.sorted = xcalloc(cs->n, sizeof(*r.sorted)),
				 .n = cs->n,
				 .sink = sink,
				 .name = BUF_INIT};
	for (size_t i = 0; i < cs->n; i++)
		r.sorted[i] = &cs->items[i];
	qsort(r.sorted, cs->n, sizeof(*r.sorted), compare_paths);
	struct buf line = BUF_INIT;
	int rc = 0, described = 0;
	while (rc == 0 && buf_getline(&line, in, '\n'))
		rc = r.old_left || r.new_left
			 ? hunk_line(&r, line.data, line.len)
			 : header_line(&r, line.data, line.len, &described, err);
	if (rc < 0 && !described) {
		buf_adds(err, "unexpected line in git's diff: ");
		escape_bytes(err, line.data, line.len > 80 ? 80 : line.len);
	}
	if (!rc && (r.old_left || r.new_left)) {
		buf_adds(err, "git's diff ended inside a hunk");
		rc = -1;
	}
	buf_free(&line);
	buf_free(&r.name);
	free(r.sorted);
	return rc < 0 ? -1 : 0;
}
