/* envfile: a target's env file read as dotenv does, and gate 7's verdict that never shows a value.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "envfile.h"

static char path[64];

static void write_file(const char *text)
{
	strcpy(path, "/tmp/gitgate-env-XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static const char *const placeholders[] = {"changeme", "xxx", "todo", "<...>", "your-..."};

Test(envfile, reads_dotenv_lines_and_checks_required_names)
{
	write_file("# production\n"
		   "export ALPACA_API_KEY=AKxyz123\n"
		   "STRIPE_SECRET_KEY='sk_live_abc def'\n"
		   "DATABASE_URL=\"postgres://u:p@127.0.0.1:5432/db\"  \n"
		   "\n"
		   "REDIS_URL=\n"
		   "SENTRY=ChangeMe\r\n"
		   "API=<your key here>\n"
		   "HOOK=your-webhook\n");
	struct envfile env;
	struct buf err = BUF_INIT, problems = BUF_INIT;
	cr_assert_eq(envfile_read(&env, path, &err), 0, "%s", err.data);
	unlink(path);
	cr_assert_str_eq(envfile_get(&env, "STRIPE_SECRET_KEY"), "sk_live_abc def");
	cr_assert_str_eq(envfile_get(&env, "DATABASE_URL"), "postgres://u:p@127.0.0.1:5432/db");
	const char *required[] = {"ALPACA_API_KEY",
				  "STRIPE_SECRET_KEY",
				  "DATABASE_URL",
				  "REDIS_URL",
				  "MISSING",
				  "SENTRY",
				  "API",
				  "HOOK"};
	cr_assert_eq(envfile_check(&env, required, 8, placeholders, 5, &problems), 5);
	cr_assert_str_eq(problems.data, "REDIS_URL is empty\n"
					"MISSING is missing\n"
					"SENTRY holds a placeholder, not a value\n"
					"API holds a placeholder, not a value\n"
					"HOOK holds a placeholder, not a value\n");
	cr_assert_null(strstr(problems.data, "ChangeMe"), "a value was shown");
	envfile_free(&env);
	buf_free(&err);
	buf_free(&problems);
}

Test(envfile, a_bad_line_names_file_and_line_but_never_its_text)
{
	write_file("A=1\nsecret-value-without-a-name\n");
	struct envfile env;
	struct buf err = BUF_INIT;
	cr_assert_eq(envfile_read(&env, path, &err), -1);
	unlink(path);
	cr_assert_not_null(strstr(err.data, ":2: expected NAME=value"), "%s", err.data);
	cr_assert_null(strstr(err.data, "secret-value"), "%s", err.data);
	buf_clear(&err);
	write_file("A=\"open\n");
	cr_assert_eq(envfile_read(&env, path, &err), -1);
	unlink(path);
	cr_assert_eq(envfile_read(&env, "/nonexistent/.env", &err), -1);
	cr_assert_not_null(strstr(err.data, "it is not there"), "%s", err.data);
	buf_free(&err);
}

Test(envfile, placeholders_match_whole_words_and_dotted_shapes)
{
	cr_assert(envfile_is_placeholder("XXX", placeholders, 5));
	cr_assert(envfile_is_placeholder("<>", placeholders, 5));
	cr_assert_not(envfile_is_placeholder("xxxy", placeholders, 5));
	cr_assert_not(envfile_is_placeholder("my-your-key", placeholders, 5));
	cr_assert_not(envfile_is_placeholder("<unclosed", placeholders, 5));
}
