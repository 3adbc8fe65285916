/*
 * deploy: see deploy.h. deploy_run takes each request through its run:
 * begin (open the job, the cheap refusals, the lock, the state), the gates
 * of the table, then going live (live.c), then the record (job.c). Several
 * requests run the gates before any deploy (every unit's tests first).
 */
#include "engine.h"

#include <stdlib.h>
#include <time.h>

#include "run.h"

/* A gate judged early (GATE_CHEAP), said in its place. */
struct judged {
	int done;
	enum gate_result result;
	struct buf detail;
};

/* One deploy among those deploy_run runs together. */
struct request_run {
	struct deploy_job j;
	struct state_lock lock;
	int opened, locked, failed;
	size_t gate;	       /* the next gate of the table to run */
	struct judged *judged; /* by the table's index */
	enum history_outcome outcome;
	enum gitgate_status status; /* when it could not be opened */
};

/* The cheap gates of the table (gate 10), judged before anything else:
 * one that fails is said at once; the others wait for their place.
 * Returns 0, or -1 when one failed. */
static int request_cheap_gates(struct request_run *s)
{
	s->judged = xcalloc(deploy_ngates, sizeof(*s->judged));
	for (size_t i = 0; i < deploy_ngates; i++) {
		struct judged *g = &s->judged[i];
		if (!(deploy_gates[i].flags & GATE_CHEAP))
			continue;
		g->done = 1;
		g->result = deploy_gates[i].run(&s->j, &g->detail);
		if (g->result == GATE_FAILED || g->result == GATE_REFUSED) {
			gate_said(&s->j, deploy_gates[i].number, g->result, 0, g->detail.data);
			return -1;
		}
	}
	return 0;
}

/* Opens the deploy, records its start and takes its lock, unless a cheap
 * refusal stops it first. Returns 1 when the gates may run. */
static int request_begin(struct request_run *s, const struct deploy_site *site,
			 const struct deploy_request *req, FILE *out)
{
	struct deploy_job *j = &s->j;
	*j = (struct deploy_job){.site = site, .req = req, .rules = site->rules, .out = out};
	struct buf err = BUF_INIT, detail = BUF_INIT;
	s->status = job_open(j, &err);
	if (s->status == STATUS_PASSED && resolve_revision(j, req->revision, &err) < 0)
		s->status = STATUS_USAGE;
	if (s->status != STATUS_PASSED) {
		fprintf(out, "error: gitgate: %s\n", err.data);
		job_close(j);
	} else {
		s->opened = 1;
		job_start_record(j, "deploy");
		s->outcome = OUTCOME_REFUSED;
		const char *name;
		if (request_cheap_gates(s) < 0) {
			/* said */
		} else if (cheap_refusal(j, &detail, &name)) {
			gate_report(j, 0, name, GATE_REFUSED, 0, detail.data);
		} else if (req->dry_run) {
			s->outcome = OUTCOME_DEPLOYED;
			fprintf(out, "dry run: nothing is run, locked, switched or recorded\n");
			/* Its read-only gates read remote hosts too. */
			s->failed = job_load_reported(j) < 0 || job_connect(j) < 0;
		} else if (job_lock(j, &s->lock, &detail) == 0) {
			s->locked = 1;
			s->outcome = OUTCOME_FAILED;
			s->failed = job_load_reported(j) < 0 || job_connect(j) < 0;
		}
	}
	s->failed = s->failed || s->outcome == OUTCOME_REFUSED || (!s->locked && !req->dry_run);
	buf_free(&err);
	buf_free(&detail);
	return !s->failed;
}

/* Runs the gates from the next one up to (not including) the until-th.
 * Returns 1 when none failed. */
static int request_gates(struct request_run *s, size_t until)
{
	struct buf detail = BUF_INIT;
	for (; !s->failed && s->gate < until; s->gate++) {
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		buf_clear(&detail);
		const struct gate *g = &deploy_gates[s->gate];
		const struct judged *early = &s->judged[s->gate];
		enum gate_result result = early->done ? early->result
					  : s->j.req->dry_run && g->command
					      ? gate_described(&s->j, g, &detail)
					      : g->run(&s->j, &detail);
		gate_said(&s->j, g->number, result, early->done ? 0 : seconds_since(&t0),
			  early->done ? early->detail.data : detail.data);
		s->failed = result == GATE_FAILED || result == GATE_REFUSED;
	}
	buf_free(&detail);
	return !s->failed;
}

/* What a dry run would do after the gates. */
static void dry_run_plan(struct deploy_job *j)
{
	for (size_t i = 0; i < j->nparts; i++) {
		const struct part *p = &j->parts[i];
		const struct deploy_command *app = p->t->run.argv ? &p->t->run : &p->t->start;
		fprintf(j->out,
			"would start %s in its %s slot on port %u (%s%s`), check it, %s%s%s"
			"switch (%s), and check it live (gate 11)\n",
			p->label.data, slot_name(p->next), p->slot.ports[p->next == SLOT_GREEN],
			p->t->compose ? "Compose, `" : "`",
			p->t->compose ? p->t->compose
			: app->argv   ? app->text
				      : "",
			p->t->migrate.argv ? "migrate (`" : "",
			p->t->migrate.argv ? p->t->migrate.text : "",
			p->t->migrate.argv ? "`), " : "",
			p->t->live_switch.text ? p->t->live_switch.text : "none");
	}
}

/* The rest of the gates, the slot, the switch and gate 11. */
static void request_finish(struct request_run *s)
{
	if (!request_gates(s, gates_before(GATE_AFTER_SWITCH)))
		return;
	if (s->j.req->dry_run) {
		dry_run_plan(&s->j);
		return;
	}
	s->outcome = go_live(&s->j, 1);
	if (s->outcome == OUTCOME_DEPLOYED) {
		prune_releases(&s->j);
		watch_begin(&s->j);
	}
}

static enum gitgate_status request_end(struct request_run *s)
{
	for (size_t i = 0; s->judged && i < deploy_ngates; i++)
		buf_free(&s->judged[i].detail);
	free(s->judged);
	/* A remote prune is over before another deploy of the target may
	 * begin: scripts on a host's releases never overlap. */
	if (s->opened)
		job_settle(&s->j);
	if (s->locked)
		state_unlock(&s->lock);
	if (!s->opened)
		return s->status;
	if (!s->j.req->dry_run)
		return job_end(&s->j, s->outcome);
	int would = !s->failed && s->outcome != OUTCOME_REFUSED;
	fprintf(s->j.out, "\ndry run: %s to %s at %.12s %s\n", s->j.unit->name, s->j.env->name,
		s->j.revision, would ? "would deploy" : "would not deploy");
	job_close(&s->j);
	return would ? STATUS_PASSED : STATUS_REJECTED;
}

enum gitgate_status deploy_run(const struct deploy_site *site, const struct deploy_request *reqs,
			       size_t n, FILE *out, unsigned char *deployed)
{
	struct request_run *runs = xcalloc(n, sizeof(*runs));
	const char *blocked_by = NULL;
	if (n > 1)
		fprintf(out,
			"gitgate: %zu units: the gates up to the tests for every one of them "
			"first, then each deploys in turn\n",
			n);
	for (size_t i = 0; n > 1 && i < n; i++)
		if (!(request_begin(&runs[i], site, &reqs[i], out) &&
		      request_gates(&runs[i], gates_leading(GATE_BEFORE_ANY))) &&
		    !blocked_by)
			blocked_by = reqs[i].unit;
	enum gitgate_status worst = STATUS_PASSED;
	for (size_t i = 0; i < n; i++) {
		struct request_run *s = &runs[i];
		if (n == 1)
			request_begin(s, site, &reqs[i], out);
		if (!s->failed && blocked_by) {
			struct buf detail = BUF_INIT;
			buf_printf(
			    &detail,
			    "not deployed: every unit must pass its tests before any deploys, "
			    "and %s did not",
			    blocked_by);
			gate_report(&s->j, 0, "every-unit", GATE_REFUSED, 0, detail.data);
			s->outcome = OUTCOME_REFUSED;
			buf_free(&detail);
		} else if (!s->failed) {
			/* Each unit's rest is one block, under its own name. */
			if (n > 1)
				fprintf(out, "deploy %s: %s in %s, on from its tests\n",
					s->j.id.data, s->j.unit->name, s->j.env->name);
			request_finish(s);
		}
		enum gitgate_status status = request_end(s);
		if (deployed)
			deployed[i] = status == STATUS_PASSED;
		if (status > worst)
			worst = status;
	}
	free(runs);
	return worst;
}

struct deploy_site deploy_site_of(const struct server *s)
{
	return (struct deploy_site){
	    .repo = s->repo, .rules = &s->rules, .state_dir = s->state_dir.data, .seen = s->seen};
}
