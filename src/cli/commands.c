/*
 * commands: the one table of gitgate's commands, as git.c keeps one. Each
 * entry is a command's name, the function that runs it, and everything it
 * says about itself: a summary, its synopsis, a description and its
 * options. gitgate dispatches on it, and `gitgate help`, `gitgate COMMAND
 * --help`, the manual page (`gitgate --man`, written by the build) and the
 * completion scripts (`gitgate help --complete`) are all printed from it
 * (help.c), so none of them can say an option the others do not.
 */
#include <string.h>

#include "cli.h"

const char cli_intro[] =
    "gitgate turns a team's deployment rules (rules.ini) into git hooks and push-to-deploy. "
    "At commit time the pre-commit hook checks the staged change; at push time pre-push "
    "checks on the client and pre-receive on the server's bare repository (the authoritative "
    "gate); a push to the deploy branch deploys what it changed through the gates, into "
    "blue/green slots, with automatic rollback. These commands run the same checks by hand "
    "or in CI, and deploy, roll back and inspect deploys on the server.\n"
    "Which rules a command reads: --rules FILE; else git config gitgate.rules; else rules.ini "
    "at the top of the work tree. In a bare repository (the server), only its own: git "
    "config gitgate.rules there, or rules.ini in its gitgate folder (BARE_REPO/gitgate, or "
    "git config gitgate.dir, or gitgate.home/NAME with NAME as the platform names the "
    "repository: GL_REPO, GL_PROJECT_PATH, GITEA_REPO_USER_NAME/GITEA_REPO_NAME).";

const char cli_exit_status[] =
    "0 passed (warnings allowed), 1 a rule said no (or a deploy failed, was refused or rolled "
    "back), 2 bad usage or a bad rules file, 3 a runtime fault (git could not run, an "
    "unreadable object, a missed deadline, a record that could not be written).";

#define RULES_OPTION                                                                               \
	{                                                                                          \
		"--rules", "FILE",                                                                 \
		    "the rules file (default: git config gitgate.rules, else rules.ini at the "    \
		    "top of the "                                                                  \
		    "work tree; in a bare repository, its own)"                                    \
	}

const struct cli_command cli_commands[] = {
    {"check",
     cmd_check,
     "check the staged change or revision ranges against the rules",
     "check [--staged [--amend]] [--rules FILE] [--format text|json|sarif]\n"
     "check REV-RANGE... [-n N] [--rules FILE] [--format text|json|sarif]",
     "Without a range, checks the staged change as the pre-commit hook does. With ranges "
     "(A..B, A...B, or REV: that one commit), checks each commit of them against its first "
     "parent, as the server checks a push: for CI. Findings go to stdout; the verdict line to "
     "stderr.",
     "rev",
     {{"--staged", NULL, "the staged change (the default)"},
      {"--amend", NULL,
       "with the staged change: judge the commit `git commit --amend` would make, against "
       "HEAD's parent"},
      {"-n, --max-count", "N", "with a range: the last N commits of it (REV: N commits from REV)"},
      RULES_OPTION,
      {"--format", "text|json|sarif", "the report: text (default), JSON, or SARIF 2.1.0"}}},
    {"rules",
     cmd_rules,
     "validate rules.ini and print the effective policy",
     "rules [--rules FILE] [--list units|projects|environments]",
     "Reads the rules file, reports every problem at once as file:line: what is wrong (exit "
     "2), else prints the policy with every default filled in, the deploy policy after it.",
     "",
     {RULES_OPTION,
      {"--list", "units|projects|environments",
       "print only those names, one a line (what completion offers)"}}},
    {"deploy",
     cmd_deploy,
     "deploy a unit to an environment through the gates",
     "deploy UNIT|all [to] ENV [--rev REV] [--confirm PHRASE] [--emergency REASON] [--detach | "
     "--dry-run]\n"
     "deploy --reconcile",
     "On the server, in the bare repository: deploys UNIT (a unit, one of its aliases or a "
     "project) or every unit with a target in ENV, at the deploy branch's tip, through the "
     "gates, into the slot that is not live, then switches traffic and checks health (gate 11 "
     "rolls back). The user is the OS user, or [push] identity's env:NAME. What the read-only "
     "commands say of the last deploys is kept in the ref refs/gitgate/deploys, for pushers "
     "with git alone.",
     "unit-all ?to env",
     {{"--rev", "REV", "deploy this revision instead of the deploy branch's tip"},
      {"--confirm", "PHRASE", "the environment's confirm phrase, when it asks for one"},
      {"--emergency", "REASON", "deploy through a freeze (only [deploy] emergency_users)"},
      {"--detach", NULL, "queue it for the worker and return at once (gitgate logs --follow)"},
      {"--dry-run", NULL, "run the read-only gates and say the rest; nothing changes"},
      {"--reconcile", NULL,
       "after a crash: undo what a dead deploy left, catch up with the deploy branch, run the "
       "queue, rewrite refs/gitgate/deploys"}}},
    {"rollback",
     cmd_rollback,
     "go back to the previous release, or an older one",
     "rollback UNIT|all ENV [--to RELEASE|REV]",
     "Switches traffic back to the other slot, which is kept warm (seconds), after checking "
     "it; or, with --to, deploys an older release or revision into the slot that is not "
     "live.",
     "unit-all env",
     {{"--to", "RELEASE|REV", "the release (from gitgate history) or revision to go back to"}}},
    {"health",
     cmd_health,
     "check what is live now, as the gates check it",
     "health [check] UNIT|all [ENV] [--level 1|2|3] [--format text|json]",
     "Checks the live slot of each target of UNIT (every environment it has targets in, "
     "without ENV) with the checks gate 11 uses: 1 the port answers, 2 the health URL, 3 "
     "latency, dependencies and the health command.",
     "?check unit-all env",
     {{"--level", "1|2|3", "how deep (default: the environment's health_level)"},
      {"--format", "text|json", "the report: text (default) or JSON"}}},
    {"status",
     cmd_status,
     "what is live where, and who deploys now",
     "status [UNIT] [ENV]",
     "Per target: the live slot, its revision and subject, since when, what each slot runs, "
     "the last deploy and its health checks, and who holds the deploy lock. A remote host's "
     "slots as the last deploy left them: status opens no connection.",
     "unit env",
     {{0}}},
    {"doctor",
     cmd_doctor,
     "check a server's repository, rules, sandbox, nginx and hosts",
     "doctor [BARE] [UNIT] [ENV]",
     "Checks the bare repository BARE (default: the one here) as a push and a deploy will "
     "find it: its files' owner, whether git lets this user open it (safe.directory), the "
     "hooks (pre-receive and post-receive gitgate's and executable), "
     "receive.advertisePushOptions, the rules, the state folder (writable by the owner), the "
     "sandbox here, nginx's configuration (nginx -t) for targets switched by nginx here, and "
     "each remote target's host (reachable with its key, its sandbox). Each problem is "
     "printed with its fix; exit 1 on any.",
     "bare-unit env",
     {{0}}},
    {"history",
     cmd_history,
     "what was deployed and rolled back",
     "history [UNIT] [ENV] [-n N] [--format text|json] [--ids]",
     "The deploys and rollbacks recorded, newest last: id, kind, unit, environment, revision, "
     "outcome, when, who, and each failed gate.",
     "unit env",
     {{"-n", "N", "the last N records (default 20)"},
      {"--format", "text|json", "text (default) or the records as JSON"},
      {"--ids", NULL, "print only their deploy ids, one a line (what completion offers)"}}},
    {"logs",
     cmd_logs,
     "a deploy's log: the gates and every command's output",
     "logs [DEPLOY-ID] [--follow]",
     "Prints a deploy's log (the newest deploy's by default), each gate's line after its "
     "commands' output.",
     "deploy-id",
     {{"-f, --follow", NULL, "print it as it grows until the deploy has ended"}}},
    {"report",
     cmd_report,
     "a deploy's health confirmation report",
     "report DEPLOY-ID [--format text|md|html|json]",
     "The health confirmation report of one deploy: who, what, from and to, every gate and "
     "health check with its time and result, the canary's steps, the watch's checks, the "
     "outcome and its sign-offs. The HTML is one page with nothing from elsewhere: a timeline "
     "of the gates and the watch's health check latency, drawn as SVG.",
     "deploy-id",
     {{"--format", "text|md|html|json", "text (default), Markdown, HTML or JSON"}}},
    {"signoff",
     cmd_signoff,
     "sign off a deploy that is deployed or confirmed",
     "signoff DEPLOY-ID [--note TEXT]",
     "Records a sign-off of the deploy by who runs it (the identity rules.ini's [push] "
     "identity names), with a note; refused unless the deploy's latest outcome (its own or "
     "its watch's) is deployed or confirmed.",
     "deploy-id",
     {{"--note", "TEXT", "what the sign-off says"}}},
    {"hook",
     cmd_hook,
     "the client hooks as a command, for hook managers (pre-commit, lefthook)",
     "hook pre-commit\n"
     "hook pre-push [REMOTE [URL]]",
     "Does what the hook binary of that name does, with the same verdict code: pre-commit "
     "checks the staged change (a git commit --amend is read from the invoking git, as the "
     "hook does); pre-push checks what the remote does not have yet, from git's lines on stdin "
     "when REMOTE is given (lefthook: {1} {2} and use_stdin), else from the pre-commit "
     "framework's PRE_COMMIT_FROM_REF, PRE_COMMIT_TO_REF, PRE_COMMIT_LOCAL_BRANCH, "
     "PRE_COMMIT_REMOTE_BRANCH and PRE_COMMIT_REMOTE_NAME.",
     "pre-commit|pre-push",
     {{0}}},
    {"help",
     cmd_help,
     "the help of gitgate or of one command",
     "help [COMMAND]",
     "gitgate help COMMAND, gitgate COMMAND --help and gitgate COMMAND -h print the same. "
     "gitgate --man prints the manual page gitgate(1) as roff; gitgate --version the version.",
     "command",
     {{"--complete", NULL,
       "the commands, or with COMMAND its options and words, as lines for completion "
       "scripts"}}},
};

const size_t cli_ncommands = sizeof(cli_commands) / sizeof(cli_commands[0]);

const struct cli_command *cli_command_find(const char *name)
{
	for (size_t i = 0; i < cli_ncommands; i++)
		if (!strcmp(cli_commands[i].name, name))
			return &cli_commands[i];
	return NULL;
}
