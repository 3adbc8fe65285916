/*
 * server: see server.h.
 */
#include "server.h"

#include <stdio.h>
#include <string.h>

#include "repo.h"
#include "rules_locate.h"
#include "state.h"
#include "status.h"

int server_open(struct server *s)
{
	struct buf err = BUF_INIT, path = BUF_INIT;
	memset(s, 0, sizeof(*s));
	int status = STATUS_FAULT;
	if (repo_open(&s->repo, &err) < 0)
		goto fail;
	struct rules_location where = {.gitdir = git_repository_path(s->repo)};
	status = STATUS_USAGE;
	if (rules_locate(&where, &path, &err) < 0)
		goto fail;
	if (rules_load(&s->rules, path.data, &err) < 0) {
		rules_free(&s->rules);
		goto fail;
	}
	s->rules_loaded = 1;
	if (s->rules.deploy.state_dir)
		buf_adds(&s->state_dir, s->rules.deploy.state_dir);
	else
		state_dir_path(&s->state_dir, git_repository_path(s->repo));
	/* state_dir may be written with a trailing "/": keep paths tidy. */
	while (s->state_dir.len > 1 && s->state_dir.data[s->state_dir.len - 1] == '/')
		s->state_dir.data[--s->state_dir.len] = '\0';
	buf_free(&path);
	return 0;
fail:
	fprintf(stderr, "gitgate: %s%s", err.data ? err.data : "unknown error",
		err.len && err.data[err.len - 1] == '\n' ? "" : "\n");
	buf_free(&err);
	buf_free(&path);
	server_close(s);
	return status;
}

void server_close(struct server *s)
{
	if (s->rules_loaded)
		rules_free(&s->rules);
	repo_close(s->repo);
	buf_free(&s->state_dir);
	memset(s, 0, sizeof(*s));
}
