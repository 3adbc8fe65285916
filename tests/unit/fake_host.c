/*
 * fake_host: see fake_host.h.
 */
#include "fake_host.h"

#include <stdlib.h>
#include <string.h>

static struct fake_host *fakes[8];
static size_t nfakes;

static struct fake_host *fake(struct host *h)
{
	return (struct fake_host *)h;
}

/* Counts an operation: -1 (err said) once the host is lost. */
static int op(struct host *h, struct buf *err, const char *what, const char *arg)
{
	struct fake_host *f = fake(h);
	buf_printf(&f->journal, "%s %s\n", what, arg ? arg : "");
	if (f->lose_at >= 0 && f->ops++ >= f->lose_at) {
		buf_printf(err, "the connection to %s failed or was lost", h->address);
		return -1;
	}
	return 0;
}

static struct fake_entry *entry(struct fake_host *f, const char *path)
{
	for (size_t i = 0; i < f->nentries; i++)
		if (!strcmp(f->entries[i].path, path))
			return &f->entries[i];
	return NULL;
}

static void put(struct fake_host *f, const char *path, const char *data, size_t len, int is_link)
{
	struct fake_entry *e = entry(f, path);
	if (!e) {
		if (f->nentries == FAKE_MAX_ENTRIES)
			abort();
		e = &f->entries[f->nentries++];
		e->path = xstrdup(path);
	} else {
		free(e->data);
	}
	e->data = xcalloc(len + 1, 1);
	memcpy(e->data, data, len);
	e->is_link = is_link;
}

static int fake_run(struct host *h, const struct host_command *c, struct run_result *r,
		    struct buf *err)
{
	memset(r, 0, sizeof(*r));
	return op(h, err, "run", c->argv[0]);
}

static int fake_read_file(struct host *h, const char *path, struct buf *out, int *found,
			  struct buf *err)
{
	buf_clear(out);
	*found = 0;
	if (op(h, err, "read", path) < 0)
		return -1;
	struct fake_entry *e = entry(fake(h), path);
	if (e && !e->is_link) {
		buf_adds(out, e->data);
		*found = 1;
	}
	return 0;
}

static int fake_replace_file(struct host *h, const char *path, const char *data, size_t len,
			     struct buf *err)
{
	if (op(h, err, "write", path) < 0)
		return -1;
	put(fake(h), path, data ? data : "", data ? len : 0, 0);
	return 0;
}

static int fake_link(struct host *h, const char *path, const char *target, struct buf *err)
{
	struct fake_host *f = fake(h);
	struct buf what = BUF_INIT;
	buf_printf(&what, "%s %s", path, target);
	int rc = op(h, err, "link", what.data);
	buf_free(&what);
	if (rc == 0 && f->fail_link && !strcmp(f->fail_link, path)) {
		buf_printf(err, "cannot rename over %s: Input/output error", path);
		rc = -1;
	}
	if (rc == 0)
		put(f, path, target, strlen(target), 1);
	return rc;
}

static int fake_prune(struct host *h, const char *root, size_t keep, const char *const *in_use,
		      size_t nin_use, size_t *removed, struct buf *err)
{
	(void)keep, (void)in_use, (void)nin_use;
	*removed = 0;
	return op(h, err, "prune", root);
}

static void slot_of(struct buf *out, const struct host_app *app)
{
	buf_clear(out);
	buf_printf(out, "%s-%s", app->root, app->slot);
}

static size_t find_running(const struct fake_host *f, const char *dir)
{
	for (size_t i = 0; i < f->nrunning; i++)
		if (!strcmp(f->running[i], dir))
			return i;
	return (size_t)-1;
}

static int fake_app_start(struct host *h, const struct host_app *app, const struct host_command *c,
			  struct buf *err)
{
	(void)c;
	struct fake_host *f = fake(h);
	struct buf dir = BUF_INIT;
	slot_of(&dir, app);
	int rc = op(h, err, "start", dir.data);
	if (rc == 0 && find_running(f, dir.data) != (size_t)-1) {
		buf_printf(err, "the %s slot is already running", app->slot);
		rc = -1;
	}
	if (rc == 0)
		f->running[f->nrunning++] = xstrdup(dir.data);
	buf_free(&dir);
	return rc;
}

static int fake_app_running(struct host *h, const struct host_app *app, int *running,
			    struct buf *err)
{
	struct buf dir = BUF_INIT;
	slot_of(&dir, app);
	*running = 0;
	int rc = op(h, err, "running?", dir.data);
	if (rc == 0)
		*running = find_running(fake(h), dir.data) != (size_t)-1;
	buf_free(&dir);
	return rc;
}

static int fake_app_stop(struct host *h, const struct host_app *app, unsigned grace_ms,
			 struct buf *err)
{
	(void)grace_ms;
	struct fake_host *f = fake(h);
	struct buf dir = BUF_INIT;
	slot_of(&dir, app);
	int rc = op(h, err, "stop", dir.data);
	size_t i = find_running(f, dir.data);
	if (rc == 0 && i != (size_t)-1) {
		free(f->running[i]);
		f->running[i] = f->running[--f->nrunning];
	}
	buf_free(&dir);
	return rc;
}

/* Journaled as "receive ID", or "receive ID on BASE" given a base, then
 * the stop and the link it was given. */
static int fake_receive(struct host *h, const struct host_release *r, struct buf *where,
			struct buf *said, struct buf *err)
{
	(void)said;
	buf_clear(where);
	buf_printf(where, "%s-releases/%s", r->root, r->id);
	struct buf what = BUF_INIT;
	buf_printf(&what, "%s%s%s", r->id, r->base_id ? " on " : "", r->base_id ? r->base_id : "");
	int rc = op(h, err, "receive", what.data);
	buf_free(&what);
	if (rc == 0 && r->stop)
		rc = fake_app_stop(h, r->stop, r->stop_grace_ms, err);
	if (rc == 0 && r->link)
		rc = fake_link(h, r->link, where->data, err);
	return rc;
}

static void fake_app_log(struct host *h, const struct host_app *app, struct buf *out)
{
	(void)h;
	buf_clear(out);
	buf_printf(out, "%s-%s.log", app->root, app->slot);
}

static int fake_check(struct host *h, struct health_spec *spec, const char **deps,
		      struct health_report *out, struct buf *err)
{
	(void)deps;
	struct buf what = BUF_INIT;
	buf_printf(&what, "port %u", spec->port);
	memset(out, 0, sizeof(*out));
	int rc = op(h, err, "check", what.data);
	struct fake_host *f = fake(h);
	int healthy = f->sick_from < 0 || f->checks++ < f->sick_from;
	if (rc == 0) {
		out->items = xcalloc(1, sizeof(*out->items));
		out->n = out->cap = 1;
		out->items[0].what = xstrdup(what.data);
		out->items[0].ok = healthy;
		out->items[0].why = healthy ? NULL : xstrdup("HTTP 503");
		out->level = spec->level;
		out->passed = healthy;
		out->attempts = 1;
	}
	buf_free(&what);
	return rc;
}

static int fake_log_mark(struct host *h, const char *path, struct logpos *pos, struct buf *err)
{
	*pos = (struct logpos){0, 0, 0};
	return op(h, err, "log_mark", path);
}

static int fake_log_follow(struct host *h, const char *path, struct logpos *pos,
			   logfollow_line_fn line, void *arg, struct buf *err)
{
	(void)pos, (void)line, (void)arg;
	return op(h, err, "log_follow", path);
}

static void fake_close(struct host *h)
{
	fake(h)->closed++;
}

static const struct host_ops fake_ops = {
    .run = fake_run,
    .read_file = fake_read_file,
    .replace_file = fake_replace_file,
    .link = fake_link,
    .receive = fake_receive,
    .prune = fake_prune,
    .app_start = fake_app_start,
    .app_running = fake_app_running,
    .app_stop = fake_app_stop,
    .app_log = fake_app_log,
    .check = fake_check,
    .log_mark = fake_log_mark,
    .log_follow = fake_log_follow,
    .close = fake_close,
};

struct fake_host *fake_host_new(const char *address)
{
	struct fake_host *f = xcalloc(1, sizeof(*f));
	f->host = (struct host){.ops = &fake_ops, .address = xstrdup(address)};
	f->host.sandbox.explicit = 1;
	f->host.sandbox.why = (struct buf)BUF_INIT;
	buf_adds(&f->host.sandbox.why, "sandbox = no in rules.ini");
	f->sick_from = -1;
	f->lose_at = -1;
	f->journal = (struct buf)BUF_INIT;
	fakes[nfakes++] = f;
	return f;
}

void fake_hosts_free(void)
{
	for (size_t i = 0; i < nfakes; i++) {
		struct fake_host *f = fakes[i];
		for (size_t e = 0; e < f->nentries; e++) {
			free(f->entries[e].path);
			free(f->entries[e].data);
		}
		for (size_t r = 0; r < f->nrunning; r++)
			free(f->running[r]);
		buf_free(&f->host.sandbox.why);
		buf_free(&f->journal);
		free((char *)f->host.address);
		free(f);
	}
	nfakes = 0;
}

int fake_host_open(struct host **out, const char *address, const struct host_options *o,
		   struct buf *err)
{
	(void)o;
	for (size_t i = 0; i < nfakes; i++)
		if (!strcmp(fakes[i]->host.address, address)) {
			fakes[i]->opened++;
			*out = &fakes[i]->host;
			return 0;
		}
	buf_printf(err, "cannot connect to %s: no such host", address);
	return -1;
}

const char *fake_host_link(const struct fake_host *f, const char *path)
{
	for (size_t i = 0; i < f->nentries; i++)
		if (f->entries[i].is_link && !strcmp(f->entries[i].path, path))
			return f->entries[i].data;
	return NULL;
}

int fake_host_runs(const struct fake_host *f, const char *slot_dir)
{
	return find_running(f, slot_dir) != (size_t)-1;
}
