/*
 * man: the manual page gitgate(1), written in roff from the same table as
 * `gitgate help` (commands.c). `gitgate --man` prints it; the build runs
 * that to write gitgate.1, which install.sh installs, so the page can never
 * say an option the command line does not take. Only what a page has and
 * help has not (the environment, the files, see also) lives here.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char name_line[] = "deployment rules as git hooks, and push-to-deploy";

static const char *const environment[][2] = {
    {"GITGATE_SKIP", "rules a client skips, comma-separated (debug-code,version-bump): the "
		     "commit and push hooks and check say so; the server honours none"},
    {"NO_COLOR", "no colour in the report (nor with TERM=dumb, nor off a terminal)"},
    {"GIT_DIR", "the repository a server command opens, as git sets it for a hook"},
    {"PRE_COMMIT_FROM_REF, PRE_COMMIT_TO_REF",
     "what gitgate hook pre-push checks under the pre-commit framework, with "
     "PRE_COMMIT_LOCAL_BRANCH, PRE_COMMIT_REMOTE_BRANCH, PRE_COMMIT_REMOTE_NAME and "
     "PRE_COMMIT_REMOTE_URL"},
};

static const char *const files[][2] = {
    {"rules.ini", "the policy, at the top of a work tree (or git config gitgate.rules)"},
    {"BARE_REPO/gitgate/rules.ini", "the server's own rules; a pushed rules.ini changes nothing"},
    {"BARE_REPO/gitgate/", "the state folder ([deploy] state_dir): pushes.jsonl, audit.jsonl, "
			   "history.jsonl, logs/, queue/, releases/, targets/, locks/"},
    {"PREFIX/libexec/gitgate/", "the hooks: pre-commit, pre-push, pre-receive, post-receive, "
				"reference-transaction"},
};

/* text for roff: a backslash as \e, every - as \- (a hyphen would render as
 * U+2010, and an option copied from the page would not work), and a line
 * that would start with . or ' made plain. */
static void roff(FILE *out, const char *text, size_t len)
{
	if (len && (text[0] == '.' || text[0] == '\''))
		fputs("\\&", out);
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\\')
			fputs("\\e", out);
		else if (text[i] == '-')
			fputs("\\-", out);
		else
			fputc(text[i], out);
	}
}

static void roff_line(FILE *out, const char *text)
{
	roff(out, text, strlen(text));
	fputc('\n', out);
}

/* Paragraphs separated by "\n", each its own .PP after the first. */
static void paragraphs(FILE *out, const char *text)
{
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		roff(out, p, n);
		fputc('\n', out);
		p += n;
		if (*p == '\n' && *++p)
			fputs(".PP\n", out);
	}
}

static void synopsis(FILE *out, const char *forms)
{
	fputs(".nf\n", out);
	for (const char *p = forms; *p;) {
		size_t n = strcspn(p, "\n"), word = strcspn(p, " \n");
		fputs("\\fBgitgate ", out);
		roff(out, p, word);
		fputs("\\fR", out);
		roff(out, p + word, n - word);
		fputc('\n', out);
		p += n + (p[n] == '\n');
	}
	fputs(".fi\n", out);
}

static void command(FILE *out, const struct cli_command *c)
{
	fprintf(out, ".SS %s\n", c->name);
	synopsis(out, c->synopsis);
	fputs(".PP\n", out);
	paragraphs(out, c->description);
	for (const struct cli_option *o = c->options; o < c->options + CLI_MAX_OPTIONS && o->name;
	     o++) {
		fputs(".TP\n\\fB", out);
		roff(out, o->name, strlen(o->name));
		fputs("\\fR", out);
		if (o->value) {
			fputs(" \\fI", out);
			roff(out, o->value, strlen(o->value));
			fputs("\\fR", out);
		}
		fputc('\n', out);
		roff_line(out, o->text);
	}
}

static void table(FILE *out, const char *title, const char *const (*rows)[2], size_t n)
{
	fprintf(out, ".SH %s\n", title);
	for (size_t i = 0; i < n; i++) {
		fputs(".TP\n\\fB", out);
		roff(out, rows[i][0], strlen(rows[i][0]));
		fputs("\\fR\n", out);
		roff_line(out, rows[i][1]);
	}
}

void cli_man_page(FILE *out)
{
	fprintf(out, ".TH GITGATE 1 \"\" \"gitgate %s\" \"User Commands\"\n.nh\n", GITGATE_VERSION);
	fputs(".SH NAME\ngitgate \\- ", out);
	roff_line(out, name_line);
	fputs(".SH SYNOPSIS\n.nf\n\\fBgitgate\\fR \\fIcommand\\fR [\\fIoptions\\fR]\n"
	      "\\fBgitgate\\fR \\fIcommand\\fR \\fB\\-\\-help\\fR\n"
	      "\\fBgitgate help\\fR [\\fIcommand\\fR]\n.fi\n",
	      out);
	fputs(".SH DESCRIPTION\n", out);
	paragraphs(out, cli_intro);
	fputs(".SH COMMANDS\n", out);
	for (size_t i = 0; i < cli_ncommands; i++)
		command(out, &cli_commands[i]);
	fputs(".SH EXIT STATUS\n", out);
	roff_line(out, cli_exit_status);
	table(out, "ENVIRONMENT", environment, sizeof(environment) / sizeof(environment[0]));
	table(out, "FILES", files, sizeof(files) / sizeof(files[0]));
	fputs(".SH SEE ALSO\n.BR git (1),\n.BR githooks (5),\n"
	      ".BR bwrap (1),\n.BR nginx (8)\n",
	      out);
}
