/*
 * help: what gitgate says about itself, printed from the one table of
 * commands (commands.c): `gitgate help`, `gitgate COMMAND --help`, the
 * manual page gitgate(1) in roff (`gitgate --man`, which the build runs to
 * write gitgate.1), and `gitgate help --complete [COMMAND]`, the lines the
 * bash and zsh completion scripts read.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "status.h"

#define HELP_WIDTH 80
#define OPTION_COLUMN 26

/* text as filled lines of at most HELP_WIDTH columns; the first line goes on
 * from column `at`, the others start at column indent. "\n" in text starts a
 * new paragraph after a blank line. */
static void fill(FILE *out, const char *text, int at, int indent)
{
	int col = at;
	for (const char *p = text; *p;) {
		if (*p == '\n') {
			fprintf(out, "\n\n%*s", indent, "");
			col = indent;
			p++;
			continue;
		}
		size_t n = strcspn(p, " \n");
		if (col > indent && col + 1 + (int)n > HELP_WIDTH) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, n, out);
		col += (int)n;
		p += n;
		p += *p == ' ';
	}
	fputc('\n', out);
}

void cli_usage(FILE *out, const char *name)
{
	const struct cli_command *c = cli_command_find(name);
	const char *p = c ? c->synopsis : "";
	for (int form = 0; *p; form++) {
		size_t n = strcspn(p, "\n");
		fprintf(out, "%s gitgate %.*s\n", form ? "   or:" : "usage:", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

void cli_help_command(FILE *out, const struct cli_command *c)
{
	cli_usage(out, c->name);
	fputc('\n', out);
	fill(out, c->description, 0, 0);
	if (c->options[0].name)
		fprintf(out, "\noptions:\n");
	for (const struct cli_option *o = c->options; o < c->options + CLI_MAX_OPTIONS && o->name;
	     o++) {
		int width = fprintf(out, "  %s%s%s", o->name, o->value ? " " : "",
				    o->value ? o->value : "");
		if (width >= OPTION_COLUMN) {
			fprintf(out, "\n%*s", OPTION_COLUMN, "");
			width = OPTION_COLUMN;
		}
		fprintf(out, "%*s", OPTION_COLUMN - width, "");
		fill(out, o->text, OPTION_COLUMN, OPTION_COLUMN);
	}
}

void cli_help_overview(FILE *out)
{
	fprintf(out, "usage: gitgate <command> [options]   (gitgate help <command>: its own)\n\n");
	fill(out, cli_intro, 0, 0);
	fprintf(out, "\ncommands:\n");
	for (size_t i = 0; i < cli_ncommands; i++) {
		int width = fprintf(out, "  %s", cli_commands[i].name);
		fprintf(out, "%*s%s\n", 12 - width, "", cli_commands[i].summary);
	}
	fprintf(out, "\nexit status:");
	fill(out, cli_exit_status, 12, 0);
}

/* Each name of an option ("-n, --max-count": both), for completion. */
static void complete_option(FILE *out, const struct cli_option *o)
{
	for (const char *p = o->name; *p;) {
		size_t n = strcspn(p, ",");
		fprintf(out, "option\t%.*s\t%s\t%s\n", (int)n, p, o->value ? o->value : "-",
			o->text);
		p += n;
		p += strspn(p, ", ");
	}
}

/* The lines a completion script reads, tab-separated: "command NAME
 * SUMMARY" for each command; for one command, "option NAME VALUE|- TEXT"
 * for each option and "word KIND" for each of its words. */
static void complete(FILE *out, const struct cli_command *c)
{
	if (!c) {
		for (size_t i = 0; i < cli_ncommands; i++)
			fprintf(out, "command\t%s\t%s\n", cli_commands[i].name,
				cli_commands[i].summary);
		return;
	}
	for (size_t i = 0; i < CLI_MAX_OPTIONS && c->options[i].name; i++)
		complete_option(out, &c->options[i]);
	for (const char *p = c->words; *p;) {
		size_t n = strcspn(p, " ");
		fprintf(out, "word\t%.*s\n", (int)n, p);
		p += n;
		p += *p == ' ';
	}
}

int cmd_help(int argc, char **argv)
{
	int completing = argc > 1 && !strcmp(argv[1], "--complete");
	int first = 1 + completing;
	const struct cli_command *c = argc > first ? cli_command_find(argv[first]) : NULL;
	if (argc > first + 1 || (argc > first && !c)) {
		fprintf(stderr, "gitgate help: %s\n",
			argc > first + 1 ? "one command at most"
					 : "no such command (gitgate help lists them)");
		return STATUS_USAGE;
	}
	if (completing)
		complete(stdout, c);
	else if (c)
		cli_help_command(stdout, c);
	else
		cli_help_overview(stdout);
	return STATUS_PASSED;
}
