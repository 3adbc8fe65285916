/* words: command lines split as a shell would, never run by one; their variables. */
#include <criterion/criterion.h>

#include "words.h"

/* The variables these tests know. */
static const char *const names[] = {"PORT", "SLOT", NULL};

/* Splits line and checks the words against the NULL-terminated want. */
static void assert_words(const char *line, const char *const *want)
{
	char **argv;
	size_t argc, n = 0;
	struct buf err = BUF_INIT;
	cr_assert_eq(words_split(line, names, &argv, &argc, &err), 0, "%s: %s", line, err.data);
	while (want[n])
		n++;
	cr_assert_eq(argc, n, "%s: %zu words, wanted %zu", line, argc, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(argv[i], want[i], "%s: word %zu", line, i);
	cr_assert_null(argv[argc]);
	strvec_free(argv);
	buf_free(&err);
}

static void assert_refused(const char *line, const char *why)
{
	char **argv = (char **)1;
	size_t argc = 1;
	struct buf err = BUF_INIT;
	cr_assert_eq(words_split(line, names, &argv, &argc, &err), -1, "%s was split", line);
	cr_assert_null(argv);
	cr_assert_eq(argc, 0);
	cr_assert_not_null(strstr(err.data, why), "wanted '%s' in: %s", why, err.data);
	buf_free(&err);
}

#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

Test(words, blanks_separate_words)
{
	assert_words("pnpm --filter=argo test", WORDS("pnpm", "--filter=argo", "test"));
	assert_words("  a\t\tb  ", WORDS("a", "b"));
	assert_words("", (const char *const[]){NULL});
	assert_words("   ", (const char *const[]){NULL});
}

Test(words, quotes_keep_blanks_and_join_with_what_touches_them)
{
	assert_words("echo 'a b' \"c  d\"", WORDS("echo", "a b", "c  d"));
	assert_words("a'b c'd\"e\"", WORDS("ab cde"));
	assert_words("'it''s'", WORDS("its"));
	assert_words("\"it's\" 'say \"hi\"'", WORDS("it's", "say \"hi\""));
	assert_words("x '*.py' *.py ~/bin", WORDS("x", "*.py", "*.py", "~/bin"));
}

Test(words, empty_quotes_are_empty_words)
{
	assert_words("a \"\" b ''", WORDS("a", "", "b", ""));
	assert_words("\"\"", WORDS(""));
}

Test(words, backslashes_escape_as_in_a_shell)
{
	assert_words("a\\ b c", WORDS("a b", "c"));
	assert_words("\\'x \\\"y", WORDS("'x", "\"y"));
	assert_words("\"a\\\"b\" \"c\\\\d\" \"e\\nf\"", WORDS("a\"b", "c\\d", "e\\nf"));
	assert_words("'a\\b'", WORDS("a\\b"));
	assert_words("a\\\nb", WORDS("ab"));
	assert_words("'semi;colon' \\| \"&&\"", WORDS("semi;colon", "|", "&&"));
}

Test(words, references_are_kept_as_written_and_quoted_dollars_go_unchecked)
{
	assert_words("run --port $PORT \"${SLOT}x\"", WORDS("run", "--port", "$PORT", "${SLOT}x"));
	assert_words("sh -c 'echo $HOME' \\$USER \"\\$x\"",
		     WORDS("sh", "-c", "echo $HOME", "$USER", "$x"));
	assert_words("grep 'a$' price=5\\$", WORDS("grep", "a$", "price=5$"));
}

Test(words, a_reference_to_an_unknown_variable_is_refused)
{
	assert_refused("app --port $PROT",
		       "column 12: unknown variable $PROT: the variables are $PORT $SLOT (\\$ or "
		       "'$' for a literal '$')");
	assert_refused("app \"${HOME}\"", "column 6: unknown variable $HOME");
	assert_refused("app $PORTS", "unknown variable $PORTS");
	char **argv;
	size_t argc;
	struct buf err = BUF_INIT;
	cr_assert_eq(words_split("app $ANYTHING", NULL, &argv, &argc, &err), 0,
		     "no names: any name");
	cr_assert_str_eq(argv[1], "$ANYTHING");
	strvec_free(argv);
	buf_free(&err);
}

Test(words, an_unterminated_quote_is_an_error_that_says_where)
{
	assert_refused("echo 'abc", "column 6: unterminated single quote");
	assert_refused("a \"b c", "column 3: unterminated double quote");
	assert_refused("a \"b\\\"", "column 3: unterminated double quote");
	assert_refused("trailing\\", "column 9: a '\\' at the end escapes nothing");
}

Test(words, what_only_a_shell_could_do_is_refused)
{
	assert_refused("make | tee log",
		       "column 6: '|' is shell syntax, and no shell runs this command");
	assert_refused("a && b", "column 3: '&' is shell syntax");
	assert_refused("a;b", "column 2: ';'");
	assert_refused("cat <in", "column 5: '<'");
	assert_refused("echo `id`", "column 6: '`' is shell syntax");
	assert_refused("echo \"`id`\"", "column 7: '`' is shell syntax");
	assert_refused("run # comment", "column 5: '#' would start a comment in a shell");
	assert_words("a#b", WORDS("a#b"));
	assert_refused("echo $1", "column 6: '$' must start a variable");
	assert_refused("echo $(id)", "'$' must start a variable");
	assert_refused("echo \"$\"", "'$' must start a variable");
	assert_refused("echo ${PORT:-1}", "column 6: ${...} must hold only a variable name");
	assert_refused("echo ${", "'$' must start a variable");
}
