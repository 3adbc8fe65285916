/*
 * doctor: what `gitgate doctor` shares between its files. Each check prints
 * "ok: WHAT" when it passes, or "error: WHAT" and "  fix: HOW" for each
 * problem it finds, counted in problems; nothing is changed.
 */
#ifndef GITGATE_DOCTOR_H
#define GITGATE_DOCTOR_H

#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"

struct doctor {
	const char *bare; /* the bare repository, an absolute path */
	uid_t owner;	  /* who owns it: the user git runs the hooks as */
	const char *owner_name;
	int as_owner;	 /* this process runs as the owner */
	struct buf sudo; /* "sudo -u OWNER " when it does not, else "" */
	int problems;
};

void doctor_ok(struct doctor *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A problem: what is wrong, then how to fix it (fix a whole line). */
void doctor_problem(struct doctor *d, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Can the owner do what bits (S_IRUSR, S_IWUSR, S_IXUSR) say with a file
 * of this mode, uid and gid? From the mode, as the kernel would decide for
 * the owner (its groups included); this process may be someone else. */
int doctor_owner_can(const struct doctor *d, const struct stat *st, int bits);

/* Every file under path (the repository, the state folder) is the owner's
 * (or also's: the sandbox user's; (uid_t)-1 for none), and readable by it
 * (folders writable and searchable); skip: a folder left to its own check,
 * or NULL. */
void doctor_check_ownership(struct doctor *d, const char *path, const char *skip, uid_t also,
			    const char *what);
/* Does git let this user open the repository (safe.directory)? Returns 0,
 * or -1 when it does not (reported): the checks that open it are off. */
int doctor_check_safe_directory(struct doctor *d);
/* pre-receive and post-receive gitgate's and executable (and
 * reference-transaction, when it is there). */
void doctor_check_hooks(struct doctor *d);
/* receive.advertisePushOptions, without which git refuses `push -o`. */
void doctor_check_push_options(struct doctor *d);

#endif
