/*
 * platform: see platform.h.
 */
#include "platform.h"

#include <string.h>

#include "escape.h"

/* A repository's name longer than this is no platform's. */
#define NAME_MAX_BYTES 1024

const struct platform platforms[] = {
    {.name = "gitolite", .user_variable = "GL_USER", .repo_variable = "GL_REPO"},
    {.name = "gitlab",
     .user_variable = "GL_USERNAME",
     .key_variable = "GL_ID",
     .repo_variable = "GL_PROJECT_PATH",
     .web_variable = "GL_PROTOCOL",
     .web_value = "web",
     .web_error_prefix = "GL-HOOK-ERR: "},
    {.name = "gitea",
     .user_variable = "GITEA_PUSHER_NAME",
     .key_variable = "GITEA_DEPLOY_KEY_ID",
     .repo_variable = "GITEA_REPO_NAME",
     .owner_variable = "GITEA_REPO_USER_NAME"},
    {.name = "github",
     .user_variable = "GITHUB_USER_LOGIN",
     .repo_variable = "GITHUB_REPO_NAME",
     .always_bounded = 1},
};
const size_t nplatforms = sizeof(platforms) / sizeof(platforms[0]);

static int is_set(env_lookup lookup, const char *variable)
{
	const char *value = variable ? lookup(variable) : NULL;
	return value && *value;
}

const struct platform *platform_named(const char *name)
{
	for (size_t i = 0; i < nplatforms; i++)
		if (!strcmp(platforms[i].name, name))
			return &platforms[i];
	return NULL;
}

int platform_pusher_is_set(const struct platform *pf, env_lookup lookup)
{
	return is_set(lookup, pf->user_variable) || is_set(lookup, pf->key_variable);
}

static int any_is_set(const struct platform *pf, env_lookup lookup)
{
	return platform_pusher_is_set(pf, lookup) || is_set(lookup, pf->repo_variable) ||
	       is_set(lookup, pf->owner_variable);
}

int platform_detect(env_lookup lookup, const struct platform **out, struct buf *why)
{
	*out = NULL;
	for (size_t i = 0; i < nplatforms; i++) {
		if (!any_is_set(&platforms[i], lookup))
			continue;
		if (*out) {
			buf_printf(why,
				   "both %s's and %s's variables are set: no one platform ran this "
				   "hook",
				   (*out)->name, platforms[i].name);
			*out = NULL;
			return -1;
		}
		*out = &platforms[i];
	}
	return *out != NULL;
}

/* A name that can be a folder's path under another: parts of printable
 * bytes (UTF-8 passes), none empty, ".", or "..". */
static int folder_name_ok(const char *name)
{
	size_t len = strlen(name);
	if (!len || len > NAME_MAX_BYTES || name[0] == '/' || name[len - 1] == '/')
		return 0;
	for (const char *part = name; *part;) {
		size_t n = strcspn(part, "/");
		if (!n || (n == 1 && part[0] == '.') || (n == 2 && !strncmp(part, "..", 2)))
			return 0;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)part[i] < ' ' || part[i] == 0x7f || part[i] == '\\')
				return 0;
		part += n + (part[n] == '/');
	}
	return 1;
}

int platform_repository(const struct platform *pf, env_lookup lookup, struct buf *name,
			struct buf *why)
{
	if (!is_set(lookup, pf->repo_variable))
		return 0;
	buf_clear(name);
	if (pf->owner_variable) {
		if (!is_set(lookup, pf->owner_variable)) {
			buf_printf(why, "%s is set but %s is not: whose repository is it?",
				   pf->repo_variable, pf->owner_variable);
			return -1;
		}
		buf_printf(name, "%s/", lookup(pf->owner_variable));
	}
	buf_adds(name, lookup(pf->repo_variable));
	if (!folder_name_ok(name->data)) {
		struct buf shown = BUF_INIT;
		escape_bytes(&shown, name->data, name->len);
		buf_printf(why, "%s names the repository '%s', which cannot be a folder's name",
			   pf->name, shown.data);
		buf_free(&shown);
		return -1;
	}
	return 1;
}

int platform_time_bounded(const struct platform *pf, env_lookup lookup)
{
	if (pf->always_bounded)
		return 1;
	const char *value = pf->web_variable ? lookup(pf->web_variable) : NULL;
	return value && !strcmp(value, pf->web_value);
}

const char *platform_error_prefix(const struct platform *pf, env_lookup lookup)
{
	return pf->web_error_prefix && platform_time_bounded(pf, lookup) ? pf->web_error_prefix
									 : NULL;
}
