/*
 * repo: see repo.h.
 */
#include "repo.h"

#include <string.h>

/*
 * gitgate reads local repositories only and never opens a network
 * connection through libgit2. Debian's libgit2 nevertheless parses the
 * whole system CA bundle with mbedTLS in git_libgit2_init (about 8 ms, more
 * than a small push takes to check). These two definitions take the place
 * of mbedTLS's for this process: the trust store stays empty, so any TLS
 * connection would fail verification rather than be trusted.
 */
struct mbedtls_x509_crt;
int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path);
int mbedtls_x509_crt_parse_path(struct mbedtls_x509_crt *chain, const char *path);

int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path)
{
	(void)chain;
	(void)path;
	return 0;
}

int mbedtls_x509_crt_parse_path(struct mbedtls_x509_crt *chain, const char *path)
{
	(void)chain;
	(void)path;
	return 0;
}

/* Per repository handle. Walking history, the trees worth keeping are the
 * parent's, which the next commit reads again; a larger cache only fills
 * with trees nobody reads twice, and measured slower (more page faults):
 * over vite's history 256 KB is as fast as 1 MB, with 2 MB less RSS. */
#define CACHE_BYTES (256 * 1024)
#define MWINDOW_BYTES (32 * 1024 * 1024)
/* Trees are read again by the next commit: keep large ones too. */
#define TREE_CACHE_LIMIT (256 * 1024)

void repo_error(struct buf *err, const char *what)
{
	const git_error *e = git_error_last();
	buf_adds(err, what);
	if (e && e->message)
		buf_printf(err, ": %s", e->message);
}

int repo_open(git_repository **out, struct buf *err)
{
	*out = NULL;
	if (git_libgit2_init() < 0) {
		repo_error(err, "cannot start libgit2");
		return -1;
	}
	/* Objects come from git's own object store; verifying each hash again
	 * costs more than the whole scan, and git checked them on receipt. */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)CACHE_BYTES);
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_BLOB, (size_t)0);
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)TREE_CACHE_LIMIT);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)MWINDOW_BYTES);
	if (git_repository_open_ext(out, NULL, GIT_REPOSITORY_OPEN_FROM_ENV, NULL) < 0) {
		repo_error(err, "cannot open the repository");
		const git_error *e = git_error_last();
		if (e && e->message && strstr(e->message, "objectformat"))
			buf_adds(err, " (SHA-256 repositories are not supported by this gitgate)");
		git_libgit2_shutdown();
		return -1;
	}
	return 0;
}

void repo_close(git_repository *repo)
{
	if (!repo)
		return;
	git_repository_free(repo);
	git_libgit2_shutdown();
}

int repo_read_blob(void *repo, const char *hex, struct buf *out)
{
	git_oid oid;
	git_blob *blob;
	if (git_oid_fromstr(&oid, hex) < 0 || git_blob_lookup(&blob, repo, &oid) < 0)
		return -1;
	buf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return 0;
}
