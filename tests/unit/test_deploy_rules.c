/* deploy rules: [deploy], [environment], [target] loaded, checked with file:line, and queried. */
#include <criterion/criterion.h>
#include <time.h>

#include "command.h"
#include "deploy_policy.h"
#include "deploy_rules.h"
#include "health.h"

Test(deploy_rules, the_default_rules_file_holds_the_seed)
{
	struct rules r;
	struct buf errors = BUF_INIT, path = BUF_INIT, text = BUF_INIT;
	buf_printf(&path, "%s/rules.ini", getenv("GITGATE_SOURCE"));
	cr_assert_eq(rules_load(&r, path.data, &errors), 0, "%s", errors.data);
	const struct deploy_policy *d = &r.deploy;
	cr_assert_str_eq(d->branch, "main");
	cr_assert_null(d->state_dir);
	cr_assert_str_eq(d->confirm_phrase, "deploy fully to production");
	cr_assert_eq(d->freeze_days, 1u << 5, "Friday only");
	cr_assert_str_eq(d->freeze_timezone, "UTC");
	cr_assert_eq(d->keep_releases, 5);
	cr_assert_eq(d->lock_wait_seconds, 600);

	cr_assert_eq(d->nenvironments, 2);
	const struct deploy_environment *staging = deploy_policy_find_environment(&r, "staging");
	const struct deploy_environment *production =
	    deploy_policy_find_environment(&r, "production");
	cr_assert(staging->auto_deploy && !staging->confirm && staging->health_level == 2);
	cr_assert(!production->auto_deploy && production->confirm);
	cr_assert_eq(production->health_level, 3);
	cr_assert_eq(production->required, staging);
	cr_assert(staging->freeze && production->freeze);

	cr_assert_eq(d->ntargets, 6);
	const struct deploy_target *argo = deploy_policy_find_target(&r, "argo", "production");
	cr_assert_str_eq(argo->root, "/root/argo-production");
	cr_assert_eq(argo->ports[0], 8000);
	cr_assert_eq(argo->ports[1], 8001);
	cr_assert_str_eq(argo->test.text, "pnpm --filter=argo test");
	cr_assert_str_eq(argo->lint.argv[1], "--filter=argo");
	cr_assert_str_eq(argo->build.argv[2], "build");
	cr_assert_eq(argo->health_command.argc, 4);
	cr_assert_str_eq(argo->health_command.argv[1], "argo/scripts/health_check_unified.py");
	cr_assert_str_eq(argo->health_command.argv[3], "3");
	cr_assert_str_eq(argo->run.argv[4], "$PORT");
	cr_assert_eq(argo->env_required.n, 4);
	cr_assert_str_eq(argo->env_required.items[0], "ALPACA_API_KEY");
	cr_assert_eq(argo->project_of, rules_project_of(&r, "argo/x.py"));
	cr_assert_eq(argo->env, production);
	cr_assert_str_eq(argo->health_status, "2xx");
	cr_assert_eq(argo->nhealth_body, 1);
	cr_assert_str_eq(argo->health_body[0].source, "\"status\":\\s*\"ok\"");

	const struct deploy_target *backend =
	    deploy_policy_find_target(&r, "alpine-backend", "production");
	const struct deploy_target *frontend =
	    deploy_policy_find_target(&r, "alpine-frontend", "staging");
	cr_assert_str_eq(backend->env_required.items[1], "RESEND_API_KEY");
	cr_assert_str_eq(frontend->env_required.items[1], "NEXT_PUBLIC_WS_URL");
	cr_assert_str_eq(backend->compose, "alpine-backend/docker-compose.yml");
	cr_assert_null(backend->start.argv);
	cr_assert_null(backend->run.argv);

	cr_assert_not_null(globlist_match(&d->exclude, "scripts/local_reset.sh"));
	cr_assert_not_null(globlist_match(&d->exclude, "argo/config.json"));
	cr_assert_not_null(globlist_match(&d->exclude, "alpine-backend/tests/a.py"));
	cr_assert_not_null(globlist_match(&d->exclude, "argo/x/__pycache__/y.pyc"));
	cr_assert_null(globlist_match(&d->exclude, "argo/scripts/health_check_unified.py"));

	/* No target reaches the team's public servers: health stays on 127.0.0.1. */
	cr_assert_eq(buf_read_file(&text, path.data), 0);
	cr_assert_null(strstr(text.data, "178.156.194.174"));
	cr_assert_null(strstr(text.data, "91.98.153.49"));
	for (size_t i = 0; i < d->ntargets; i++) {
		const struct deploy_target *t = &d->targets[i];
		cr_assert_eq(strncmp(t->health_url, "http://127.0.0.1:", 17), 0, "%s",
			     t->health_url);
		cr_assert(!t->live_url || !strncmp(t->live_url, "http://127.0.0.1", 16));
	}

	const struct deploy_target **targets;
	size_t n =
	    deploy_policy_unit_targets(&r, rules_find_unit(&r, "alpine"), production, &targets);
	cr_assert_eq(n, 2);
	cr_assert_eq(targets[0], backend);
	cr_assert_str_eq(targets[1]->project, "alpine-frontend");
	free(targets);
	rules_free(&r);
	buf_free(&path);
	buf_free(&text);
}

Test(deploy_rules, defaults_fill_what_the_file_does_not_say)
{
	struct rules r;
	load_ok(&r, PROJECTS
		"[push]\ndeploy_branch = release\n"
		"[environment qa]\n" TARGET("argo", "qa",
					    "9000 9001") "health_url = http://127.0.0.1:$PORT/\n");
	const struct deploy_policy *d = &r.deploy;
	cr_assert_str_eq(d->branch, "release", "[push] deploy_branch");
	cr_assert_str_eq(d->confirm_phrase, "deploy fully to production");
	cr_assert_eq(d->freeze_days, 1u << 5);
	cr_assert_str_eq(d->freeze_timezone, "UTC");
	cr_assert_eq(d->keep_releases, 5);
	cr_assert_eq(d->lock_wait_seconds, 600);
	cr_assert_eq(d->notify_timeout_seconds, 10);
	cr_assert_eq(d->app_log_max_bytes, 10485760);
	cr_assert_eq(d->app_log_keep, 1);
	cr_assert_eq(d->env_placeholders.n, 5);
	cr_assert_str_eq(d->env_placeholders.items[3], "<...>");
	cr_assert_str_eq(d->env_placeholders.items[4], "your-...");
	const struct deploy_environment *qa = &d->environments[0];
	cr_assert(!qa->auto_deploy && !qa->confirm && qa->freeze && !qa->requires);
	cr_assert_eq(qa->health_level, 3);
	const struct deploy_target *t = &d->targets[0];
	cr_assert_eq(t->command_timeout_seconds, 900);
	cr_assert_str_eq(t->health_status, "2xx");
	cr_assert_eq(t->nhealth_body, 0);
	cr_assert_eq(t->health_timeout_ms, 5000);
	cr_assert_eq(t->health_successes, 3);
	cr_assert_eq(t->health_deadline_seconds, 120);
	cr_assert_null(t->test.argv);
	rules_free(&r);
}

Test(deploy_rules, commands_keep_their_text_and_their_words)
{
	struct rules r;
	load_ok(&r, PROJECTS "[environment qa]\nhealth_level = 1\n"
			     "[target argo qa]\nroot = /srv/a\nports = 9000 9001\n"
			     "run = app \"two words\" '$PORT' --slot=${SLOT} \"\"\n"
			     "test = first\ntest = second one\nlint = x\nlint =\n"
			     "switch = command /usr/bin/swap --to $PORT\n"
			     "health_status = 200 204,3xx\n");
	const struct deploy_target *t = &r.deploy.targets[0];
	const char *const want[] = {"app", "two words", "$PORT", "--slot=${SLOT}", ""};
	cr_assert_str_eq(t->run.text, "app \"two words\" '$PORT' --slot=${SLOT} \"\"");
	cr_assert_eq(t->run.argc, 5);
	for (size_t i = 0; i < 5; i++)
		cr_assert_str_eq(t->run.argv[i], want[i], "word %zu", i);
	cr_assert_null(t->run.argv[5]);
	cr_assert_str_eq(t->test.text, "second one", "a later line replaces");
	cr_assert_null(t->lint.argv, "an empty value turns a step off");
	cr_assert_eq(t->live_switch.kind, DEPLOY_SWITCH_COMMAND);
	cr_assert_str_eq(t->live_switch.command.argv[0], "/usr/bin/swap");
	cr_assert_str_eq(t->live_switch.command.text, "/usr/bin/swap --to $PORT");
	cr_assert_str_eq(t->live_switch.text, "command /usr/bin/swap --to $PORT");
	cr_assert_str_eq(t->health_status, "200 204,3xx", "as health_run reads it");
	rules_free(&r);
	load_ok(&r, PROJECTS "[environment qa]\nhealth_level = 1\n"
			     "[target argo qa]\nroot = /srv/a\nports = 9000 9001\nrun = a\n"
			     "switch = nginx /etc/nginx/a.upstream\n");
	cr_assert_eq(r.deploy.targets[0].live_switch.kind, DEPLOY_SWITCH_NGINX);
	cr_assert_str_eq(r.deploy.targets[0].live_switch.path, "/etc/nginx/a.upstream");
	rules_free(&r);
}

Test(deploy_rules, a_target_in_an_unknown_environment)
{
	const char *text = PROJECTS ENVIRONMENTS ALL_TARGETS TARGET("argo", "prod", "7000 7001");
	assert_error_at(text, "[target argo prod]",
			"target 'argo prod' names unknown environment 'prod' (no [environment "
			"prod])");
}

Test(deploy_rules, requires_an_unknown_environment)
{
	const char *text =
	    PROJECTS "[environment staging]\nhealth_level = 1\n"
		     "[environment production]\nrequires = stagin\nhealth_level = 1\n";
	assert_error_at(text, "[environment production]",
			"environment 'production' requires unknown environment 'stagin'");
}

Test(deploy_rules, ports_are_two_different_numbers)
{
	const char *message = "ports must be two different port numbers from 1 to 65535";
	assert_line_error("ports = 8000", message);
	assert_line_error("ports = 8000 8000", message);
	assert_line_error("ports = 8000 8001 8002", message);
	assert_line_error("ports = 0 8001", message);
	assert_line_error("ports = 80a 81", message);
	assert_line_error("ports = 65536 1", message);
}

Test(deploy_rules, two_targets_never_share_a_port_or_a_root)
{
	const char *text = PROJECTS ENVIRONMENTS TARGET("argo", "staging", "8010 8011")
	    TARGET("argo", "production", "8011 8012");
	assert_error_at(text, "[target argo production]",
			"target 'argo production' uses port 8011, as target 'argo staging' does");
	text = PROJECTS "[environment a]\nhealth_level = 1\n[environment b]\nhealth_level = 1\n"
			"[target argo a]\nroot = /srv/x\nports = 1 2\nrun = a\nswitch = link /l\n"
			"[target argo b]\nroot = /srv/x\nports = 3 4\nrun = a\nswitch = link /m\n";
	assert_error_at(text, "[target argo b]", "target 'argo b' has the root of target 'argo a'");
}

Test(deploy_rules, urls_are_http_or_https_and_health_urls_use_port)
{
	const struct {
		const char *line, *message;
	} cases[] = {
	    {"live_url = ftp://127.0.0.1/health", "live_url 'ftp://127.0.0.1/health' is not a URL "
						  "gitgate can use: it must start with http://"},
	    {"live_url = http:///health", "it names no host"},
	    {"live_url = http://127.0.0.1:99999/", "its port must be 1 to 65535"},
	    {"live_url = http://127.0.0.1:$PORT/", "its port must be 1 to 65535"},
	    {"live_url = http://a b/", "it holds a blank"},
	    {"live_url = http://user:pw@host/", "a user or password does not belong"},
	    {"health_url = http://127.0.0.1:8000/health",
	     "its port must be $PORT, so that each slot"},
	    {"health_url = http://127.0.0.1:$PORT/$SLOT", "a '$' is taken as written here"},
	    {"health_url = http://127.0.0.1:$PROT/", "its port must be $PORT"},
	    {"health_url = http://[::1/", "an IPv6 host needs its ']'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_line_error(cases[i].line, cases[i].message);
	assert_error_at("[deploy]\nnotify_url = hooks.example.com/x\n" VALID, "notify_url",
			"notify_url 'hooks.example.com/x' is not a URL");
	struct rules r;
	load_ok(&r, PROJECTS "[environment qa]\n[deploy]\nnotify_url = https://h.example/x?a=1\n"
			     "[target argo qa]\nroot = /srv/a\nports = 1 2\nrun = a\n"
			     "switch = link /srv/live\nlive_url = http://[::1]:8080/ok\n"
			     "health_url = http://127.0.0.1:${PORT}/health\n");
	rules_free(&r);
}

Test(deploy_rules, a_bad_health_body_pattern_says_what_pcre2_says)
{
	assert_line_error("health_body = \"ok\": (",
			  "bad pattern '\"ok\": (': missing closing parenthesis at offset 7");
}

Test(deploy_rules, the_health_check_takes_one_body_pattern)
{
	const char *text = PROJECTS ENVIRONMENTS TARGET(
	    "argo", "staging", "1 2") "health_body = ok\nhealth_body = fine\n";
	assert_error_at(text, "health_body = fine",
			"target 'argo staging' has a second health_body; the health check takes "
			"one pattern");
}

Test(deploy_rules, an_unknown_switch_kind)
{
	assert_line_error(
	    "switch = apache /etc/a",
	    "switch must be 'nginx FILE', 'link PATH' or 'command ...', not 'apache'");
	assert_line_error("switch = nginx conf/a",
			  "switch nginx FILE 'conf/a' must be an absolute path");
	assert_line_error("switch = command", "switch 'command' needs the command to run after it");
}

Test(deploy_rules, a_requires_cycle_is_reported_once_at_its_last_environment)
{
	const char *text = PROJECTS "[environment a]\nrequires = c\nhealth_level = 1\n"
				    "[environment b]\nrequires = a\nhealth_level = 1\n"
				    "[environment c]\nrequires = b\nhealth_level = 1\n"
				    "[environment d]\nrequires = d\n";
	assert_error_at(text, "[environment c]",
			"environments require each other in a cycle: c -> b -> a -> c");
	assert_error_at(text, "[environment d]",
			"environments require each other in a cycle: d -> d");
	struct rules r;
	struct buf errors = BUF_INIT;
	cr_assert_eq(load_rules_text(&r, text, &errors), -1);
	rules_free(&r);
	size_t cycles = 0;
	for (const char *p = errors.data; (p = strstr(p, "cycle:")); p++)
		cycles++;
	cr_assert_eq(cycles, 2, "%s", errors.data);
	buf_free(&errors);
}

Test(deploy_rules, a_target_for_an_unknown_project)
{
	assert_error_at(VALID TARGET("argon", "staging", "1 2"), "[target argon staging]",
			"target 'argon staging' names unknown project 'argon'");
	assert_error_at(VALID TARGET("alpine", "staging", "1 2"), "[target alpine staging]",
			"target 'alpine staging' names unknown project 'alpine'; 'alpine' is unit "
			"'alpine-analytics': name its projects, alpine-backend alpine-frontend");
}

Test(deploy_rules, coupled_projects_deploy_to_the_same_environments)
{
	const char *text = PROJECTS ENVIRONMENTS TARGET("alpine-backend", "staging", "1 2")
	    TARGET("alpine-backend", "production", "3 4")
		TARGET("alpine-frontend", "production", "5 6");
	assert_error_at(text, "[target alpine-backend staging]",
			"unit 'alpine-analytics' deploys its projects together, but project "
			"'alpine-frontend' has no target in environment 'staging' (project "
			"'alpine-backend' has)");
}

Test(deploy_rules, production_needs_the_staging_it_requires)
{
	assert_error_at(PROJECTS ENVIRONMENTS TARGET("argo", "production", "1 2"),
			"[target argo production]",
			"target 'argo production': environment 'production' requires 'staging', "
			"where project 'argo' has no target");
}

Test(deploy_rules, a_target_says_how_its_app_starts_and_stops)
{
	const char *head =
	    PROJECTS "[environment qa]\nhealth_level = 1\n"
		     "[target argo qa]\nroot = /srv/a\nports = 1 2\nswitch = link /l\n";
	struct buf text = BUF_INIT;
	buf_printf(&text, "%s", head);
	assert_error_at(text.data, "[target argo qa]",
			"target 'argo qa' has neither run, start/stop nor compose");
	buf_printf(&text, "start = docker compose up\n");
	assert_error_at(text.data, "[target argo qa]", "target 'argo qa' has start but no stop");
	buf_clear(&text);
	buf_printf(&text, "%sstop = docker compose down\n", head);
	assert_error_at(text.data, "[target argo qa]", "target 'argo qa' has stop but no start");
	buf_printf(&text, "run = app\n");
	assert_error_at(text.data, "[target argo qa]", "target 'argo qa' has run and start/stop");
	buf_free(&text);
	assert_error_at(PROJECTS "[environment qa]\nhealth_level = 1\n[target argo qa]\nrun = a\n",
			"[target argo qa]", "target 'argo qa' has no root");
	assert_error_at(PROJECTS "[environment qa]\nhealth_level = 1\n[target argo qa]\nrun = a\n",
			"[target argo qa]", "target 'argo qa' has no ports");
	assert_error_at(PROJECTS "[environment qa]\nhealth_level = 1\n[target argo qa]\nrun = a\n",
			"[target argo qa]", "target 'argo qa' has no switch");
}

Test(deploy_rules, confirm_needs_a_phrase)
{
	assert_error_at("[deploy]\nconfirm_phrase =\n" VALID, "[environment production]",
			"environment 'production' has confirm = yes, but [deploy] confirm_phrase "
			"is empty");
}

Test(deploy_rules, health_levels_and_variables_need_what_they_check)
{
	const char *head = PROJECTS "[environment qa]\nhealth_level = 2\n"
				    "[target argo qa]\nroot = /srv/a\nports = 1 2\nrun = a\n"
				    "switch = link /l\n";
	struct buf text = BUF_INIT;
	buf_printf(&text, "%s", head);
	assert_error_at(text.data, "[target argo qa]",
			"target 'argo qa' has no health_url, which health level 2 of environment "
			"'qa' needs");
	buf_printf(&text, "health_url = http://127.0.0.1:$PORT/\nenv_required = A\n"
			  "health_dependencies = DATABASE_URL\n");
	assert_error_at(text.data, "[target argo qa]", "target 'argo qa' names variables");
	assert_error_at(
	    text.data, "[target argo qa]",
	    "target 'argo qa': health dependency 'DATABASE_URL' is not in env_required");
	buf_printf(&text, "env_required = 1BAD\n");
	assert_error_at(text.data, "env_required = 1BAD",
			"env_required: '1BAD' is not an environment variable name");
	buf_free(&text);
}

Test(deploy_rules, a_command_names_only_gitgates_variables)
{
	assert_line_error(
	    "run = app --port $PROT",
	    "run 'app --port $PROT': column 12: unknown variable $PROT: the variables "
	    "are $PORT $SLOT $REVISION $UNIT $PROJECT $ENVIRONMENT $ROOT");
	assert_line_error("test = pnpm test --home=${HOME}", "unknown variable $HOME");
	assert_error_at("[deploy]\nnotify_command = tell $TEAM\n" VALID, "notify_command",
			"unknown variable $TEAM");
	struct rules r;
	load_ok(&r, VALID "build = make '$HOME' \\$HOME \"$REVISION\" ${ROOT}/x\n");
	cr_assert_str_eq(r.deploy.targets[5].build.argv[1], "$HOME", "quoted: passed on");
	cr_assert_str_eq(r.deploy.targets[5].build.argv[2], "$HOME");
	cr_assert_str_eq(r.deploy.targets[5].build.argv[3], "$REVISION");
	rules_free(&r);
}

Test(deploy_rules, a_command_is_split_as_a_shell_would_and_says_what_is_wrong)
{
	assert_line_error("test = pnpm 'test",
			  "test 'pnpm 'test': column 6: unterminated single quote");
	assert_line_error("lint = pnpm lint | tee log", "column 11: '|' is shell syntax");
	assert_line_error("build = \"\" x", "its first word, the program to run, is empty");
}

Test(deploy_rules, deploy_values_are_checked)
{
	assert_error_at("[deploy]\nfreeze_days = fri frid\n" VALID, "freeze_days",
			"freeze_days: 'frid' is not a day: use mon tue wed thu fri sat sun");
	assert_error_at("[deploy]\nfreeze_timezone = Mars/Olympus_Mons\n" VALID, "freeze_timezone",
			"freeze_timezone: no time zone 'Mars/Olympus_Mons'");
	assert_error_at(
	    "[deploy]\nfreeze_timezone = ../etc/passwd\n" VALID, "freeze_timezone",
	    "freeze_timezone: '../etc/passwd' is not a time zone name like UTC or Europe/Berlin");
	assert_error_at("[deploy]\nkeep_releases = 1\n" VALID, "keep_releases",
			"keep_releases must be a whole number from 2 to 1000");
	assert_error_at("[deploy]\napp_log_max_bytes = 10M\n" VALID, "app_log_max_bytes",
			"app_log_max_bytes must be a whole number from 65536 to 1099511627776");
	assert_error_at("[deploy]\napp_log_keep = 0\n" VALID, "app_log_keep",
			"app_log_keep must be a whole number from 1 to 100");
	assert_error_at("[deploy]\nstate_dir = var/lib\n" VALID, "state_dir",
			"state_dir 'var/lib' must be an absolute path");
	assert_error_at("[deploy]\nbranch = a..b\n" VALID, "branch",
			"branch 'a..b' is not a branch");
	assert_error_at(PROJECTS "[environment qa]\nauto = sometimes\n",
			"auto =", "auto must be yes or no, not 'sometimes'");
	assert_error_at(PROJECTS "[environment qa]\nhealth_level = 4\n", "health_level",
			"health_level must be a whole number from 1 to 3");
	assert_error_at(PROJECTS "[environment qa]\nrequires = a/b\n", "requires",
			"requires 'a/b' may use only letters");
	assert_error_at(VALID "[target argo  staging]\n", "[target argo  staging]",
			"duplicate target 'argo staging'");
	assert_line_error("health_status = 2xx 600",
			  "health_status: '600' is neither a code (200) nor a class (2xx)");
	assert_line_error("health_status = 2xx,ok", "health_status: 'ok' is neither a code");
	assert_line_error("health_status = ,", "health_status: no code or class given");
	assert_line_error(
	    "hots = a", "unknown key 'hots' in [target argo staging]: expected one of root, ports");
}

Test(deploy_rules, a_remote_host_is_user_at_host_and_maybe_port)
{
	assert_line_error("host = example.com", "host: 'example.com' must be USER@HOST[:PORT]");
	assert_line_error("host = root@", "'root@' names no host");
	assert_line_error("host = root@10.0.0.2:0", "the port must be 1 to 65535");
	assert_line_error("host = root@10.0.0.2:22x", "the port must be 1 to 65535");
	assert_line_error("host = r$(id)@h", "a user name is letters, digits");
	assert_line_error("host = root@-oProxyCommand=x", "a host is a name or an address");
	assert_line_error("host = root@[::1", "an IPv6 host needs its ']'");
	assert_line_error("hosts = root@a root@b:2x", "hosts: 'root@b:2x': the port");
	assert_line_error("ssh_identity = key", "ssh_identity 'key' must be an absolute path");
	assert_line_error("ssh_identity = /etc/git gate/id",
			  "OpenSSH takes no blank, '%' or quote");
	assert_line_error("ssh_known_hosts = /etc/%u/known",
			  "OpenSSH takes no blank, '%' or quote");
	assert_error_at(VALID "[deploy]\nssh_known_hosts = relative\n", "ssh_known_hosts",
			"must be an absolute path");
	struct rules r;
	load_ok(&r, PROJECTS ENVIRONMENTS
		"[deploy]\nssh_known_hosts = /etc/gitgate/known_hosts\n"
		"ssh_identity = /etc/gitgate/id\n" TARGET(
		    "argo", "staging",
		    "8000 8001") "hosts = deploy@127.0.0.2:2222 deploy@127.0.0.3 root@[::1]:22\n"
				 "ssh_identity = /etc/gitgate/staging\n" TARGET(
				     "argo", "production",
				     "8000 8001") "host = root@prod.example.com\n");
	const struct deploy_target *t = deploy_policy_find_target(&r, "argo", "staging");
	cr_assert_eq(t->hosts.n, 3);
	cr_assert_str_eq(t->hosts.items[2], "root@[::1]:22");
	cr_assert_str_eq(t->ssh_identity, "/etc/gitgate/staging");
	cr_assert_str_eq(r.deploy.ssh_known_hosts, "/etc/gitgate/known_hosts");
	t = deploy_policy_find_target(&r, "argo", "production");
	cr_assert_eq(t->hosts.n, 1, "host is the list of one");
	cr_assert_str_eq(t->hosts.items[0], "root@prod.example.com");
	rules_free(&r);
	char *user, *host;
	unsigned port;
	struct buf why = BUF_INIT;
	cr_assert_eq(deploy_policy_parse_host("deploy@[::1]:2222", &user, &host, &port, &why), 0);
	cr_assert_str_eq(user, "deploy");
	cr_assert_str_eq(host, "::1");
	cr_assert_eq(port, 2222);
	free(user);
	free(host);
	cr_assert_eq(deploy_policy_parse_host("deploy@h", &user, &host, &port, &why), 0);
	cr_assert_eq(port, 22);
	free(user);
	free(host);
	buf_free(&why);
}

Test(deploy_rules, host_and_hosts_are_one_or_the_other)
{
	assert_error_at(PROJECTS ENVIRONMENTS TARGET("argo", "staging",
						     "8000 8001") "host = a@b\nhosts = a@c a@d\n",
			"[target argo staging]", "has host and hosts");
	assert_error_at(
	    PROJECTS ENVIRONMENTS TARGET("argo", "staging", "8000 8001") "hosts = a@c a@c\n",
	    "[target argo staging]", "names host a@c twice");
	assert_error_at(
	    PROJECTS ENVIRONMENTS TARGET("argo", "staging", "8000 8001") "ssh_identity = /k\n",
	    "[target argo staging]", "but no host to use them for");
}

/* Targets on different machines may use the same ports; on one host not. */
Test(deploy_rules, ports_clash_only_on_one_machine)
{
	struct rules r;
	load_ok(&r, PROJECTS ENVIRONMENTS
			TARGET("argo", "staging", "8000 8001") "host = root@10.0.0.2\n" TARGET(
			    "argo", "production", "8000 8001") "host = root@10.0.0.3\n");
	rules_free(&r);
	assert_error_at(
	    PROJECTS ENVIRONMENTS
		TARGET("argo", "staging", "8000 8001") "hosts = root@10.0.0.2 "
						       "root@10.0.0.4\n" TARGET(
							   "argo", "production",
							   "8001 8002") "host = "
									"deploy@10.0.0.4:22\n",
	    "[target argo production]", "uses port 8001");
	assert_error_at(
	    PROJECTS ENVIRONMENTS TARGET("argo", "staging", "8000 8001")
		TARGET("argo", "production", "8000 8002") "host = root@10.0.0.3\n" TARGET(
		    "alpine-backend", "staging", "8000 8003"),
	    "[target alpine-backend staging]", "uses port 8000");
}

/* TZDIR, as glibc reads it, says where the zones are; a file there that
 * is not a zone is refused. */
Test(deploy_rules, a_zone_is_a_tzif_file_under_tzdir)
{
	char dir[] = "/tmp/gitgate-zones-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct buf path = BUF_INIT, why = BUF_INIT;
	buf_printf(&path, "%s/Notazone", dir);
	FILE *f = fopen(path.data, "w");
	cr_assert_not_null(f);
	fputs("# not a zone\n", f);
	fclose(f);
	setenv("TZDIR", dir, 1);
	assert_error_at("[deploy]\nfreeze_timezone = Notazone\n" VALID, "freeze_timezone",
			"freeze_timezone: no time zone 'Notazone' (/tmp/gitgate-zones-");
	assert_error_at("[deploy]\nfreeze_timezone = Notazone\n" VALID, "freeze_timezone",
			"/Notazone: not a TZif file; is tzdata installed?)");
	cr_assert_eq(deploy_policy_check_zone("UTC", &why), 0, "UTC needs no file");
	unsetenv("TZDIR");
	unlink(path.data);
	rmdir(dir);
	buf_free(&path);
	buf_free(&why);
}

Test(deploy_rules, every_error_is_reported_in_one_pass)
{
	const char *text = PROJECTS ENVIRONMENTS "[target argo staging]\nports = 1\n"
						 "switch = ftp /x\nrun = a $X\n";
	assert_error_at(text, "ports = 1", "ports must be two");
	assert_error_at(text, "switch = ftp", "switch must be");
	assert_error_at(text, "run = a $X", "unknown variable $X");
	assert_error_at(text, "[target argo staging]", "has no ports");
	assert_error_at(text, "[target argo staging]", "has no switch");
}

Test(deploy_rules, environments_come_in_deploy_order)
{
	struct rules r;
	load_ok(&r, PROJECTS "[environment production]\nrequires = staging\nhealth_level = 1\n"
			     "[environment qa]\nhealth_level = 1\n"
			     "[environment staging]\nauto = yes\nhealth_level = 1\n" TARGET(
				 "argo", "production", "1 2") TARGET("argo", "qa", "3 4")
				 TARGET("argo", "staging", "5 6"));
	const struct deploy_environment **envs;
	size_t n = deploy_policy_unit_environments(&r, rules_find_unit(&r, "argo"), &envs);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(envs[0]->name, "staging");
	cr_assert_str_eq(envs[1]->name, "production");
	cr_assert_str_eq(envs[2]->name, "qa");
	free(envs);
	n = deploy_policy_unit_environments(&r, rules_find_unit(&r, "alpine"), &envs);
	cr_assert_eq(n, 0);
	cr_assert_null(envs);
	rules_free(&r);
}

static int frozen_at(const struct rules *r, const char *env, time_t when)
{
	int frozen = -1;
	struct buf err = BUF_INIT;
	cr_assert_eq(deploy_policy_is_frozen(r, env ? deploy_policy_find_environment(r, env) : NULL,
					     when, &frozen, &err),
		     0, "%s", err.data);
	buf_free(&err);
	return frozen;
}

Test(deploy_rules, a_friday_is_frozen_in_utc_and_a_saturday_is_not)
{
	struct rules r;
	load_ok(&r, VALID "[environment hotfix]\nfreeze = no\nhealth_level = 1\n");
	/* 2025-01-17 is a Friday. */
	cr_assert_eq(frozen_at(&r, "production", utc(2025, 1, 17, 12, 0)), 1);
	cr_assert_eq(frozen_at(&r, "staging", utc(2025, 1, 17, 0, 0)), 1);
	cr_assert_eq(frozen_at(&r, NULL, utc(2025, 1, 17, 23, 59)), 1);
	cr_assert_eq(frozen_at(&r, "production", utc(2025, 1, 18, 0, 0)), 0);
	cr_assert_eq(frozen_at(&r, "production", utc(2025, 1, 16, 23, 59)), 0);
	cr_assert_eq(frozen_at(&r, "hotfix", utc(2025, 1, 17, 12, 0)), 0, "freeze = no");
	rules_free(&r);
	load_ok(&r, "[deploy]\nfreeze_days =\n" VALID);
	cr_assert_eq(frozen_at(&r, "production", utc(2025, 1, 17, 12, 0)), 0, "no freeze day");
	rules_free(&r);
}

/* Berlin is an hour ahead of UTC in January: 23:30 UTC on Thursday is
 * already Friday there, and 23:30 UTC on Friday is Saturday. */
Test(deploy_rules, the_freeze_follows_the_configured_time_zone)
{
	struct rules r;
	struct buf why = BUF_INIT;
	if (deploy_policy_check_zone("Europe/Berlin", &why) < 0)
		cr_skip_test("no tzdata: %s", why.data);
	buf_free(&why);
	setenv("TZ", "Pacific/Kiritimati", 1);
	load_ok(&r, "[deploy]\nfreeze_days = fri sun\nfreeze_timezone = Europe/Berlin\n" VALID);
	cr_assert_eq(frozen_at(&r, "production", utc(2025, 1, 16, 23, 30)), 1, "Friday in Berlin");
	cr_assert_eq(frozen_at(&r, "production", utc(2025, 1, 17, 23, 30)), 0,
		     "Saturday in Berlin");
	cr_assert_eq(frozen_at(&r, "production", utc(2025, 1, 18, 23, 30)), 1, "Sunday in Berlin");
	struct tm local;
	struct buf err = BUF_INIT;
	cr_assert_eq(deploy_policy_local_time(&r, utc(2025, 7, 1, 12, 0), &local, &err), 0);
	cr_assert_eq(local.tm_hour, 14, "summer time");
	cr_assert_str_eq(getenv("TZ"), "Pacific/Kiritimati", "TZ is put back");
	unsetenv("TZ");
	cr_assert_eq(frozen_at(&r, "production", utc(2025, 1, 16, 23, 30)), 1);
	cr_assert_null(getenv("TZ"), "an unset TZ stays unset");
	buf_free(&err);
	rules_free(&r);
}

Test(deploy_rules, who_may_deploy_and_who_may_use_emergency)
{
	struct rules r;
	load_ok(&r, "[deploy]\nemergency_users = carol\n" PROJECTS
		    "[environment staging]\nauto = yes\nhealth_level = 1\n"
		    "[environment production]\nrequires = staging\nhealth_level = 1\n"
		    "users = alice bob\n" ALL_TARGETS);
	const struct deploy_environment *staging = deploy_policy_find_environment(&r, "staging");
	const struct deploy_environment *production =
	    deploy_policy_find_environment(&r, "production");
	cr_assert(deploy_policy_user_may_deploy(staging, "mallory"), "no users: everyone");
	cr_assert(deploy_policy_user_may_deploy(production, "bob"));
	cr_assert_not(deploy_policy_user_may_deploy(production, "carol"));
	cr_assert(deploy_policy_user_may_use_emergency(&r, "carol"));
	cr_assert_not(deploy_policy_user_may_use_emergency(&r, "alice"));
	cr_assert_null(deploy_policy_find_environment(&r, "prod"));
	rules_free(&r);
}

/* What the loader stores is what deploy/command.c fills in: the two sides
 * agree on the words and on the variables. */
Test(deploy_rules, stored_commands_are_what_the_engine_expands)
{
	struct rules r;
	load_ok(&r,
		PROJECTS ENVIRONMENTS TARGET("argo", "staging", "1 2")
		    TARGET("argo", "production", "3 4") "start = sh -c 'exec app --port \"$PORT\" "
							"$HOME' --root=${ROOT}-$SLOT\nrun =\n"
							"stop = true\n");
	const struct deploy_target *t = deploy_policy_find_target(&r, "argo", "production");
	struct command_vars vars = {.port = "8001", .slot = "green", .root = "/srv/argo"};
	char **argv = command_expand((const char *const *)t->start.argv, &vars);
	cr_assert_str_eq(argv[0], "sh");
	cr_assert_str_eq(argv[2], "exec app --port \"8001\" $HOME", "the shell gets its $HOME");
	cr_assert_str_eq(argv[3], "--root=/srv/argo-green");
	cr_assert_null(argv[4]);
	strvec_free(argv);
	rules_free(&r);
}

/* health_status is kept as text for deploy/health.c to read: what the
 * loader takes, the health check takes (it runs against a closed port,
 * so it runs and fails, rather than refusing the spec). */
Test(deploy_rules, stored_statuses_are_what_the_health_check_reads)
{
	const char *good[] = {"2xx", "200 204,3xx", "2XX\t301"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct rules r;
		struct buf text = BUF_INIT, err = BUF_INIT;
		buf_printf(&text, VALID "health_status = %s\n", good[i]);
		load_ok(&r, text.data);
		const char *urls[] = {"http://127.0.0.1:1/health"};
		struct health_spec spec = {.level = 2,
					   .urls = urls,
					   .nurls = 1,
					   .status = r.deploy.targets[5].health_status,
					   .timeout_ms = 1000,
					   .deadline_ms = 2000};
		struct health_report report;
		cr_assert_eq(health_run(&report, &spec, &err), 0, "%s: %s", good[i], err.data);
		cr_assert_not(report.passed);
		health_report_free(&report);
		unsigned char ok[600];
		cr_assert_eq(deploy_policy_parse_statuses(spec.status, ok, &err), 0);
		cr_assert(ok[200] && ok[299] == (i != 1) && !ok[199] && !ok[600 - 1]);
		rules_free(&r);
		buf_free(&text);
		buf_free(&err);
	}
}

/* A Compose target: its file in the release, its program, no run or
 * start/stop beside it, names Compose and Docker take; env_command's
 * variables are the target's; each refused with file:line. */
Test(deploy_rules, compose_targets_and_env_commands)
{
	const char *head = PROJECTS "[environment qa]\nhealth_level = 1\n"
				    "[target argo qa]\nroot = /srv/a\nports = 1 2\n"
				    "switch = link /l\n";
	struct buf text = BUF_INIT;
	struct rules rules;
	buf_printf(&text,
		   "[deploy]\ncompose_command = docker compose\n%scompose = deploy/compose.yml\n"
		   "env_command = sh -c 'pass show $PROJECT/$ENVIRONMENT'\n"
		   "env_required = TOKEN\n",
		   head);
	load_ok(&rules, text.data);
	const struct deploy_target *t = deploy_policy_find_target(&rules, "argo", "qa");
	cr_assert_str_eq(t->compose, "deploy/compose.yml");
	cr_assert_str_eq(rules.deploy.compose_command.argv[1], "compose");
	cr_assert_null(t->compose_command.argv);
	cr_assert_str_eq(t->env_command.argv[2], "pass show $PROJECT/$ENVIRONMENT");
	rules_free(&rules);
	const char *bad_files[] = {"/srv/compose.yml", "../compose.yml", "a/../../b.yml", "dir/",
				   "c-$SLOT.yml"};
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		buf_clear(&text);
		buf_printf(&text, "%scompose = %s\n", head, bad_files[i]);
		assert_error_at(text.data, "compose = ", "must be a path inside the release");
	}
	buf_clear(&text);
	buf_printf(&text, "%scompose = c.yml\nrun = app\n", head);
	assert_error_at(text.data, "[target argo qa]",
			"has compose and run or start/stop: its slots are Compose projects");
	buf_clear(&text);
	buf_printf(&text, "%srun = app\ncompose_command = docker-compose\n", head);
	assert_error_at(text.data, "[target argo qa]", "has compose_command but no compose");
	buf_clear(&text);
	buf_printf(&text, "%scompose = c.yml\ncompose_command = docker-compose -p $PROJECT\n",
		   head);
	assert_error_at(text.data,
			"compose_command = ", "names the Compose program: it takes no $");
	buf_clear(&text);
	buf_printf(&text, "%srun = app\nenv_command = fetch --port $PORT\n", head);
	assert_error_at(
	    text.data, "env_command = ",
	    "unknown variable $PORT: the variables are $UNIT $PROJECT $ENVIRONMENT $ROOT");
	buf_clear(&text);
	buf_printf(&text, "%srun = app\nenv_required = TOKEN\n", head);
	assert_error_at(text.data, "[target argo qa]",
			"but no env_file or env_command to read them from");
	buf_free(&text);
	assert_error_at("[project Argo.Web]\npath = argo/\n[environment qa]\nhealth_level = 1\n"
			"[target Argo.Web qa]\nroot = /srv/a\nports = 1 2\nswitch = link /l\n"
			"compose = c.yml\n",
			"[target Argo.Web qa]",
			"'Argo.Web' names its Compose projects and images (Argo.Web-qa-blue)");
}
