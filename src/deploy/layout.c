/*
 * layout: see layout.h.
 */
#include "layout.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

void layout_target(struct buf *out, const char *state_dir, const char *project,
		   const char *environment, const char *host)
{
	buf_printf(out, "%s/targets/%s-%s%s%s", state_dir, project, environment, host ? "@" : "",
		   host ? host : "");
}

void layout_releases(struct buf *out, const char *state_dir, const char *project,
		     const char *environment)
{
	buf_printf(out, "%s/releases/%s-%s", state_dir, project, environment);
}

void layout_logs(struct buf *out, const char *state_dir, const char *name, const char *suffix)
{
	buf_printf(out, "%s/logs", state_dir);
	if (name)
		buf_printf(out, "/%s%s", name, suffix ? suffix : "");
}

void layout_locks(struct buf *out, const char *state_dir, const char *unit, const char *environment)
{
	buf_printf(out, "%s/locks", state_dir);
	if (unit)
		buf_printf(out, "/%s-%s.lock", unit, environment);
}

void layout_watches(struct buf *out, const char *state_dir, const char *id)
{
	buf_printf(out, "%s/watches", state_dir);
	if (id)
		buf_printf(out, "/%s.json", id);
}

void layout_worker_lock(struct buf *out, const char *state_dir)
{
	buf_printf(out, "%s/worker.lock", state_dir);
}

void layout_ssh(struct buf *out, const char *state_dir)
{
	buf_printf(out, "%s/ssh", state_dir);
}

int layout_make_folder(const char *path, struct buf *err)
{
	if (mkdir(path, 0775) == 0 || errno == EEXIST)
		return 0;
	buf_printf(err, "cannot make %s: %s", path, strerror(errno));
	return -1;
}

int layout_make(const char *state_dir, struct buf *err)
{
	static const char *const folders[] = {"",      "/targets", "/releases",
					      "/logs", "/locks",   "/watches"};
	struct buf dir = BUF_INIT;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(folders) / sizeof(folders[0]); i++) {
		buf_clear(&dir);
		buf_printf(&dir, "%s%s", state_dir, folders[i]);
		rc = layout_make_folder(dir.data, err);
	}
	buf_free(&dir);
	return rc;
}

int layout_make_logs(const char *state_dir, struct buf *err)
{
	struct buf dir = BUF_INIT;
	layout_logs(&dir, state_dir, NULL, NULL);
	int rc = layout_make_folder(dir.data, err);
	buf_free(&dir);
	return rc;
}
