/* shell_quote: argv words into one line for a shell that is not ours. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "shell_quote.h"

static void assert_quoted(const char *word, const char *want)
{
	struct buf out = BUF_INIT;
	shell_quote(&out, word);
	cr_assert_str_eq(out.data, want, "quoting [%s]", word);
	buf_free(&out);
}

Test(shell_quote, plain_words_stay_bare)
{
	assert_quoted("python3", "python3");
	assert_quoted("/srv/argo-production-blue", "/srv/argo-production-blue");
	assert_quoted("--port", "--port");
	assert_quoted("deploy@127.0.0.2:2222", "deploy@127.0.0.2:2222");
}

Test(shell_quote, everything_else_is_single_quoted)
{
	assert_quoted("", "''");
	assert_quoted("a b", "'a b'");
	assert_quoted("$(touch /tmp/x)", "'$(touch /tmp/x)'");
	assert_quoted("`id`", "'`id`'");
	assert_quoted("a\nb", "'a\nb'");
	assert_quoted("\\", "'\\'");
	assert_quoted("\"x\"", "'\"x\"'");
	assert_quoted("*", "'*'");
	assert_quoted("a;b|c&d", "'a;b|c&d'");
	/* An assignment, a home directory and a comment are words, not syntax. */
	assert_quoted("A=b", "'A=b'");
	assert_quoted("~root", "'~root'");
	assert_quoted("#x", "'#x'");
	assert_quoted("caf\xc3\xa9\xff", "'caf\xc3\xa9\xff'");
}

Test(shell_quote, a_quote_closes_escapes_and_reopens)
{
	assert_quoted("it's", "'it'\\''s'");
	assert_quoted("'", "''\\'''");
	assert_quoted("'$(touch /tmp/x)'", "''\\''$(touch /tmp/x)'\\'''");
}

/* The words a real shell reads back from the line: printf '%s\0' each. */
static void round_trip(const char *shell, const char *const *words)
{
	struct buf line = BUF_INIT, got = BUF_INIT, err = BUF_INIT, want = BUF_INIT;
	buf_adds(&line, "printf '%s\\0' ");
	shell_quote_argv(&line, words);
	const char *argv[] = {shell, "-c", line.data, NULL};
	struct run_result r;
	cr_assert_eq(run_capture(&r, &got, argv, RUN_OUT_INHERIT, &err), 0, "%s", err.data);
	cr_assert_eq(r.code, 0, "%s exited %d on: %s", shell, r.code, line.data);
	for (size_t i = 0; words[i]; i++)
		buf_add(&want, words[i], strlen(words[i]) + 1);
	cr_assert_eq(got.len, want.len, "%s read other words from: %s", shell, line.data);
	cr_assert(!memcmp(got.data, want.data, want.len), "%s read other words from: %s", shell,
		  line.data);
	buf_free(&line);
	buf_free(&got);
	buf_free(&err);
	buf_free(&want);
}

static const char *const hostile[] = {"plain",
				      "",
				      "two words",
				      "'$(touch /tmp/gitgate-quote-x)'",
				      "`touch /tmp/gitgate-quote-x`",
				      "$HOME ${PATH} $1 $@ $$",
				      "line one\nline two\n",
				      "tab\there",
				      "back\\slash \\' \\\"",
				      "it's 'quoted' \"twice\"",
				      "A=b",
				      "~",
				      "#not a comment",
				      "; rm -rf / ; echo",
				      "*?[a-z]",
				      "-n",
				      "\xff\xfe not utf-8 \xc3",
				      "\x01\x1b[31m",
				      NULL};

Test(shell_quote, sh_reads_back_every_word_and_runs_none)
{
	unlink("/tmp/gitgate-quote-x");
	round_trip("/bin/sh", hostile);
	cr_assert(access("/tmp/gitgate-quote-x", F_OK) != 0, "a quoted word was run");
}

Test(shell_quote, bash_and_dash_read_back_the_same)
{
	const char *shells[] = {"/bin/bash", "/bin/dash"};
	for (size_t i = 0; i < 2; i++)
		if (access(shells[i], X_OK) == 0)
			round_trip(shells[i], hostile);
	cr_assert(access("/tmp/gitgate-quote-x", F_OK) != 0, "a quoted word was run");
}
