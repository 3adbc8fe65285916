/*
 * gitgate doctor [BARE] [UNIT] [ENV]: what a push and a deploy would find,
 * asked now, each problem said with its fix; exit 1 on any. The repository
 * first (doctor_repo.c: its owner, safe.directory, the hooks, push
 * options), then the rules, the state folder, this machine's sandbox (gates
 * 3-5, and the apps of targets here), nginx for the targets it switches
 * here (nginx -t), and each remote target's host, connected to as a deploy
 * does: reachable with its key or not, its bwrap, and so what is and is not
 * isolated there. `gitgate rules` reads rules.ini only; this connects.
 * Nothing is changed.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "deploy_policy.h"
#include "doctor.h"
#include "procenv.h"
#include "layout.h"
#include "remote.h"
#include "run.h"
#include "sandbox.h"
#include "server.h"
#include "ssh.h"
#include "state.h"
#include "status.h"

#define NGINX_TEST_MS 10000

/* What the sandbox does and does not keep from the pushed code's commands,
 * which run as who. */
static void say_isolation(const struct sandbox_choice *c, const char *who)
{
	if (c->on)
		printf("    isolated: system folders read-only, a private /tmp and HOME, only the "
		       "release or slot and sandbox_writable writable; hidden: rules.ini, the "
		       "state folder, the repository, the ssh keys, every env file, the other "
		       "targets' roots, the target's other releases and run folder, the login "
		       "user's ~/.ssh, the ssh host keys, /etc/shadow\n"
		       "    not isolated: the network (the app serves), CPU and memory (no "
		       "limit); they run as %s\n",
		       who);
	else if (c->refuse)
		printf("    not isolated, so no deploy (sandbox = yes)\n");
	else
		printf("    not isolated: the pushed code's commands run as %s, with all its "
		       "rights (the env files, every target's root, ~/.ssh)\n",
		       who);
}

/* How to see why a host does not answer: the connection a deploy makes,
 * by hand, as the owner. */
static void host_fix(struct buf *fix, const struct doctor *d, const struct deploy_policy *p,
		     const struct deploy_target *t, const char *host)
{
	const char *key = t->ssh_identity ? t->ssh_identity : p->ssh_identity;
	const char *known = t->ssh_known_hosts ? t->ssh_known_hosts : p->ssh_known_hosts;
	const char *colon = strrchr(host, ':');
	int port = colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1);
	buf_printf(fix, "%sssh -o BatchMode=yes", d->sudo.data);
	if (key)
		buf_printf(fix, " -i %s", key);
	if (known)
		buf_printf(fix, " -o UserKnownHostsFile=%s", known);
	if (port)
		buf_printf(fix, " -p %s", colon + 1);
	buf_printf(fix,
		   " %.*s true  shows why (gitgate's key in the host's authorized_keys, its "
		   "host key in the known hosts)",
		   port ? (int)(colon - host) : (int)strlen(host), host);
}

/* One host of t, connected to as a deploy does. */
static void check_host(struct doctor *dr, const struct server *s, const struct deploy_target *t,
		       const char *host)
{
	const struct deploy_policy *d = &s->rules.deploy;
	struct buf dir = BUF_INIT, err = BUF_INIT, fix = BUF_INIT;
	layout_ssh(&dir, s->state_dir.data);
	struct ssh_options o = {.known_hosts =
				    t->ssh_known_hosts ? t->ssh_known_hosts : d->ssh_known_hosts,
				.identity = t->ssh_identity ? t->ssh_identity : d->ssh_identity,
				.control_dir = dir.data};
	struct ssh ssh;
	struct remote_sandbox jail;
	if (ssh_open(&ssh, host, &o, &err) < 0) {
		host_fix(&fix, dr, d, t, host);
		doctor_problem(dr, fix.data, "%s %s on %s: not reachable: %s", t->project,
			       t->environment, host, err.data);
	} else {
		if (remote_sandbox_open(&jail, &ssh, &err) < 0) {
			host_fix(&fix, dr, d, t, host);
			doctor_problem(dr, fix.data,
				       "%s %s on %s: reachable, but cannot be asked: %s",
				       t->project, t->environment, host, err.data);
		} else {
			struct sandbox_choice c;
			sandbox_choose_host(&c, d, &jail.host);
			struct buf line = BUF_INIT;
			sandbox_choice_describe(&line, &c);
			printf("%s: %s %s on %s: reachable; bwrap %s; %s\n",
			       c.refuse ? "error" : "ok", t->project, t->environment, host,
			       jail.bwrap ? jail.bwrap : "(none)", line.data);
			say_isolation(&c, "the ssh user");
			if (c.refuse) {
				dr->problems++;
				printf("  fix: install bubblewrap on %s (where it must work for "
				       "the ssh "
				       "user), or [deploy] sandbox = auto to deploy there "
				       "unconfined\n",
				       host);
			}
			buf_free(&line);
			sandbox_choice_free(&c);
			remote_sandbox_free(&jail);
		}
		ssh_close(&ssh);
	}
	buf_free(&dir);
	buf_free(&err);
	buf_free(&fix);
}

/* This machine's sandbox, for gates 3-5 and the apps of targets here. */
static void check_sandbox(struct doctor *dr, const struct deploy_policy *d)
{
	struct sandbox_choice here;
	struct buf line = BUF_INIT;
	sandbox_choose(&here, d);
	sandbox_choice_describe(&line, &here);
	printf("%s: this machine (gates 3-5, the apps of targets here): %s\n",
	       here.refuse ? "error" : "ok", line.data);
	say_isolation(&here, d->sandbox_user ? d->sandbox_user : "gitgate's user");
	if (here.refuse) {
		dr->problems++;
		printf("  fix: apt-get install bubblewrap (and let it make user namespaces here), "
		       "or [deploy] sandbox = auto to deploy unconfined\n");
	}
	buf_free(&line);
	sandbox_choice_free(&here);
}

/* The folder a `switch = nginx FILE` writes FILE in: there, and the
 * owner's to write; each folder said once (seen). */
static void check_switch_folder(struct doctor *dr, const struct deploy_target *t,
				struct strlist *seen)
{
	struct buf dir = BUF_INIT, fix = BUF_INIT;
	const char *slash = strrchr(t->live_switch.path, '/');
	buf_add(&dir, t->live_switch.path,
		slash && slash != t->live_switch.path ? (size_t)(slash - t->live_switch.path) : 1);
	struct stat st;
	buf_printf(&fix, "install -d -o %s %s", dr->owner_name, dir.data);
	int there = stat(dir.data, &st) == 0 && S_ISDIR(st.st_mode);
	if (strlist_has(seen, dir.data))
		;
	else if (!there || !doctor_owner_can(dr, &st, S_IWUSR | S_IXUSR))
		doctor_problem(dr, fix.data,
			       "nginx: %s, where the switch of %s %s (and any other there) writes, "
			       "%s",
			       dir.data, t->project, t->environment,
			       there ? "is not the owner's to write" : "is not there");
	strlist_add(seen, dir.data);
	buf_free(&dir);
	buf_free(&fix);
}

/* nginx -t, as a switch runs it, when a target here switches by nginx. */
static void check_nginx(struct doctor *dr, const struct server *s, const struct cli_targets *which)
{
	const struct deploy_policy *d = &s->rules.deploy;
	size_t n = 0;
	struct strlist seen = {0};
	for (size_t i = 0; i < d->ntargets; i++) {
		const struct deploy_target *t = &d->targets[i];
		if (!t->hosts.n && t->live_switch.kind == DEPLOY_SWITCH_NGINX &&
		    cli_targets_match(which, t)) {
			check_switch_folder(dr, t, &seen);
			n++;
		}
	}
	for (size_t i = 0; i < seen.n; i++)
		free(seen.items[i]);
	free(seen.items);
	if (!n)
		return;
	size_t words = 0;
	while (d->nginx.argv[words])
		words++;
	const char **argv = xcalloc(words + 2, sizeof(*argv));
	memcpy(argv, d->nginx.argv, words * sizeof(*argv));
	argv[words] = "-t";
	struct buf said = BUF_INIT, err = BUF_INIT, fix = BUF_INIT;
	struct run_result r;
	struct run_options o = {.argv = argv,
				.out = {.kind = RUN_OUT_CAPTURE, .buf = &said},
				.err = {.kind = RUN_OUT_CAPTURE, .buf = &said},
				.limit_ms = NGINX_TEST_MS};
	if (run(&r, &o, &err) < 0) {
		doctor_problem(dr,
			       "apt-get install nginx, or set [deploy] nginx to the nginx that "
			       "serves these targets",
			       "nginx: %s cannot be run: %s", d->nginx.text, err.data);
	} else if (r.code != 0) {
		run_describe(&err, &r);
		buf_printf(&fix, "correct what nginx names, until `%s -t` passes", d->nginx.text);
		doctor_problem(dr, fix.data, "nginx: `%s -t` %s:\n%s", d->nginx.text, err.data,
			       said.data ? said.data : "");
	} else {
		doctor_ok(dr, "nginx: `%s -t` passes (%zu target%s switched by it here)",
			  d->nginx.text, n, n == 1 ? "" : "s");
	}
	free(argv);
	buf_free(&said);
	buf_free(&err);
	buf_free(&fix);
}

/* The deploy's side: the sandbox here, nginx, each remote host. Returns 0,
 * or STATUS_USAGE for a unit the rules do not have (said). */
static int check_deploys(struct doctor *dr, const char *unit, const char *env)
{
	char *args[] = {"doctor", (char *)unit, (char *)env, NULL};
	int argc = unit ? (env ? 3 : 2) : 1;
	struct server server;
	struct cli_targets which;
	int status = cli_targets_open(&server, &which, argc, args);
	if (status) {
		dr->problems++;
		return status == STATUS_USAGE ? status : 0;
	}
	const struct deploy_policy *d = &server.rules.deploy;
	check_sandbox(dr, d);
	check_nginx(dr, &server, &which);
	for (size_t i = 0; i < d->ntargets; i++) {
		const struct deploy_target *t = &d->targets[i];
		if (!cli_targets_match(&which, t))
			continue;
		for (size_t h = 0; h < t->hosts.n; h++)
			check_host(dr, &server, t, t->hosts.items[h]);
	}
	server_close(&server);
	return 0;
}

/* The rules, as the hooks read them. Returns 1 when they load. */
static int check_rules(struct doctor *d, struct rules *rules)
{
	struct rules_location where = {.gitdir = d->bare};
	struct buf path = BUF_INIT, err = BUF_INIT, fix = BUF_INIT;
	struct stat st;
	int loaded = 0;
	if (rules_locate(&where, &path, &err) < 0) {
		doctor_problem(d,
			       "put the rules there (install.sh --server does), or point git "
			       "config gitgate.rules at them",
			       "rules: %s", err.data);
	} else if (rules_load(rules, path.data, &err) < 0) {
		rules_free(rules);
		buf_printf(&fix,
			   "correct each line named in %s (gitgate rules --rules %s lists "
			   "them)",
			   path.data, path.data);
		doctor_problem(
		    d, fix.data, "rules: not valid, so every push and deploy is refused:\n%.*s",
		    (int)(err.len && err.data[err.len - 1] == '\n' ? err.len - 1 : err.len),
		    err.data);
	} else if (stat(path.data, &st) == 0 && !doctor_owner_can(d, &st, S_IRUSR)) {
		buf_printf(&fix,
			   "chmod a+r %s (it may stay another user's: pushers cannot change it)",
			   path.data);
		doctor_problem(d, fix.data, "rules: %s cannot be read by %s: every push is refused",
			       path.data, d->owner_name);
		loaded = 1;
	} else {
		doctor_ok(d, "rules: %s is valid", path.data);
		loaded = 1;
	}
	buf_free(&path);
	buf_free(&err);
	buf_free(&fix);
	return loaded;
}

/* The state folder: there, and the owner's to write (tried when this is
 * the owner). */
static void check_state(struct doctor *d, const char *dir)
{
	struct stat st;
	struct buf fix = BUF_INIT, probe = BUF_INIT;
	int fd = -1;
	buf_printf(&fix, "install -d -o %s %s", d->owner_name, dir);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		doctor_problem(d, fix.data,
			       "state folder: %s is not there: pushes are accepted but not "
			       "recorded, and nothing deploys",
			       dir);
	} else if (!doctor_owner_can(d, &st, S_IWUSR | S_IXUSR) ||
		   (d->as_owner && (buf_printf(&probe, "%s/.gitgate-doctor-XXXXXX", dir),
				    (fd = mkstemp(probe.data)) < 0))) {
		buf_clear(&fix);
		buf_printf(&fix, "chown %s: %s && chmod u+rwx %s", d->owner_name, dir, dir);
		doctor_problem(d, fix.data, "state folder: %s cannot write into %s%s%s",
			       d->owner_name, dir, fd < 0 && probe.len ? ": " : "",
			       fd < 0 && probe.len ? strerror(errno) : "");
	} else {
		doctor_ok(d, "state folder: %s is %s's to write", dir, d->owner_name);
	}
	if (fd >= 0) {
		close(fd);
		unlink(probe.data);
	}
	buf_free(&fix);
	buf_free(&probe);
}

/* Is path a git dir (what BARE names): HEAD and objects/ in it? */
static int git_dir_at(const char *path)
{
	struct buf p = BUF_INIT;
	struct stat st;
	buf_printf(&p, "%s/HEAD", path);
	int is = stat(p.data, &st) == 0 && S_ISREG(st.st_mode);
	buf_clear(&p);
	buf_printf(&p, "%s/objects", path);
	is = is && stat(p.data, &st) == 0 && S_ISDIR(st.st_mode);
	buf_free(&p);
	return is;
}

/* The repository doctor looks at: BARE, else GIT_DIR, else here; every
 * command it runs after is told so (GIT_DIR). Returns 0 or -1 (said). */
static int doctor_open(struct doctor *d, const char *bare, char *path)
{
	struct procenv env;
	procenv_read(&env);
	const char *given = bare ? bare : env.git_dir ? env.git_dir : ".";
	struct stat st;
	int ok = realpath(given, path) && git_dir_at(path) && stat(path, &st) == 0;
	procenv_free(&env);
	if (!ok) {
		fprintf(stderr,
			"gitgate doctor: %s is not a bare repository (no HEAD and objects/ in it): "
			"run doctor in one, or name it\n",
			given);
		return -1;
	}
	setenv("GIT_DIR", path, 1);
	struct passwd *pw = getpwuid(st.st_uid);
	*d = (struct doctor){.bare = path,
			     .owner = st.st_uid,
			     .owner_name = xstrdup(pw ? pw->pw_name : "its owner"),
			     .as_owner = geteuid() == st.st_uid,
			     .sudo = BUF_INIT};
	buf_printf(&d->sudo, "%s%s%s", d->as_owner ? "" : "sudo -u ",
		   d->as_owner ? "" : d->owner_name, d->as_owner ? "" : " ");
	return 0;
}

/* Everything doctor checks, in order. Returns 0, or STATUS_USAGE. */
static int doctor_run(struct doctor *d, const char *unit, const char *env)
{
	int status = 0;
	printf("gitgate doctor: %s, owned by %s (git runs the hooks of a push as %s)\n", d->bare,
	       d->owner_name, d->owner_name);
	if (!d->as_owner)
		printf("note: this runs as another user; what the owner could do is judged from "
		       "the files' modes\n");
	int trusted = doctor_check_safe_directory(d) == 0;
	if (!trusted)
		printf("note: the rules, push options and deploys are checked once git opens it\n");
	struct rules rules;
	int loaded = trusted && check_rules(d, &rules);
	struct buf state = BUF_INIT;
	if (loaded && rules.deploy.state_dir)
		buf_adds(&state, rules.deploy.state_dir);
	else
		state_dir_path(&state, d->bare);
	while (state.len > 1 && state.data[state.len - 1] == '/')
		state.data[--state.len] = '\0';
	struct passwd *jailer =
	    loaded && rules.deploy.sandbox_user ? getpwnam(rules.deploy.sandbox_user) : NULL;
	uid_t also = jailer ? jailer->pw_uid : (uid_t)-1;
	doctor_check_ownership(d, d->bare, state.data, (uid_t)-1, "the repository");
	doctor_check_hooks(d);
	if (trusted)
		doctor_check_push_options(d);
	check_state(d, state.data);
	doctor_check_ownership(d, state.data, NULL, also, "the state folder");
	if (loaded) {
		rules_free(&rules);
		status = check_deploys(d, unit, env);
	}
	buf_free(&state);
	return status;
}

int cmd_doctor(int argc, char **argv)
{
	int first = argc > 1 && argv[1][0] != '-' && git_dir_at(argv[1]) ? 2 : 1;
	if (argc - first > 2 || (argc > first && argv[first][0] == '-') ||
	    (argc > first + 1 && argv[first + 1][0] == '-')) {
		cli_usage(stderr, "doctor");
		return STATUS_USAGE;
	}
	char path[PATH_MAX];
	struct doctor d;
	/* Line by line: a problem a library reports on stderr stays in its
	 * place among doctor's lines. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (doctor_open(&d, first == 2 ? argv[1] : NULL, path) < 0)
		return STATUS_USAGE;
	int status = doctor_run(&d, argc > first ? argv[first] : NULL,
				argc > first + 1 ? argv[first + 1] : NULL);
	if (d.problems)
		printf("gitgate doctor: %d problem%s, each with its fix above\n", d.problems,
		       d.problems == 1 ? "" : "s");
	else
		printf("gitgate doctor: no problem found\n");
	free((char *)d.owner_name);
	buf_free(&d.sudo);
	return status ? status : d.problems ? STATUS_REJECTED : STATUS_PASSED;
}
