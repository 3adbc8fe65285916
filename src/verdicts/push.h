/*
 * push: the rules over every new commit of a push, a pre-push or a range.
 *
 * The commits checked are those reachable from the new tips and from none
 * of the commits already accepted: on the server every existing ref, on a
 * client the remote's tracking refs and the remote's old ids, for a range
 * its excluded side; a baseline revision hides its history in every mode.
 * They are walked once for all refs and checked one at a time (commits.c),
 * so memory does not grow with the number of commits beyond one id each.
 *
 * Version bumps are judged per ref over its net change, from the last
 * accepted commit on the tip's first-parent line to the tip: a bump in a
 * later commit of the same push counts. Protected refs refuse deletion and
 * force pushes.
 */
#ifndef GITGATE_PUSH_H
#define GITGATE_PUSH_H

#include <git2.h>

#include "buf.h"
#include "findings.h"
#include "hook_input.h"
#include "rules.h"
#include "status.h"

struct ref_update {
	char *ref;
	git_oid old_oid, new_oid;
	int old_zero, new_zero;
	int single; /* a range given as one revision: exactly that commit */
};

enum push_mode { PUSH_SERVER, PUSH_CLIENT, PUSH_RANGE };

/* What the gate sets for one check. */
struct push_scope {
	git_repository *repo;
	const struct rules *rules;
	enum push_mode mode;
	const char *remote;	/* PUSH_CLIENT: the remote's name (or its URL): its tracking */
	const char *remote_url; /* refs, or what its URL advertises, are accepted */
	const char *baseline;	/* a revision, or NULL */
	unsigned max_count;	/* PUSH_RANGE: walk at most this many (0: all) */
};

/* What the hook gives: the ref updates of a push (or a range's ends). */
struct push_updates {
	struct ref_update *items;
	size_t n, cap;
};

/* Adds "old new ref" as hex ids (all zeros: none). Returns 0, or -1 with
 * the reason in err (malformed id, a SHA-256 id). */
int push_updates_add(struct push_updates *updates, const char *ref, const char *old_hex,
		     const char *new_hex, struct buf *err);
/* Adds every update a hook read. Returns 0, or -1 with the reason in err. */
int push_updates_add_hook_input(struct push_updates *updates, const struct hook_input *input,
				struct buf *err);
void push_updates_free(struct push_updates *updates);
/* Checks the updates. checked receives the ids of the first commits checked,
 * one a line (the audit log names them). */
enum gitgate_status push_check(const struct push_scope *scope, const struct push_updates *updates,
			       struct findings *out, struct buf *checked, struct buf *err);

#endif
