/*
 * invoker: what the git command that runs a hook was asked to do.
 *
 * git tells pre-commit nothing about `git commit --amend`, yet the commit
 * that will exist then replaces HEAD, so it must be judged against HEAD's
 * parent. The only witness is the invoking git's own argv, read from
 * /proc: the nearest ancestor process that is git (a wrapper such as
 * install.sh's chain, or a shell, may stand between). Where /proc cannot
 * be read (not Linux, or a process of another user), nothing is known and
 * the hook judges against HEAD as before; the server checks the pushed
 * commit as it is either way.
 */
#ifndef GITGATE_INVOKER_H
#define GITGATE_INVOKER_H

#include <sys/types.h>

/* 1 when the git command that runs this process amends (--amend, or an
 * abbreviation git accepts, not cancelled by a later --no-amend), else 0. */
int invoker_amends(void);

/* The git process that runs this hook (receive-pack, for a server's hooks),
 * or 0 when it cannot be found. */
pid_t invoker_git(void);

#endif
