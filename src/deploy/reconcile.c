/*
 * reconcile: what a deploy that died left, ended: its process's leftovers
 * killed, its switch undone, the app it never confirmed stopped, and one
 * record of it as abandoned.
 */
#include "engine.h"

#include <string.h>
#include <unistd.h>

#include "proc.h"

/* What a dead deploy left on one part, as its mark says: a switch undone
 * (traffic back on the old slot), and the app it started and never
 * confirmed stopped, unless it is what serves and nothing served before (a
 * first deploy). Returns 0 when that is done, -1 when the mark must stay
 * for another try. */
static int reconcile_part(struct deploy_job *j, struct part *p, const json_t *mark, FILE *out)
{
	const char *stage = json_string_value(json_object_get(mark, "stage"));
	const char *back = json_string_value(json_object_get(mark, "back_to"));
	const char *slot = json_string_value(json_object_get(mark, "slot"));
	enum slot_color old = back && !strcmp(back, "green")  ? SLOT_GREEN
			      : back && !strcmp(back, "blue") ? SLOT_BLUE
							      : SLOT_NONE;
	enum slot_color unconfirmed = slot && !strcmp(slot, "green")  ? SLOT_GREEN
				      : slot && !strcmp(slot, "blue") ? SLOT_BLUE
				      : old != SLOT_NONE	      ? slot_other(old)
								      : SLOT_NONE;
	struct buf why = BUF_INIT;
	int rc = part_connect(j, p, &why);
	/* The switch and stop commands get the target's variables, masked. */
	if (rc == 0 && (p->t->env_file || p->t->env_command.argv) && part_read_env(p, &why) < 0) {
		fprintf(out, "warning: gitgate: %s\n", why.data);
		buf_clear(&why);
	}
	/* A mark without a stage is a switch's (the only kind there was). */
	int switched = !stage || !strcmp(stage, "switch");
	/* The unconfirmed app may stop once it serves nothing: traffic is
	 * back on the old slot, or never left it (the state does not name the
	 * unconfirmed slot live: a first deploy that switched keeps serving). */
	int may_stop = rc == 0 && p->state.live != unconfirmed;
	if (rc == 0 && switched && old != SLOT_NONE) {
		enum switch_outcome so = switch_to(j, p, old, &why);
		rc = so == SWITCH_DONE ? 0 : -1;
		if (so == SWITCH_FAILED)
			fprintf(out, "gitgate: %s in %s: switching back to %s failed: %s\n",
				p->label.data, j->env->name, back, why.data);
		else
			fprintf(out,
				"gitgate: %s in %s: the deploy %s died after its switch; back "
				"on %s%s%s\n",
				p->label.data, j->env->name, j->id.data, back,
				so == SWITCH_UNRECORDED ? ": " : "",
				so == SWITCH_UNRECORDED ? why.data : "");
		may_stop = so != SWITCH_FAILED;
	} else if (rc < 0) {
		fprintf(out, "gitgate: %s in %s: %s\n", p->label.data, j->env->name, why.data);
	}
	/* The state says what serves now; an app that does not serve and was
	 * never confirmed is stopped. */
	if (may_stop && unconfirmed != SLOT_NONE) {
		buf_clear(&why);
		if (app_stop(j, p, unconfirmed, &why) < 0)
			fprintf(out, "gitgate: %s in %s: stopping the %s slot failed: %s\n",
				p->label.data, j->env->name, slot_name(unconfirmed), why.data);
		else if (!switched)
			fprintf(out,
				"gitgate: %s in %s: the deploy %s died before its switch; its "
				"app in the %s slot is stopped\n",
				p->label.data, j->env->name, j->id.data, slot_name(unconfirmed));
	}
	buf_free(&why);
	return rc;
}

/* The deploy the mark names, recorded as abandoned: once (none when it has
 * a record already: it ended, and only its undo was left to do). Returns
 * 0, or -1 (err). */
static int record_abandoned(struct deploy_job *j, const struct deploy_target *t, const json_t *mark,
			    struct buf *err)
{
	const char *state_dir = j->site->state_dir;
	if (history_has(state_dir, j->unit->name, t->environment, "id", j->id.data))
		return 0;
	const char *kind = json_string_value(json_object_get(mark, "kind"));
	j->record =
	    history_record_new(j->id.data, kind ? kind : "deploy", j->unit->name,
			       j->unit->projects.n == 1 ? t->project : NULL, t->environment,
			       json_string_value(json_object_get(mark, "user")),
			       json_string_value(json_object_get(mark, "user_source")),
			       json_string_value(json_object_get(mark, "from")), j->revision);
	history_record_finish(j->record, OUTCOME_ABANDONED);
	return history_append(state_dir, j->record, err);
}

/* One target on one of its hosts (NULL: this machine) whose deploy died
 * before it confirmed what it started: what that deploy's process left
 * running is ended first (a switch command still running could move
 * traffic after the undo), then reconcile_part, and one record of the
 * deploy as abandoned (none when it has a record already: it ended, and
 * only its undo was left to do). */
static int reconcile_target(const struct deploy_site *site, const struct deploy_target *t,
			    const char *host, FILE *out, struct buf *err)
{
	struct buf path = BUF_INIT;
	deploy_target_state_dir(&path, site, t, host);
	buf_adds(&path, "/pending.json");
	json_t *mark = json_load_file(path.data, 0, NULL);
	pid_t pid = (pid_t)json_integer_value(json_object_get(mark, "pid"));
	unsigned long long start =
	    (unsigned long long)json_integer_value(json_object_get(mark, "start"));
	int rc = 0;
	if (!mark || proc_alive(pid, start)) {
		json_decref(mark);
		buf_free(&path);
		return 0;
	}
	if (json_is_true(json_object_get(mark, "session")) &&
	    proc_end_session(pid, start, GRACE_MS) < 0)
		fprintf(out,
			"warning: gitgate: what the deploy's process %d left running "
			"did not end\n",
			(int)pid);
	const char *id = json_string_value(json_object_get(mark, "deploy"));
	struct deploy_request req = {
	    .unit = t->project, .environment = t->environment, .user = "reconcile"};
	struct deploy_job j = {.site = site, .req = &req, .rules = site->rules, .out = out};
	int undone = 1;
	if (job_open(&j, err) != STATUS_PASSED || job_load(&j, err) < 0) {
		rc = -1;
	} else {
		buf_clear(&j.id);
		buf_adds(&j.id, id ? id : "unknown");
		const char *revision = json_string_value(json_object_get(mark, "revision"));
		snprintf(j.revision, sizeof(j.revision), "%s", revision ? revision : "");
		for (size_t i = 0; i < j.nparts; i++) {
			struct part *p = &j.parts[i];
			if (p->t == t && (!host || (p->address && !strcmp(p->address, host))) &&
			    reconcile_part(&j, p, mark, out) < 0)
				undone = 0;
		}
		/* A host that cannot be reached keeps its mark for the next try. */
		if (undone)
			rc = record_abandoned(&j, t, mark, err);
		if (undone && rc == 0)
			unlink(path.data);
	}
	job_close(&j);
	json_decref(mark);
	buf_free(&path);
	return rc;
}

int deploy_reconcile(const struct deploy_site *site, FILE *out, struct buf *err)
{
	watches_reconcile(site, out);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < site->rules->deploy.ntargets; i++) {
		const struct deploy_target *t = &site->rules->deploy.targets[i];
		for (size_t h = 0; rc == 0 && h < (t->hosts.n ? t->hosts.n : 1); h++)
			rc = reconcile_target(site, t, t->hosts.n ? t->hosts.items[h] : NULL, out,
					      err);
	}
	return rc;
}
