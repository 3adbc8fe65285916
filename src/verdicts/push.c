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
#include "deploy_policy.h"
#include "scan.h"
#include "hashset.h"
#include "repo.h"
#include "run.h"
#include "strvec.h"
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

int push_updates_add(struct push_updates *updates, const char *ref, const char *old_hex,
		     const char *new_hex, struct buf *err)
{
	struct ref_update u = {0};
	if (parse_id(old_hex, &u.old_oid, &u.old_zero, err) < 0 ||
	    parse_id(new_hex, &u.new_oid, &u.new_zero, err) < 0)
		return -1;
	u.ref = xstrdup(ref);
	*ARRAY_PUSH(updates->items, updates->n, updates->cap) = u;
	return 0;
}

int push_updates_add_hook_input(struct push_updates *updates, const struct hook_input *input,
				struct buf *err)
{
	for (size_t i = 0; i < input->n; i++) {
		const struct hook_update *u = &input->updates[i];
		if (push_updates_add(updates, u->ref, u->old_id, u->new_id, err) < 0)
			return -1;
	}
	return 0;
}

void push_updates_free(struct push_updates *updates)
{
	for (size_t i = 0; i < updates->n; i++)
		free(updates->items[i].ref);
	free(updates->items);
	memset(updates, 0, sizeof(*updates));
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

static void add_finding(struct findings *out, const char *rule, enum severity severity,
			const char *ref, const char *message, const char *hint)
{
	struct finding f = {.rule = (char *)rule,
			    .severity = severity,
			    .path = (char *)ref,
			    .message = (char *)message,
			    .hint = (char *)hint};
	findings_add(out, &f);
}

/* A ref to a blob or a tree (a tag, say) carries content that no commit
 * check ever reads: refused unless [push] non_commit_refs says otherwise. */
static int check_target(const struct push_scope *scope, const struct ref_update *u,
			struct findings *out, struct buf *err)
{
	git_oid commit;
	if (u->new_zero || scope->rules->push.non_commit_refs == SEVERITY_OFF)
		return 0;
	int rc = peel_commit(scope->repo, &u->new_oid, &commit, err);
	if (rc == 0)
		add_finding(
		    out, RULE_NON_COMMIT_REF, scope->rules->push.non_commit_refs, u->ref,
		    "this ref points at a blob or a tree, whose content gitgate does not check",
		    "point it at a commit, or set [push] non_commit_refs = off in rules.ini");
	return rc < 0 ? -1 : 0;
}

/* Is `ancestor` reachable from `tip` (or the same)? 1, 0, or -1 with
 * err. git's answer: it follows a shallow clone's grafts, libgit2 1.5
 * does not. */
static int is_ancestor(const git_oid *ancestor, const git_oid *tip, const char *what,
		       struct buf *err)
{
	char ancestor_hex[GIT_OID_HEXSZ + 1], tip_hex[GIT_OID_HEXSZ + 1];
	const char *argv[] = {"git",
			      "merge-base",
			      "--is-ancestor",
			      git_oid_tostr(ancestor_hex, sizeof(ancestor_hex), ancestor),
			      git_oid_tostr(tip_hex, sizeof(tip_hex), tip),
			      NULL};
	struct run_options opts = {.argv = argv, .out = {.kind = RUN_OUT_DISCARD}};
	struct run_result git;
	if (run(&git, &opts, err) < 0)
		return -1;
	if (git.code != 0 && git.code != 1) {
		buf_printf(err, "cannot compare %s: git merge-base ", what);
		run_describe(err, &git);
		return -1;
	}
	return git.code == 0;
}

static int check_protected(const struct push_scope *scope, const struct ref_update *u,
			   struct findings *out, struct buf *err)
{
	if (!rules_ref_is_protected(scope->rules, u->ref) || u->old_zero)
		return 0;
	if (u->new_zero) {
		add_finding(out, RULE_PROTECTED_BRANCH, SEVERITY_ERROR, u->ref,
			    "deleting a protected branch is not allowed",
			    "protected branches are listed in rules.ini [push] protected");
		return 0;
	}
	/* On a client the remote's old tip may be unknown here: the server decides. */
	if (scope->mode == PUSH_CLIENT && !object_exists(scope->repo, &u->old_oid))
		return 0;
	git_oid old_commit, new_commit;
	int old_rc = peel_commit(scope->repo, &u->old_oid, &old_commit, err);
	int new_rc = old_rc < 0 ? 0 : peel_commit(scope->repo, &u->new_oid, &new_commit, err);
	if (old_rc < 0 || new_rc < 0)
		return -1;
	if (!old_rc || !new_rc || git_oid_equal(&old_commit, &new_commit))
		return 0;
	int forward = is_ancestor(&old_commit, &new_commit,
				  "the old and new tips of a protected branch", err);
	if (forward == 0)
		add_finding(
		    out, RULE_PROTECTED_BRANCH, SEVERITY_ERROR, u->ref,
		    "a force push (not a fast-forward) to a protected branch is not allowed",
		    "fetch, rebase your work onto the branch, and push again without --force");
	return forward < 0 ? -1 : 0;
}

/* The deploy branch's tip once this push is in: its update's, or the ref's
 * now. Returns 1 with *tip, 0 when there is none. */
static int deploy_branch_tip(const struct push_scope *scope, const struct push_updates *updates,
			     git_oid *tip)
{
	struct buf ref = BUF_INIT;
	deploy_policy_branch_ref(scope->rules, &ref);
	const struct ref_update *moved = NULL;
	for (size_t i = 0; i < updates->n; i++)
		if (!strcmp(updates->items[i].ref, ref.data))
			moved = &updates->items[i];
	int found =
	    moved ? !moved->new_zero : git_reference_name_to_id(tip, scope->repo, ref.data) == 0;
	if (moved)
		*tip = moved->new_oid;
	buf_free(&ref);
	return found;
}

/* refs/deploy/ENV (a push that deploys a revision already on the deploy
 * branch, for those with no shell on the server): ENV must be an
 * environment, and the commit on the deploy branch. */
static int check_deploy_ref(const struct push_scope *scope, const struct ref_update *u,
			    const struct push_updates *updates, struct findings *out,
			    struct buf *err)
{
	const char *env = u->ref + strlen(DEPLOY_REF_PREFIX);
	if (strncmp(u->ref, DEPLOY_REF_PREFIX, strlen(DEPLOY_REF_PREFIX)) || u->new_zero ||
	    !scope->rules->deploy.nenvironments)
		return 0;
	if (!deploy_policy_find_environment(scope->rules, env)) {
		add_finding(out, RULE_DEPLOY_REF, SEVERITY_ERROR, u->ref,
			    "no environment of rules.ini has this name",
			    "push to refs/deploy/ENVIRONMENT, one of the [environment ...] names");
		return 0;
	}
	git_oid commit, tip;
	int rc = peel_commit(scope->repo, &u->new_oid, &commit, err);
	if (rc <= 0)
		return rc;
	int on_branch = deploy_branch_tip(scope, updates, &tip)
			    ? is_ancestor(&commit, &tip, "a deploy ref with the deploy branch", err)
			    : 0;
	if (on_branch == 0)
		add_finding(out, RULE_DEPLOY_REF, SEVERITY_ERROR, u->ref,
			    "a deploy ref deploys only what is on the deploy branch",
			    "push the commit to the deploy branch first (it deploys to the auto "
			    "environments), then to the deploy ref");
	return on_branch < 0 ? -1 : 0;
}

/* refs/gitgate/: the server's own (the deploys ref), written by no push,
 * deleted by none. */
static void check_server_ref(const struct ref_update *u, struct findings *out)
{
	if (!strncmp(u->ref, GITGATE_REF_PREFIX, strlen(GITGATE_REF_PREFIX)))
		add_finding(out, RULE_SERVER_REF, SEVERITY_ERROR, u->ref,
			    "only the server writes this ref: it is what gitgate says of the "
			    "deploys",
			    "read it with git fetch origin " DEPLOYS_REF "; push branches and "
			    "tags");
}

static void add_oid(struct strvec *a, const git_oid *oid)
{
	char hex[GIT_OID_HEXSZ + 1];
	strvec_push(a, git_oid_tostr(hex, sizeof(hex), oid));
}

/* The tracking refs of every remote that is the one pushed to: by name, or
 * (for `git push URL`) by a URL or push URL equal to it. The config is read
 * entry by entry: libgit2 1.5's remote lookup leaks its regex match data. */
static int add_remote_tracking(const struct push_scope *scope, struct strvec * not )
{
	git_config *cfg = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *entry;
	struct buf glob = BUF_INIT;
	int matched = 0;
	if (git_repository_config_snapshot(&cfg, scope->repo) < 0 ||
	    git_config_iterator_new(&it, cfg) < 0) {
		git_config_free(cfg);
		return 0;
	}
	while (git_config_next(&entry, it) == 0) {
		const char *name = entry->name, *dot;
		if (strncmp(name, "remote.", 7) || !(dot = strrchr(name + 7, '.')) ||
		    dot == name + 7)
			continue;
		size_t len = (size_t)(dot - (name + 7));
		int is_url = !strcmp(dot, ".url") || !strcmp(dot, ".pushurl");
		int by_name = scope->remote && strlen(scope->remote) == len &&
			      !strncmp(name + 7, scope->remote, len);
		int by_url =
		    scope->remote_url && is_url && !strcmp(entry->value, scope->remote_url);
		if (!is_url || !(by_name || by_url))
			continue;
		buf_clear(&glob);
		buf_printf(&glob, "--glob=refs/remotes/%.*s/*", (int)len, name + 7);
		strvec_push(not, glob.data);
		matched = 1;
	}
	buf_free(&glob);
	git_config_iterator_free(it);
	git_config_free(cfg);
	return matched;
}

/* No remote here is known to be the one pushed to (`git push URL` to a
 * place never fetched from): what it advertises, as far as this repository
 * has those commits, is accepted there. A remote that cannot be asked
 * hides nothing, so more is checked, never less. */
static void add_advertised(const struct push_scope *scope, struct strvec * not )
{
	const char *argv[] = {"git", "ls-remote", "--", scope->remote_url, NULL};
	struct buf out = BUF_INIT, ignored = BUF_INIT;
	struct run_result git;
	if (run_capture(&git, &out, argv, RUN_OUT_INHERIT, &ignored) == 0 && git.code == 0)
		for (const char *p = out.data ? out.data : ""; *p;) {
			size_t len = strcspn(p, "\n");
			git_oid oid;
			if (len > GIT_OID_HEXSZ && git_oid_fromstrn(&oid, p, GIT_OID_HEXSZ) == 0 &&
			    object_exists(scope->repo, &oid))
				add_oid(not, &oid);
			p += len + (p[len] == '\n');
		}
	buf_free(&out);
	buf_free(&ignored);
}

/* What is already accepted, as rev-list arguments after --not: on the
 * server every ref; on a client what the remote is known to have; the
 * updates' old tips; the baseline. */
static int add_accepted(const struct push_scope *scope, const struct push_updates *updates,
			struct strvec * not, struct buf *err)
{
	if (scope->mode == PUSH_SERVER)
		strvec_push(not, "--all");
	if (scope->mode == PUSH_CLIENT && !add_remote_tracking(scope, not ) && scope->remote_url)
		add_advertised(scope, not );
	for (size_t i = 0; i < updates->n; i++) {
		const struct ref_update *u = &updates->items[i];
		git_oid commit;
		/* A client may not have the remote's old tip: nothing to hide then. */
		if (u->old_zero || !object_exists(scope->repo, &u->old_oid))
			continue;
		int rc = peel_commit(scope->repo, &u->old_oid, &commit, err);
		if (rc < 0)
			return -1;
		if (rc)
			add_oid(not, &commit);
	}
	if (scope->baseline) {
		git_object *obj = NULL;
		git_oid commit;
		int rc = git_revparse_single(&obj, scope->repo, scope->baseline) == 0
			     ? peel_commit(scope->repo, git_object_id(obj), &commit, err)
			     : 0;
		git_object_free(obj);
		if (rc < 0)
			return -1;
		if (!rc) {
			buf_printf(err, "the baseline '%s' is not a commit in this repository",
				   scope->baseline);
			return -1;
		}
		add_oid(not, &commit);
	}
	return 0;
}

static int submit(struct commit_pool *pool, struct buf *checked, const git_oid *oid,
		  struct hashset *visited)
{
	char hex[GIT_OID_HEXSZ + 1];
	hashset_add(visited, oid_key(oid));
	if (checked->len < CHECKED_KEPT * (GIT_OID_HEXSZ + 1)) {
		git_oid_tostr(hex, sizeof(hex), oid);
		buf_printf(checked, "%s\n", hex);
	}
	return commit_pool_submit(pool, oid);
}

/* Runs argv (git rev-list) and submits each commit it lists. Returns 0,
 * or -1 with why in err. */
static int submit_listed(char **argv, struct commit_pool *pool, struct buf *checked,
			 struct hashset *visited, struct buf *err)
{
	struct run_options opts = {.argv = (const char *const *)argv,
				   .out = {.kind = RUN_OUT_PIPE}};
	struct run_process git;
	if (run_start(&git, &opts, err) < 0)
		return -1;
	struct buf line = BUF_INIT, why = BUF_INIT;
	git_oid oid;
	int rc = 0;
	while (rc == 0 && buf_getline(&line, git.out, '\n')) {
		if (line.len < GIT_OID_HEXSZ ||
		    git_oid_fromstrn(&oid, line.data, GIT_OID_HEXSZ) < 0) {
			buf_adds(err, "unexpected output from git rev-list");
			rc = -1;
		} else {
			rc = submit(pool, checked, &oid, visited);
		}
	}
	if (run_finish_ok(&git, &why) < 0 && rc == 0) {
		buf_printf(err, "git rev-list could not list the new commits (it %s)", why.data);
		rc = -1;
	}
	buf_free(&line);
	buf_free(&why);
	return rc;
}

/*
 * The new commits are listed by git itself, `git rev-list TIPS --not
 * ACCEPTED`, read as they stream: git follows a shallow clone's grafts and
 * sees the objects a pre-receive holds in quarantine, and its order is git
 * log's (-n N takes the N newest, children first even when times tie).
 */
static int walk_new_commits(const struct push_scope *scope, const struct push_updates *updates,
			    struct commit_pool *pool, struct buf *checked, struct hashset *visited,
			    struct buf *err)
{
	struct strvec argv = STRVEC_INIT;
	struct buf count = BUF_INIT;
	int rc = 0;
	size_t tips = 0;
	strvec_push(&argv, "git");
	strvec_push(&argv, "rev-list");
	if (scope->max_count) {
		buf_printf(&count, "--max-count=%u", scope->max_count);
		strvec_push(&argv, count.data);
	}
	for (size_t i = 0; i < updates->n && rc == 0; i++) {
		struct ref_update *u = &updates->items[i];
		git_oid commit;
		if (u->new_zero)
			continue; /* a deletion: no commits */
		int peeled = peel_commit(scope->repo, &u->new_oid, &commit, err);
		if (peeled <= 0) {
			rc = peeled; /* a ref to a tree or blob has no commits */
			continue;
		}
		if (u->single) {
			rc = submit(pool, checked, &commit, visited);
		} else {
			add_oid(&argv, &commit);
			tips++;
		}
	}
	strvec_push(&argv, "--not");
	if (rc == 0 && tips)
		rc = add_accepted(scope, updates, &argv, err);
	if (rc == 0 && tips)
		rc = submit_listed(argv.v, pool, checked, visited, err);
	strvec_clear(&argv);
	buf_free(&count);
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

static int check_version_bump_of(const struct push_scope *scope, const struct ref_update *u,
				 const struct hashset *visited, struct findings *out,
				 struct buf *err)
{
	git_oid tip;
	if (u->new_zero || !check_version_bumps_apply(scope->rules))
		return 0; /* nothing to measure the ref's net change for */
	int peeled = peel_commit(scope->repo, &u->new_oid, &tip, err);
	if (peeled <= 0 || !hashset_has(visited, oid_key(&tip)))
		return peeled;
	git_commit *tip_commit = NULL, *base = NULL;
	git_tree *tip_tree = NULL, *base_tree = NULL;
	struct changeset cs = {0};
	int rc = -1;
	if (git_commit_lookup(&tip_commit, scope->repo, &tip) < 0 ||
	    git_commit_tree(&tip_tree, tip_commit) < 0 ||
	    net_base(scope->repo, &tip, visited, &base) < 0 ||
	    (base && git_commit_tree(&base_tree, base) < 0)) {
		repo_error(err, "cannot read the pushed tip");
		goto done;
	}
	if (treediff_trees(scope->repo, base_tree, tip_tree, &cs, err) < 0)
		goto done;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid_tostr(hex, sizeof(hex), &tip);
	struct check_context ctx = {
	    .rules = scope->rules,
	    .findings = out,
	    .commit = hex,
	    .subject = git_commit_summary(tip_commit),
	    .blobs = {scope->repo, repo_read_blob},
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

enum gitgate_status push_check(const struct push_scope *scope, const struct push_updates *updates,
			       struct findings *out, struct buf *checked, struct buf *err)
{
	if (scope->mode != PUSH_RANGE)
		for (size_t i = 0; i < updates->n; i++) {
			if (scope->mode == PUSH_SERVER)
				check_server_ref(&updates->items[i], out);
			if (check_protected(scope, &updates->items[i], out, err) < 0 ||
			    check_target(scope, &updates->items[i], out, err) < 0 ||
			    (scope->mode == PUSH_SERVER &&
			     check_deploy_ref(scope, &updates->items[i], updates, out, err) < 0))
				return STATUS_FAULT;
		}
	struct deadline deadline;
	deadline_start(&deadline,
		       scope->mode == PUSH_RANGE ? 0 : scope->rules->push.deadline_seconds);
	struct hashset visited = {0};
	struct commit_pool *pool;
	scan_prepare_all(scope->rules);
	if (commit_pool_start(&pool, scope->rules, out, &deadline, err) < 0) {
		struct buf ignored = BUF_INIT;
		commit_pool_finish(pool, out, &ignored);
		buf_free(&ignored);
		return STATUS_FAULT;
	}
	struct buf walk_err = BUF_INIT;
	int walk_rc = walk_new_commits(scope, updates, pool, checked, &visited, &walk_err);
	int rc = commit_pool_finish(pool, out, err);
	if (walk_rc < 0 && rc == 0) {
		buf_clear(err);
		buf_adds(err,
			 walk_err.len ? walk_err.data : "the walk over the pushed commits stopped");
		rc = walk_rc;
	}
	buf_free(&walk_err);
	for (size_t i = 0; i < updates->n && rc == 0; i++)
		rc = check_version_bump_of(scope, &updates->items[i], &visited, out, err);
	if (rc == 0 && deadline_passed(&deadline)) {
		buf_adds(err, COMMITS_LATE_MESSAGE);
		rc = -1;
	}
	hashset_free(&visited);
	if (rc < 0)
		return STATUS_FAULT;
	return out->errors ? STATUS_REJECTED : STATUS_PASSED;
}
