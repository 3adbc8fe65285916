/*
 * pusher: see pusher.h.
 */
#include "pusher.h"

#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

const char *pusher_name(void)
{
	const char *vars[] = {"GITGATE_USER", "GL_USERNAME", "REMOTE_USER"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return v;
	}
	struct passwd *pw = getpwuid(geteuid());
	return pw ? pw->pw_name : "unknown";
}
