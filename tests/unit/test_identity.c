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
	const char *bad[] = {"identity = github", "identity = env:", "identity = env:A-B",
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
