/*
 * gitgate: the command line. It dispatches on the one table of commands
 * (commands.c), as git.c does; each command lives in its own cmd_*.c file.
 * `gitgate COMMAND --help` (or -h) is answered here, before the command
 * reads its arguments, so every command has it.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "run.h"
#include "status.h"

int cli_option_value(int argc, char **argv, int *i, const char *name, const char **value)
{
	size_t n = strlen(name);
	const char *arg = argv[*i];
	if (strncmp(arg, name, n))
		return 0;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return 1;
	}
	if (arg[n])
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "gitgate: %s needs a value\n", name);
		*value = NULL;
		return 1;
	}
	*value = argv[++*i];
	return 1;
}

int cli_targets_open(struct server *s, struct cli_targets *out, int argc, char **argv)
{
	if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
		cli_usage(stderr, argv[0]);
		return STATUS_USAGE;
	}
	int status = server_open(s);
	if (status)
		return status;
	*out = (struct cli_targets){.env = argc > 2 ? argv[2] : NULL};
	const char *name = argc > 1 ? argv[1] : NULL;
	if (name) {
		out->unit = rules_find_unit(&s->rules, name);
		out->project = rules_find_project(&s->rules, name);
	}
	if (name && !out->unit && !out->project) {
		fprintf(stderr, "gitgate %s: no unit or project '%s' in rules.ini\n", argv[0],
			name);
		server_close(s);
		return STATUS_USAGE;
	}
	return 0;
}

int cli_targets_match(const struct cli_targets *f, const struct deploy_target *t)
{
	return !(f->env && strcmp(t->environment, f->env)) &&
	       !(f->project && strcmp(t->project, f->project->name)) &&
	       !(f->unit && !f->project && t->project_of->unit != f->unit);
}

/* "true" when the current directory is inside a bare repository. */
static int in_bare_repository(void)
{
	const char *argv[] = {"git", "rev-parse", "--is-bare-repository", NULL};
	struct run_result git;
	struct buf out = BUF_INIT, err = BUF_INIT;
	int bare = run_capture(&git, &out, argv, RUN_OUT_DISCARD, &err) == 0 && git.code == 0 &&
		   out.len >= 4 && !strncmp(out.data, "true", 4);
	buf_free(&out);
	buf_free(&err);
	return bare;
}

int cli_rules_location(struct rules_location *where, struct buf *dir)
{
	if (where->explicit_path)
		return 0;
	if (!in_bare_repository()) {
		if (cli_work_tree_top(dir) < 0)
			return -1;
		where->top = dir->data;
		return 0;
	}
	/* A server: its own rules, as its hooks read them. */
	const char *argv[] = {"git", "rev-parse", "--absolute-git-dir", NULL};
	struct run_result git;
	struct buf err = BUF_INIT;
	buf_clear(dir);
	int rc = run_capture(&git, dir, argv, RUN_OUT_INHERIT, &err) == 0 && git.code == 0 ? 0 : -1;
	buf_free(&err);
	if (rc < 0)
		return -1;
	dir->len = strcspn(dir->data, "\n");
	dir->data[dir->len] = '\0';
	where->gitdir = dir->data;
	return 0;
}

int cli_work_tree_top(struct buf *top)
{
	const char *argv[] = {"git", "rev-parse", "--show-toplevel", NULL};
	struct run_result git;
	struct buf err = BUF_INIT;
	buf_clear(top);
	if (run_capture(&git, top, argv, RUN_OUT_INHERIT, &err) < 0 || git.code != 0 || !top->len) {
		if (!err.len) {
			buf_adds(&err, "git rev-parse ");
			run_describe(&err, &git);
		}
		fprintf(stderr, "gitgate: not inside a git work tree (%s)\n", err.data);
		buf_free(&err);
		return -1;
	}
	top->len = strcspn(top->data, "\n");
	top->data[top->len] = '\0';
	return 0;
}

/* Does argv (after the command's name) ask for help: -h or --help before
 * any "--"? */
static int asks_for_help(int argc, char **argv)
{
	for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_help_overview(stderr);
		return STATUS_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		cli_help_overview(stdout);
		return STATUS_PASSED;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("gitgate %s\n", GITGATE_VERSION);
		return STATUS_PASSED;
	}
	if (!strcmp(argv[1], "--man")) {
		cli_man_page(stdout);
		return STATUS_PASSED;
	}
	const struct cli_command *c = cli_command_find(argv[1]);
	if (!c) {
		fprintf(stderr,
			"gitgate: '%s' is not a gitgate command (gitgate help lists them)\n",
			argv[1]);
		return STATUS_USAGE;
	}
	if (asks_for_help(argc, argv)) {
		cli_help_command(stdout, c);
		return STATUS_PASSED;
	}
	return c->run(argc - 1, argv + 1);
}
