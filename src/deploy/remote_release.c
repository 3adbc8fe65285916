/*
 * remote_release: the releases on a remote host (remote.h), each received
 * into ROOT-releases/ID whole or not at all, and pruned there.
 *
 * A release travels as a tar stream. The host keeps a copy of the last one
 * it was sent, ROOT-releases/.pristine (hidden from every app, as the whole
 * of ROOT-releases is but for the slot's own release: an app may write its
 * own release, never this), labelled in .pristine.id with the release's id
 * and the digest of its listing here (release_delta.h). When the release
 * before (the base) is that copy, only the delta travels: the paths that
 * are gone (as arguments) and a tar of the paths that differ; the host
 * removes the first from the copy, extracts the second into it, and does
 * the same to a second copy made in the background since (the spare, see
 * SPARE), which becomes the new release: copies, never hard links, so that
 * nothing an app writes in its release reaches another release or a copy.
 * The copy is taken only when its label names the base as it is here and
 * nothing in it changed after the label was written (find -cnewer: any
 * write, chmod, rename or new entry in it since); otherwise, when the host
 * has no such copy (a first deploy there, GNU find missing, a copy removed or
 * changed by hand), or when most of the release changed, the whole release
 * travels and becomes the copy.
 */
#include "remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "release.h"
#include "release_delta.h"

/* The host said it has no copy of the base: the whole release then. */
#define NO_BASE 4
/* The host has the release already (ids are never reused): nothing read. */
#define THERE 5
/* The release is there, but the app before could not be stopped or the
 * symlink made: no other way of sending it would do better. */
#define SLOT_FAILED 6
/* Gone paths beyond this many bytes travel as the whole release: they are
 * arguments of one command line there (128 KiB at most on Linux). */
#define GONE_MAX (64u << 10)

/* The sh function remove PATH...: removes them all (rm -rf) when any of
 * them is there, and starts no process when none is: a command there
 * costs a process, and these scripts are run on every deploy. */
#define REMOVE                                                                                     \
	"remove() {\n"                                                                             \
	"  for f; do\n"                                                                            \
	"    if [ -e \"$f\" ] || [ -L \"$f\" ]; then rm -rf -- \"$@\"; return; fi\n"               \
	"  done\n"                                                                                 \
	"}\n"

/* The spare: a second copy of the pristine one, made in the background
 * once a deploy is recorded (by the prune that follows it: niced, in a
 * session of its own, its pid and start time in .spare.pid), so that the
 * next release is that copy renamed, not a copy made while the deploy
 * waits, and so that the copying never competes with the new app's start
 * and checks. It is labelled with the pristine copy's label as the copier
 * read it before copying, and kept only if that label is still the
 * pristine copy's once the copy is whole: a script that changes the
 * pristine copy takes its label first and gives it another after. Every
 * script that changes them first waits for a copier still at work (await:
 * up to a minute, then it stops it). */
#define SPARE                                                                                      \
	REMOTE_ALIVE REMOVE                                                                        \
	    "copying() { [ -s .spare.pid ] && read -r p s <.spare.pid && alive \"$p\" \"$s\"; }\n" \
	    "await() {\n"                                                                          \
	    "  n=0\n"                                                                              \
	    "  while copying && [ $n -lt 6000 ]; do sleep 0.01; n=$((n + 1)); done\n"              \
	    "  copying && kill -s KILL -- \"-$p\" 2>/dev/null\n"                                   \
	    "  remove .spare.pid .spare-new-*\n"                                                   \
	    "}\n"                                                                                  \
	    "respare() {\n"                                                                        \
	    "  [ -s .pristine.id ] && rm -f .spare.id && rm -rf .spare || return 0\n"              \
	    "  setsid sh -c 'l=$(cat .pristine.id) && nice cp -a .pristine .spare-new-$$ &&\n"     \
	    "    [ \"$(cat .pristine.id 2>/dev/null)\" = \"$l\" ] && mv -T .spare-new-$$ .spare "  \
	    "&&\n"                                                                                 \
	    "    printf \"%s\\n\" \"$l\" >.spare.id || rm -rf .spare-new-$$' </dev/null "          \
	    ">/dev/null "                                                                          \
	    "2>&1 &\n"                                                                             \
	    "  p=$!\n"                                                                             \
	    "  stat_of \"$p\"; set -- $st\n"                                                       \
	    "  printf '%s %s\\n' \"$p\" \"${20}\" >.spare.pid\n"                                   \
	    "}\n"

/* The releases in the releases folder (the current one), a line each. */
#define LIST "list() { for f in *; do [ -d \"$f\" ] && printf '%s\\n' \"$f\"; done; }\n"

/* The slot's side of a release's scripts. stop_first: the app of the pid
 * file $pidf (empty: none) stopped in the background, $tenths its grace,
 * while the release is made. received, at the end, in the releases
 * folder: that stop waited for, the symlink $link (empty: none) made to
 * point at the release $rel/$id, the releases there listed (for the prune
 * that follows), and exit $1; exit 6 (SLOT_FAILED) when the stop or the
 * link failed. leave: exit $1 once the stop is over. */
#define RECEIVED                                                                                   \
	REMOTE_LINK REMOTE_STOP LIST                                                               \
	    "stopper=\n"                                                                           \
	    "stop_first() {\n"                                                                     \
	    "  [ -z \"$pidf\" ] || { stop_app \"$pidf\" \"$tenths\" & stopper=$!; }\n"             \
	    "}\n"                                                                                  \
	    "leave() { [ -z \"$stopper\" ] || wait \"$stopper\"; exit \"$1\"; }\n"                 \
	    "received() {\n"                                                                       \
	    "  [ -z \"$stopper\" ] || wait \"$stopper\" || exit 6\n"                               \
	    "  [ -z \"$link\" ] || swap_link \"$link\" \"$rel/$id\" || exit 6\n"                   \
	    "  list; exit \"$1\"\n"                                                                \
	    "}\n"

/* The whole release: $1 the releases folder, $2 the release id, $3 its
 * label, $4 the symlink to point at it, $5 the pid file of the app to stop
 * first and $6 its grace (empty: none); the tar stream on stdin. The files belong to the user
 * gitgate logs in as (-o: not to the numbers of the git server's users, which root's tar would
 * restore). A release there already stays (exit 5, reading nothing). Then it becomes the pristine
 * copy (no copy is no failure: the next release travels whole too), before any app can write it. */
static const char receive_script[] = SPARE RECEIVED
    "rel=$1 id=$2 label=$3 link=$4 pidf=$5 tenths=$6\n"
    "stop_first\n"
    "{ [ -d \"$rel\" ] || mkdir -p -- \"$rel\"; } && cd -- \"$rel\" || leave 1\n"
    "[ -d \"$id\" ] && received 5\n"
    "await\n"
    "tmp=.incoming-$$\n"
    "remove \"$tmp\" && mkdir -- \"$tmp\" && tar -xof - -C \"$tmp\" &&\n"
    "mv -- \"$tmp\" \"$id\" || { rm -rf -- \"$tmp\"; leave 1; }\n"
    "remove .pristine.id .spare.id .pristine .spare && cp -a -- \"$id\" .pristine &&\n"
    "printf '%s\\n' \"$label\" >.pristine.id || rm -rf .pristine\n"
    "received 0\n";

/* The delta: $1 the releases folder, $2 the release id, $3 its label, $4
 * the base's label, $5 $6 $7 as $4 $5 $6 of the whole one's, then the
 * paths gone; the tar of what differs on stdin. Exit 4, reading nothing,
 * when the pristine copy is not the base as it was sent (labelled so,
 * nothing in it changed since: same). The delta goes into the pristine
 * copy, then into the spare (or a copy of the pristine one when there is
 * no whole spare of the base), which becomes the release. The spare is
 * looked at (same: its verdict in $tmp.spare) while the pristine copy is:
 * each look reads every entry's inode. */
static const char delta_script[] = SPARE RECEIVED
    "rel=$1 id=$2 label=$3 base=$4 link=$5 pidf=$6 tenths=$7; shift 7\n"
    "stop_first\n"
    "{ [ -d \"$rel\" ] || mkdir -p -- \"$rel\"; } && cd -- \"$rel\" || leave 1\n"
    "[ -d \"$id\" ] && received 5\n"
    "await\n"
    "same() {\n"
    "  [ -d \"$1\" ] && { read -r l <\"$1.id\"; } 2>/dev/null && [ \"$l\" = \"$base\" ] &&\n"
    "  c=$(find \"$1\" -cnewer \"$1.id\" -print -quit) && [ -z \"$c\" ]\n"
    "}\n"
    "tmp=.incoming-$$\n"
    "{ same .spare && echo 1 >\"$tmp.spare\" || echo 0 >\"$tmp.spare\"; } & looking=$!\n"
    "same .pristine || { wait \"$looking\"; rm -f -- \"$tmp.spare\"; leave 4; }\n"
    "apply() {\n"
    "  d=$1; shift\n"
    "  [ $# -eq 0 ] || (cd -- \"$d\" && rm -rf -- \"$@\") || return\n"
    "  tar -xof - -C \"$d\" <\"$tmp.tar\"\n"
    "}\n"
    "fail() {\n"
    "  wait \"$looking\"\n"
    "  rm -rf -- \"$tmp\" \"$tmp.tar\" \"$tmp.spare\" .pristine .pristine.id .spare .spare.id; "
    "leave 1\n"
    "}\n"
    "rm -f .pristine.id && remove \"$tmp\" && cat >\"$tmp.tar\" || fail\n"
    "wait \"$looking\"; spare=0; read -r spare <\"$tmp.spare\"; rm -f -- \"$tmp.spare\"\n"
    "if [ \"$spare\" = 1 ]; then\n"
    "  rm -f .spare.id && mv -- .spare \"$tmp\" && apply \"$tmp\" \"$@\" || fail\n"
    "  apply .pristine \"$@\" || fail\n"
    "else\n"
    "  apply .pristine \"$@\" && cp -a .pristine \"$tmp\" || fail\n"
    "fi\n"
    "mv -- \"$tmp\" \"$id\" || fail\n"
    "printf '%s\\n' \"$label\" >.pristine.id || fail\n"
    "rm -f -- \"$tmp.tar\"\n"
    "received 0\n";

/* $1 the releases folder: its releases, a line each (none when missing). */
static const char list_script[] = LIST "cd -- \"$1\" 2>/dev/null || exit 0\n"
				       "list; exit 0\n";

/* $1 the releases folder, then the releases to remove: each renamed out of
 * sight at once (.pruned-ID; one gone already is no failure), their files
 * removed in the background (a removal killed half-way is finished by the
 * next). Then the spare of the pristine copy is made, unless it is there
 * or being made. */
static const char prune_script[] = SPARE
    "cd -- \"$1\" 2>/dev/null && shift || exit 0\n"
    "for r; do [ ! -d \"$r\" ] || mv -f -- \"$r\" \".pruned-$r\" || exit 1; done\n"
    "for r in .pruned-*; do\n"
    "  [ -e \"$r\" ] && (rm -rf -- .pruned-* </dev/null >/dev/null 2>&1 &); break\n"
    "done\n"
    "{ read -r a <.spare.id && read -r b <.pristine.id; } 2>/dev/null && [ \"$a\" = \"$b\" ] &&\n"
    "  exit 0\n"
    "copying && exit 0\n"
    "await; respare; exit 0\n";

/* Runs script with args, the stdout of tar (argv, its stdin from in_fd,
 * -1: none) on its stdin. Returns the script's exit code (tar's failure
 * counts only where the script succeeded), or -1 with why in err. */
static int with_tar(const struct ssh *s, const char *const *tar, int in_fd, const char *script,
		    const char *const *args, unsigned limit_ms, struct buf *out, struct buf *err)
{
	struct run_options o = {.argv = tar, .out = {.kind = RUN_OUT_PIPE}};
	if (in_fd >= 0)
		o.in = (struct run_input){.kind = RUN_IN_FD, .fd = in_fd};
	struct run_process p;
	if (run_start(&p, &o, err) < 0)
		return -1;
	struct run_input in = {.kind = RUN_IN_FD, .fd = fileno(p.out)};
	int rc = remote_script(s, script, args, &in, out, limit_ms, err);
	fclose(p.out);
	p.out = NULL;
	struct buf why = BUF_INIT;
	if (run_finish_ok(&p, &why) < 0 && rc == 0) {
		buf_printf(err, "tar %s", why.data);
		rc = -1;
	}
	buf_free(&why);
	return rc;
}

/* The time a release's command has there: the transfer's, and the stop's
 * as remote_app_stop gives it (its grace, then 10 s) when it stops an app. */
static unsigned limit_of(const struct remote_release *r)
{
	if (!r->limit_ms) /* remote_script's own */
		return 0;
	return r->limit_ms + (r->stop_pid_file ? r->stop_grace_ms + 10000 : 0);
}

/* The slot's arguments of both scripts (RECEIVED): the link, the pid
 * file of the app to stop first, its grace (in tenths, into tenths). */
static void slot_args(const char **out, const struct remote_release *r, char tenths[16])
{
	snprintf(tenths, 16, "%u", remote_grace_tenths(r->stop_grace_ms));
	out[0] = r->link ? r->link : "";
	out[1] = r->stop_pid_file ? r->stop_pid_file : "";
	out[2] = r->stop_pid_file ? tenths : "";
}

static int send_whole(const struct ssh *s, const struct remote_release *r, const char *label,
		      struct buf *listing, struct buf *err)
{
	const char *tar[] = {"tar", "-C", r->dir, "-cf", "-", ".", NULL};
	const char *args[7] = {r->releases_dir, r->id, label};
	char tenths[16];
	slot_args(args + 3, r, tenths);
	buf_clear(listing);
	int rc = with_tar(s, tar, -1, receive_script, args, limit_of(r), listing, err);
	return rc == 0 || rc == THERE ? rc : -1;
}

/* Sends d: 0; THERE; SLOT_FAILED with why in err; the script's exit code
 * when it failed there (NO_BASE: the host has no copy of the base; any
 * other: the copy could not be used, and is gone), the whole release to
 * follow; -1 with why in err when the host could not be reached. The paths to send reach tar on its
 * stdin, NUL-ended, from a file in memory. */
static int send_delta(const struct ssh *s, const struct remote_release *r,
		      const struct release_delta *d, const char *label, const char *base_label,
		      struct buf *listing, struct buf *err)
{
	int fd = memfd_create("gitgate-send", MFD_CLOEXEC);
	int ok = fd >= 0;
	for (size_t i = 0; ok && i < d->send.n; i++)
		ok = write(fd, d->send.v[i], strlen(d->send.v[i]) + 1) ==
		     (ssize_t)strlen(d->send.v[i]) + 1;
	if (!ok || lseek(fd, 0, SEEK_SET) < 0) {
		buf_printf(err, "cannot list what to send: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	const char *tar[] = {"tar", "-C", r->dir, "--null", "--no-recursion",
			     "-T",  "-",  "-cf",  "-",	    NULL};
	const char **args = xcalloc(d->gone.n + 8, sizeof(*args));
	char tenths[16];
	args[0] = r->releases_dir;
	args[1] = r->id;
	args[2] = label;
	args[3] = base_label;
	slot_args(args + 4, r, tenths);
	for (size_t i = 0; i < d->gone.n; i++)
		args[7 + i] = d->gone.v[i];
	struct buf why = BUF_INIT;
	buf_clear(listing);
	int rc = with_tar(s, tar, fd, delta_script, args, limit_of(r), listing, &why);
	if (rc < 0 || rc == SLOT_FAILED)
		buf_add(err, why.data, why.len);
	buf_free(&why);
	free(args);
	close(fd);
	return rc;
}

/* Is the delta worth sending: less than half of the files, and gone paths
 * that fit a command line? */
static int worth_it(const struct release_delta *d)
{
	size_t gone = 0;
	for (size_t i = 0; i < d->gone.n; i++)
		gone += strlen(d->gone.v[i]) + 3;
	return d->changed * 2 <= d->files && gone <= GONE_MAX;
}

/* "ID DIGEST": what the pristine copy of a release is labelled. */
static void label_of(struct buf *out, const char *id, const char *digest)
{
	buf_printf(out, "%s %s", id, digest);
}

int remote_release_plan(struct remote_plan *out, const struct remote_release *r, struct buf *err)
{
	const char *base = r->base_id && strcmp(r->base_id, r->id) ? r->base_dir : NULL;
	struct buf why = BUF_INIT;
	/* A base that cannot be read here is no base. */
	out->based = base && release_delta_make(&out->d, r->dir, base, &why) == 0;
	buf_free(&why);
	return out->based || release_delta_make(&out->d, r->dir, NULL, err) == 0 ? 0 : -1;
}

void remote_plan_free(struct remote_plan *p)
{
	release_delta_free(&p->d);
	p->based = 0;
}

int remote_receive_release(const struct ssh *s, const struct remote_release *r,
			   const struct remote_plan *plan, struct buf *said, struct buf *listing,
			   struct buf *err)
{
	const struct release_delta *d = &plan->d;
	struct buf label = BUF_INIT, base_label = BUF_INIT;
	label_of(&label, r->id, d->digest);
	int rc = NO_BASE;
	if (plan->based && worth_it(d)) {
		label_of(&base_label, r->base_id, d->base_digest);
		rc = send_delta(s, r, d, label.data, base_label.data, listing, err);
	}
	if (rc == 0)
		buf_printf(said,
			   "sent %zu changed file%s (%.1f KiB), %zu removed, %zu copied there from "
			   "%s",
			   d->changed, d->changed == 1 ? "" : "s", (double)d->bytes / 1024,
			   d->gone.n, d->files - d->changed, r->base_id);
	else if (rc > 0 && rc != THERE)
		buf_printf(said, "sent whole: %zu files%s", d->files,
			   !plan->based ? ""
			   : rc == NO_BASE && base_label.len
			       ? " (the host had no copy of the release before)"
			   : rc == NO_BASE ? " (most of it changed)"
					   : " (the host's copy of the release before failed)");
	if (rc == SLOT_FAILED)
		rc = -1;
	if (rc > 0 && rc != THERE)
		rc = send_whole(s, r, label.data, listing, err);
	if (rc == THERE) {
		buf_clear(said);
		buf_adds(said, "there already");
	}
	buf_free(&label);
	buf_free(&base_label);
	return rc >= 0 ? 0 : -1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int remote_prune_start(struct remote_running *out, const struct ssh *s, const char *releases_dir,
		       const char *listing, size_t keep, const char *const *in_use, size_t nin_use,
		       size_t *removed, struct buf *err)
{
	*removed = 0;
	struct buf listed = BUF_INIT;
	const char *args[] = {releases_dir, NULL};
	if (listing)
		buf_adds(&listed, listing);
	else if (remote_script(s, list_script, args, NULL, &listed, 0, err) != 0) {
		buf_free(&listed);
		return -1;
	}
	const char **names = NULL;
	size_t n = 0, cap = 0;
	for (char *line = listed.data, *end; line && *line; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			break;
		*end = '\0';
		*ARRAY_PUSH(names, n, cap) = line;
	}
	/* Ids sort by time: the oldest first, as release_prune_plan wants. */
	qsort(names, n, sizeof(*names), by_name);
	unsigned char *go = xcalloc(n ? n : 1, 1);
	size_t going = release_prune_plan(names, n, keep, in_use, nin_use, go);
	/* One command there, whatever goes: it makes the spare too. */
	const char **doomed = xcalloc(going + 2, sizeof(*doomed));
	size_t k = 0;
	doomed[k++] = releases_dir;
	for (size_t i = 0; i < n; i++)
		if (go[i])
			doomed[k++] = names[i];
	int rc = remote_script_start(out, s, prune_script, doomed, NULL, NULL, 0, err);
	if (rc == 0)
		*removed = going;
	free(doomed);
	free(go);
	free(names);
	buf_free(&listed);
	return rc;
}
