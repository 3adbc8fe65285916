/*
 * rollback: back to the warm slot, or to a kept release or a revision (--to),
 * through the checks, the switch and gate 11; never migrates. What it goes
 * back to is chosen again once it holds the lock.
 */
#include "engine.h"

#include <string.h>

#include "deploy_policy.h"

/* Back to the other slot, as it was left warm: started again if it was
 * stopped, checked there, switched to, checked live (and switched back if
 * that fails). A rollback never runs migrate again: a migration that the
 * newer release made stays, and the record says so. */
static int warm_up(struct deploy_job *j, struct part *p, int migrate, struct buf *detail)
{
	(void)migrate;
	int running;
	if (slot_running(&p->slot, p->next, &running, detail) < 0 ||
	    (!running && app_start(j, p, detail) < 0))
		return -1;
	return health_check(j, p, j->env, p->t->health_url, p->next, detail);
}

/* Gate 7 for a rollback, first: the app it may start gets its env file's
 * variables, and every value is masked from then on. */
static enum gate_result rollback_environment(struct deploy_job *j)
{
	return gate_run_as(j, 7, NULL);
}

static enum history_outcome roll_back(struct deploy_job *j)
{
	if (rollback_environment(j) == GATE_FAILED)
		return OUTCOME_FAILED;
	return live_turns(j, warm_up, 0, "migrate is not run again by a rollback");
}

/* rollback (no --to): each part's warm slot, which must hold a release. */
static enum gitgate_status rollback_to_warm_slot(struct deploy_job *j, struct buf *err)
{
	for (size_t i = 0; i < j->nparts; i++) {
		const struct part *p = &j->parts[i];
		if (p->live == SLOT_NONE || !p->state.slots[p->next].revision) {
			buf_printf(err, "%s in %s has no other slot to roll back to", p->t->project,
				   j->env->name);
			return STATUS_REJECTED;
		}
	}
	snprintf(j->revision, sizeof(j->revision), "%s",
		 j->parts[0].state.slots[j->parts[0].next].revision);
	return STATUS_PASSED;
}

/* rollback --to: `to` names a kept release (of one project: its revision is
 * the unit's) or a revision. Each part gets its newest kept release of
 * that revision, or none (roll_back_to exports and builds it again). */
static enum gitgate_status rollback_choose(struct deploy_job *j, const char *to, struct buf *err)
{
	const char *id = NULL;
	for (size_t i = 0; !id && i < j->nparts && is_primary(&j->parts[i]); i++) {
		struct part *p = &j->parts[i];
		int found = release_find(&p->release, p->releases_dir.data, to, NULL, err);
		if (found < 0)
			return STATUS_FAULT;
		if (found)
			id = p->release.id;
		p->exported = found;
	}
	struct buf revision = BUF_INIT;
	if (id) /* "<time>-<12 hex of the revision>[-N]" */
		buf_add(&revision, strchr(id, '-') + 1, strcspn(strchr(id, '-') + 1, "-"));
	int rc = resolve_revision(j, id ? revision.data : to, err);
	buf_free(&revision);
	if (rc < 0) {
		buf_clear(err);
		buf_printf(err, "'%s' is neither a kept release nor a commit here", to);
		return STATUS_USAGE;
	}
	int everywhere = 1;
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (p->live == SLOT_NONE) {
			buf_printf(err, "nothing is live for %s in %s: deploy it instead",
				   p->t->project, j->env->name);
			return STATUS_REJECTED;
		}
		const char *live = p->state.slots[p->live].revision;
		everywhere = everywhere && live && !strcmp(live, j->revision);
		int found =
		    p->exported || !is_primary(p)
			? 1
			: release_find(&p->release, p->releases_dir.data, NULL, j->revision, err);
		if (found < 0)
			return STATUS_FAULT;
		p->exported = found;
	}
	if (everywhere) {
		buf_printf(err, "%s in %s runs %.12s already", j->unit->name, j->env->name,
			   j->revision);
		return STATUS_REJECTED;
	}
	return STATUS_PASSED;
}

/* rollback --to a revision with no kept release: exported again, installed
 * and built (its tests and lint passed when it was deployed). */
static enum gate_result rebuild(struct deploy_job *j, struct buf *detail)
{
	enum gate_result result = GATE_SKIPPED;
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (p->exported || !is_primary(p))
			continue;
		result = GATE_PASSED;
		if (part_export(j, p, detail) < 0 ||
		    command_run(j, p, &p->t->build, p->release.dir, p->next, 0, detail) < 0 ||
		    release_apply_exclusions(&p->release, &j->rules->deploy.exclude, detail) < 0)
			return GATE_FAILED;
		/* A Compose target's images, on each of its hosts. */
		for (size_t k = 0; p->t->compose && k < j->nparts; k++)
			if (j->parts[k].primary == p &&
			    part_compose_build(j, &j->parts[k], detail) < 0)
				return GATE_FAILED;
	}
	buf_adds(detail, result == GATE_SKIPPED ? "a kept release: built when it was deployed"
						: "exported again, installed and built");
	return result;
}

/* rollback --to: the chosen release into the warm slot, through the health
 * checks, the switch and gate 11; not migrated. */
static enum history_outcome roll_back_to(struct deploy_job *j)
{
	const char *why = "rollback --to does not run tests and lint again";
	gate_said(j, 3, GATE_SKIPPED, 0, why);
	gate_said(j, 4, GATE_SKIPPED, 0, why);
	if (rollback_environment(j) == GATE_FAILED || gate_run_as(j, 5, rebuild) == GATE_FAILED)
		return OUTCOME_FAILED;
	fprintf(j->out, "    migrate is not run by a rollback\n");
	return go_live(j, 0);
}

/* What a rollback goes back to, as the slots say now: the warm slot, or
 * what --to names. Made again once the lock is held (a deploy that held it
 * may have switched), each earlier choice's releases forgotten. */
static enum gitgate_status rollback_choice(struct deploy_job *j, struct buf *err)
{
	for (size_t i = 0; i < j->nparts; i++) {
		struct part *p = &j->parts[i];
		if (p->exported && is_primary(p))
			release_free(&p->release);
		p->exported = 0;
	}
	if (job_load(j, err) < 0)
		return STATUS_FAULT;
	return j->req->to ? rollback_choose(j, j->req->to, err) : rollback_to_warm_slot(j, err);
}

enum gitgate_status deploy_rollback(const struct deploy_site *site,
				    const struct deploy_request *req, FILE *out)
{
	struct deploy_job j = {.site = site, .req = req, .rules = site->rules, .out = out};
	struct buf err = BUF_INIT, detail = BUF_INIT;
	enum gitgate_status status = job_open(&j, &err);
	if (status == STATUS_PASSED && !deploy_policy_user_may_deploy(j.env, req->user)) {
		buf_printf(&err, "%s may not deploy to %s ([environment %s] users)", req->user,
			   j.env->name, j.env->name);
		status = STATUS_REJECTED;
	}
	/* A first choice refuses at once what cannot be rolled back, and
	 * names the revision while the lock is awaited. */
	if (status == STATUS_PASSED)
		status = rollback_choice(&j, &err);
	if (status != STATUS_PASSED) {
		fprintf(out, "error: gitgate: %s\n", err.data);
		job_close(&j);
		buf_free(&err);
		return status;
	}
	job_start_record(&j, "rollback");
	if (req->to)
		json_object_set_new(json_object_get(j.record, "options"), "to",
				    json_string(req->to));
	enum history_outcome outcome = OUTCOME_FAILED;
	struct state_lock lock;
	if (job_lock(&j, &lock, &detail) == 0) {
		char before[sizeof(j.revision)];
		memcpy(before, j.revision, sizeof(before));
		buf_clear(&err);
		status = rollback_choice(&j, &err);
		history_record_revisions(j.record, j.from, j.revision);
		if (status != STATUS_PASSED) {
			gate_report(&j, 0, "rollback", GATE_FAILED, 0, err.data);
			outcome = status == STATUS_FAULT ? OUTCOME_FAILED : OUTCOME_REFUSED;
		} else {
			if (strcmp(before, j.revision))
				fprintf(out,
					"    a deploy went live while this waited: rolling back to "
					"%.12s instead\n",
					j.revision);
			if (job_connect(&j) == 0)
				outcome = req->to ? roll_back_to(&j) : roll_back(&j);
		}
		state_unlock(&lock);
	}
	buf_free(&err);
	buf_free(&detail);
	return job_end(&j, outcome);
}
