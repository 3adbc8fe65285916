/* command: gitgate's own variables substituted into a command's words and added to its environment.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"

Test(command, only_gitgates_variables_are_substituted)
{
	const char *argv[] = {
	    "python3", "-m",	"argo.main", "--port", "$PORT", "--name=${UNIT}-$SLOT",
	    "$PORTS",  "$HOME", "cost:$5",   "$",      NULL};
	struct command_vars vars = {.port = "8001", .slot = "green", .unit = "argo"};
	char **out = command_expand(argv, &vars);
	cr_assert_str_eq(out[4], "8001");
	cr_assert_str_eq(out[5], "--name=argo-green");
	cr_assert_str_eq(out[6], "$PORTS", "a longer name is not PORT");
	cr_assert_str_eq(out[7], "$HOME", "not gitgate's: left as written");
	cr_assert_str_eq(out[8], "cost:$5");
	cr_assert_str_eq(out[9], "$");
	cr_assert_null(out[10]);
	strvec_free(out);
}

Test(command, an_unset_variable_is_empty_and_the_set_ones_join_the_environment)
{
	const char *argv[] = {"echo", "[$REVISION]", NULL};
	struct command_vars vars = {.port = "8000", .root = "/srv/argo"};
	char **out = command_expand(argv, &vars);
	cr_assert_str_eq(out[1], "[]");
	strvec_free(out);
	struct strvec env = STRVEC_INIT;
	command_add_environ(&env, &vars);
	cr_assert_eq(env.n, 2);
	cr_assert_str_eq(env.v[0], "PORT=8000");
	cr_assert_str_eq(env.v[1], "ROOT=/srv/argo");
	cr_assert_null(env.v[2]);
	strvec_clear(&env);
}
