/* identity: [push] identity read from rules.ini, and who a pusher is by
 * each mode: the platform's variable, the OS user, a named variable, a
 * deploy key, and the refusals (a variable missing, a name that is none). */
#include <criterion/criterion.h>

#include "helpers.h"
#include "identity.h"

/* The variables a test's "server" set: NAME=VALUE words, NULL-ended. */
static const char *const *vars;

static const char *lookup(const char *name)
{
	size_t len = strlen(name);
	for (const char *const *v = vars; v && *v; v++)
		if (!strncmp(*v, name, len) && (*v)[len] == '=')
			return *v + len + 1;
	return NULL;
}

static struct identity_policy policy(const char *value)
{
	struct identity_policy p = {0};
	struct buf why = BUF_INIT;
	cr_assert_eq(identity_policy_parse("identity", value, &p, &why), 0, "%s", why.data);
	buf_free(&why);
	return p;
}

/* Resolves with mode under the variables given; the OS user is "git". */
static void assert_who(const char *mode, const char *const *set, const char *name,
		       const char *source)
{
	struct identity_policy p = policy(mode);
	struct identity who;
	struct buf why = BUF_INIT;
	vars = set;
	cr_assert_eq(identity_resolve(&p, lookup, "git", &who, &why), 0, "%s: %s", mode, why.data);
	cr_assert_str_eq(who.name, name, "%s", mode);
	cr_assert_str_eq(who.source, source, "%s", mode);
	identity_free(&who);
	identity_policy_release(&p);
	buf_free(&why);
}

static void assert_refused(const char *mode, const char *const *set, const char *os_user,
			   const char *because)
{
	struct identity_policy p = policy(mode);
	struct identity who;
	struct buf why = BUF_INIT;
	vars = set;
	cr_assert_eq(identity_resolve(&p, lookup, os_user, &who, &why), -1, "%s accepted %s", mode,
		     who.name);
	cr_assert_null(who.name);
	cr_assert_not_null(strstr(why.data, because), "wanted '%s' in: %s", because, why.data);
	identity_policy_release(&p);
	buf_free(&why);
}

Test(identity, auto_reads_the_platform_that_ran_the_hook)
{
	assert_who("auto", (const char *[]){"GL_USER=alice", "GL_REPO=app", NULL}, "alice",
		   "gitolite GL_USER");
	assert_who("auto", (const char *[]){"GL_USERNAME=bob", "GL_ID=user-4", NULL}, "bob",
		   "gitlab GL_USERNAME");
	assert_who("auto",
		   (const char *[]){"GITEA_PUSHER_NAME=carol", "GITEA_DEPLOY_KEY_ID=0", NULL},
		   "carol", "gitea GITEA_PUSHER_NAME");
}

Test(identity, auto_without_a_platform_is_the_os_user_and_ignores_what_a_pusher_sets)
{
	assert_who("auto", (const char *[]){"GITGATE_USER=alice", "REMOTE_USER=alice", NULL}, "git",
		   "os");
	assert_who("os", (const char *[]){"GL_USER=alice", NULL}, "git", "os");
}

Test(identity, two_platforms_at_once_are_refused)
{
	assert_refused("auto", (const char *[]){"GL_USER=alice", "GITEA_PUSHER_NAME=bob", NULL},
		       "git", "both gitolite's and gitea's");
}

Test(identity, a_platform_mode_reads_only_its_variable_and_refuses_without_it)
{
	const char *const everything[] = {"GL_USER=alice", "GL_USERNAME=bob",
					  "GITEA_PUSHER_NAME=carol", "GITGATE_USER=mallory", NULL};
	assert_who("gitolite", everything, "alice", "gitolite GL_USER");
	assert_who("gitlab", everything, "bob", "gitlab GL_USERNAME");
	assert_who("gitea", everything, "carol", "gitea GITEA_PUSHER_NAME");
	assert_who("env:GITGATE_USER", everything, "mallory", "env GITGATE_USER");
	const char *const none[] = {"GITGATE_USER=mallory", NULL};
	assert_refused("gitolite", none, "git", "GL_USER is not set");
	assert_refused("gitlab", none, "git", "GL_USERNAME is not set");
	assert_refused("gitea", none, "git", "GITEA_PUSHER_NAME is not set");
	assert_refused("env:REMOTE_USER", none, "git", "REMOTE_USER is not set");
	assert_refused("gitolite", (const char *[]){"GL_USER=", NULL}, "git", "GL_USER is not set");
}

Test(identity, the_os_mode_refuses_an_unknown_user)
{
	assert_refused("os", NULL, NULL, "has no name");
	assert_refused("auto", NULL, NULL, "has no name");
}

Test(identity, deploy_keys_are_keys_not_people)
{
	assert_who("gitlab", (const char *[]){"GL_USERNAME=alice", "GL_ID=key-12", NULL}, "key:12",
		   "gitlab GL_ID");
	assert_who("auto", (const char *[]){"GL_USERNAME=alice", "GL_ID=key-12", NULL}, "key:12",
		   "gitlab GL_ID");
	assert_who("gitea",
		   (const char *[]){"GITEA_PUSHER_NAME=alice", "GITEA_DEPLOY_KEY_ID=7", NULL},
		   "key:7", "gitea GITEA_DEPLOY_KEY_ID");
	assert_refused("gitea",
		       (const char *[]){"GITEA_PUSHER_NAME=alice", "GITEA_DEPLOY_KEY_ID=7;x", NULL},
		       "git", "not a deploy key's number");
	cr_assert(identity_is_key("key:12"));
	cr_assert(!identity_is_key("alice"));
}

Test(identity, no_user_list_matches_a_deploy_key)
{
	struct strlist list = {0};
	strlist_add(&list, "key:12");
	strlist_add(&list, "alice");
	cr_assert(!strlist_has_user(&list, "key:12"));
	cr_assert(strlist_has_user(&list, "alice"));
	cr_assert(!strlist_has_user(&list, NULL));
	for (size_t i = 0; i < list.n; i++)
		free(list.items[i]);
	free(list.items);
}

Test(identity, a_value_that_is_no_name_is_refused_and_shown_escaped)
{
	assert_refused("env:GITGATE_USER", (const char *[]){"GITGATE_USER=caf\xe9", NULL}, "git",
		       "'caf\\xe9', is not a name");
	assert_refused("gitolite", (const char *[]){"GL_USER=alice\nbob", NULL}, "git",
		       "'alice\\nbob', is not a name");
	assert_refused("gitolite", (const char *[]){"GL_USER=\x1b[2Jalice", NULL}, "git",
		       "'\\e[2Jalice'");
	assert_refused("gitolite", (const char *[]){"GL_USER=alice bob", NULL}, "git",
		       "is not a name");
	assert_who("gitolite", (const char *[]){"GL_USER=zoë", NULL}, "zoë", "gitolite GL_USER");
}

Test(identity, github_enterprise_names_its_pusher)
{
	assert_who("auto", (const char *[]){"GITHUB_USER_LOGIN=dana", "GITHUB_VIA=git push", NULL},
		   "dana", "github GITHUB_USER_LOGIN");
	assert_refused("github", (const char *[]){"GL_USER=alice", NULL}, "git",
		       "GITHUB_USER_LOGIN is not set");
}

/* The platform's name for the repository, as platform_repository gives
 * it: 1 with name, 0 none, -1 why (in name then). */
static int repository_of(const char *const *set, struct buf *name)
{
	const struct platform *pf;
	struct buf why = BUF_INIT;
	vars = set;
	buf_clear(name);
	int rc = platform_detect(lookup, &pf, &why);
	if (rc > 0)
		rc = platform_repository(pf, lookup, name, &why);
	if (rc < 0) {
		buf_clear(name);
		buf_adds(name, why.data);
	}
	buf_free(&why);
	return rc;
}

Test(platform, each_platform_names_the_repository_its_way)
{
	struct buf name = BUF_INIT;
	cr_assert_eq(
	    repository_of((const char *[]){"GL_USER=alice", "GL_REPO=monorepo", NULL}, &name), 1);
	cr_assert_str_eq(name.data, "monorepo");
	cr_assert_eq(repository_of((const char *[]){"GL_USERNAME=bob", "GL_ID=user-4",
						    "GL_PROJECT_PATH=team/sub/monorepo",
						    "GL_REPOSITORY=project-12", NULL},
				   &name),
		     1);
	cr_assert_str_eq(name.data, "team/sub/monorepo");
	cr_assert_eq(
	    repository_of((const char *[]){"GITEA_PUSHER_NAME=carol", "GITEA_REPO_USER_NAME=team",
					   "GITEA_REPO_NAME=monorepo", NULL},
			  &name),
	    1);
	cr_assert_str_eq(name.data, "team/monorepo");
	cr_assert_eq(repository_of((const char *[]){"GITGATE_USER=x", NULL}, &name), 0);
	buf_free(&name);
}

Test(platform, a_name_that_is_no_folder_is_refused_and_two_platforms_are_none)
{
	struct buf name = BUF_INIT;
	const char *bad[] = {"GL_REPO=../other", "GL_REPO=/etc", "GL_REPO=a//b",
			     "GL_REPO=a/./b",	 "GL_REPO=a/",	 "GL_REPO=a\nb"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(repository_of((const char *[]){"GL_USER=alice", bad[i], NULL}, &name),
			     -1, "%s was taken", bad[i]);
		cr_assert_not_null(strstr(name.data, "cannot be a folder's name"), "%s", name.data);
	}
	cr_assert_eq(repository_of((const char *[]){"GITEA_REPO_NAME=monorepo", NULL}, &name), -1);
	cr_assert_not_null(strstr(name.data, "GITEA_REPO_USER_NAME is not"), "%s", name.data);
	cr_assert_eq(repository_of((const char *[]){"GL_REPO=a", "GL_PROJECT_PATH=b", NULL}, &name),
		     -1);
	cr_assert_not_null(strstr(name.data, "both gitolite's and gitlab's"), "%s", name.data);
	buf_free(&name);
}

Test(platform, gitlab_web_and_github_enterprise_are_held_to_a_time_limit)
{
	const struct platform *gitlab = platform_named("gitlab");
	vars = (const char *[]){"GL_USERNAME=bob", "GL_PROTOCOL=ssh", NULL};
	cr_assert(!platform_time_bounded(gitlab, lookup));
	cr_assert_null(platform_error_prefix(gitlab, lookup));
	vars = (const char *[]){"GL_USERNAME=bob", "GL_PROTOCOL=web", NULL};
	cr_assert(platform_time_bounded(gitlab, lookup));
	cr_assert_str_eq(platform_error_prefix(gitlab, lookup), "GL-HOOK-ERR: ");
	vars = (const char *[]){"GITHUB_USER_LOGIN=dana", NULL};
	cr_assert(platform_time_bounded(platform_named("github"), lookup));
	cr_assert_null(platform_error_prefix(platform_named("github"), lookup));
	cr_assert(!platform_time_bounded(platform_named("gitolite"), lookup));
}

#define PROJECT "[project argo]\npath = argo/\n"

Test(identity, rules_ini_takes_the_modes_and_says_where_a_bad_one_is)
{
	struct rules rules;
	struct buf errors = BUF_INIT;
	cr_assert_eq(load_rules_text(&rules, PROJECT "[push]\n", &errors), 0, "%s", errors.data);
	cr_assert_eq(rules.push.identity.mode, IDENTITY_AUTO, "the default is auto");
	rules_free(&rules);
	cr_assert_eq(
	    load_rules_text(&rules, PROJECT "[push]\nidentity = env:GITGATE_USER\n", &errors), 0,
	    "%s", errors.data);
	cr_assert_eq(rules.push.identity.mode, IDENTITY_ENV);
	cr_assert_str_eq(rules.push.identity.variable, "GITGATE_USER");
	struct buf shown = BUF_INIT;
	identity_policy_describe(&shown, &rules.push.identity);
	cr_assert_str_eq(shown.data, "env:GITGATE_USER");
	rules_free(&rules);
	cr_assert_eq(load_rules_text(&rules, PROJECT "[push]\n\nidentity = gitolite\n", &errors), 0,
		     "%s", errors.data);
	cr_assert_eq(rules.push.identity.mode, IDENTITY_GITOLITE);
	rules_free(&rules);
	const char *bad[] = {"identity = bitbucket", "identity = env:", "identity = env:A-B",
			     "identity = env:1X"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf text = BUF_INIT;
		buf_printf(&text, PROJECT "[push]\n%s\n", bad[i]);
		buf_clear(&errors);
		cr_assert_eq(load_rules_text(&rules, text.data, &errors), -1, "%s loaded", bad[i]);
		cr_assert_not_null(strstr(errors.data, ":4: identity"), "%s: %s", bad[i],
				   errors.data);
		rules_free(&rules);
		buf_free(&text);
	}
	buf_free(&shown);
	buf_free(&errors);
}
