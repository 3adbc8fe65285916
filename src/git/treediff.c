/*
 * treediff: see treediff.h.
 */
#include "treediff.h"

#include <stdlib.h>
#include <string.h>

#include "repo.h"

static int is_tree(const git_tree_entry *e)
{
	return e && git_tree_entry_type(e) == GIT_OBJECT_TREE;
}

/* git's tree order: a tree's name sorts as if it ended with '/'. */
static int entry_compare(const git_tree_entry *a, const git_tree_entry *b)
{
	const char *an = git_tree_entry_name(a), *bn = git_tree_entry_name(b);
	size_t al = strlen(an), bl = strlen(bn), len = al < bl ? al : bl;
	int c = memcmp(an, bn, len);
	if (c)
		return c;
	unsigned char ac = al > len ? (unsigned char)an[len] : is_tree(a) ? '/' : '\0';
	unsigned char bc = bl > len ? (unsigned char)bn[len] : is_tree(b) ? '/' : '\0';
	return (int)ac - (int)bc;
}

static const git_oid zero_oid;

static void add_change(struct changeset *cs, char status, const struct buf *path,
		       const git_tree_entry *old_entry, const git_tree_entry *new_entry)
{
	char hex[GIT_OID_HEXSZ + 1];
	struct file_change *fc = changeset_add(cs);
	fc->status = status;
	fc->path = xstrndup(path->data, path->len);
	fc->old_mode = old_entry ? (unsigned)git_tree_entry_filemode(old_entry) : 0;
	fc->new_mode = new_entry ? (unsigned)git_tree_entry_filemode(new_entry) : 0;
	git_oid_tostr(hex, sizeof(hex), old_entry ? git_tree_entry_id(old_entry) : &zero_oid);
	fc->old_oid = xstrdup(hex);
	git_oid_tostr(hex, sizeof(hex), new_entry ? git_tree_entry_id(new_entry) : &zero_oid);
	fc->new_oid = xstrdup(hex);
}

static int walk(git_repository *repo, struct buf *path, const git_tree *old_tree,
		const git_tree *new_tree, struct changeset *cs, struct buf *err);

static int descend(git_repository *repo, struct buf *path, const git_tree_entry *old_entry,
		   const git_tree_entry *new_entry, struct changeset *cs, struct buf *err)
{
	git_tree *old_sub = NULL, *new_sub = NULL;
	int rc = 0;
	if ((old_entry && git_tree_lookup(&old_sub, repo, git_tree_entry_id(old_entry)) < 0) ||
	    (new_entry && git_tree_lookup(&new_sub, repo, git_tree_entry_id(new_entry)) < 0)) {
		repo_error(err, "cannot read a tree");
		rc = -1;
	} else {
		size_t len = path->len;
		buf_adds(path, git_tree_entry_name(old_entry ? old_entry : new_entry));
		buf_addc(path, '/');
		rc = walk(repo, path, old_sub, new_sub, cs, err);
		path->len = len;
		path->data[len] = '\0';
	}
	git_tree_free(old_sub);
	git_tree_free(new_sub);
	return rc;
}

static int emit(git_repository *repo, struct buf *path, const git_tree_entry *old_entry,
		const git_tree_entry *new_entry, struct changeset *cs, struct buf *err)
{
	if (is_tree(old_entry) || is_tree(new_entry))
		return descend(repo, path, old_entry, new_entry, cs, err);
	size_t len = path->len;
	buf_adds(path, git_tree_entry_name(old_entry ? old_entry : new_entry));
	char status = !old_entry ? 'A' : !new_entry ? 'D' : 'M';
	if (status == 'M' && (git_tree_entry_filemode(old_entry) & 0170000) !=
				 (git_tree_entry_filemode(new_entry) & 0170000))
		status = 'T';
	add_change(cs, status, path, old_entry, new_entry);
	path->len = len;
	path->data[len] = '\0';
	return 0;
}

static int walk(git_repository *repo, struct buf *path, const git_tree *old_tree,
		const git_tree *new_tree, struct changeset *cs, struct buf *err)
{
	size_t on = old_tree ? git_tree_entrycount(old_tree) : 0;
	size_t nn = new_tree ? git_tree_entrycount(new_tree) : 0;
	size_t i = 0, j = 0;
	while (i < on || j < nn) {
		const git_tree_entry *o = i < on ? git_tree_entry_byindex(old_tree, i) : NULL;
		const git_tree_entry *n = j < nn ? git_tree_entry_byindex(new_tree, j) : NULL;
		int c = !o ? 1 : !n ? -1 : entry_compare(o, n);
		int rc = 0;
		if (c < 0) {
			rc = emit(repo, path, o, NULL, cs, err);
			i++;
		} else if (c > 0) {
			rc = emit(repo, path, NULL, n, cs, err);
			j++;
		} else {
			if (!git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(n)) ||
			    git_tree_entry_filemode(o) != git_tree_entry_filemode(n))
				rc = emit(repo, path, o, n, cs, err);
			i++;
			j++;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int by_old_oid(const void *a, const void *b, void *items)
{
	const struct file_change *fc = items;
	return strcmp(fc[*(const size_t *)a].old_oid, fc[*(const size_t *)b].old_oid);
}

/* Pairs deletions and additions of the same blob as exact renames. */
static void pair_renames(struct changeset *cs, size_t first)
{
	size_t *deleted = xcalloc(cs->n, sizeof(*deleted)), nd = 0;
	for (size_t k = first; k < cs->n; k++)
		if (cs->items[k].status == 'D' && (cs->items[k].old_mode & 0170000) != 0160000)
			deleted[nd++] = k;
	if (!nd) {
		free(deleted);
		return;
	}
	qsort_r(deleted, nd, sizeof(*deleted), by_old_oid, cs->items);
	char *taken = xcalloc(cs->n, 1);
	for (size_t k = first; k < cs->n; k++) {
		struct file_change *added = &cs->items[k];
		if (added->status != 'A' || (added->new_mode & 0170000) == 0160000)
			continue;
		size_t lo = 0, hi = nd;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (strcmp(cs->items[deleted[mid]].old_oid, added->new_oid) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < nd && !strcmp(cs->items[deleted[lo]].old_oid, added->new_oid); lo++) {
			struct file_change *gone = &cs->items[deleted[lo]];
			if (taken[deleted[lo]] ||
			    (gone->old_mode & 0170000) != (added->new_mode & 0170000))
				continue;
			taken[deleted[lo]] = 1;
			added->status = 'R';
			added->old_path = gone->path;
			gone->path = NULL;
			added->old_mode = gone->old_mode;
			free(added->old_oid);
			added->old_oid = xstrdup(gone->old_oid);
			break;
		}
	}
	size_t out = first;
	for (size_t k = first; k < cs->n; k++) {
		if (taken[k]) {
			free(cs->items[k].old_oid);
			free(cs->items[k].new_oid);
			continue;
		}
		cs->items[out++] = cs->items[k];
	}
	cs->n = out;
	free(taken);
	free(deleted);
}

int treediff_trees(git_repository *repo, const git_tree *old_tree, const git_tree *new_tree,
		   struct changeset *cs, struct buf *err)
{
	struct buf path = BUF_INIT;
	buf_reserve(&path, 256);
	size_t first = cs->n;
	int rc = walk(repo, &path, old_tree, new_tree, cs, err);
	buf_free(&path);
	if (rc == 0)
		pair_renames(cs, first);
	return rc;
}
