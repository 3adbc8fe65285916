/*
 * release: see release.h. Every file operation below takes the descriptor
 * of the folder it works in and a single name, never a path: a path would
 * be resolved by the kernel through whatever symlinks the tree (or a build)
 * put on the way.
 */
#include "release.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"
#include "repo.h"
#include "state.h"

/* Deeper trees are refused rather than recursed into: each level holds a
 * descriptor and a stack frame. */
#define MAX_DEPTH 256
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Removes name inside dirfd, a folder with everything in it, following no
 * symlink. Returns 0 (gone already counts), or -1 with errno set. */
static int remove_at(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	int fd = openat(dirfd, name, DIR_FLAGS);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = remove_at(fd, e->d_name);
	closedir(d);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

/* The names git itself refuses to check out; anything else is bytes. */
static const char *bad_name(const char *name)
{
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return "is not a name a folder can hold";
	if (strchr(name, '/'))
		return "holds a \"/\"";
	if (!strcasecmp(name, ".git"))
		return "would be a .git folder";
	return NULL;
}

struct export
{
	git_repository *repo;
	struct release *rel;
	struct buf path; /* of the entry at hand, relative to the release */
	struct buf *err;
};

static int fail(struct export *x, const char *what)
{
	buf_printf(x->err, "cannot write \"%s\": %s: %s", x->path.data, what, strerror(errno));
	return -1;
}

/* An object of the tree that libgit2 cannot read. */
static int unreadable(struct export *x, const char *what)
{
	repo_error(x->err, what);
	buf_printf(x->err, " (%s)", x->path.data);
	return -1;
}

static int write_blob(struct export *x, int dirfd, const char *name, const git_tree_entry *e)
{
	git_blob *blob;
	if (git_blob_lookup(&blob, x->repo, git_tree_entry_id(e)) < 0)
		return unreadable(x, "cannot read a blob");
	const char *data = git_blob_rawcontent(blob);
	size_t len = (size_t)git_blob_rawsize(blob);
	int rc = 0;
	if (git_tree_entry_filemode(e) == GIT_FILEMODE_LINK) {
		/* The stored target, as it is; only what a symlink cannot hold
		 * is refused. */
		char *target = xstrndup(data, len);
		if (!len || strlen(target) != len) {
			buf_printf(x->err, "cannot write \"%s\": its symlink target is %s",
				   x->path.data, len ? "not text (holds a NUL)" : "empty");
			rc = -1;
		} else if (symlinkat(target, dirfd, name) < 0) {
			rc = fail(x, "symlink");
		}
		free(target);
	} else {
		/* Exact modes whatever the worker's umask, which comes from
		 * whoever's session started it. */
		mode_t mode =
		    git_tree_entry_filemode(e) == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644;
		int fd =
		    openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0)
			rc = fail(x, "open");
		else if (state_write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0)
			rc = fail(x, "write");
		if (fd >= 0 && close(fd) < 0 && rc == 0)
			rc = fail(x, "close");
	}
	git_blob_free(blob);
	if (rc == 0)
		*ARRAY_PUSH(x->rel->files, x->rel->n_files, x->rel->cap_files) =
		    xstrdup(x->path.data);
	return rc;
}

static int write_tree(struct export *x, int dirfd, const git_tree *tree, int depth);

static int write_folder(struct export *x, int dirfd, const char *name, const git_tree_entry *e,
			int depth)
{
	if (depth >= MAX_DEPTH) {
		buf_printf(x->err, "cannot write \"%s\": the tree is more than %d folders deep",
			   x->path.data, MAX_DEPTH);
		return -1;
	}
	git_tree *sub;
	if (git_tree_lookup(&sub, x->repo, git_tree_entry_id(e)) < 0)
		return unreadable(x, "cannot read a tree");
	int rc = -1, fd = -1;
	if (mkdirat(dirfd, name, 0755) < 0)
		fail(x, "mkdir");
	else if ((fd = openat(dirfd, name, DIR_FLAGS)) < 0)
		fail(x, "open");
	else if (fchmod(fd, 0755) < 0)
		fail(x, "chmod");
	else
		rc = write_tree(x, fd, sub, depth + 1);
	if (fd >= 0)
		close(fd);
	git_tree_free(sub);
	return rc;
}

/* Cuts the path back to its first len bytes. */
static void path_cut(struct buf *path, size_t len)
{
	path->len = len;
	if (path->data)
		path->data[len] = '\0';
}

static int write_tree(struct export *x, int dirfd, const git_tree *tree, int depth)
{
	size_t prefix = x->path.len;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < git_tree_entrycount(tree); i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		path_cut(&x->path, prefix);
		buf_adds(&x->path, name);
		const char *why = bad_name(name);
		if (why) {
			buf_printf(x->err, "cannot write \"%s\": the name %s", x->path.data, why);
			rc = -1;
			break;
		}
		switch (git_tree_entry_filemode(e)) {
		case GIT_FILEMODE_TREE:
			buf_addc(&x->path, '/');
			rc = write_folder(x, dirfd, name, e, depth);
			break;
		case GIT_FILEMODE_BLOB:
		case GIT_FILEMODE_BLOB_EXECUTABLE:
		case GIT_FILEMODE_LINK:
			rc = write_blob(x, dirfd, name, e);
			break;
		case GIT_FILEMODE_COMMIT:
			*ARRAY_PUSH(x->rel->submodules, x->rel->n_submodules,
				    x->rel->cap_submodules) = xstrdup(x->path.data);
			break;
		default:
			buf_printf(x->err, "cannot write \"%s\": unknown mode %06o", x->path.data,
				   (unsigned)git_tree_entry_filemode(e));
			rc = -1;
		}
	}
	path_cut(&x->path, prefix);
	return rc;
}

/* git's own reading of an ignore file: a UTF-8 byte order mark skipped,
 * "\r\n" taken as "\n", blank lines and "#" comments skipped, trailing
 * spaces dropped unless escaped. A pattern that does not compile refuses
 * the export: an exclusion that silently does not apply ships the file. */
static int load_deployignore(struct release *rel, git_repository *repo, const git_tree *tree,
			     struct buf *err)
{
	const git_tree_entry *e = git_tree_entry_byname(tree, ".deployignore");
	if (!e)
		return 0;
	if (git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB &&
	    git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB_EXECUTABLE) {
		buf_adds(err, ".deployignore is not a plain file: its exclusions cannot be read");
		return -1;
	}
	git_blob *blob;
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0) {
		repo_error(err, "cannot read .deployignore");
		return -1;
	}
	const char *p = git_blob_rawcontent(blob), *end = p + git_blob_rawsize(blob);
	if (end - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	int rc = 0;
	for (size_t line = 1; rc == 0 && p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		if (len && p[len - 1] == '\r')
			len--;
		while (len && p[len - 1] == ' ' && !(len >= 2 && p[len - 2] == '\\'))
			len--;
		const char *why = NULL;
		char *pattern = xstrndup(p, len);
		if (strlen(pattern) != len)
			why = "holds a NUL byte";
		else if (len && pattern[0] != '#')
			globlist_add(&rel->deployignore, pattern, &why);
		if (why) {
			buf_printf(err, ".deployignore:%zu: %s", line, why);
			rc = -1;
		}
		free(pattern);
		p = nl ? nl + 1 : end;
	}
	git_blob_free(blob);
	return rc;
}

/* Renames the finished export to RELEASES/<id>, never over another
 * release: a second export of one revision within a second gets "-2". */
static int publish(struct release *rel, const char *releases_dir, const char *stem, struct buf *err)
{
	struct buf final = BUF_INIT;
	for (int n = 1; n < 100; n++) {
		buf_clear(&final);
		buf_printf(&final, "%s/%s", releases_dir, stem);
		if (n > 1)
			buf_printf(&final, "-%d", n);
		if (renameat2(AT_FDCWD, rel->dir, AT_FDCWD, final.data, RENAME_NOREPLACE) == 0) {
			free(rel->dir);
			rel->dir = buf_detach(&final);
			rel->id = xstrdup(rel->dir + strlen(releases_dir) + 1);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	buf_printf(err, "cannot rename %s to %s: %s", rel->dir, final.data, strerror(errno));
	buf_free(&final);
	return -1;
}

static int sync_dir(const char *path)
{
	int fd = open(path, DIR_FLAGS & ~O_NOFOLLOW);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Writes the tree into rel->dir, a fresh folder, and syncs it. */
static int export_tree(struct release *rel, git_repository *repo, const git_tree *tree,
		       struct buf *err)
{
	int root = open(rel->dir, DIR_FLAGS);
	if (root < 0) {
		buf_printf(err, "cannot open %s: %s", rel->dir, strerror(errno));
		return -1;
	}
	struct export x = {.repo = repo, .rel = rel, .path = BUF_INIT, .err = err};
	int rc = write_tree(&x, root, tree, 0);
	buf_free(&x.path);
	/* One syncfs for the whole export instead of an fsync per file: the
	 * release must be on disk before any slot points at it. */
	if (rc == 0 && (fchmod(root, 0755) < 0 || syncfs(root) < 0)) {
		buf_printf(err, "cannot sync %s: %s", rel->dir, strerror(errno));
		rc = -1;
	}
	close(root);
	return rc;
}

static int peel_commit(git_commit **out, git_repository *repo, const char *revision,
		       struct buf *err)
{
	git_object *obj;
	if (git_revparse_single(&obj, repo, revision) < 0) {
		repo_error(err, "cannot find the revision");
		buf_printf(err, " (%s)", revision);
		return -1;
	}
	int rc = git_object_peel((git_object **)out, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (rc < 0) {
		repo_error(err, "not a commit");
		buf_printf(err, " (%s)", revision);
		return -1;
	}
	return 0;
}

/* The hidden folder an export is written into before it is published, and
 * the hidden name of a pruned release until it is swept. */
#define SCRATCH_PREFIX ".export-"
#define PRUNED_PREFIX ".pruned-"

/* "20250115T101500Z-0123456789ab": when, then which revision. */
#define REVISION_SHOWN 12
static void release_stem(char *out, size_t size, const char *revision)
{
	time_t now = time(NULL);
	struct tm utc;
	gmtime_r(&now, &utc);
	size_t n = strftime(out, size, "%Y%m%dT%H%M%SZ-", &utc);
	snprintf(out + n, size - n, "%.*s", REVISION_SHOWN, revision);
}

/* Removes every folder in releases_dir whose name starts with prefix. */
static void remove_hidden(const char *releases_dir, const char *prefix)
{
	int dirfd = open(releases_dir, DIR_FLAGS);
	DIR *d = dirfd < 0 ? NULL : fdopendir(dirfd);
	if (!d) {
		if (dirfd >= 0)
			close(dirfd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			remove_at(dirfd, e->d_name);
	closedir(d);
}

/* Makes rel->dir, a hidden folder in RELEASES to write the export into. */
static int make_scratch(struct release *rel, const char *releases_dir, struct buf *err)
{
	if (mkdir(releases_dir, 0755) < 0 && errno != EEXIST) {
		buf_printf(err, "cannot create %s: %s", releases_dir, strerror(errno));
		return -1;
	}
	/* The scratch folders of exports killed mid-way: only one export of
	 * a target runs at a time (its deploy's lock), so any there is stale. */
	remove_hidden(releases_dir, SCRATCH_PREFIX);
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s/" SCRATCH_PREFIX "XXXXXX", releases_dir);
	if (!mkdtemp(tmp.data)) {
		buf_printf(err, "cannot create %s: %s", tmp.data, strerror(errno));
		buf_free(&tmp);
		return -1;
	}
	rel->dir = buf_detach(&tmp);
	return 0;
}

int release_export(struct release *out, git_repository *repo, const char *revision,
		   const struct release_options *opts, struct buf *err)
{
	memset(out, 0, sizeof(*out));
	out->limit_ms = opts->limit_ms;
	git_commit *commit;
	if (peel_commit(&commit, repo, revision, err) < 0)
		return -1;
	git_oid_tostr(out->revision, sizeof(out->revision), git_commit_id(commit));
	git_tree *tree = NULL;
	int rc = -1;
	if (git_commit_tree(&tree, commit) < 0)
		repo_error(err, "cannot read the commit's tree");
	else if (load_deployignore(out, repo, tree, err) == 0 &&
		 make_scratch(out, opts->releases_dir, err) == 0)
		rc = export_tree(out, repo, tree, err);
	if (rc == 0 && !opts->defer_exclusions)
		rc = release_apply_exclusions(out, opts->exclude, err);
	if (rc == 0) {
		char stem[64];
		release_stem(stem, sizeof(stem), out->revision);
		rc = publish(out, opts->releases_dir, stem, err);
	}
	if (rc == 0 && sync_dir(opts->releases_dir) < 0) {
		buf_printf(err, "cannot sync %s: %s", opts->releases_dir, strerror(errno));
		rc = -1;
	}
	if (rc < 0 && out->dir && remove_at(AT_FDCWD, out->dir) < 0)
		buf_printf(err, "; and cannot remove %s: %s", out->dir, strerror(errno));
	git_tree_free(tree);
	git_commit_free(commit);
	if (rc < 0)
		release_free(out);
	return rc;
}

static int excluded(const struct release *rel, const struct globlist *exclude, const char *path)
{
	return globlist_match(&rel->deployignore, path) ||
	       (exclude && globlist_match(exclude, path));
}

/* Removes one exported path and the folders that leaves empty. The folders
 * on the way are opened one at a time without following symlinks; one that
 * is gone or no longer a folder means the file is not there to remove.
 * Returns 1 when removed, 0 when not there, -1 with errno on an error. */
static int remove_exported(int root, const char *path)
{
	int fds[MAX_DEPTH + 1];
	const char *names[MAX_DEPTH + 1];
	char *copy = xstrdup(path);
	size_t depth = 0;
	fds[0] = root;
	int rc = 0;
	char *name = copy;
	for (char *slash; (slash = strchr(name, '/')); name = slash + 1) {
		*slash = '\0';
		int fd = openat(fds[depth], name, DIR_FLAGS);
		if (fd < 0) {
			rc = errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : -1;
			goto done;
		}
		names[++depth] = name;
		fds[depth] = fd;
	}
	if (unlinkat(fds[depth], name, 0) < 0) {
		rc = errno == ENOENT || errno == EISDIR ? 0 : -1;
		goto done;
	}
	rc = 1;
	/* Empty folders go too: only those the export made can hold a path
	 * the export wrote, and only empty ones are removed. */
	for (size_t i = depth; i > 0; i--)
		if (unlinkat(fds[i - 1], names[i], AT_REMOVEDIR) < 0)
			break;
done:;
	int saved = errno;
	for (size_t i = 1; i <= depth; i++)
		close(fds[i]);
	free(copy);
	errno = saved;
	return rc;
}

int release_apply_exclusions(struct release *rel, const struct globlist *exclude, struct buf *err)
{
	int root = open(rel->dir, DIR_FLAGS);
	if (root < 0) {
		buf_printf(err, "cannot open %s: %s", rel->dir, strerror(errno));
		return -1;
	}
	int rc = 0;
	struct deadline limit;
	deadline_start_ms(&limit, rel->limit_ms);
	for (size_t i = 0; i < rel->n_files; i++) {
		/* A pushed .deployignore is the pusher's: its cost is bounded. */
		if (i % 256 == 255 && deadline_passed(&limit)) {
			buf_printf(
			    err,
			    "the exclusions (.deployignore, [deploy] exclude) took longer than "
			    "%u s over %zu files: write fewer wildcard patterns (names, paths and "
			    "\"*.ext\" endings cost nothing), or raise the target's "
			    "command_timeout_seconds",
			    rel->limit_ms / 1000, rel->n_files);
			rc = -1;
			break;
		}
		if (!excluded(rel, exclude, rel->files[i]))
			continue;
		int removed = remove_exported(root, rel->files[i]);
		if (removed < 0) {
			buf_printf(err, "cannot remove \"%s\" from %s: %s", rel->files[i], rel->dir,
				   strerror(errno));
			rc = -1;
			break;
		}
		rel->excluded += (size_t)removed;
	}
	close(root);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The releases in releases_dir, oldest first (ids sort by time): an array
 * of *n names to free with free_names. The folder missing is no release.
 * Returns the folder's descriptor (or -2 when missing), or -1 with err. */
static int list_releases(const char *releases_dir, char ***names, size_t *n, struct buf *err)
{
	*names = NULL;
	*n = 0;
	int dirfd = open(releases_dir, DIR_FLAGS);
	DIR *d = dirfd < 0 ? NULL : fdopendir(dirfd);
	if (!d) {
		if (dirfd >= 0)
			close(dirfd);
		if (errno == ENOENT)
			return -2;
		buf_printf(err, "cannot read %s: %s", releases_dir, strerror(errno));
		return -1;
	}
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			*ARRAY_PUSH(*names, *n, cap) = xstrdup(e->d_name);
	if (*n)
		qsort(*names, *n, sizeof(**names), by_name);
	int fd = dup(dirfd);
	closedir(d);
	if (fd < 0) {
		buf_printf(err, "cannot read %s: %s", releases_dir, strerror(errno));
		free_names(*names, *n);
		return -1;
	}
	return fd;
}

size_t release_prune_plan(const char *const *names, size_t n, size_t keep,
			  const char *const *in_use, size_t nin_use, unsigned char *go)
{
	size_t going = 0;
	/* The oldest go first, and only while more than keep are left; a
	 * release a slot holds is never one of them. */
	for (size_t i = 0, left = n; i < n && left > keep; i++) {
		int used = 0;
		for (size_t k = 0; k < nin_use; k++)
			used = used || (in_use[k] && !strcmp(in_use[k], names[i]));
		go[i] = !used;
		going += go[i];
		left -= go[i];
	}
	return going;
}

int release_prune(const char *releases_dir, size_t keep, const char *const *in_use, size_t nin_use,
		  size_t *removed, struct buf *err)
{
	*removed = 0;
	char **names;
	size_t n;
	int dirfd = list_releases(releases_dir, &names, &n, err);
	if (dirfd < 0)
		return dirfd == -2 ? 0 : -1;
	int rc = 0;
	unsigned char *go = xcalloc(n ? n : 1, 1);
	release_prune_plan((const char *const *)names, n, keep, in_use, nin_use, go);
	struct buf aside = BUF_INIT;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (!go[i])
			continue;
		/* Set aside under a hidden name at the cost of a rename: no
		 * slot nor listing sees it again, and release_sweep removes
		 * it without holding up the deploy. */
		buf_clear(&aside);
		buf_printf(&aside, PRUNED_PREFIX "%s", names[i]);
		if (renameat2(dirfd, names[i], dirfd, aside.data, RENAME_NOREPLACE) < 0 &&
		    remove_at(dirfd, names[i]) < 0) {
			buf_printf(err, "cannot remove release %s/%s: %s", releases_dir, names[i],
				   strerror(errno));
			rc = -1;
		} else {
			(*removed)++;
		}
	}
	buf_free(&aside);
	free(go);
	free_names(names, n);
	close(dirfd);
	return rc;
}

void release_sweep(const char *releases_dir)
{
	remove_hidden(releases_dir, PRUNED_PREFIX);
}

void release_sweep_detached(const char *releases_dir)
{
	pid_t pid = fork();
	if (pid < 0) {
		release_sweep(releases_dir);
		return;
	}
	if (pid == 0) {
		/* A grandchild of no session or descriptor of the caller's
		 * (its lock, its output pipe): the caller ends at once. */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (setsid() < 0 || null < 0 || fork() != 0)
			_exit(0);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close_range(3, ~0U, 0);
		release_sweep(releases_dir);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

int release_find(struct release *out, const char *releases_dir, const char *id,
		 const char *revision, struct buf *err)
{
	char **names;
	size_t n;
	memset(out, 0, sizeof(*out));
	int dirfd = list_releases(releases_dir, &names, &n, err);
	if (dirfd < 0)
		return dirfd == -2 ? 0 : -1;
	const char *found = NULL;
	for (size_t i = n; !found && id && i-- > 0;)
		if (!strcmp(names[i], id))
			found = names[i];
	for (size_t i = n; !found && revision && i-- > 0;) {
		/* "<time>-<12 hex of the revision>", perhaps with "-N" */
		const char *hex = strchr(names[i], '-');
		if (hex && strlen(revision) >= REVISION_SHOWN &&
		    !strncmp(hex + 1, revision, REVISION_SHOWN) &&
		    (hex[1 + REVISION_SHOWN] == '\0' || hex[1 + REVISION_SHOWN] == '-'))
			found = names[i];
	}
	if (found) {
		out->id = xstrdup(found);
		struct buf dir = BUF_INIT;
		buf_printf(&dir, "%s/%s", releases_dir, found);
		out->dir = buf_detach(&dir);
	}
	free_names(names, n);
	close(dirfd);
	return found != NULL;
}

void release_free(struct release *rel)
{
	for (size_t i = 0; i < rel->n_files; i++)
		free(rel->files[i]);
	for (size_t i = 0; i < rel->n_submodules; i++)
		free(rel->submodules[i]);
	free(rel->files);
	free(rel->submodules);
	free(rel->id);
	free(rel->dir);
	globlist_free(&rel->deployignore);
	memset(rel, 0, sizeof(*rel));
}
