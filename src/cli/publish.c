/*
 * publish: the deploys ref (DEPLOYS_REF), what the server's read-only
 * commands say of its last deploys, for pushers who have git alone (ask.h).
 * It is one commit without parents, rewritten after each job the worker
 * ends, a watch's end, a deploy or rollback run at a shell, and a sign-off
 * (never when nothing in it changed); the snapshots it replaces are left to
 * git's gc. Its tree:
 *
 *   README          what this is and how to read it
 *   status          `gitgate status`, every target
 *   history         `gitgate history -n HISTORY_SHOWN`
 *   logs/ID.log     the logs of the last LOGS_SHOWN deploys and rollbacks
 *                   (the last LOG_BYTES of each)
 *   reports/ID.md   their reports (`gitgate report ID --format md`)
 *
 * What is in it, anyone who may read the repository may read: the same
 * people gitolite's `gitgate` command lets read it. Records and logs are
 * masked as they are written; the whole snapshot is masked once more with
 * the values of the env files of the deploys it shows, as `gitgate report`
 * does, and without those values it holds no report.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ask.h"
#include "cli.h"
#include "confirmation.h"
#include "deploy_policy.h"
#include "history.h"
#include "logs.h"
#include "mask.h"
#include "repo.h"

#define HISTORY_SHOWN 100
#define LOGS_SHOWN 20
#define LOG_BYTES (1024 * 1024)
/* Two writers at once (the worker, a watcher) each try again. */
#define ATTEMPTS 5

struct snapshot {
	git_repository *repo;
	struct mask mask;
	git_treebuilder *root, *logs, *reports;
};

static int add_file(struct snapshot *s, git_treebuilder *tb, const char *name, const char *data,
		    size_t len, struct buf *err)
{
	git_oid oid;
	struct buf masked = BUF_INIT;
	mask_text(&s->mask, data ? data : "", len, &masked);
	int rc = git_blob_create_from_buffer(&oid, s->repo, masked.data ? masked.data : "",
					     masked.len) == 0 &&
			 git_treebuilder_insert(NULL, tb, name, &oid, GIT_FILEMODE_BLOB) == 0
		     ? 0
		     : -1;
	if (rc < 0)
		repo_error(err, name);
	buf_free(&masked);
	return rc;
}

/* A file of what print wrote to a stream. */
static int add_printed(struct snapshot *s, const char *name,
		       void (*print)(FILE *out, const struct server *sv, json_t *records),
		       const struct server *sv, json_t *records, struct buf *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out) {
		buf_printf(err, "cannot write %s: %s", name, strerror(errno));
		return -1;
	}
	print(out, sv, records);
	fclose(out);
	int rc = add_file(s, s->root, name, text, len, err);
	free(text);
	return rc;
}

static void print_status(FILE *out, const struct server *sv, json_t *records)
{
	(void)records;
	cli_status_print(out, sv, NULL);
}

static void print_history(FILE *out, const struct server *sv, json_t *records)
{
	(void)sv;
	cli_history_print(out, records);
}

/* Deploy id's log, its last LOG_BYTES. None is no file (a deploy closed
 * before it ran has none). */
static int add_log(struct snapshot *s, const struct server *sv, const char *id, struct buf *err)
{
	FILE *f;
	struct buf found = BUF_INIT, none = BUF_INIT, text = BUF_INIT, name = BUF_INIT;
	int rc = 0;
	if (logs_open(sv->state_dir.data, id, &found, &f, &none) == 0) {
		if (fseek(f, -LOG_BYTES, SEEK_END) == 0)
			buf_printf(&text,
				   "(the log's first part is left out: gitgate logs %s on "
				   "the server has it all)\n",
				   id);
		else
			rewind(f);
		char chunk[8192];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_add(&text, chunk, n);
		fclose(f);
		ask_ref_file(&name, "logs", id);
		rc = add_file(s, s->logs, name.data + strlen("logs/"), text.data, text.len, err);
	}
	buf_free(&found);
	buf_free(&none);
	buf_free(&text);
	buf_free(&name);
	return rc;
}

/* Deploy id's records, from those read (its own and those naming it). */
static json_t *records_of(json_t *records, const char *id)
{
	json_t *out = json_array(), *r;
	size_t i;
	json_array_foreach(records, i, r)
	{
		const char *own = json_string_value(json_object_get(r, "id"));
		const char *named = json_string_value(json_object_get(r, "deploy"));
		if ((own && !strcmp(own, id)) || (named && !strcmp(named, id)))
			json_array_append(out, r);
	}
	return out;
}

/* The last LOGS_SHOWN deploys' and rollbacks' own records, newest first:
 * those whose id can name a file. */
static size_t last_deploys(json_t *records, json_t *out[LOGS_SHOWN])
{
	size_t n = 0;
	for (size_t i = json_array_size(records); i-- > 0 && n < LOGS_SHOWN;) {
		json_t *r = json_array_get(records, i);
		const char *id = json_string_value(json_object_get(r, "id"));
		if (id && *id &&
		    strspn(id,
			   "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.") ==
			strlen(id))
			out[n++] = r;
	}
	return n;
}

static const char *text_of(json_t *record, const char *key)
{
	return json_string_value(json_object_get(record, key));
}

/* Is an earlier one of deploys of the same unit and environment? */
static int pair_seen(json_t *const *deploys, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (json_equal(json_object_get(deploys[k], "unit"),
			       json_object_get(deploys[i], "unit")) &&
		    json_equal(json_object_get(deploys[k], "environment"),
			       json_object_get(deploys[i], "environment")))
			return 1;
	return 0;
}

/* The values of the env files of each deploy's targets, into the mask.
 * Returns 0, or -1 (why in err): then no report is published. */
static int mask_deploys(struct snapshot *s, const struct server *sv, json_t *records,
			json_t *const *deploys, size_t n, struct buf *err)
{
	struct deploy_site site = deploy_site_of(sv);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (pair_seen(deploys, i))
			continue;
		struct confirmation c;
		json_t *mine = records_of(records, text_of(deploys[i], "id"));
		rc = confirmation_from_records(&c, mine, text_of(deploys[i], "id"), err) == 0
			 ? confirmation_env_mask(&site, &c, &s->mask, err)
			 : -1;
		confirmation_free(&c);
		json_decref(mine);
	}
	return rc;
}

static int add_report(struct snapshot *s, const struct server *sv, json_t *records, const char *id,
		      struct buf *err)
{
	struct confirmation c;
	struct buf text = BUF_INIT, name = BUF_INIT;
	json_t *mine = records_of(records, id);
	int rc = confirmation_from_records(&c, mine, id, err) == 0 ? 0 : -1;
	if (rc == 0) {
		const char *env = text_of(c.deploy, "environment");
		const struct deploy_environment *e =
		    env ? deploy_policy_find_environment(&sv->rules, env) : NULL;
		c.watched = e && e->watch_seconds;
		confirmation_render(&text, &c, CONFIRMATION_MD);
		ask_ref_file(&name, "report", id);
		rc = add_file(s, s->reports, name.data + strlen("reports/"), text.data, text.len,
			      err);
	}
	confirmation_free(&c);
	json_decref(mine);
	buf_free(&text);
	buf_free(&name);
	return rc;
}

/* Without the time: a snapshot the same as the last is not written (its
 * commit's date says when it was). */
static void readme(struct buf *out, const char *reports_left_out)
{
	buf_printf(out,
		   "The deploys of this repository, as the server saw them when it wrote this\n"
		   "commit (git log -1 --format=%%cd FETCH_HEAD). The server rewrites this ref\n"
		   "after each deploy, rollback, watch and sign-off; a push to " GITGATE_REF_PREFIX
		   "\nis refused. Read it with:\n\n"
		   "  git fetch origin " DEPLOYS_REF " && git show FETCH_HEAD:FILE\n\n"
		   "  status         what is live where (gitgate status)\n"
		   "  history        the last %d records (gitgate history -n %d)\n"
		   "  logs/ID.log    the logs of the last %d deploys and rollbacks\n"
		   "  reports/ID.md  their reports (gitgate report ID --format md)\n",
		   HISTORY_SHOWN, HISTORY_SHOWN, LOGS_SHOWN);
	if (reports_left_out)
		buf_printf(out, "\nNo report is here: %s.\n", reports_left_out);
}

/* Everything but the README into the snapshot's trees. */
static int fill(struct snapshot *s, const struct server *sv, int *reports, struct buf *err)
{
	json_t *records = NULL, *deploys[LOGS_SHOWN];
	size_t skipped;
	if (history_read(&records, sv->state_dir.data, NULL, NULL, HISTORY_SHOWN, &skipped, err) <
	    0)
		return -1;
	size_t n = last_deploys(records, deploys);
	struct buf ignored = BUF_INIT;
	*reports = mask_deploys(s, sv, records, deploys, n, &ignored) == 0;
	buf_free(&ignored);
	int rc = add_printed(s, "status", print_status, sv, records, err) < 0 ||
			 add_printed(s, "history", print_history, sv, records, err) < 0
		     ? -1
		     : 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *id = text_of(deploys[i], "id");
		rc = add_log(s, sv, id, err);
		if (rc == 0 && *reports)
			rc = add_report(s, sv, records, id, err);
	}
	json_decref(records);
	return rc;
}

static int write_tree(struct snapshot *s, const struct server *sv, git_oid *tree, struct buf *err)
{
	int reports = 0;
	struct buf text = BUF_INIT;
	git_oid logs, report_tree;
	int rc = fill(s, sv, &reports, err);
	if (rc == 0) {
		readme(&text, reports ? NULL
				      : "the env files of their targets could not be read to hide "
					"their values (gitgate report on the server says why)");
		rc = add_file(s, s->root, "README", text.data, text.len, err);
	}
	if (rc == 0 &&
	    (git_treebuilder_write(&logs, s->logs) < 0 ||
	     git_treebuilder_write(&report_tree, s->reports) < 0 ||
	     (git_treebuilder_entrycount(s->logs) &&
	      git_treebuilder_insert(NULL, s->root, "logs", &logs, GIT_FILEMODE_TREE) < 0) ||
	     (git_treebuilder_entrycount(s->reports) &&
	      git_treebuilder_insert(NULL, s->root, "reports", &report_tree, GIT_FILEMODE_TREE) <
		  0) ||
	     git_treebuilder_write(tree, s->root) < 0)) {
		repo_error(err, "the deploys ref's tree");
		rc = -1;
	}
	buf_free(&text);
	return rc;
}

/* Points the ref at a new commit of tree, unless it holds that tree
 * already; from the id it had (*had, or none), so that a writer in
 * between makes this one try again (1). Returns 0, 1, or -1. */
static int point_ref(git_repository *repo, const git_oid *tree_id, struct buf *err)
{
	git_reference *ref = NULL;
	git_commit *current = NULL;
	git_tree *tree = NULL;
	git_signature *who = NULL;
	git_oid commit, had;
	int exists = git_reference_name_to_id(&had, repo, DEPLOYS_REF) == 0, rc = 0;
	if (exists && git_commit_lookup(&current, repo, &had) == 0 &&
	    git_oid_equal(git_commit_tree_id(current), tree_id))
		goto done; /* nothing changed */
	if (git_tree_lookup(&tree, repo, tree_id) < 0 ||
	    git_signature_now(&who, "gitgate", "gitgate@localhost") < 0 ||
	    git_commit_create(&commit, repo, NULL, who, who, NULL, "gitgate's deploys\n", tree, 0,
			      NULL) < 0) {
		repo_error(err, "the deploys ref's commit");
		rc = -1;
		goto done;
	}
	rc = exists ? git_reference_create_matching(&ref, repo, DEPLOYS_REF, &commit, 1, &had,
						    "gitgate: deploys")
		    : git_reference_create(&ref, repo, DEPLOYS_REF, &commit, 0, "gitgate: deploys");
	if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS || rc == GIT_ELOCKED) {
		rc = 1;
	} else if (rc < 0) {
		repo_error(err, DEPLOYS_REF);
		rc = -1;
	}
done:
	git_reference_free(ref);
	git_commit_free(current);
	git_tree_free(tree);
	git_signature_free(who);
	return rc;
}

static int publish_once(const struct server *sv, struct buf *err)
{
	struct snapshot s = {.repo = sv->repo};
	git_oid tree;
	int rc = git_treebuilder_new(&s.root, sv->repo, NULL) == 0 &&
			 git_treebuilder_new(&s.logs, sv->repo, NULL) == 0 &&
			 git_treebuilder_new(&s.reports, sv->repo, NULL) == 0
		     ? 0
		     : -1;
	if (rc < 0)
		repo_error(err, "the deploys ref");
	if (rc == 0)
		rc = write_tree(&s, sv, &tree, err);
	if (rc == 0)
		rc = point_ref(sv->repo, &tree, err);
	git_treebuilder_free(s.root);
	git_treebuilder_free(s.logs);
	git_treebuilder_free(s.reports);
	mask_free(&s.mask);
	return rc;
}

void cli_publish(const struct server *sv)
{
	struct buf err = BUF_INIT;
	int rc = 1;
	for (int attempt = 0; rc == 1 && attempt < ATTEMPTS; attempt++)
		rc = publish_once(sv, &err);
	if (rc != 0)
		fprintf(stderr,
			"warning: gitgate: %s was not updated: %s; the deploy stands, and gitgate "
			"deploy --reconcile on the server writes the ref again\n",
			DEPLOYS_REF, rc < 0 ? err.data : "other writers kept changing it");
	buf_free(&err);
}
