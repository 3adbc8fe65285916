/*
 * identity: see identity.h.
 */
#include "identity.h"

#include <stdlib.h>
#include <string.h>

#include "escape.h"

#define NAME_MAX_BYTES 256

/* The modes, as rules.ini writes them: a platform's mode is its name
 * (platform.h). */
static const char *const mode_names[] = {"auto", "os", "gitolite", "gitlab", "gitea", "github"};
#define NMODES (sizeof(mode_names) / sizeof(mode_names[0]))

int identity_policy_parse(const char *key, const char *value, void *slot, struct buf *why)
{
	struct identity_policy *p = slot, parsed = {0};
	if (!strncmp(value, "env:", 4)) {
		const char *var = value + 4;
		size_t n =
		    strspn(var, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
		if (!*var || var[n] || (*var >= '0' && *var <= '9')) {
			buf_printf(why,
				   "%s '%s': env: takes a variable's name (letters, digits, '_')",
				   key, value);
			return -1;
		}
		parsed.mode = IDENTITY_ENV;
		parsed.variable = xstrdup(var);
	} else {
		size_t i = 0;
		while (i < NMODES && strcmp(value, mode_names[i]))
			i++;
		if (i == NMODES) {
			buf_printf(
			    why,
			    "%s must be auto, os, gitolite, gitlab, gitea, github or env:NAME, "
			    "not '%s'",
			    key, value);
			return -1;
		}
		parsed.mode = (enum identity_mode)i;
	}
	identity_policy_release(p);
	*p = parsed;
	return 0;
}

void identity_policy_release(void *slot)
{
	struct identity_policy *p = slot;
	free(p->variable);
	p->variable = NULL;
}

void identity_policy_describe(struct buf *out, const struct identity_policy *p)
{
	if (p->mode == IDENTITY_ENV)
		buf_printf(out, "env:%s", p->variable);
	else
		buf_adds(out, mode_names[p->mode]);
}

int identity_is_key(const char *name)
{
	return name && !strncmp(name, "key:", 4);
}

/* A name as a user list could hold it: printable UTF-8 without spaces. */
static int name_ok(const char *name)
{
	size_t len = strlen(name);
	if (!len || len > NAME_MAX_BYTES)
		return 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)name[i];
		size_t n = utf8_sequence_length((const unsigned char *)name + i, len - i);
		if (!n || c <= ' ' || c == 0x7f)
			return 0;
		i += n;
	}
	return 1;
}

static int fill(struct identity *out, const char *name, const char *source, struct buf *why)
{
	if (!name_ok(name)) {
		struct buf shown = BUF_INIT;
		escape_bytes(&shown, name, strlen(name));
		buf_printf(why, "the pusher's name from %s, '%s', is not a name gitgate can check",
			   source, shown.data ? shown.data : "");
		buf_free(&shown);
		return -1;
	}
	out->name = xstrdup(name);
	out->source = xstrdup(source);
	return 0;
}

static int from_variable(const char *platform, const char *variable, identity_lookup lookup,
			 struct identity *out, struct buf *why)
{
	const char *value = lookup(variable);
	struct buf source = BUF_INIT;
	buf_printf(&source, "%s%s%s", platform, *platform ? " " : "", variable);
	int rc = -1;
	if (!value || !*value)
		buf_printf(why,
			   "%s is not set: [push] identity says %s names the pusher, and without "
			   "it nobody can be told apart",
			   variable, source.data);
	else
		rc = fill(out, value, source.data, why);
	buf_free(&source);
	return rc;
}

/* A deploy key: GitLab's GL_ID "key-N" (a person's is "user-N"), Gitea's
 * GITEA_DEPLOY_KEY_ID N (unset or 0: a person). Returns 1 with out filled,
 * 0 when no key pushed, -1 with why. */
static int deploy_key(const struct platform *pf, identity_lookup lookup, struct identity *out,
		      struct buf *why)
{
	const char *value = pf->key_variable ? lookup(pf->key_variable) : NULL;
	if (!value || !*value)
		return 0;
	const char *id = value;
	if (!strcmp(pf->name, "gitlab")) {
		if (strncmp(value, "key-", 4))
			return 0;
		id = value + 4;
	} else if (!strcmp(value, "0")) {
		return 0;
	}
	if (!*id || id[strspn(id, "0123456789")]) {
		struct buf shown = BUF_INIT;
		escape_bytes(&shown, value, strlen(value));
		buf_printf(why, "%s is '%s', not a deploy key's number", pf->key_variable,
			   shown.data ? shown.data : "");
		buf_free(&shown);
		return -1;
	}
	struct buf name = BUF_INIT, source = BUF_INIT;
	buf_printf(&name, "key:%s", id);
	buf_printf(&source, "%s %s", pf->name, pf->key_variable);
	out->name = buf_detach(&name);
	out->source = buf_detach(&source);
	return 1;
}

static int from_platform(const struct platform *pf, identity_lookup lookup, struct identity *out,
			 struct buf *why)
{
	int key = deploy_key(pf, lookup, out, why);
	if (key)
		return key < 0 ? -1 : 0;
	return from_variable(pf->name, pf->user_variable, lookup, out, why);
}

static int from_os(const char *os_user, struct identity *out, struct buf *why)
{
	if (!os_user) {
		buf_adds(why, "the OS user running gitgate has no name (getpwuid)");
		return -1;
	}
	return fill(out, os_user, "os", why);
}

/* auto: the one platform whose pusher is named, else the OS user. Two
 * platforms at once is no platform's doing: refused. */
static int from_auto(identity_lookup lookup, const char *os_user, struct identity *out,
		     struct buf *why)
{
	const struct platform *found = NULL;
	for (size_t i = 0; i < nplatforms; i++) {
		if (!platform_pusher_is_set(&platforms[i], lookup))
			continue;
		if (found) {
			buf_printf(why,
				   "both %s's and %s's variables are set (%s, %s): no one platform "
				   "ran this hook; say which in [push] identity",
				   found->name, platforms[i].name, found->user_variable,
				   platforms[i].user_variable);
			return -1;
		}
		found = &platforms[i];
	}
	return found ? from_platform(found, lookup, out, why) : from_os(os_user, out, why);
}

int identity_resolve(const struct identity_policy *p, identity_lookup lookup, const char *os_user,
		     struct identity *out, struct buf *why)
{
	out->name = out->source = NULL;
	enum identity_mode mode = p ? p->mode : IDENTITY_AUTO;
	switch (mode) {
	case IDENTITY_OS:
		return from_os(os_user, out, why);
	case IDENTITY_ENV:
		return from_variable("env", p->variable, lookup, out, why);
	case IDENTITY_AUTO:
		return from_auto(lookup, os_user, out, why);
	default:
		if (mode < NMODES && platform_named(mode_names[mode]))
			return from_platform(platform_named(mode_names[mode]), lookup, out, why);
	}
	buf_adds(why, "[push] identity has no known mode");
	return -1;
}

int identity_resolve_command(const struct identity_policy *p, identity_lookup lookup,
			     const char *os_user, struct identity *out, struct buf *why)
{
	out->name = out->source = NULL;
	if (p && p->mode == IDENTITY_ENV)
		return from_variable("env", p->variable, lookup, out, why);
	return from_os(os_user, out, why);
}

void identity_free(struct identity *id)
{
	free(id->name);
	free(id->source);
	id->name = id->source = NULL;
}
