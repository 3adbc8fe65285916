/*
 * fake_host: a host backend in memory (host.h) for the engine's unit
 * tests. It keeps the files and symlinks made there and which slot's app
 * runs, answers health checks as the test says, writes a line for each
 * operation into its journal, and fails what the test asks it to fail: one
 * link's path, or every operation from the n-th on (a host lost mid-deploy).
 * The deploy_site's open_host (fake_host_open) finds the fake of an address
 * among those the test made.
 */
#ifndef GITGATE_FAKE_HOST_H
#define GITGATE_FAKE_HOST_H

#include "buf.h"
#include "host.h"

#define FAKE_MAX_ENTRIES 64

struct fake_entry {
	char *path;
	char *data; /* a file's bytes, or a link's target */
	int is_link;
};

struct fake_host {
	struct host host;
	struct fake_entry entries[FAKE_MAX_ENTRIES];
	size_t nentries;
	/* "ROOT-blue" of each app running there */
	char *running[FAKE_MAX_ENTRIES];
	size_t nrunning;
	long checks;	       /* health checks so far */
	long sick_from;	       /* the check number from which all fail; -1: never */
	const char *fail_link; /* a link made at this path fails */
	long lose_at;	       /* the operation number from which all fail; -1: never */
	long ops;	       /* operations so far */
	int opened, closed;    /* times the engine opened it and closed it */
	struct buf journal;    /* "link PATH TARGET\n", "start ROOT-SLOT\n", ... */
};

/* Makes the fake host of address (kept until fake_hosts_free). */
struct fake_host *fake_host_new(const char *address);
void fake_hosts_free(void);
/* host_open_fn: the fake made for address, or -1 when there is none. */
int fake_host_open(struct host **out, const char *address, const struct host_options *o,
		   struct buf *err);
/* What the link at path points to there, NULL when there is none. */
const char *fake_host_link(const struct fake_host *f, const char *path);
/* Does the app of ROOT-SLOT run there? */
int fake_host_runs(const struct fake_host *f, const char *slot_dir);

#endif
