/*
 * compose_load: see compose_load.h. The names a Compose target gives are
 * the names of its Compose projects and images: PROJECT-ENVIRONMENT-SLOT
 * and PROJECT/ENVIRONMENT/SERVICE:RELEASE (deploy/compose.h), so they must
 * be names both Compose and Docker take; a name they would refuse or
 * change is refused here, at load, not in the middle of a deploy.
 */
#include "compose_load.h"

#include <ctype.h>
#include <string.h>

static int lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int compose_name_ok(const char *name, size_t len, int dots)
{
	if (!len || !lower_alnum(name[0]) || !lower_alnum(name[len - 1]))
		return 0;
	for (size_t i = 1; i < len; i++) {
		char c = name[i];
		if (lower_alnum(c) || c == '-')
			continue;
		/* One '_' or '.' between two letters or digits. */
		if ((c != '_' && !(dots && c == '.')) || !lower_alnum(name[i - 1]) ||
		    !lower_alnum(name[i + 1]))
			return 0;
	}
	return 1;
}

int compose_load_check_file(const char *key, const char *value, struct buf *why)
{
	size_t len = strlen(value);
	int ok = len && value[0] != '/' && value[len - 1] != '/' && !strchr(value, '$');
	for (const char *p = value; ok && *p; p++)
		ok = !iscntrl((unsigned char)*p);
	/* No ".." among its parts: the file is the release's. */
	for (const char *part = value; ok; part += strcspn(part, "/") + 1) {
		size_t n = strcspn(part, "/");
		ok = !(n == 2 && !strncmp(part, "..", 2));
		if (!part[n])
			break;
	}
	if (ok)
		return 0;
	buf_printf(why,
		   "%s '%s' must be a path inside the release, like compose.yml or "
		   "deploy/compose.yml (relative, no '..', no trailing '/', no $VARIABLES)",
		   key, value);
	return -1;
}

void compose_load_check_target(struct schema_load *ld, const struct deploy_target *t,
			       const char *name)
{
	if (!t->compose) {
		if (t->compose_command.argv)
			schema_problem(ld, t->line,
				       "%s has compose_command but no compose: name its Compose "
				       "file (compose = FILE)",
				       name);
		return;
	}
	if (t->run.argv || t->start.argv || t->stop.argv)
		schema_problem(ld, t->line,
			       "%s has compose and run or start/stop: its slots are Compose "
			       "projects that gitgate starts and stops (remove run, start and "
			       "stop)",
			       name);
	const char *names[] = {t->project, t->environment};
	for (size_t i = 0; i < 2; i++)
		if (!compose_name_ok(names[i], strlen(names[i]), 0))
			schema_problem(
			    ld, t->line,
			    "%s: '%s' names its Compose projects and images (%s-%s-blue): "
			    "a Compose target's project and environment are lowercase "
			    "letters and digits, with '-' or one '_' between them",
			    name, names[i], t->project, t->environment);
}
