/*
 * fuzz_rules: rules_load over any bytes as a rules.ini, then the questions
 * the checks ask of a policy that loads.
 *
 * The bytes go to one memfd, opened by rules_load through /proc/self/fd as
 * a regular file, so no temporary file is left behind whatever happens.
 * A policy that fails to load is freed as check.c frees it; one that loads
 * answers the queries the gates make: which project and unit a path is in,
 * whether it is shared or forbidden, which scans take it, whether a ref is
 * protected and a user may bypass; and the deploy engine's: each
 * environment and target by its names, where each unit deploys and in what
 * order, who may deploy, whether a day is frozen. What loading promises of
 * a policy (deploy_policy.h) is checked on the way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "deploy_policy.h"
#include "rules.h"
#include "scan.h"

static int memfd = -1;
static char memfd_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memfd = memfd_create("rules.ini", 0);
	if (memfd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	return 0;
}

static const char *const paths[] = {
    "argo/src/main.js",
    "alpine-backend/app.py",
    "packages/ui/index.ts",
    "README.md",
    ".env.local",
    "a/b/node_modules/x",
    "",
};

static void ask(const struct rules *r)
{
	struct scan_selection sel = {0};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const struct project *p = rules_project_of(r, paths[i]);
		if (p && !p->unit)
			abort(); /* rules_load gives every project a unit */
		rules_is_shared(r, paths[i]);
		globlist_match(&r->forbidden, paths[i]);
		scan_select(r, paths[i], &sel);
	}
	scan_selection_free(&sel);
	for (size_t i = 0; i < r->nunits; i++) {
		if (rules_find_unit(r, r->units[i].name) != &r->units[i])
			abort(); /* a unit's name leads to that unit */
		for (size_t j = 0; j < r->units[i].aliases.n; j++)
			rules_find_unit(r, r->units[i].aliases.items[j]);
	}
	for (size_t i = 0; i < r->nprojects; i++)
		rules_project_of(r, r->projects[i].path);
	rules_ref_is_protected(r, "refs/heads/main");
	rules_user_may_bypass(r, "alice");
}

static void ask_deploy(const struct rules *r)
{
	const struct deploy_policy *d = &r->deploy;
	for (size_t i = 0; i < d->nenvironments; i++) {
		const struct deploy_environment *env = &d->environments[i];
		if (deploy_policy_find_environment(r, env->name) != env)
			abort(); /* environments have names of their own */
		deploy_policy_user_may_deploy(env, "alice");
		int frozen;
		struct buf err = BUF_INIT;
		deploy_policy_is_frozen(r, env, 1700000000, &frozen, &err);
		buf_free(&err);
	}
	for (size_t i = 0; i < d->ntargets; i++) {
		const struct deploy_target *t = &d->targets[i];
		if (deploy_policy_find_target(r, t->project, t->environment) != t)
			abort(); /* one target per project and environment */
	}
	for (size_t i = 0; i < r->nunits; i++) {
		const struct unit *unit = &r->units[i];
		const struct deploy_environment **envs;
		size_t n = deploy_policy_unit_environments(r, unit, &envs), deploys_to = 0;
		for (size_t j = 0; j < d->nenvironments; j++) {
			const struct deploy_target **targets;
			deploys_to +=
			    deploy_policy_unit_targets(r, unit, &d->environments[j], &targets) > 0;
			free(targets);
		}
		if (n != deploys_to)
			abort(); /* no "requires" cycle: every environment is reached */
		free(envs);
	}
	deploy_policy_user_may_use_emergency(r, "alice");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	struct rules rules;
	struct buf errors = BUF_INIT;
	if (rules_load(&rules, memfd_path, &errors) == 0) {
		ask(&rules);
		ask_deploy(&rules);
	}
	rules_free(&rules);
	buf_free(&errors);
	return 0;
}
