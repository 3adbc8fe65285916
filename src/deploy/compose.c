/*
 * compose: see compose.h. What Docker says is read from its own output
 * formats (--format, -q), one line a thing; Compose's only from `config`,
 * whose YAML is normalized (a mapping per service, two levels deep).
 */
#include "compose.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "compose_load.h"
#include "host.h"
#include "rules.h"

/* How long `docker compose version` may take to say whether it is there. */
#define FIND_LIMIT_MS 30000
#define PROJECT_LABEL "label=com.docker.compose.project="

void compose_target_init(struct compose_target *ct, const struct deploy_target *t,
			 const struct deploy_policy *d)
{
	*ct = (struct compose_target){.name = BUF_INIT, .images = BUF_INIT, .file = t->compose};
	buf_printf(&ct->name, "%s-%s", t->project, t->environment);
	buf_printf(&ct->images, "%s/%s", t->project, t->environment);
	char **words = t->compose_command.argv ? t->compose_command.argv : d->compose_command.argv;
	if (words) {
		struct strvec copy = STRVEC_INIT;
		strvec_push_all(&copy, (const char *const *)words);
		ct->program = strvec_detach(&copy);
	}
	ct->docker = ct->program && ct->program[1] && !strcmp(ct->program[1], "compose")
			 ? ct->program[0]
			 : "docker";
	ct->limit_ms = t->command_timeout_seconds * 1000;
}

void compose_target_free(struct compose_target *ct)
{
	buf_free(&ct->name);
	buf_free(&ct->images);
	strvec_free(ct->program);
	ct->program = NULL;
}

void compose_project(struct buf *out, const struct compose_target *ct, const char *slot)
{
	buf_clear(out);
	buf_printf(out, "%s-%s", ct->name.data, slot);
}

/* The line at *p and its length, *p moved past it; NULL at the end. */
static const char *line_next(const char **p, size_t *len)
{
	if (!*p || !**p)
		return NULL;
	const char *line = *p;
	*len = strcspn(line, "\n");
	*p = line + *len + (line[*len] == '\n');
	return line;
}

/* Runs argv on h, its stdout into out (NULL: discarded), within the
 * target's limit. Returns 0 when it exited 0, else -1 with how it ended
 * and the first line it wrote to stderr in err. */
static int docker(const struct compose_target *ct, struct host *h, char **argv, struct buf *out,
		  struct buf *err)
{
	struct buf said = BUF_INIT;
	struct host_command c = {
	    .argv = (const char *const *)argv,
	    .out = out ? (struct run_output){.kind = RUN_OUT_CAPTURE, .buf = out}
		       : (struct run_output){.kind = RUN_OUT_DISCARD},
	    .err = {.kind = RUN_OUT_CAPTURE, .buf = &said},
	    .limit_ms = ct->limit_ms,
	    .grace_ms = 1000,
	};
	int rc = host_run_checked(h, &c, err);
	if (rc < 0 && said.len)
		buf_printf(err, ": %.*s", (int)strcspn(said.data, "\n"), said.data);
	buf_free(&said);
	strvec_free(argv);
	return rc;
}

int compose_find_program(struct compose_target *ct, struct host *h, struct buf *err)
{
	if (ct->program)
		return 0;
	const char *probe[] = {ct->docker, "compose", "version", NULL};
	struct host_command c = {.argv = probe,
				 .out = {.kind = RUN_OUT_DISCARD},
				 .err = {.kind = RUN_OUT_DISCARD},
				 .limit_ms = FIND_LIMIT_MS,
				 .grace_ms = 1000};
	struct run_result r;
	if (host_run(h, &c, &r, err) < 0)
		return -1;
	struct strvec words = STRVEC_INIT;
	if (r.code == 0 && !r.timed_out) {
		strvec_push(&words, ct->docker);
		strvec_push(&words, "compose");
	} else {
		strvec_push(&words, "docker-compose");
	}
	ct->program = strvec_detach(&words);
	return 0;
}

void compose_argv(struct strvec *argv, const struct compose_target *ct, const char *slot,
		  int override)
{
	strvec_push_all(argv, (const char *const *)ct->program);
	strvec_push(argv, "-p");
	if (slot)
		strvec_pushf(argv, "%s-%s", ct->name.data, slot);
	else
		strvec_push(argv, ct->name.data);
	strvec_push(argv, "-f");
	strvec_push(argv, ct->file);
	if (override) {
		strvec_push(argv, "-f");
		strvec_push(argv, COMPOSE_OVERRIDE);
	}
}

/* ---- containers -------------------------------------------------------- */

void compose_containers_free(struct compose_containers *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->items[i].id);
		free(cs->items[i].service);
		free(cs->items[i].state);
		free(cs->items[i].status);
	}
	free(cs->items);
	memset(cs, 0, sizeof(*cs));
}

/* The next tab-separated field of the line at *p (len left), copied. */
static char *field(const char **p, size_t *len)
{
	size_t n = 0;
	while (n < *len && (*p)[n] != '\t')
		n++;
	char *s = xstrndup(*p, n);
	n += n < *len;
	*p += n;
	*len -= n;
	return s;
}

int compose_ps(const struct compose_target *ct, struct host *h, const char *slot,
	       struct compose_containers *out, struct buf *err)
{
	struct strvec argv = STRVEC_INIT;
	struct buf text = BUF_INIT, project = BUF_INIT;
	compose_project(&project, ct, slot);
	strvec_push(&argv, ct->docker);
	strvec_push_all(&argv, (const char *const[]){"ps", "-a", "--no-trunc", "--filter", NULL});
	strvec_pushf(&argv, PROJECT_LABEL "%s", project.data);
	strvec_push(&argv, "--format");
	strvec_push(&argv, "{{.ID}}\t{{.Label \"com.docker.compose.service\"}}\t{{.State}}\t"
			   "{{.Status}}");
	memset(out, 0, sizeof(*out));
	int rc = docker(ct, h, strvec_detach(&argv), &text, err);
	const char *p = rc == 0 ? text.data : NULL, *line;
	size_t len;
	while ((line = line_next(&p, &len)))
		if (len) {
			struct compose_container *c = ARRAY_PUSH(out->items, out->n, out->cap);
			c->id = field(&line, &len);
			c->service = field(&line, &len);
			c->state = field(&line, &len);
			c->status = field(&line, &len);
		}
	buf_free(&text);
	buf_free(&project);
	return rc;
}

int compose_running(const struct compose_target *ct, struct host *h, const char *slot, int *running,
		    struct buf *err)
{
	struct compose_containers cs;
	*running = 0;
	if (compose_ps(ct, h, slot, &cs, err) < 0)
		return -1;
	*running = cs.n > 0;
	for (size_t i = 0; i < cs.n; i++)
		*running = *running && !strcmp(cs.items[i].state, "running");
	compose_containers_free(&cs);
	return 0;
}

/* DOCKER WORDS... then each line of ids (none: nothing run). */
static int docker_each(const struct compose_target *ct, struct host *h, const char *const *words,
		       const char *ids, struct buf *err)
{
	struct strvec argv = STRVEC_INIT;
	strvec_push(&argv, ct->docker);
	strvec_push_all(&argv, words);
	size_t n = 0, len;
	for (const char *p = ids, *line; (line = line_next(&p, &len));)
		if (len) {
			strvec_push_owned(&argv, xstrndup(line, len));
			n++;
		}
	if (!n) {
		strvec_clear(&argv);
		return 0;
	}
	return docker(ct, h, strvec_detach(&argv), NULL, err);
}

int compose_stop(const struct compose_target *ct, struct host *h, const char *slot,
		 unsigned grace_ms, struct buf *err)
{
	struct buf project = BUF_INIT, filter = BUF_INIT, ids = BUF_INIT, nets = BUF_INIT;
	char grace[16];
	snprintf(grace, sizeof(grace), "%u", (grace_ms + 999) / 1000);
	compose_project(&project, ct, slot);
	buf_printf(&filter, PROJECT_LABEL "%s", project.data);
	struct strvec ps = STRVEC_INIT, ls = STRVEC_INIT;
	strvec_push_all(&ps, (const char *const[]){ct->docker, "ps", "-aq", "--no-trunc",
						   "--filter", filter.data, NULL});
	strvec_push_all(&ls, (const char *const[]){ct->docker, "network", "ls", "-q", "--filter",
						   filter.data, NULL});
	int rc = docker(ct, h, strvec_detach(&ps), &ids, err);
	if (rc == 0)
		rc = docker_each(ct, h, (const char *const[]){"stop", "-t", grace, NULL}, ids.data,
				 err);
	if (rc == 0)
		rc = docker_each(ct, h, (const char *const[]){"rm", "-f", NULL}, ids.data, err);
	if (rc == 0)
		rc = docker(ct, h, strvec_detach(&ls), &nets, err);
	else
		strvec_clear(&ls);
	if (rc == 0)
		rc = docker_each(ct, h, (const char *const[]){"network", "rm", NULL}, nets.data,
				 err);
	buf_free(&project);
	buf_free(&filter);
	buf_free(&ids);
	buf_free(&nets);
	return rc;
}

int compose_logs(const struct compose_target *ct, struct host *h, const char *slot, time_t since,
		 struct buf *out, struct buf *err)
{
	struct compose_containers cs;
	if (compose_ps(ct, h, slot, &cs, err) < 0)
		return -1;
	char when[32];
	struct tm utc;
	gmtime_r(&since, &utc);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &utc);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < cs.n; i++) {
		const char *argv[] = {ct->docker, "logs", "--since", when, cs.items[i].id, NULL};
		/* The app's own output, both streams, as Docker kept it. */
		struct host_command c = {.argv = argv,
					 .out = {.kind = RUN_OUT_CAPTURE, .buf = out},
					 .err = {.kind = RUN_OUT_CAPTURE, .buf = out},
					 .limit_ms = ct->limit_ms,
					 .grace_ms = 1000};
		rc = host_run_checked(h, &c, err);
	}
	compose_containers_free(&cs);
	return rc;
}

/* ---- gate 5's images --------------------------------------------------- */

/* A line's indent, and its text without it and without a trailing blank. */
static size_t indent_of(const char *line, size_t len, const char **text, size_t *text_len)
{
	size_t n = 0;
	while (n < len && line[n] == ' ')
		n++;
	*text = line + n;
	*text_len = len - n;
	while (*text_len && (*text)[*text_len - 1] == ' ')
		(*text_len)--;
	return n;
}

/* "name:" (a key that opens a mapping), its quotes taken off: the name's
 * length, or 0 when the text is not one. */
static size_t mapping_key(const char *text, size_t len, const char **name)
{
	if (len < 2 || text[len - 1] != ':')
		return 0;
	*name = text;
	len--;
	if (len >= 2 && (text[0] == '\'' || text[0] == '"') && text[len - 1] == text[0]) {
		(*name)++;
		len -= 2;
	}
	return len;
}

int compose_built_services(const char *config, struct strvec *out, struct buf *err)
{
	int in_services = 0, seen = 0;
	size_t service_indent = 0, key_indent = 0;
	const char *service = NULL;
	size_t service_len = 0;
	size_t len;
	for (const char *p = config, *line; (line = line_next(&p, &len));) {
		const char *text;
		size_t text_len, indent = indent_of(line, len, &text, &text_len);
		if (!text_len || *text == '#')
			continue;
		if (indent == 0) {
			in_services = text_len == 9 && !strncmp(text, "services:", 9);
			seen = seen || in_services;
			service = NULL;
			continue;
		}
		if (!in_services)
			continue;
		if (!service_indent || indent == service_indent) {
			service_indent = indent;
			service_len = mapping_key(text, text_len, &service);
			key_indent = 0;
		} else if (service && indent > service_indent &&
			   (!key_indent || indent == key_indent)) {
			key_indent = indent;
			if (text_len >= 6 && !strncmp(text, "build:", 6))
				strvec_push_owned(out, xstrndup(service, service_len));
		}
	}
	if (seen)
		return 0;
	buf_adds(err, "the Compose file's configuration has no services");
	return -1;
}

int compose_override(struct buf *out, const struct compose_target *ct, const char *release,
		     const char *const *services, size_t n, struct buf *err)
{
	json_t *all = json_object();
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (!compose_name_ok(services[i], strlen(services[i]), 1)) {
			buf_printf(err,
				   "service '%s' cannot name an image: Docker takes lowercase "
				   "letters and digits, with '-', or one '_' or '.', between them",
				   services[i]);
			rc = -1;
			break;
		}
		struct buf image = BUF_INIT;
		buf_printf(&image, "%s/%s:%s", ct->images.data, services[i], release);
		json_object_set_new(all, services[i],
				    json_pack("{s:s, s:{s:{s:s, s:s}}}", "image", image.data,
					      "build", "labels", "gitgate.target", ct->images.data,
					      "gitgate.release", release));
		buf_free(&image);
	}
	json_t *root = json_pack("{s:o}", "services", all);
	char *text = rc == 0 ? json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	if (text)
		buf_printf(out, "%s\n", text);
	free(text);
	json_decref(root);
	return rc;
}

int compose_images(const struct compose_target *ct, struct host *h, struct strvec *out,
		   struct buf *err)
{
	struct buf text = BUF_INIT;
	struct strvec argv = STRVEC_INIT;
	strvec_push_all(&argv, (const char *const[]){ct->docker, "image", "ls", "--filter", NULL});
	strvec_pushf(&argv, "label=gitgate.target=%s", ct->images.data);
	strvec_push_all(&argv, (const char *const[]){"--format", "{{.Repository}}:{{.Tag}}", NULL});
	int rc = docker(ct, h, strvec_detach(&argv), &text, err);
	const char *p = rc == 0 ? text.data : NULL, *line;
	size_t len;
	while ((line = line_next(&p, &len)))
		/* An image of ours whose tag went to a newer build has none. */
		if (len && !memmem(line, len, "<none>", 6))
			strvec_push_owned(out, xstrndup(line, len));
	buf_free(&text);
	return rc;
}

int compose_remove_images(const struct compose_target *ct, struct host *h, const char *const *refs,
			  size_t n, struct buf *err)
{
	if (!n)
		return 0;
	struct strvec argv = STRVEC_INIT;
	strvec_push_all(&argv, (const char *const[]){ct->docker, "image", "rm", NULL});
	for (size_t i = 0; i < n; i++)
		strvec_push(&argv, refs[i]);
	return docker(ct, h, strvec_detach(&argv), NULL, err);
}
