/*
 * server: see server.h.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env_seen.h"
#include "repo.h"
#include "rules_locate.h"
#include "status.h"

static const char *repository_name, *repository_unnamed_why;

void server_name_repository(const char *name, const char *unnamed_why)
{
	repository_name = name;
	repository_unnamed_why = unnamed_why;
}

const char *server_repository(const char **unnamed_why)
{
	if (unnamed_why)
		*unnamed_why = repository_unnamed_why;
	return repository_name;
}

static int open_server(struct server *s, int hook)
{
	struct buf err = BUF_INIT, path = BUF_INIT;
	memset(s, 0, sizeof(*s));
	int status = STATUS_FAULT;
	if (repo_open(&s->repo, &err) < 0)
		goto fail;
	struct rules_location where = {.gitdir = git_repository_path(s->repo),
				       .repository = repository_name,
				       .unnamed_why = repository_unnamed_why};
	status = STATUS_USAGE;
	int found = rules_locate_server(&where, &path, &s->folder, &err);
	if (found == RULES_NOT_OURS && hook) {
		status = SERVER_NOT_OURS;
		goto quiet;
	}
	if (found == RULES_NOT_OURS)
		buf_printf(&err,
			   "%s has no gitgate folder (git config gitgate.home): the repository "
			   "is not gitgate's",
			   s->folder.data);
	if (found != 0)
		goto fail;
	if (rules_load(&s->rules, path.data, &err) < 0) {
		rules_free(&s->rules);
		goto fail;
	}
	s->rules_loaded = 1;
	buf_adds(&s->state_dir,
		 s->rules.deploy.state_dir ? s->rules.deploy.state_dir : s->folder.data);
	/* state_dir may be written with a trailing "/": keep paths tidy. */
	while (s->state_dir.len > 1 && s->state_dir.data[s->state_dir.len - 1] == '/')
		s->state_dir.data[--s->state_dir.len] = '\0';
	s->seen = xcalloc(1, sizeof(*s->seen));
	buf_free(&path);
	return 0;
fail:
	fprintf(stderr, "gitgate: %s%s", err.data ? err.data : "unknown error",
		err.len && err.data[err.len - 1] == '\n' ? "" : "\n");
quiet:
	buf_free(&err);
	buf_free(&path);
	server_close(s);
	return status;
}

int server_open(struct server *s)
{
	return open_server(s, 0);
}

int server_open_hook(struct server *s)
{
	return open_server(s, 1);
}

void server_close(struct server *s)
{
	if (s->seen)
		env_seen_free(s->seen);
	free(s->seen);
	if (s->rules_loaded)
		rules_free(&s->rules);
	repo_close(s->repo);
	buf_free(&s->folder);
	buf_free(&s->state_dir);
	memset(s, 0, sizeof(*s));
}
