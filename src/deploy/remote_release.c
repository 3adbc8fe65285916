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
/* Gone paths beyond this many bytes travel as the whole release: they are
 * arguments of one command line there (128 KiB at most on Linux). */
#define GONE_MAX (64u << 10)

/* The spare: a second copy of the pristine one, made in the background
 * after each release (niced, in a session of its own: its pid and start
 * time in .spare.pid), so that the next release is that copy renamed, not
 * a copy made while the deploy waits. It is labelled with the pristine
 * copy's label as the copier read it before copying, and kept only if that
 * label is still the pristine copy's once the copy is whole: a script that
 * changes the pristine copy takes its label first and gives it another
 * after. Every script that changes them first waits for a copier still at
 * work (await: up to a minute, then it stops it). */
#define SPARE                                                                                      \
	REMOTE_ALIVE                                                                               \
	"await() {\n"                                                                              \
	"  if [ -s .spare.pid ] && read -r p s <.spare.pid; then\n"                                \
	"    n=0\n"                                                                                \
	"    while alive \"$p\" \"$s\" && [ $n -lt 6000 ]; do sleep 0.01; n=$((n + 1)); done\n"    \
	"    alive \"$p\" \"$s\" && kill -s KILL -- \"-$p\" 2>/dev/null\n"                         \
	"  fi\n"                                                                                   \
	"  rm -f .spare.pid && rm -rf .spare-new-*\n"                                              \
	"}\n"                                                                                      \
	"respare() {\n"                                                                            \
	"  [ -s .pristine.id ] && rm -f .spare.id && rm -rf .spare || return 0\n"                  \
	"  setsid sh -c 'l=$(cat .pristine.id) && nice cp -a .pristine .spare-new-$$ &&\n"         \
	"    [ \"$(cat .pristine.id 2>/dev/null)\" = \"$l\" ] && mv -T .spare-new-$$ .spare &&\n"  \
	"    printf \"%s\\n\" \"$l\" >.spare.id || rm -rf .spare-new-$$' </dev/null >/dev/null "   \
	"2>&1 &\n"                                                                                 \
	"  p=$!\n"                                                                                 \
	"  printf '%s %s\\n' \"$p\" \"$(sed 's/.*) //' /proc/$p/stat 2>/dev/null | cut -d' ' "     \
	"-f20)\" "                                                                                 \
	">.spare.pid\n"                                                                            \
	"}\n"

/* The whole release: $1 the releases folder, $2 the release id, $3 its
 * label; the tar stream on stdin. The files belong to the user gitgate logs
 * in as (-o: not to the numbers of the git server's users, which root's tar
 * would restore). A release there already stays (exit 5, reading nothing).
 * Then it becomes the pristine copy (no copy is no
 * failure: the next release travels whole too), before any app can write
 * it, and the spare is made. */
static const char receive_script[] = SPARE
    "mkdir -p -- \"$1\" && cd -- \"$1\" || exit 1\n"
    "[ -d \"$2\" ] && exit 5\n"
    "await\n"
    "tmp=.incoming-$$\n"
    "rm -rf -- \"$tmp\" && mkdir -- \"$tmp\" && (cd -- \"$tmp\" && tar -xof -) &&\n"
    "mv -- \"$tmp\" \"$2\" || { rm -rf -- \"$tmp\"; exit 1; }\n"
    "rm -f .pristine.id .spare.id && rm -rf .pristine .spare && cp -a -- \"$2\" .pristine &&\n"
    "printf '%s\\n' \"$3\" >.pristine.id || rm -rf .pristine\n"
    "respare\n"
    "exit 0\n";

/* The delta: $1 the releases folder, $2 the release id, $3 its label, $4
 * the base's label, then the paths gone; the tar of what differs on stdin.
 * Exit 4, reading nothing, when the pristine copy is not the base as it
 * was sent (labelled so, nothing in it changed since). The delta goes into
 * the pristine copy, then into the spare (or a copy of the pristine one
 * when there is no whole spare of the base), which becomes the release. */
static const char delta_script[] = SPARE
    "rel=$1 id=$2 label=$3 base=$4; shift 4\n"
    "mkdir -p -- \"$rel\" && cd -- \"$rel\" || exit 1\n"
    "[ -d \"$id\" ] && exit 5\n"
    "await\n"
    "same() {\n"
    "  [ -d \"$1\" ] && [ \"$(cat \"$1.id\" 2>/dev/null)\" = \"$base\" ] &&\n"
    "  c=$(find \"$1\" -cnewer \"$1.id\" -print -quit) && [ -z \"$c\" ]\n"
    "}\n"
    "same .pristine || exit 4\n"
    "tmp=.incoming-$$\n"
    "apply() { d=$1; shift; (cd -- \"$d\" && rm -rf -- \"$@\" && tar -xof \"../$tmp.tar\"); }\n"
    "fail() { rm -rf -- \"$tmp\" \"$tmp.tar\" .pristine .pristine.id .spare .spare.id; exit 1; }\n"
    "rm -f .pristine.id && rm -rf -- \"$tmp\" && cat >\"$tmp.tar\" || fail\n"
    "if same .spare; then\n"
    "  rm -f .spare.id && mv -- .spare \"$tmp\" && apply \"$tmp\" \"$@\" || fail\n"
    "  apply .pristine \"$@\" || fail\n"
    "else\n"
    "  apply .pristine \"$@\" && cp -a .pristine \"$tmp\" || fail\n"
    "fi\n"
    "mv -- \"$tmp\" \"$id\" || fail\n"
    "printf '%s\\n' \"$label\" >.pristine.id || fail\n"
    "rm -f -- \"$tmp.tar\"\n"
    "respare\n"
    "exit 0\n";

/* $1 the releases folder: its releases, a line each (none when missing). */
static const char list_script[] = "cd -- \"$1\" 2>/dev/null || exit 0\n"
				  "for f in *; do [ -d \"$f\" ] && printf '%s\\n' \"$f\"; done\n"
				  "exit 0\n";

/* $1 the releases folder, then the releases to remove: each renamed out of
 * sight at once (.pruned-ID), their files removed in the background (a
 * removal killed half-way is finished by the next). */
static const char remove_script[] = "cd -- \"$1\" && shift || exit 1\n"
				    "for r; do mv -f -- \"$r\" \".pruned-$r\" || exit 1; done\n"
				    "(rm -rf -- .pruned-* </dev/null >/dev/null 2>&1 &)\n";

/* Runs script with args, the stdout of tar (argv, its stdin from in_fd,
 * -1: none) on its stdin. Returns the script's exit code (tar's failure
 * counts only where the script succeeded), or -1 with why in err. */
static int with_tar(const struct ssh *s, const char *const *tar, int in_fd, const char *script,
		    const char *const *args, unsigned limit_ms, struct buf *err)
{
	struct run_options o = {.argv = tar, .out = {.kind = RUN_OUT_PIPE}};
	if (in_fd >= 0)
		o.in = (struct run_input){.kind = RUN_IN_FD, .fd = in_fd};
	struct run_process p;
	if (run_start(&p, &o, err) < 0)
		return -1;
	struct run_input in = {.kind = RUN_IN_FD, .fd = fileno(p.out)};
	int rc = remote_script(s, script, args, &in, NULL, limit_ms, err);
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

static int send_whole(const struct ssh *s, const struct remote_release *r, const char *label,
		      struct buf *err)
{
	const char *tar[] = {"tar", "-C", r->dir, "-cf", "-", ".", NULL};
	const char *args[] = {r->releases_dir, r->id, label, NULL};
	int rc = with_tar(s, tar, -1, receive_script, args, r->limit_ms, err);
	return rc == 0 || rc == THERE ? rc : -1;
}

/* Sends d: 0; THERE; the script's exit code when it failed there
 * (NO_BASE: the host has no copy of the base; any other: the copy could not
 * be used, and is gone), the whole release to follow; -1 with why in err
 * when the host could not be reached. The paths to send reach tar on its stdin,
 * NUL-ended, from a file in memory. */
static int send_delta(const struct ssh *s, const struct remote_release *r,
		      const struct release_delta *d, const char *label, const char *base_label,
		      struct buf *err)
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
	const char **args = xcalloc(d->gone.n + 5, sizeof(*args));
	args[0] = r->releases_dir;
	args[1] = r->id;
	args[2] = label;
	args[3] = base_label;
	for (size_t i = 0; i < d->gone.n; i++)
		args[4 + i] = d->gone.v[i];
	struct buf why = BUF_INIT;
	int rc = with_tar(s, tar, fd, delta_script, args, r->limit_ms, &why);
	if (rc < 0)
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

int remote_receive_release(const struct ssh *s, const struct remote_release *r, struct buf *said,
			   struct buf *err)
{
	const char *base = r->base_id && strcmp(r->base_id, r->id) ? r->base_dir : NULL;
	struct release_delta d;
	struct buf label = BUF_INIT, base_label = BUF_INIT, why = BUF_INIT;
	/* A base that cannot be read here is no base. */
	if (base && release_delta_make(&d, r->dir, base, &why) < 0)
		base = NULL;
	if (!base && release_delta_make(&d, r->dir, NULL, err) < 0) {
		buf_free(&why);
		return -1;
	}
	label_of(&label, r->id, d.digest);
	int rc = NO_BASE;
	if (base && worth_it(&d)) {
		label_of(&base_label, r->base_id, d.base_digest);
		rc = send_delta(s, r, &d, label.data, base_label.data, err);
	}
	if (rc == 0)
		buf_printf(said,
			   "sent %zu changed file%s (%.1f KiB), %zu removed, %zu copied there from "
			   "%s",
			   d.changed, d.changed == 1 ? "" : "s", (double)d.bytes / 1024, d.gone.n,
			   d.files - d.changed, r->base_id);
	else if (rc > 0 && rc != THERE)
		buf_printf(said, "sent whole: %zu files%s", d.files,
			   !base ? ""
			   : rc == NO_BASE && base_label.len
			       ? " (the host had no copy of the release before)"
			   : rc == NO_BASE ? " (most of it changed)"
					   : " (the host's copy of the release before failed)");
	if (rc > 0 && rc != THERE)
		rc = send_whole(s, r, label.data, err);
	if (rc == THERE) {
		buf_clear(said);
		buf_adds(said, "there already");
	}
	release_delta_free(&d);
	buf_free(&label);
	buf_free(&base_label);
	buf_free(&why);
	return rc >= 0 ? 0 : -1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int remote_prune_releases(const struct ssh *s, const char *releases_dir, size_t keep,
			  const char *const *in_use, size_t nin_use, size_t *removed,
			  struct buf *err)
{
	*removed = 0;
	struct buf listed = BUF_INIT;
	const char *args[] = {releases_dir, NULL};
	if (remote_script(s, list_script, args, NULL, &listed, 0, err) != 0) {
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
	int rc = 0;
	if (going) {
		const char **doomed = xcalloc(going + 2, sizeof(*doomed));
		size_t k = 0;
		doomed[k++] = releases_dir;
		for (size_t i = 0; i < n; i++)
			if (go[i])
				doomed[k++] = names[i];
		rc = remote_script(s, remove_script, doomed, NULL, NULL, 0, err) == 0 ? 0 : -1;
		if (rc == 0)
			*removed = going;
		free(doomed);
	}
	free(go);
	free(names);
	buf_free(&listed);
	return rc;
}
