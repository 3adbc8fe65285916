/*
 * compose: a Compose target's slots as Compose projects on its host
 * (host.h), through the Compose program and the Docker CLI there; nothing
 * of gitgate is installed there. Every command is an argv run by
 * host_run, the same on this machine and over SSH.
 *
 * Names (the rules loader checks that PROJECT and ENVIRONMENT make good
 * ones, compose_load.h):
 *   PROJECT-ENVIRONMENT-SLOT             a slot's Compose project
 *   PROJECT/ENVIRONMENT/SERVICE:RELEASE  the image gate 5 builds for each
 *                                        service with a build section,
 *                                        labelled gitgate.target=
 *                                        PROJECT/ENVIRONMENT and
 *                                        gitgate.release=RELEASE
 *   RELEASE/.gitgate-compose.json        the override gate 5 writes into
 *                                        the release (JSON is YAML): each
 *                                        built service's image and labels
 *
 * What runs there:
 *   config  COMPOSE -p PROJECT-ENVIRONMENT -f FILE config    which services build
 *   build   COMPOSE -p ... -f FILE -f OVERRIDE build         gate 5, in the release
 *   up      COMPOSE -p ...-SLOT -f FILE -f OVERRIDE up -d --no-build --remove-orphans
 *   ps      DOCKER ps -a --filter label=com.docker.compose.project=...-SLOT
 *   stop    DOCKER stop --time GRACE, DOCKER rm, DOCKER network rm: what
 *           `down` does, found by the project's label, so that stopping
 *           needs neither the release's file nor the env file's values
 *   logs    DOCKER logs --since TIME, each container of the project
 *   images  DOCKER image ls --filter label=gitgate.target=..., image rm
 * A slot starts from the images its release's gate 5 built, never
 * building: a rollback starts in the time Docker takes to start them, and
 * `up` on a project that runs that release already changes nothing.
 */
#ifndef GITGATE_COMPOSE_H
#define GITGATE_COMPOSE_H

#include <time.h>

#include "buf.h"
#include "run.h"
#include "strvec.h"

struct host;
struct deploy_target;
struct deploy_policy;

/* The override gate 5 writes into each release of a Compose target. */
#define COMPOSE_OVERRIDE ".gitgate-compose.json"

/* A Compose target's projects and programs. */
struct compose_target {
	struct buf name;    /* PROJECT-ENVIRONMENT: each slot's project adds -SLOT */
	struct buf images;  /* PROJECT/ENVIRONMENT: its images' names and label */
	const char *file;   /* compose = FILE, in the release */
	char **program;	    /* the Compose program's words (NULL: compose_find_program) */
	const char *docker; /* the Docker CLI: "docker", or compose_command's first word */
	unsigned limit_ms;  /* each Docker command (the target's command_timeout_seconds) */
};

/* t's (a Compose target's), its program as t or [deploy] (d) names it. */
void compose_target_init(struct compose_target *ct, const struct deploy_target *t,
			 const struct deploy_policy *d);
void compose_target_free(struct compose_target *ct);
/* The Compose program on h, when neither t nor [deploy] names one:
 * "docker compose" where that plugin answers, else "docker-compose".
 * Returns 0, or -1 with why in err. */
int compose_find_program(struct compose_target *ct, struct host *h, struct buf *err);
/* PROJECT-ENVIRONMENT-SLOT into out. */
void compose_project(struct buf *out, const struct compose_target *ct, const char *slot);

/* One container of a slot's project, as Docker sees it. */
struct compose_container {
	char *id, *service, *state,
	    *status; /* state: "running", "exited", ...; status: "Up 3 minutes" */
};
struct compose_containers {
	struct compose_container *items;
	size_t n, cap;
};
void compose_containers_free(struct compose_containers *cs);
/* The containers of slot's project on h, stopped ones too. Returns 0, or
 * -1 with why in err. */
int compose_ps(const struct compose_target *ct, struct host *h, const char *slot,
	       struct compose_containers *out, struct buf *err);
/* *running: the project has containers and every one runs. */
int compose_running(const struct compose_target *ct, struct host *h, const char *slot, int *running,
		    struct buf *err);
/* Stops the slot's project as `down` does: its containers stopped (SIGTERM,
 * SIGKILL after grace_ms), removed, its networks removed (volumes stay).
 * Nothing there is no error. Returns 0, or -1 with why in err. */
int compose_stop(const struct compose_target *ct, struct host *h, const char *slot,
		 unsigned grace_ms, struct buf *err);
/* What the slot's containers wrote since `since`, each line as Docker
 * keeps it, into out: the logs a health_log_pattern reads. */
int compose_logs(const struct compose_target *ct, struct host *h, const char *slot, time_t since,
		 struct buf *out, struct buf *err);

/* The Compose program's words and "-p NAME -f FILE [-f OVERRIDE]" pushed
 * to argv: the start of every Compose command (slot NULL: the target's
 * own name, for config and build). */
void compose_argv(struct strvec *argv, const struct compose_target *ct, const char *slot,
		  int override);
/* The services with a build section, from `config`'s normalized YAML (a
 * mapping of services at the top level, each a mapping): their names
 * pushed to out. Returns 0, or -1 with why in err. */
int compose_built_services(const char *config, struct strvec *out, struct buf *err);
/* The override for release: each of services built as
 * PROJECT/ENVIRONMENT/SERVICE:RELEASE with gitgate's labels, as JSON into
 * out. Returns 0, or -1 when a service's name cannot be an image's. */
int compose_override(struct buf *out, const struct compose_target *ct, const char *release,
		     const char *const *services, size_t n, struct buf *err);
/* The images gate 5 built for the target on h ("NAME:RELEASE" each, into
 * out), and their removal. */
int compose_images(const struct compose_target *ct, struct host *h, struct strvec *out,
		   struct buf *err);
int compose_remove_images(const struct compose_target *ct, struct host *h, const char *const *refs,
			  size_t n, struct buf *err);

#endif
