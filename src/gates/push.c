/*
 * push: see push.h.
 */
#include "push.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checks.h"
#include "commit_pool.h"
#include "commits.h"
#include "scan.h"
#include "hashset.h"
#include "repo.h"
#include "treediff.h"

/* The audit log names this many commits of a push at most. */
#define CHECKED_KEPT 1000

static int parse_id(const char *hex, git_oid *oid, int *zero, struct buf *err)
{
	size_t len = strlen(hex);
	*zero = len > 0 && strspn(hex, "0") == len;
	if (len == 64 && strspn(hex, "0123456789abcdef") == len) {
		buf_adds(err,
			 "this is a SHA-256 repository; gitgate supports SHA-1 repositories only");
		return -1;
	}
	if (*zero) {
		memset(oid, 0, sizeof(*oid));
		return 0;
	}
	if (len != GIT_OID_HEXSZ || git_oid_fromstr(oid, hex) < 0) {
		buf_printf(err, "'%.80s' is not an object id", hex);
		return -1;
	}
	return 0;
}

int push_add_update(struct push_request *req, const char *ref, const char *old_hex,
		    const char *new_hex, struct buf *err)
{
	struct ref_update u = {0};
	if (parse_id(old_hex, &u.old_oid, &u.old_zero, err) < 0 ||
	    parse_id(new_hex, &u.new_oid, &u.new_zero, err) < 0)
		return -1;
	u.ref = xstrdup(ref);
	*ARRAY_PUSH(req->updates, req->n, req->cap) = u;
	return 0;
}

int push_add_hook_input(struct push_request *req, const struct hook_input *input, struct buf *err)
{
	for (size_t i = 0; i < input->n; i++) {
		const struct hook_update *u = &input->updates[i];
		if (push_add_update(req, u->ref, u->old_id, u->new_id, err) < 0)
			return -1;
	}
	return 0;
}

void push_request_free(struct push_request *req)
{
	for (size_t i = 0; i < req->n; i++)
		free(req->updates[i].ref);
	free(req->updates);
	buf_free(&req->checked);
	req->updates = NULL;
	req->n = req->cap = 0;
}

static uint64_t oid_key(const git_oid *oid)
{
	uint64_t key;
	memcpy(&key, oid->id, sizeof(key));
	return key ? key : 1;
}

/* The commit an id leads to, peeling tags. Returns 1 with the commit in
 * out, 0 when the id leads to a tree or a blob (a ref may point at one),
 * and -1 with the reason in err when an object cannot be found or parsed:
 * what gitgate cannot read, it cannot pass. */
static int peel_commit(git_repository *repo, const git_oid *oid, git_oid *out, struct buf *err)
{
	git_object *obj = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid_tostr(hex, sizeof(hex), oid);
	if (git_object_lookup(&obj, repo, oid, GIT_OBJECT_ANY) < 0) {
		buf_printf(err, "cannot read object %s", hex);
		repo_error(err, "");
		return -1;
	}
	while (git_object_type(obj) == GIT_OBJECT_TAG) {
		git_object *target = NULL;
		if (git_tag_target(&target, (git_tag *)obj) < 0) {
			buf_printf(err, "cannot read what tag %s points at", hex);
			repo_error(err, "");
			git_object_free(obj);
			return -1;
		}
		git_object_free(obj);
		obj = target;
	}
	int is_commit = git_object_type(obj) == GIT_OBJECT_COMMIT;
	if (is_commit)
		git_oid_cpy(out, git_object_id(obj));
	git_object_free(obj);
	return is_commit;
}

static int object_exists(git_repository *repo, const git_oid *oid)
{
	git_odb *odb = NULL;
	int exists = git_repository_odb(&odb, repo) == 0 && git_odb_exists(odb, oid);
	git_odb_free(odb);
	return exists;
}

static void add_finding(struct findings *out, const char *rule, const char *ref,
			const char *message, const char *hint)
{
	struct finding f = {.rule = (char *)rule,
			    .severity = SEVERITY_ERROR,
			    .path = (char *)ref,
			    .message = (char *)message,
			    .hint = (char *)hint};
	findings_add(out, &f);
}

static int check_protected(struct push_request *req, const struct ref_update *u,
			   struct findings *out, struct buf *err)
{
	if (!rules_ref_is_protected(req->rules, u->ref) || u->old_zero)
		return 0;
	if (u->new_zero) {
		add_finding(out, "protected-branch", u->ref,
			    "deleting a protected branch is not allowed",
			    "protected branches are listed in rules.ini [push] protected");
		return 0;
	}
	/* On a client the remote's old tip may be unknown here: the server decides. */
	if (req->mode == PUSH_CLIENT && !object_exists(req->repo, &u->old_oid))
		return 0;
	git_oid old_commit, new_commit;
	int old_rc = peel_commit(req->repo, &u->old_oid, &old_commit, err);
	int new_rc = old_rc < 0 ? 0 : peel_commit(req->repo, &u->new_oid, &new_commit, err);
	if (old_rc < 0 || new_rc < 0)
		return -1;
	if (!old_rc || !new_rc || git_oid_equal(&old_commit, &new_commit))
		return 0;
	int descends = git_graph_descendant_of(req->repo, &new_commit, &old_commit);
	if (descends < 0) {
		repo_error(err, "cannot compare the old and new tips of a protected branch");
		return -1;
	}
	if (!descends)
		add_finding(
		    out, "protected-branch", u->ref,
		    "a force push (not a fast-forward) to a protected branch is not allowed",
		    "fetch, rebase your work onto the branch, and push again without --force");
	return 0;
}

static int hide_ref(git_reference *ref, void *payload)
{
	git_revwalk *walk = payload;
	git_object *peeled = NULL;
	if (git_reference_peel(&peeled, ref, GIT_OBJECT_COMMIT) == 0)
		git_revwalk_hide(walk, git_object_id(peeled));
	git_object_free(peeled);
	git_reference_free(ref);
	return 0;
}

static int hide_accepted(struct push_request *req, git_revwalk *walk, struct buf *err)
{
	if (req->mode == PUSH_SERVER && git_reference_foreach(req->repo, hide_ref, walk) < 0) {
		repo_error(err, "cannot list the repository's refs");
		return -1;
	}
	if (req->mode == PUSH_CLIENT && req->remote) {
		struct buf glob = BUF_INIT;
		buf_printf(&glob, "refs/remotes/%s/*", req->remote);
		git_reference_iterator *it = NULL;
		git_reference *ref;
		if (git_reference_iterator_glob_new(&it, req->repo, glob.data) == 0)
			while (git_reference_next(&ref, it) == 0)
				hide_ref(ref, walk);
		git_reference_iterator_free(it);
		buf_free(&glob);
	}
	for (size_t i = 0; i < req->n; i++) {
		const struct ref_update *u = &req->updates[i];
		git_oid commit;
		/* A client may not have the remote's old tip: nothing to hide then. */
		if (u->old_zero || !object_exists(req->repo, &u->old_oid))
			continue;
		int rc = peel_commit(req->repo, &u->old_oid, &commit, err);
		if (rc < 0)
			return -1;
		if (rc)
			git_revwalk_hide(walk, &commit);
	}
	if (req->baseline) {
		git_object *obj = NULL;
		git_oid commit;
		int rc = git_revparse_single(&obj, req->repo, req->baseline) == 0
			     ? peel_commit(req->repo, git_object_id(obj), &commit, err)
			     : 0;
		git_object_free(obj);
		if (rc < 0)
			return -1;
		if (!rc) {
			buf_printf(err, "the baseline '%s' is not a commit in this repository",
				   req->baseline);
			return -1;
		}
		git_revwalk_hide(walk, &commit);
	}
	return 0;
}

static int submit(struct commit_pool *pool, struct push_request *req, const git_oid *oid,
		  struct hashset *visited)
{
	char hex[GIT_OID_HEXSZ + 1];
	hashset_add(visited, oid_key(oid));
	if (req->checked.len < CHECKED_KEPT * (GIT_OID_HEXSZ + 1)) {
		git_oid_tostr(hex, sizeof(hex), oid);
		buf_printf(&req->checked, "%s\n", hex);
	}
	return commit_pool_submit(pool, oid);
}

static int walk_new_commits(struct push_request *req, struct commit_pool *pool,
			    struct hashset *visited, struct buf *err)
{
	git_revwalk *walk = NULL;
	int rc = 0, pushed = 0;
	if (git_revwalk_new(&walk, req->repo) < 0) {
		repo_error(err, "cannot walk the history");
		return -1;
	}
	/* Children before parents even when committer times tie (after a rebase), so
	 * -n N checks the N newest commits, as git log -n N shows them. */
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	for (size_t i = 0; i < req->n && rc == 0; i++) {
		struct ref_update *u = &req->updates[i];
		git_oid commit;
		if (u->new_zero)
			continue; /* a deletion: no commits */
		int peeled = peel_commit(req->repo, &u->new_oid, &commit, err);
		if (peeled <= 0) {
			rc = peeled; /* a ref to a tree or blob has no commits */
			continue;
		}
		if (u->single)
			rc = submit(pool, req, &commit, visited);
		else if (git_revwalk_push(walk, &commit) == 0)
			pushed = 1;
		else {
			repo_error(err, "cannot walk the history of a pushed commit");
			rc = -1;
		}
	}
	if (rc == 0 && pushed)
		rc = hide_accepted(req, walk, err);
	git_oid oid;
	unsigned count = 0;
	while (rc == 0 && pushed && (!req->max_count || count < req->max_count)) {
		int next = git_revwalk_next(&oid, walk);
		if (next == GIT_ITEROVER)
			break;
		if (next < 0) {
			repo_error(err, "cannot walk the history");
			rc = -1;
			break;
		}
		rc = submit(pool, req, &oid, visited);
		count++;
	}
	git_revwalk_free(walk);
	return rc;
}

/* The last accepted commit on the tip's first-parent line: what the ref's
 * net change is measured from. NULL means the empty tree. */
static int net_base(git_repository *repo, const git_oid *tip, const struct hashset *visited,
		    git_commit **base)
{
	git_commit *c = NULL;
	*base = NULL;
	if (git_commit_lookup(&c, repo, tip) < 0)
		return -1;
	while (c && hashset_has(visited, oid_key(git_commit_id(c)))) {
		git_commit *parent = NULL;
		if (git_commit_parentcount(c) && git_commit_parent(&parent, c, 0) < 0) {
			git_commit_free(c);
			return -1;
		}
		git_commit_free(c);
		c = parent;
	}
	*base = c;
	return 0;
}

static int check_version_bump_of(struct push_request *req, const struct ref_update *u,
				 const struct hashset *visited, struct findings *out,
				 struct buf *err)
{
	git_oid tip;
	if (u->new_zero)
		return 0;
	int peeled = peel_commit(req->repo, &u->new_oid, &tip, err);
	if (peeled <= 0 || !hashset_has(visited, oid_key(&tip)))
		return peeled;
	git_commit *tip_commit = NULL, *base = NULL;
	git_tree *tip_tree = NULL, *base_tree = NULL;
	struct changeset cs = {0};
	int rc = -1;
	if (git_commit_lookup(&tip_commit, req->repo, &tip) < 0 ||
	    git_commit_tree(&tip_tree, tip_commit) < 0 ||
	    net_base(req->repo, &tip, visited, &base) < 0 ||
	    (base && git_commit_tree(&base_tree, base) < 0)) {
		repo_error(err, "cannot read the pushed tip");
		goto done;
	}
	if (treediff(req->repo, base_tree, tip_tree, &cs, err) < 0)
		goto done;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid_tostr(hex, sizeof(hex), &tip);
	struct check_context ctx = {
	    .rules = req->rules,
	    .findings = out,
	    .commit = hex,
	    .subject = git_commit_summary(tip_commit),
	    .blobs = {req->repo, repo_read_blob},
	};
	rc = check_version_bumps(&ctx, &cs, err);
done:
	changeset_free(&cs);
	git_tree_free(tip_tree);
	git_tree_free(base_tree);
	git_commit_free(base);
	git_commit_free(tip_commit);
	return rc;
}

enum gitgate_status push_check(struct push_request *req, struct findings *out, struct buf *err)
{
	if (req->mode != PUSH_RANGE)
		for (size_t i = 0; i < req->n; i++)
			if (check_protected(req, &req->updates[i], out, err) < 0)
				return STATUS_FAULT;
	struct timespec deadline = {0};
	if (req->mode != PUSH_RANGE && req->rules->push.deadline_seconds) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += req->rules->push.deadline_seconds;
	}
	struct hashset visited = {0};
	struct commit_pool *pool;
	scan_prepare_all(req->rules);
	if (commit_pool_start(&pool, req->rules, out, deadline.tv_sec ? &deadline : NULL, err) <
	    0) {
		struct buf ignored = BUF_INIT;
		commit_pool_finish(pool, out, &ignored);
		buf_free(&ignored);
		return STATUS_FAULT;
	}
	struct buf walk_err = BUF_INIT;
	int walk_rc = walk_new_commits(req, pool, &visited, &walk_err);
	int rc = commit_pool_finish(pool, out, err);
	if (walk_rc < 0 && rc == 0) {
		buf_clear(err);
		buf_adds(err,
			 walk_err.len ? walk_err.data : "the walk over the pushed commits stopped");
		rc = walk_rc;
	}
	buf_free(&walk_err);
	for (size_t i = 0; i < req->n && rc == 0; i++)
		rc = check_version_bump_of(req, &req->updates[i], &visited, out, err);
	if (rc == 0)
		rc = deadline_check(&deadline, err);
	hashset_free(&visited);
	if (rc < 0)
		return STATUS_FAULT;
	return out->errors ? STATUS_REJECTED : STATUS_PASSED;
}
