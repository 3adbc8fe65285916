/*
 * gitgate status [UNIT] [ENV]: what is live where: per target the live
 * slot, its revision, subject and since when, what each slot runs, the
 * last deploy or rollback and its health checks, and who holds the deploy
 * lock (the deploy running now).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "deploy.h"
#include "deploy_policy.h"
#include "escape.h"
#include "history.h"
#include "server.h"
#include "slot.h"
#include "state.h"
#include "status.h"

static void print_time(FILE *out, const char *label, time_t when)
{
	char text[32] = "-";
	struct tm tm;
	if (when)
		strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%SZ", gmtime_r(&when, &tm));
	fprintf(out, "%s%s", label, text);
}

/* "  fix the login page": the commit's subject, when the repository has it. */
static void print_subject(FILE *out, const struct server *s, const char *revision)
{
	git_oid oid;
	git_commit *commit = NULL;
	if (revision && git_oid_fromstr(&oid, revision) == 0 &&
	    git_commit_lookup(&commit, s->repo, &oid) == 0) {
		struct buf shown = BUF_INIT;
		const char *summary = git_commit_summary(commit);
		escape_bytes(&shown, summary ? summary : "", summary ? strlen(summary) : 0);
		fprintf(out, "  %s", shown.data ? shown.data : "");
		buf_free(&shown);
	}
	git_commit_free(commit);
}

/* The unit's last record in the environment: what it was, how it ended,
 * and its health checks. */
static void print_last_record(FILE *out, const struct server *s, const struct deploy_target *t)
{
	const struct project *p = rules_find_project(&s->rules, t->project);
	json_t *records = NULL;
	size_t skipped;
	struct buf err = BUF_INIT;
	if (history_read(&records, s->state_dir.data, p->unit->name, t->environment, 1, &skipped,
			 &err) == 0 &&
	    json_array_size(records)) {
		json_t *r = json_array_get(records, 0);
		/* A watch has no id of its own: it names the deploy it watched,
		 * and its checks are its "checks". */
		int watch = json_object_get(r, "id") == NULL;
		json_t *health = json_object_get(r, watch ? "checks" : "health"), *check;
		size_t ok = 0, i;
		json_array_foreach(health, i, check) ok +=
		    json_is_true(json_object_get(check, "ok"));
		struct buf what = BUF_INIT, who = BUF_INIT;
		const char *keys[] = {"kind", watch ? "deploy" : "id", "outcome", "finished"};
		const char *before[] = {"", watch ? " of " : " ", " ", ", "};
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			buf_adds(&what, before[k]);
			history_record_text(&what, r, keys[k], "-");
		}
		history_record_who(&who, r);
		fprintf(out, "    last: %s by %s; health: %zu of %zu checks passed\n", what.data,
			who.data, ok, json_array_size(health));
		buf_free(&what);
		buf_free(&who);
	}
	json_decref(records);
	buf_free(&err);
}

/* A Compose target's containers in slot c, as Docker says now. */
static void print_containers(FILE *out, const struct deploy_site *site,
			     const struct deploy_target *t, enum slot_color c)
{
	struct buf lines = BUF_INIT, err = BUF_INIT, shown = BUF_INIT;
	if (deploy_target_containers(site, t, c, &lines, &err) < 0)
		fprintf(out, "          containers: Docker could not be asked: %s\n", err.data);
	for (const char *p = lines.data; p && *p; p += strcspn(p, "\n") + 1) {
		buf_clear(&shown);
		escape_bytes(&shown, p, strcspn(p, "\n"));
		fprintf(out, "          %s\n", shown.data);
	}
	buf_free(&lines);
	buf_free(&err);
	buf_free(&shown);
}

/* The target on one host (NULL: this machine). A remote host's apps are
 * shown as the last deploy left them: status opens no connection. */
static int print_host(FILE *out, const struct server *s, const struct deploy_target *t,
		      const char *host)
{
	struct buf err = BUF_INIT;
	struct deploy_site site = deploy_site_of(s);
	struct slot_state st;
	int rc = deploy_target_read(&site, t, host, &st, &err);
	if (host)
		fprintf(out, "%-18s %-11s on %s\n", t->project, t->environment, host);
	if (rc < 0) {
		fprintf(out, "%-18s %-11s cannot read its state: %s\n", t->project, t->environment,
			err.data);
	} else {
		const struct slot_info *live = st.live == SLOT_NONE ? NULL : &st.slots[st.live];
		fprintf(out, "%-18s %-11s live %-5s %.12s", t->project, t->environment,
			live ? slot_name(st.live) : "-",
			live && live->revision ? live->revision : "-");
		print_time(out, "  since ", st.switched);
		print_subject(out, s, live ? live->revision : NULL);
		fputc('\n', out);
		for (int c = SLOT_BLUE; c <= SLOT_GREEN; c++) {
			const struct slot_info *si = &st.slots[c];
			fprintf(out, "    %-5s port %-5u %.12s %s%s\n", slot_name(c), t->ports[c],
				si->revision ? si->revision : "(empty)",
				si->running ? "running" : "stopped",
				host ? " (as last deployed)" : "");
			if (t->compose && !host)
				print_containers(out, &site, t, (enum slot_color)c);
		}
		slot_state_free(&st);
	}
	buf_free(&err);
	return rc;
}

static int print_target(FILE *out, const struct server *s, const struct deploy_target *t)
{
	struct buf err = BUF_INIT, holder_text = BUF_INIT;
	int rc = 0;
	for (size_t h = 0; h < (t->hosts.n ? t->hosts.n : 1); h++)
		if (print_host(out, s, t, t->hosts.n ? t->hosts.items[h] : NULL) < 0)
			rc = -1;
	if (rc == 0)
		print_last_record(out, s, t);
	const struct project *p = rules_find_project(&s->rules, t->project);
	struct deploy_site site = deploy_site_of(s);
	struct deploy_watching watch;
	if (deploy_watching(&site, p->unit, t->environment, &watch)) {
		time_t now = time(NULL);
		long left = watch.until > now ? (long)(watch.until - now) : 0;
		fprintf(out, "    watching, %ld min left (deploy %s)\n", (left + 59) / 60,
			watch.deploy);
	}
	struct state_holder holder;
	if (deploy_running(&site, p->unit, t->environment, &holder, &err) > 0) {
		state_holder_describe(&holder_text, &holder);
		fprintf(out, "    deploying now: %s\n", holder_text.data);
		state_holder_free(&holder);
	}
	buf_free(&err);
	buf_free(&holder_text);
	return rc;
}

int cli_status_print(FILE *out, const struct server *s, const struct cli_targets *which)
{
	const struct deploy_policy *d = &s->rules.deploy;
	size_t shown = 0;
	int rc = 0;
	for (size_t i = 0; i < d->ntargets; i++) {
		const struct deploy_target *t = &d->targets[i];
		if (which && !cli_targets_match(which, t))
			continue;
		if (print_target(out, s, t) < 0)
			rc = -1;
		shown++;
	}
	if (!shown)
		fprintf(out, "no target matches\n");
	return rc;
}

int cmd_status(int argc, char **argv)
{
	struct server server;
	struct cli_targets which;
	int status = cli_targets_open(&server, &which, argc, argv);
	if (status)
		return status;
	if (cli_status_print(stdout, &server, &which) < 0)
		status = STATUS_FAULT;
	server_close(&server);
	return status;
}
