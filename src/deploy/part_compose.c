/*
 * part_compose: what a deploy does with a Compose target's part
 * (compose.h). Gate 5 builds its images on the part's host, in the
 * release there, with gitgate's variables only (no env file value reaches
 * an image), each tagged with the release; a slot's project comes up from
 * them without a build, with the env file's variables; images whose
 * release is no longer kept are removed. The Compose program and Docker
 * are the admin's (rules.ini, the host): they run outside the sandbox,
 * and the pushed code runs in the containers they start.
 */
#include "engine.h"

#include <string.h>

/* Runs argv (consumed) with env (consumed) on the part's host in dir, its
 * output into the deploy log through the job's mask; into out instead when
 * given (stderr still to the log). Returns 0 when it exited 0, else -1 with
 * how it ended and the log's last lines in detail. */
static int compose_run(struct deploy_job *j, struct part *p, char **argv, char **env,
		       const char *dir, struct buf *out, struct buf *detail)
{
	struct run_output log = {.kind = RUN_OUT_APPEND, .path = j->log.data, .mask = &j->mask};
	struct host_command hc = {
	    .argv = (const char *const *)argv,
	    .env = (const char *const *)env,
	    .cwd = dir,
	    .out = out ? (struct run_output){.kind = RUN_OUT_CAPTURE, .buf = out} : log,
	    .err = log,
	    .limit_ms = p->t->command_timeout_seconds * 1000,
	    .grace_ms = GRACE_MS,
	};
	int rc = host_run_checked(p->host, &hc, detail);
	if (rc < 0) {
		buf_printf(detail, " (%s)", p->label.data);
		log_tail(detail, j->log.data);
	}
	strvec_free(argv);
	strvec_free(env);
	return rc;
}

/* The environment of config and build: gitgate's variables, never the env
 * file's. */
static char **build_environ(struct deploy_job *j, const struct part *p)
{
	char port[16];
	struct command_vars vars;
	part_vars(&vars, j, p, p->next, port, sizeof(port));
	return part_environ(p, &vars, 0);
}

/* The override of the release in dir there: `config` says which services
 * build; each gets its image name and labels. *built: how many. */
static int write_override(struct deploy_job *j, struct part *p, const char *dir, size_t *built,
			  struct buf *detail)
{
	struct strvec argv = STRVEC_INIT, services = STRVEC_INIT;
	struct buf config = BUF_INIT, override = BUF_INIT, path = BUF_INIT;
	compose_argv(&argv, &p->compose, NULL, 0);
	strvec_push(&argv, "config");
	int rc = compose_run(j, p, strvec_detach(&argv), build_environ(j, p), dir, &config, detail);
	if (rc == 0)
		rc = compose_built_services(config.data ? config.data : "", &services, detail);
	if (rc == 0)
		rc = compose_override(&override, &p->compose, p->primary->release.id,
				      (const char *const *)services.v, services.n, detail);
	buf_printf(&path, "%s/%s", dir, COMPOSE_OVERRIDE);
	if (rc == 0)
		rc = host_replace_file(p->host, path.data, override.data, override.len, detail);
	*built = services.n;
	strvec_clear(&services);
	buf_free(&config);
	buf_free(&override);
	buf_free(&path);
	return rc;
}

/* Gate 5 for the part: the release on its host (received there now; the
 * slot later finds it there), its override written, its images built. */
int part_compose_build(struct deploy_job *j, struct part *p, struct buf *detail)
{
	const struct release *rel = &p->primary->release;
	struct buf there = BUF_INIT, why = BUF_INIT, sent = BUF_INIT;
	size_t built = 0;
	int rc = compose_find_program(&p->compose, p->host, &why);
	if (rc == 0)
		rc = part_receive(j, p, SLOT_NONE, &there, &sent, &why);
	if (rc == 0)
		rc = write_override(j, p, there.data, &built, &why);
	if (rc == 0 && built) {
		struct strvec argv = STRVEC_INIT;
		compose_argv(&argv, &p->compose, NULL, 1);
		strvec_push(&argv, "build");
		rc = compose_run(j, p, strvec_detach(&argv), build_environ(j, p), there.data, NULL,
				 &why);
	}
	if (rc == 0)
		buf_printf(&why, "%s%s%s: %zu image%s built as %s/SERVICE:%s",
			   sent.data ? sent.data : "", sent.len ? "; " : "", p->label.data, built,
			   built == 1 ? "" : "s", p->compose.images.data, rel->id);
	buf_printf(detail, "%s%s", detail->len ? "; " : "", why.data);
	buf_free(&there);
	buf_free(&why);
	buf_free(&sent);
	return rc;
}

/* A project that came up with a container that is not running (it exited
 * at once) is said so, by service and state. Returns 0 when all run. */
static int all_up(struct part *p, const char *slot, struct buf *detail)
{
	struct compose_containers cs;
	if (compose_ps(&p->compose, p->host, slot, &cs, detail) < 0)
		return -1;
	int ok = cs.n > 0;
	if (!cs.n)
		buf_printf(detail, "the %s slot's project %s-%s has no container", slot,
			   p->compose.name.data, slot);
	for (size_t i = 0; i < cs.n; i++)
		if (strcmp(cs.items[i].state, "running")) {
			buf_printf(detail, "%s%s of the %s slot is %s (%s)", ok ? "" : "; ",
				   cs.items[i].service, slot, cs.items[i].state,
				   cs.items[i].status);
			ok = 0;
		}
	if (!ok)
		buf_printf(detail, " (%s)", p->label.data);
	compose_containers_free(&cs);
	return ok ? 0 : -1;
}

/* The next slot's project, up from its release's images, with the env
 * file's variables and gitgate's to interpolate. */
int part_compose_up(struct deploy_job *j, struct part *p, struct buf *detail)
{
	char port[16];
	struct command_vars vars;
	part_vars(&vars, j, p, p->next, port, sizeof(port));
	struct strvec argv = STRVEC_INIT;
	struct buf dir = BUF_INIT;
	slot_dir(&dir, &p->slot, p->next);
	int rc = compose_find_program(&p->compose, p->host, detail);
	if (rc < 0)
		goto done;
	compose_argv(&argv, &p->compose, slot_name(p->next), 1);
	strvec_push_all(&argv,
			(const char *const[]){"up", "-d", "--no-build", "--remove-orphans", NULL});
	rc = compose_run(j, p, strvec_detach(&argv), part_environ(p, &vars, 1), dir.data, NULL,
			 detail);
	if (rc == 0)
		rc = all_up(p, slot_name(p->next), detail);
	if (rc == 0)
		rc = slot_mark_running(&p->slot, p->next, 1, detail);
	/* What came up of a project that failed is not left running. */
	if (rc < 0) {
		struct buf ignored = BUF_INIT;
		slot_stop(&p->slot, p->next, &ignored);
		buf_free(&ignored);
	}
done:
	buf_free(&dir);
	return rc;
}

/* Removes the part's images whose release is no longer kept here (both
 * slots' releases always are). A failure is said, never a failed deploy. */
void part_compose_prune(struct deploy_job *j, struct part *p)
{
	struct strvec refs = STRVEC_INIT, gone = STRVEC_INIT;
	struct buf err = BUF_INIT;
	int rc = compose_images(&p->compose, p->host, &refs, &err);
	for (size_t i = 0; rc == 0 && i < refs.n; i++) {
		struct release kept;
		const char *tag = strrchr(refs.v[i], ':') + 1;
		int found = release_find(&kept, p->releases_dir.data, tag, NULL, &err);
		if (found == 0)
			strvec_push(&gone, refs.v[i]);
		if (found > 0)
			release_free(&kept);
		rc = found < 0 ? -1 : 0;
	}
	if (rc == 0)
		rc = compose_remove_images(&p->compose, p->host, (const char *const *)gone.v,
					   gone.n, &err);
	if (rc < 0)
		fprintf(j->out, "warning: gitgate: %s: the images of releases no longer kept: %s\n",
			p->label.data, err.data);
	strvec_clear(&refs);
	strvec_clear(&gone);
	buf_free(&err);
}

int deploy_target_containers(const struct deploy_site *site, const struct deploy_target *t,
			     enum slot_color c, struct buf *out, struct buf *err)
{
	struct compose_target ct;
	struct compose_containers cs = {0};
	compose_target_init(&ct, t, &site->rules->deploy);
	struct host *here = host_local_open(NULL);
	int rc = compose_ps(&ct, here, slot_name(c), &cs, err);
	for (size_t i = 0; rc == 0 && i < cs.n; i++)
		buf_printf(out, "%s %s (%s)\n", cs.items[i].service, cs.items[i].state,
			   cs.items[i].status);
	compose_containers_free(&cs);
	host_close(here);
	compose_target_free(&ct);
	return rc;
}

int part_compose_logs(struct part *p, void (*line)(void *arg, const char *line, size_t len),
		      void *arg, struct buf *detail)
{
	struct buf text = BUF_INIT;
	time_t now = time(NULL);
	/* From the second it began: a line of that second is read twice
	 * rather than never. */
	int rc =
	    compose_logs(&p->compose, p->host, slot_name(p->next), p->app_started, &text, detail);
	for (const char *s = text.data; rc == 0 && s && *s;) {
		size_t len = strcspn(s, "\n");
		size_t shown = len && s[len - 1] == '\r' ? len - 1 : len;
		line(arg, s, shown);
		s += len + (s[len] == '\n');
	}
	if (rc == 0)
		p->app_started = now;
	buf_free(&text);
	return rc;
}
