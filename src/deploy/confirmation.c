/*
 * confirmation: a deploy's records gathered, judged and masked. See
 * confirmation.h; the renderers are in confirmation_render.c.
 */
#include "confirmation.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deploy_policy.h"
#include "env_seen.h"
#include "envfile.h"
#include "history.h"
#include "layout.h"
#include "remote.h"
#include "ssh.h"

static int kind_is(const json_t *record, const char *kind)
{
	const char *have = json_string_value(json_object_get(record, "kind"));
	return have && !strcmp(have, kind);
}

/* Each ok in the array's objects, counted into c. */
static void count_checks(struct confirmation *c, const json_t *items)
{
	size_t i;
	const json_t *one;
	json_array_foreach(items, i, one)
	{
		c->checks++;
		c->passed += json_is_true(json_object_get(one, "ok"));
	}
}

int confirmation_from_records(struct confirmation *c, json_t *records, const char *id,
			      struct buf *err)
{
	size_t i;
	json_t *r;
	memset(c, 0, sizeof(*c));
	c->outcome = xstrdup("unknown");
	c->records = json_incref(records);
	c->signoffs = json_array();
	json_array_foreach(records, i, r)
	{
		const char *its = json_string_value(json_object_get(r, "id"));
		if (its && !strcmp(its, id))
			c->deploy = r;
		else if (kind_is(r, "watch"))
			c->watch = r;
		else if (kind_is(r, "signoff"))
			json_array_append(c->signoffs, r);
	}
	if (!c->deploy) {
		buf_printf(err, "no deploy %s in the history (gitgate history lists them)", id);
		return 1;
	}
	c->canary = json_object_get(c->deploy, "canary");
	if (!json_array_size(c->canary) && c->watch)
		c->canary = json_object_get(c->watch, "canary");
	if (!json_is_array(c->canary))
		c->canary = NULL;
	const json_t *latest = c->watch ? c->watch : c->deploy;
	const char *outcome = json_string_value(json_object_get(latest, "outcome"));
	free(c->outcome);
	c->outcome = xstrdup(outcome ? outcome : "unknown");
	count_checks(c, json_object_get(c->deploy, "health"));
	count_checks(c, c->canary);
	if (c->watch)
		count_checks(c, json_object_get(c->watch, "checks"));
	return 0;
}

int confirmation_read(struct confirmation *c, const char *state_dir, const char *id,
		      struct buf *err)
{
	json_t *records = NULL;
	size_t skipped;
	memset(c, 0, sizeof(*c));
	if (history_read_deploy(&records, state_dir, id, &skipped, err) < 0) {
		json_decref(records);
		return -1;
	}
	int rc = confirmation_from_records(c, records, id, err);
	json_decref(records);
	return rc;
}

void confirmation_free(struct confirmation *c)
{
	json_decref(c->records);
	json_decref(c->signoffs);
	free(c->outcome);
	memset(c, 0, sizeof(*c));
}

/* One target's env file on host (NULL: this machine), its values into m. */
static int target_env_mask(const struct deploy_site *site, const struct deploy_target *t,
			   const char *host, struct mask *m, struct buf *err)
{
	struct envfile env = {0};
	int rc;
	struct stat st;
	if (!host && stat(t->env_file, &st) < 0 && errno == ENOENT) {
		rc = 0; /* none there: no value to hide */
	} else if (!host) {
		rc = envfile_read(&env, t->env_file, err);
	} else {
		const struct deploy_policy *d = &site->rules->deploy;
		struct buf dir = BUF_INIT, text = BUF_INIT;
		layout_ssh(&dir, site->state_dir);
		struct ssh_options o = {
		    .known_hosts = t->ssh_known_hosts ? t->ssh_known_hosts : d->ssh_known_hosts,
		    .identity = t->ssh_identity ? t->ssh_identity : d->ssh_identity,
		    .control_dir = dir.data};
		struct ssh s;
		rc = ssh_open(&s, host, &o, err);
		int found = rc < 0 ? -1 : remote_read_file(&s, t->env_file, &text, err);
		if (rc == 0)
			ssh_close(&s);
		rc = found > 0	  ? envfile_read_text(&env, text.data, text.len, t->env_file, err)
		     : found == 0 ? 0 /* none there: no value to hide */
				  : -1;
		buf_free(&dir);
		buf_free(&text);
	}
	if (rc == 0)
		mask_add_assignments(m, (const char *const *)env.items, env.n);
	envfile_free(&env);
	return rc;
}

int confirmation_env_mask(const struct deploy_site *site, const struct confirmation *c,
			  struct mask *m, struct buf *err)
{
	const char *unit_name = json_string_value(json_object_get(c->deploy, "unit"));
	const char *env_name = json_string_value(json_object_get(c->deploy, "environment"));
	if (unit_name && env_name && env_seen_mask(site->seen, unit_name, env_name, m))
		return 0;
	const struct unit *unit = unit_name ? rules_find_unit(site->rules, unit_name) : NULL;
	const struct deploy_environment *env =
	    env_name ? deploy_policy_find_environment(site->rules, env_name) : NULL;
	if (!unit || !env) {
		buf_printf(err,
			   "the deploy's unit or environment is no longer in rules.ini: its env "
			   "files cannot be read to hide their values");
		return -1;
	}
	const struct deploy_target **targets;
	size_t n = deploy_policy_unit_targets(site->rules, unit, env, &targets);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct deploy_target *t = targets[i];
		for (size_t h = 0; rc == 0 && t->env_file && h < (t->hosts.n ? t->hosts.n : 1); h++)
			rc =
			    target_env_mask(site, t, t->hosts.n ? t->hosts.items[h] : NULL, m, err);
	}
	free(targets);
	return rc;
}

void confirmation_mask(struct confirmation *c, const struct mask *m)
{
	history_record_mask(c->records, m);
}

int confirmation_complete(const struct confirmation *c, struct buf *why)
{
	struct buf ignored = BUF_INIT, *out = why ? why : &ignored;
	int outcome_ok =
	    !strcmp(c->outcome, "confirmed") || (!strcmp(c->outcome, "deployed") && !c->watched);
	if (!outcome_ok && !strcmp(c->outcome, "deployed"))
		buf_adds(out, "its watch has not ended");
	else if (!outcome_ok)
		buf_printf(out, "its outcome is %s", c->outcome);
	else if (!c->checks || c->passed != c->checks)
		buf_printf(out, "%zu of %zu checks passed", c->passed, c->checks);
	else if (!json_array_size(c->signoffs))
		buf_adds(out, "no one has signed it off (gitgate signoff ID)");
	int complete = !out->len;
	buf_free(&ignored);
	return complete;
}

int confirmation_may_sign(const struct confirmation *c, struct buf *why)
{
	if (!strcmp(c->outcome, "deployed") || !strcmp(c->outcome, "confirmed"))
		return 1;
	buf_printf(why,
		   "its latest outcome is %s: only a deployed or confirmed deploy is signed off",
		   c->outcome);
	return 0;
}

int confirmation_format_parse(const char *name, enum confirmation_format *out)
{
	static const char *const names[] = {"text", "md", "html", "json"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i])) {
			*out = (enum confirmation_format)i;
			return 0;
		}
	return -1;
}
