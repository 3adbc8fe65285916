/*
 * semver: parsing and ordering versions as Semantic Versioning 2.0 defines,
 * for the rule that a changed shared package must raise its version.
 */
#ifndef GITGATE_SEMVER_H
#define GITGATE_SEMVER_H

/* Returns 0 when s is a valid version ("1.2.3", "1.2.3-rc.1+build",
 * a leading "v" allowed), -1 otherwise. */
int semver_valid(const char *s);
/* Precedence of a against b: <0, 0 or >0. Both must be valid. Build
 * metadata is ignored, as the specification says. */
int semver_compare(const char *a, const char *b);

#endif
