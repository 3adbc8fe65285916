/* compose: the names Compose targets give, the Compose commands' words,
 * which services `config` says build, and the override gate 5 writes. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compose.h"
#include "compose_load.h"
#include "host.h"
#include "run.h"
#include "rules.h"

static int ok(const char *name, int dots)
{
	return compose_name_ok(name, strlen(name), dots);
}

Test(compose, names_compose_and_docker_take)
{
	const char *good[] = {"alpine-backend", "production", "a", "a1", "a--b", "a_b", "web2"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(ok(good[i], 0), "%s", good[i]);
	const char *bad[] = {"",     "Alpine", "-a",  "a-",  "_a",  "a_",
			     "a__b", "a.b",    "a b", "a/b", "a_-b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(!ok(bad[i], 0), "%s", bad[i]);
	cr_assert(ok("web.api", 1));
	cr_assert(!ok("web..api", 1));
	cr_assert(!ok("web.", 1));
}

static struct compose_target target(void)
{
	static const struct deploy_policy d = {0};
	static struct deploy_target t = {.project = "alpine-backend",
					 .environment = "production",
					 .compose = "deploy/compose.yml",
					 .command_timeout_seconds = 10};
	struct compose_target ct;
	compose_target_init(&ct, &t, &d);
	return ct;
}

Test(compose, the_words_of_its_commands)
{
	struct compose_target ct = target();
	cr_assert_null(ct.program, "found on the host when nothing names it");
	cr_assert_str_eq(ct.docker, "docker");
	char *program[] = {"/usr/bin/docker", "compose", NULL};
	ct.program = program;
	struct strvec argv = STRVEC_INIT;
	compose_argv(&argv, &ct, "green", 1);
	const char *want[] = {"/usr/bin/docker",
			      "compose",
			      "-p",
			      "alpine-backend-production-green",
			      "-f",
			      "deploy/compose.yml",
			      "-f",
			      COMPOSE_OVERRIDE,
			      NULL};
	for (size_t i = 0; want[i]; i++)
		cr_assert_str_eq(argv.v[i], want[i]);
	cr_assert_null(argv.v[8]);
	strvec_clear(&argv);
	compose_argv(&argv, &ct, NULL, 0);
	cr_assert_str_eq(argv.v[3], "alpine-backend-production");
	cr_assert_eq(argv.n, 6);
	strvec_clear(&argv);
	ct.program = NULL;
	compose_target_free(&ct);
}

Test(compose, a_named_program_names_its_docker)
{
	static const struct deploy_policy d = {0};
	char *words[] = {"/opt/docker", "compose", NULL};
	struct deploy_target t = {.project = "a", .environment = "b", .compose = "c.yml"};
	t.compose_command.argv = words;
	struct compose_target ct;
	compose_target_init(&ct, &t, &d);
	cr_assert_str_eq(ct.docker, "/opt/docker");
	cr_assert_str_eq(ct.program[1], "compose");
	compose_target_free(&ct);
	char *v1[] = {"docker-compose", NULL};
	t.compose_command.argv = v1;
	compose_target_init(&ct, &t, &d);
	cr_assert_str_eq(ct.docker, "docker");
	compose_target_free(&ct);
}

/* What docker-compose 1.29 and Compose v2 print for `config`. */
static const char config_v1[] = "services:\n"
				"  web:\n"
				"    build:\n"
				"      context: /srv/r/alpine-backend\n"
				"    command:\n"
				"    - httpd\n"
				"    environment:\n"
				"      build: not-a-key-of-the-service\n"
				"    image: old:tag\n"
				"  worker:\n"
				"    image: busybox:1\n"
				"  'api.v2':\n"
				"    build:\n"
				"      context: /srv/r/api\n"
				"version: '3'\n"
				"volumes:\n"
				"  build:\n"
				"    build: {}\n";
static const char config_v2[] = "name: alpine-backend-production\n"
				"services:\n"
				"    db:\n"
				"        image: postgres:16\n"
				"    web:\n"
				"        build:\n"
				"            context: /srv/r\n"
				"            dockerfile: Dockerfile\n"
				"        networks:\n"
				"            default: null\n"
				"networks:\n"
				"    default:\n"
				"        name: alpine-backend-production_default\n";

Test(compose, the_services_config_says_build)
{
	struct strvec built = STRVEC_INIT;
	struct buf err = BUF_INIT;
	cr_assert_eq(compose_built_services(config_v1, &built, &err), 0, "%s", err.data);
	cr_assert_eq(built.n, 2);
	cr_assert_str_eq(built.v[0], "web");
	cr_assert_str_eq(built.v[1], "api.v2");
	strvec_clear(&built);
	cr_assert_eq(compose_built_services(config_v2, &built, &err), 0, "%s", err.data);
	cr_assert_eq(built.n, 1);
	cr_assert_str_eq(built.v[0], "web");
	strvec_clear(&built);
	cr_assert_eq(compose_built_services("version: '3'\n", &built, &err), -1);
	cr_assert(strstr(err.data, "no services"));
	buf_free(&err);
}

Test(compose, the_override_names_each_built_image_by_its_release)
{
	struct compose_target ct = target();
	struct buf out = BUF_INIT, err = BUF_INIT;
	const char *services[] = {"web", "api.v2"};
	const char *release = "20250115T101500Z-0123456789ab";
	cr_assert_eq(compose_override(&out, &ct, release, services, 2, &err), 0, "%s", err.data);
	json_t *root = json_loads(out.data, 0, NULL);
	cr_assert_not_null(root, "%s", out.data);
	json_t *web = json_object_get(json_object_get(root, "services"), "web");
	cr_assert_str_eq(json_string_value(json_object_get(web, "image")),
			 "alpine-backend/production/web:20250115T101500Z-0123456789ab");
	json_t *labels = json_object_get(json_object_get(web, "build"), "labels");
	cr_assert_str_eq(json_string_value(json_object_get(labels, "gitgate.target")),
			 "alpine-backend/production");
	cr_assert_str_eq(json_string_value(json_object_get(labels, "gitgate.release")), release);
	cr_assert_eq(json_object_size(json_object_get(root, "services")), 2);
	json_decref(root);
	buf_clear(&out);
	const char *upper[] = {"Web"};
	cr_assert_eq(compose_override(&out, &ct, release, upper, 1, &err), -1);
	cr_assert(strstr(err.data, "service 'Web' cannot name an image"), "%s", err.data);
	buf_free(&out);
	buf_free(&err);
	compose_target_free(&ct);
}

/* ---- against a Docker daemon: tests/e2e/compose.sh runs these with its
 * dockerd (GITGATE_TEST_DOCKER=1, DOCKER_HOST set); alone they skip. */

/* A container of project gg-unit-logs-blue, as Compose labels its own,
 * that says a line at its start and keeps running. */
static void run_container(const char *line)
{
	if (!getenv("GITGATE_TEST_DOCKER"))
		cr_skip_test("no Docker of the e2e test's own (GITGATE_TEST_DOCKER)");
	const char *argv[] = {"docker",
			      "run",
			      "-d",
			      "--init",
			      "--network",
			      "none",
			      "--label",
			      "com.docker.compose.project=gg-unit-logs-blue",
			      "--label",
			      "com.docker.compose.service=talker",
			      "gitgate-test/busybox:1",
			      "sh",
			      "-c",
			      line,
			      NULL};
	struct run_result r;
	struct buf out = BUF_INIT, err = BUF_INIT;
	cr_assert_eq(run_capture(&r, &out, argv, RUN_OUT_INHERIT, &err), 0, "%s", err.data);
	cr_assert_eq(r.code, 0, "docker run exited %d", r.code);
	buf_free(&out);
	buf_free(&err);
}

Test(compose_docker, a_slots_containers_their_logs_and_their_stop)
{
	static const struct deploy_policy d = {0};
	struct deploy_target t = {.project = "gg-unit",
				  .environment = "logs",
				  .compose = "c.yml",
				  .command_timeout_seconds = 30};
	struct compose_target ct;
	compose_target_init(&ct, &t, &d);
	struct host *here = host_local_open(NULL);
	struct buf logs = BUF_INIT, err = BUF_INIT;
	time_t before = time(NULL) - 1;
	run_container("echo started with a secret-free line; while :; do sleep 1; done");
	int running = 0;
	struct compose_containers cs;
	cr_assert_eq(compose_ps(&ct, here, "blue", &cs, &err), 0, "%s", err.data);
	cr_assert_eq(cs.n, 1);
	cr_assert_str_eq(cs.items[0].service, "talker");
	compose_containers_free(&cs);
	cr_assert_eq(compose_running(&ct, here, "blue", &running, &err), 0, "%s", err.data);
	cr_assert(running);
	cr_assert_eq(compose_running(&ct, here, "green", &running, &err), 0, "%s", err.data);
	cr_assert(!running, "the other slot's project has no container");
	for (int tries = 0; tries < 50 && !strstr(logs.data ? logs.data : "", "started"); tries++) {
		buf_clear(&logs);
		cr_assert_eq(compose_logs(&ct, here, "blue", before, &logs, &err), 0, "%s",
			     err.data);
		usleep(100000);
	}
	cr_assert(strstr(logs.data, "started with a secret-free line"), "%s", logs.data);
	buf_clear(&logs);
	cr_assert_eq(compose_logs(&ct, here, "blue", time(NULL) + 60, &logs, &err), 0);
	cr_assert_eq(logs.len, 0, "nothing since a time to come: %s", logs.data);
	cr_assert_eq(compose_stop(&ct, here, "blue", 2000, &err), 0, "%s", err.data);
	cr_assert_eq(compose_ps(&ct, here, "blue", &cs, &err), 0, "%s", err.data);
	cr_assert_eq(cs.n, 0, "stopped and removed");
	compose_containers_free(&cs);
	cr_assert_eq(compose_stop(&ct, here, "blue", 2000, &err), 0, "nothing there is no error");
	buf_free(&logs);
	buf_free(&err);
	host_close(here);
	compose_target_free(&ct);
}
