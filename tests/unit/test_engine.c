/*
 * The deploy engine driven through fake hosts (fake_host.h): a real git
 * repository, real rules, the real state folder and history, and hosts in
 * memory that can fail a switch or be lost on a given operation. What each
 * test checks is what the README promises: a failed or killed deploy leaves
 * the previous version serving, and the history says what happened, once.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deploy.h"
#include "fake_host.h"
#include "helpers.h"
#include "history.h"
#include "run.h"
#include "slot.h"
#include "state.h"

#define ROOT "/srv/argo"

static char *tmp;
static struct buf repo_dir = BUF_INIT, state_dir = BUF_INIT, rules_path = BUF_INIT;
static struct rules rules;
static git_repository *repo;
static struct deploy_site site;
static struct fake_host *hosts[3];

/* Runs git with args in the test's repository; the test fails if it does. */
static void git(const char *const *args)
{
	const char *argv[16] = {"git",
				"-C",
				repo_dir.data,
				"-c",
				"user.name=Test",
				"-c",
				"user.email=test@example.com"};
	size_t n = 7;
	for (; *args; args++)
		argv[n++] = *args;
	struct run_options o = {.argv = argv, .limit_ms = 20000};
	struct run_result r;
	struct buf err = BUF_INIT;
	cr_assert_eq(run(&r, &o, &err), 0, "%s", err.data);
	cr_assert_eq(r.code, 0, "git %s failed", argv[7]);
	buf_free(&err);
}

/* A commit that changes argo/app.txt to text. */
static void commit(const char *text)
{
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/argo/app.txt", repo_dir.data);
	FILE *f = fopen(path.data, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	git((const char *[]){"add", "-A", NULL});
	git((const char *[]){"commit", "-q", "-m", text, NULL});
	buf_free(&path);
}

static void setup_with(const char *target_hosts)
{
	tmp = xstrdup("/tmp/gitgate-engine-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	buf_printf(&repo_dir, "%s/repo", tmp);
	buf_printf(&state_dir, "%s/state", tmp);
	buf_printf(&rules_path, "%s/rules.ini", tmp);
	struct buf argo = BUF_INIT;
	buf_printf(&argo, "%s/argo", repo_dir.data);
	cr_assert_eq(mkdir(repo_dir.data, 0755), 0);
	cr_assert_eq(mkdir(argo.data, 0755), 0);
	git((const char *[]){"init", "-q", "-b", "main", NULL});
	buf_free(&argo);
	commit("first");
	FILE *f = fopen(rules_path.data, "w");
	fprintf(f,
		"[project argo]\npath = argo/\n"
		"[deploy]\nsandbox = no\nkeep_releases = 2\n"
		"[environment staging]\nauto = yes\nhealth_level = 2\nfreeze = no\n"
		"[target argo staging]\nhosts = %s\nroot = " ROOT "\nports = 8001 8002\n"
		"run = app $PORT\nswitch = link " ROOT "-live\n"
		"health_url = http://localhost:$PORT/health\n",
		target_hosts);
	fclose(f);
	struct buf errors = BUF_INIT;
	cr_assert_eq(rules_load(&rules, rules_path.data, &errors), 0, "%s", errors.data);
	buf_free(&errors);
	git_libgit2_init();
	cr_assert_eq(git_repository_open(&repo, repo_dir.data), 0);
	/* As a hook or the command line runs in the repository: the git that
	 * gate 8 runs finds it there. */
	cr_assert_eq(chdir(repo_dir.data), 0);
	site = (struct deploy_site){.repo = repo,
				    .rules = &rules,
				    .state_dir = state_dir.data,
				    .open_host = fake_host_open};
}

static void setup_three(void)
{
	setup_with("fake@h1 fake@h2 fake@h3");
	hosts[0] = fake_host_new("fake@h1");
	hosts[1] = fake_host_new("fake@h2");
	hosts[2] = fake_host_new("fake@h3");
}

static void teardown(void)
{
	cr_assert_eq(chdir("/"), 0);
	fake_hosts_free();
	git_repository_free(repo);
	git_libgit2_shutdown();
	rules_free(&rules);
	remove_tree(tmp);
	buf_free(&repo_dir);
	buf_free(&state_dir);
	buf_free(&rules_path);
	free(tmp);
}

TestSuite(engine, .init = setup_three, .fini = teardown, .timeout = 60);

/* gitgate deploy argo staging, its output kept in said. */
static enum gitgate_status deploy(struct buf *said)
{
	struct deploy_request req = {.unit = "argo", .environment = "staging", .user = "alice"};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	enum gitgate_status st = deploy_run(&site, &req, 1, out, NULL);
	fclose(out);
	buf_clear(said);
	buf_adds(said, text);
	free(text);
	return st;
}

/* The state of argo staging on host i: which slot is live. */
static enum slot_color live_on(size_t i)
{
	struct slot_state st;
	struct buf err = BUF_INIT;
	cr_assert_eq(
	    deploy_target_read(&site, &rules.deploy.targets[0], hosts[i]->host.address, &st, &err),
	    0, "%s", err.data);
	enum slot_color live = st.live;
	slot_state_free(&st);
	buf_free(&err);
	return live;
}

/* The last record's field key. */
static char *last(const char *key)
{
	json_t *records;
	size_t skipped;
	struct buf err = BUF_INIT;
	cr_assert_eq(history_read(&records, state_dir.data, "argo", "staging", 1, &skipped, &err),
		     0);
	const char *v = json_string_value(json_object_get(json_array_get(records, 0), key));
	char *copy = v ? xstrdup(v) : NULL;
	json_decref(records);
	buf_free(&err);
	return copy;
}

static size_t records_with(const char *key, const char *value)
{
	json_t *records, *r;
	size_t skipped, i, n = 0;
	struct buf err = BUF_INIT;
	cr_assert_eq(history_read(&records, state_dir.data, "argo", "staging", 100, &skipped, &err),
		     0);
	json_array_foreach(records, i, r)
	{
		const char *v = json_string_value(json_object_get(r, key));
		n += v && !strcmp(v, value);
	}
	json_decref(records);
	buf_free(&err);
	return n;
}

static void assert_outcome(const char *want)
{
	char *got = last("outcome");
	cr_assert_str_eq(got, want);
	free(got);
}

/* Host i got the first release alone, and the second on the first (the
 * newest release its slots held): its copy there is what the second is
 * made from. */
static void assert_received_on_the_first(size_t i)
{
	struct slot_state st;
	struct buf err = BUF_INIT, first = BUF_INIT, second = BUF_INIT;
	cr_assert_eq(
	    deploy_target_read(&site, &rules.deploy.targets[0], hosts[i]->host.address, &st, &err),
	    0, "%s", err.data);
	buf_printf(&first, "receive %s\n", st.slots[SLOT_BLUE].release);
	buf_printf(&second, "receive %s on %s\n", st.slots[SLOT_GREEN].release,
		   st.slots[SLOT_BLUE].release);
	cr_assert_not_null(strstr(hosts[i]->journal.data, first.data), "%s",
			   hosts[i]->journal.data);
	cr_assert_not_null(strstr(hosts[i]->journal.data, second.data), "%s",
			   hosts[i]->journal.data);
	slot_state_free(&st);
	buf_free(&err);
	buf_free(&first);
	buf_free(&second);
}

Test(engine, a_rolling_deploy_goes_live_host_by_host)
{
	struct buf said = BUF_INIT;
	cr_assert_eq(deploy(&said), STATUS_PASSED, "%s", said.data);
	assert_outcome("deployed");
	for (size_t i = 0; i < 3; i++) {
		cr_assert_str_eq(fake_host_link(hosts[i], ROOT "-live"), ROOT "-blue");
		cr_assert(fake_host_runs(hosts[i], ROOT "-blue"));
		cr_assert_eq(live_on(i), SLOT_BLUE);
		cr_assert_eq(hosts[i]->opened, 1, "one connection a host");
		cr_assert_eq(hosts[i]->closed, 1, "closed once");
	}
	cr_assert_not_null(strstr(said.data, "host 3 of 3"), "%s", said.data);
	commit("second");
	cr_assert_eq(deploy(&said), STATUS_PASSED, "%s", said.data);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_str_eq(fake_host_link(hosts[i], ROOT "-live"), ROOT "-green");
		cr_assert_eq(live_on(i), SLOT_GREEN);
		assert_received_on_the_first(i);
	}
	buf_free(&said);
}

Test(engine, a_failing_switch_leaves_the_old_slot_serving)
{
	struct buf said = BUF_INIT;
	cr_assert_eq(deploy(&said), STATUS_PASSED, "%s", said.data);
	commit("second");
	hosts[0]->fail_link = ROOT "-live";
	cr_assert_eq(deploy(&said), STATUS_REJECTED, "%s", said.data);
	assert_outcome("failed");
	cr_assert_not_null(strstr(said.data, "Input/output error"), "%s", said.data);
	cr_assert_str_eq(fake_host_link(hosts[0], ROOT "-live"), ROOT "-blue");
	cr_assert_eq(live_on(0), SLOT_BLUE, "the state names the slot that serves");
	cr_assert(fake_host_runs(hosts[0], ROOT "-blue"), "the old app still runs");
	cr_assert(!fake_host_runs(hosts[0], ROOT "-green"), "the new app was stopped");
	/* Hosts 2 and 3 never took part. */
	for (size_t i = 1; i < 3; i++) {
		cr_assert_str_eq(fake_host_link(hosts[i], ROOT "-live"), ROOT "-blue");
		cr_assert(!fake_host_runs(hosts[i], ROOT "-green"));
	}
	buf_free(&said);
}

Test(engine, a_host_lost_on_step_two_puts_step_one_back)
{
	struct buf said = BUF_INIT;
	cr_assert_eq(deploy(&said), STATUS_PASSED, "%s", said.data);
	commit("second");
	/* Host 2 answers gate 9's check of what is live, then is gone. */
	hosts[1]->ops = 0;
	hosts[1]->lose_at = 1;
	buf_clear(&hosts[2]->journal);
	cr_assert_eq(deploy(&said), STATUS_REJECTED, "%s", said.data);
	assert_outcome("rolled-back");
	cr_assert_not_null(strstr(said.data, "failed or was lost"), "%s", said.data);
	cr_assert_str_eq(fake_host_link(hosts[0], ROOT "-live"), ROOT "-blue",
			 "host 1, live on the new release in step 1, is back");
	cr_assert_eq(live_on(0), SLOT_BLUE);
	cr_assert(!fake_host_runs(hosts[0], ROOT "-green"), "host 1's new app was stopped");
	cr_assert_eq(live_on(1), SLOT_BLUE);
	cr_assert_str_eq(fake_host_link(hosts[2], ROOT "-live"), ROOT "-blue");
	cr_assert_null(strstr(hosts[2]->journal.data, "receive"), "host 3's turn never came");
	buf_free(&said);
}

Test(engine, gate_11_failing_on_the_last_host_undoes_every_host)
{
	struct buf said = BUF_INIT;
	cr_assert_eq(deploy(&said), STATUS_PASSED, "%s", said.data);
	commit("second");
	/* Host 3 answers gate 9 and its slot's check, and fails live (its
	 * third check: gate 11). */
	hosts[2]->checks = 0;
	hosts[2]->sick_from = 2;
	cr_assert_eq(deploy(&said), STATUS_REJECTED, "%s", said.data);
	assert_outcome("rolled-back");
	cr_assert_not_null(strstr(said.data, "gate 11/11"), "%s", said.data);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(live_on(i), SLOT_BLUE, "host %zu", i + 1);
		cr_assert_str_eq(fake_host_link(hosts[i], ROOT "-live"), ROOT "-blue");
		cr_assert(!fake_host_runs(hosts[i], ROOT "-green"), "host %zu", i + 1);
	}
	buf_free(&said);
}

/* The pid of a process that has exited. */
static pid_t dead_pid(void)
{
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	return dead;
}

Test(engine, a_stale_lock_of_a_dead_deploy_does_not_stop_the_next)
{
	/* A deploy that died held the lock: its holder's line is still in the
	 * file, but no process holds the lock itself. */
	pid_t dead = dead_pid();
	struct buf path = BUF_INIT, line = BUF_INIT, err = BUF_INIT;
	buf_printf(&path, "%s/locks/argo-staging.lock", state_dir.data);
	buf_printf(&line, "pid %d\nuser mallory\nrevision 0123\nsince 1\n", (int)dead);
	cr_assert_eq(state_make_parent(path.data, &err), 0, "%s", err.data);
	cr_assert_eq(state_replace(path.data, line.data, line.len, &err), 0, "%s", err.data);
	struct buf said = BUF_INIT;
	cr_assert_eq(deploy(&said), STATUS_PASSED, "%s", said.data);
	assert_outcome("deployed");
	buf_free(&said);
	buf_free(&path);
	buf_free(&line);
	buf_free(&err);
}

/* The mark a deploy that died after its switch on host 1 left: traffic on
 * green, which it started, blue to go back to. */
static void write_mark(const char *id, pid_t pid, const char *revision)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	deploy_target_state_dir(&path, &site, &rules.deploy.targets[0], "fake@h1");
	buf_adds(&path, "/pending.json");
	json_t *mark =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:b, s:s, s:s, s:s}", "deploy",
		      id, "kind", "deploy", "user", "alice", "unit", "argo", "environment",
		      "staging", "revision", revision, "from", revision, "pid", (int)pid, "start",
		      1, "session", 0, "stage", "switch", "slot", "green", "back_to", "blue");
	char *text = json_dumps(mark, JSON_COMPACT);
	cr_assert_eq(state_replace(path.data, text, strlen(text), &err), 0, "%s", err.data);
	free(text);
	json_decref(mark);
	buf_free(&path);
	buf_free(&err);
}

/* Two deploys, the second as if it had died on host 1 after its switch:
 * its mark left there, no record of it. */
static void second_deploy_died(void)
{
	struct buf said = BUF_INIT;
	cr_assert_eq(deploy(&said), STATUS_PASSED, "%s", said.data);
	commit("second");
	cr_assert_eq(deploy(&said), STATUS_PASSED, "%s", said.data);
	char *revision = last("to");
	write_mark("d-dead", dead_pid(), revision);
	free(revision);
	buf_free(&said);
}

Test(engine, reconcile_switches_a_dead_deploy_back_and_records_it_once)
{
	struct buf err = BUF_INIT;
	second_deploy_died();
	cr_assert_str_eq(fake_host_link(hosts[0], ROOT "-live"), ROOT "-green");
	FILE *out = fopen("/dev/null", "w");
	cr_assert_eq(deploy_reconcile(&site, out, &err), 0, "%s", err.data);
	cr_assert_str_eq(fake_host_link(hosts[0], ROOT "-live"), ROOT "-blue");
	cr_assert_eq(live_on(0), SLOT_BLUE);
	cr_assert(!fake_host_runs(hosts[0], ROOT "-green"), "the unconfirmed app was stopped");
	cr_assert_eq(records_with("id", "d-dead"), 1);
	cr_assert_eq(records_with("outcome", "abandoned"), 1);
	/* Once: a second reconcile finds no mark and writes nothing. */
	cr_assert_eq(deploy_reconcile(&site, out, &err), 0, "%s", err.data);
	cr_assert_eq(records_with("id", "d-dead"), 1);
	fclose(out);
	buf_free(&err);
}

Test(engine, reconcile_keeps_the_mark_of_a_host_it_cannot_reach)
{
	struct buf err = BUF_INIT;
	second_deploy_died();
	hosts[0]->ops = 0;
	hosts[0]->lose_at = 0;
	FILE *out = fopen("/dev/null", "w");
	deploy_reconcile(&site, out, &err);
	cr_assert_eq(records_with("id", "d-dead"), 0, "not recorded while the host is away");
	/* The host is back: the next reconcile finishes the work. */
	hosts[0]->lose_at = -1;
	buf_clear(&err);
	cr_assert_eq(deploy_reconcile(&site, out, &err), 0, "%s", err.data);
	cr_assert_str_eq(fake_host_link(hosts[0], ROOT "-live"), ROOT "-blue");
	cr_assert_eq(records_with("id", "d-dead"), 1);
	fclose(out);
	buf_free(&err);
}
