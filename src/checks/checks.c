/*
 * checks: see checks.h.
 */
#include "checks.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "semver.h"

#define ISOLATION_EXAMPLES 3
#define PACKAGE_JSON_MAX_BYTES (1024 * 1024)

struct unit_touch {
	const struct unit *unit;
	const char *example; /* first path seen in it */
	size_t count;
};

static void touch(struct unit_touch *touched, size_t *n, const struct rules *rules,
		  const char *path)
{
	if (!path)
		return;
	const struct project *p = rules_project_of(rules, path);
	if (!p)
		return;
	for (size_t i = 0; i < *n; i++)
		if (touched[i].unit == p->unit) {
			touched[i].count++;
			return;
		}
	touched[*n].unit = p->unit;
	touched[*n].example = path;
	touched[*n].count = 1;
	(*n)++;
}

int check_isolation_looks_at(const struct rules *rules, const struct file_change *fc)
{
	return rules->isolation != SEVERITY_OFF && rules->nunits &&
	       ((fc->path && rules_project_of(rules, fc->path)) ||
		(fc->old_path && rules_project_of(rules, fc->old_path)));
}

void check_isolation(const struct check_context *ctx, const struct changeset *cs)
{
	const struct rules *rules = ctx->rules;
	if (rules->isolation == SEVERITY_OFF || ctx->is_root || !rules->nunits)
		return;
	struct unit_touch *touched = xcalloc(rules->nunits, sizeof(*touched));
	size_t n = 0;
	for (size_t i = 0; i < cs->n; i++) {
		if (ctx->is_merge && !ctx->merge_writes[i])
			continue;
		touch(touched, &n, rules, cs->items[i].old_path);
		touch(touched, &n, rules, cs->items[i].path);
	}
	if (n > 1) {
		struct buf msg = BUF_INIT;
		buf_adds(&msg, "one commit changes ");
		for (size_t i = 0; i < n; i++)
			buf_printf(&msg, "%s'%s' (%zu file%s, e.g. %s)", i ? " and " : "",
				   touched[i].unit->name, touched[i].count,
				   touched[i].count == 1 ? "" : "s", touched[i].example);
		buf_adds(&msg, "; each deploy unit must be committed on its own");
		struct finding f = {
		    .rule = RULE_ISOLATION,
		    .severity = rules->isolation,
		    .commit = (char *)ctx->commit,
		    .subject = (char *)ctx->subject,
		    .path = (char *)touched[1].example,
		    .message = msg.data,
		    .hint = "commit one unit at a time: `git restore --staged -- <the other unit's "
			    "folder>`, commit, then add and commit the rest",
		};
		findings_add(ctx->findings, &f);
		buf_free(&msg);
	}
	free(touched);
}

void check_forbidden_paths(const struct check_context *ctx, const struct changeset *cs)
{
	const struct rules *rules = ctx->rules;
	if (rules->forbidden_severity == SEVERITY_OFF)
		return;
	for (size_t i = 0; i < cs->n; i++) {
		const struct file_change *fc = &cs->items[i];
		if (!change_has_new_side(fc))
			continue;
		const struct glob *g = globlist_match(&rules->forbidden, fc->path);
		if (!g)
			continue;
		struct buf msg = BUF_INIT;
		buf_printf(&msg, "this file must never be committed (matches '%s' in [forbidden])",
			   g->text);
		struct finding f = {
		    .rule = RULE_FORBIDDEN_PATH,
		    .severity = rules->forbidden_severity,
		    .commit = (char *)ctx->commit,
		    .subject = (char *)ctx->subject,
		    .path = fc->path,
		    .message = msg.data,
		    .hint = "unstage it with `git rm --cached -- <path>` and add it to .gitignore",
		};
		findings_add(ctx->findings, &f);
		buf_free(&msg);
	}
}

/* The package a shared path belongs to ("packages/ui/src/x.js" -> "ui"),
 * written to name; 0 when the path is in no package. */
static int package_of(const struct rules *rules, const char *path, struct buf *name)
{
	if (!path || !rules_is_shared(rules, path))
		return 0;
	const char *rest = path + strlen(rules->shared_path);
	const char *slash = strchr(rest, '/');
	if (!slash || slash == rest)
		return 0;
	buf_clear(name);
	buf_add(name, rest, (size_t)(slash - rest));
	return 1;
}

/* Reads "version" from a package.json blob. Returns 0; 1 when the content
 * has no usable version (why says what is wrong with it); -1 when the blob
 * cannot be read (err says why: the check could not run). jansson builds
 * the whole document, so only files up to PACKAGE_JSON_MAX_BYTES are
 * parsed: a manifest's version sits at its top, and a larger one is a
 * finding rather than a gigabyte of memory. */
static int read_version(const struct check_context *ctx, const char *oid, struct buf *version,
			struct buf *why, struct buf *err)
{
	struct buf content = BUF_INIT;
	buf_clear(version);
	if (ctx->blobs.read(ctx->blobs.ctx, oid, &content) < 0) {
		buf_printf(err, "cannot read blob %s (a package.json)", oid);
		buf_free(&content);
		return -1;
	}
	if (content.len > PACKAGE_JSON_MAX_BYTES) {
		buf_printf(why,
			   "package.json is %zu bytes; gitgate parses package.json files of up to "
			   "%d bytes, so its version could not be checked",
			   content.len, PACKAGE_JSON_MAX_BYTES);
		buf_free(&content);
		return 1;
	}
	json_error_t error;
	json_t *root = json_loadb(content.data ? content.data : "", content.len, 0, &error);
	buf_free(&content);
	int rc = 1;
	if (!root) {
		buf_printf(why, "package.json is not valid JSON (line %d: %s)", error.line,
			   error.text);
	} else if (!json_is_object(root) || !json_is_string(json_object_get(root, "version"))) {
		buf_adds(why, "package.json has no \"version\" string");
	} else {
		const char *v = json_string_value(json_object_get(root, "version"));
		if (semver_valid(v) < 0) {
			buf_printf(why, "package.json version '%s' is not a semantic version", v);
		} else {
			buf_adds(version, v);
			rc = 0;
		}
	}
	json_decref(root);
	return rc;
}

static int judge_package(const struct check_context *ctx, const struct changeset *cs,
			 const char *package, struct buf *err)
{
	const struct rules *rules = ctx->rules;
	struct buf manifest = BUF_INIT, message = BUF_INIT, old_v = BUF_INIT, new_v = BUF_INIT,
		   old_why = BUF_INIT;
	buf_printf(&manifest, "%s%s/package.json", rules->shared_path, package);
	const struct file_change *fc = changeset_find(cs, manifest.data);
	const char *hint = NULL;
	int rc = 0, new_rc = 0, old_rc = 0;
	if (!fc) {
		buf_printf(&message,
			   "package '%s' changed but its package.json version was not raised",
			   package);
		hint = "raise \"version\" in the package's package.json (npm version "
		       "patch|minor|major)";
	} else if (fc->status == 'D' || !mode_is_regular_file(fc->new_mode)) {
		/* The package is going away: there is no version left to raise. */
	} else if ((new_rc = read_version(ctx, fc->new_oid, &new_v, &message, err)) != 0) {
		hint = "fix package.json so that it is JSON with a semantic \"version\"";
		rc = new_rc < 0 ? -1 : 0;
	} else if (fc->status == 'M' &&
		   (old_rc = read_version(ctx, fc->old_oid, &old_v, &old_why, err)) == 0 &&
		   semver_compare(new_v.data, old_v.data) <= 0) {
		buf_printf(&message, "package '%s' changed but its version stayed at %s (was %s)",
			   package, new_v.data, old_v.data);
		hint = "raise \"version\" in the package's package.json (npm version "
		       "patch|minor|major)";
	}
	/* An old version that was never valid is no reason to object; an old
	 * blob that cannot be read means the check did not run. */
	if (old_rc < 0)
		rc = -1;
	if (rc == 0 && message.len && hint) {
		struct finding f = {
		    .rule = RULE_VERSION_BUMP,
		    .severity = rules->version_bump,
		    .commit = (char *)ctx->commit,
		    .subject = (char *)ctx->subject,
		    .path = manifest.data,
		    .message = message.data,
		    .hint = (char *)hint,
		};
		findings_add(ctx->findings, &f);
	}
	buf_free(&manifest);
	buf_free(&message);
	buf_free(&old_v);
	buf_free(&new_v);
	buf_free(&old_why);
	return rc;
}

int check_version_bumps_apply(const struct rules *rules)
{
	return rules->version_bump != SEVERITY_OFF && rules->shared_path;
}

int check_version_bumps(const struct check_context *ctx, const struct changeset *cs,
			struct buf *err)
{
	const struct rules *rules = ctx->rules;
	if (!check_version_bumps_apply(rules))
		return 0;
	char **seen = NULL;
	size_t nseen = 0, cap = 0;
	struct buf name = BUF_INIT;
	for (size_t i = 0; i < cs->n; i++) {
		const char *sides[2] = {cs->items[i].old_path, cs->items[i].path};
		for (int s = 0; s < 2; s++) {
			if (!package_of(rules, sides[s], &name))
				continue;
			size_t k;
			for (k = 0; k < nseen && strcmp(seen[k], name.data); k++)
				;
			if (k == nseen)
				*ARRAY_PUSH(seen, nseen, cap) = xstrdup(name.data);
		}
	}
	int rc = 0;
	for (size_t k = 0; k < nseen; k++) {
		if (rc == 0)
			rc = judge_package(ctx, cs, seen[k], err);
		free(seen[k]);
	}
	free(seen);
	buf_free(&name);
	return rc;
}
