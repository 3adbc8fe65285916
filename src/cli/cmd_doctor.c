/*
 * gitgate doctor [UNIT] [ENV]: what a deploy would find, asked now. This
 * machine's sandbox (gates 3-5, and the apps of targets here), then each
 * remote target's host, connected to as a deploy does: reachable or not,
 * its bwrap and whether it makes a sandbox there, and so what is and is
 * not isolated there. `gitgate rules` reads rules.ini only; this connects.
 * Exit 1 when a host cannot be reached or a deploy would refuse it.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "deploy_policy.h"
#include "layout.h"
#include "remote.h"
#include "sandbox.h"
#include "server.h"
#include "ssh.h"
#include "status.h"

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

/* One host of t: 0 when a deploy could use it as rules.ini says. */
static int check_host(const struct server *s, const struct deploy_target *t, const char *host)
{
	const struct deploy_policy *d = &s->rules.deploy;
	struct buf dir = BUF_INIT, err = BUF_INIT;
	layout_ssh(&dir, s->state_dir.data);
	struct ssh_options o = {.known_hosts =
				    t->ssh_known_hosts ? t->ssh_known_hosts : d->ssh_known_hosts,
				.identity = t->ssh_identity ? t->ssh_identity : d->ssh_identity,
				.control_dir = dir.data};
	struct ssh ssh;
	struct remote_sandbox jail;
	printf("%s %s on %s: ", t->project, t->environment, host);
	int rc = -1;
	if (ssh_open(&ssh, host, &o, &err) < 0) {
		printf("not reachable: %s\n", err.data);
	} else {
		if (remote_sandbox_open(&jail, &ssh, &err) < 0) {
			printf("reachable, but cannot be asked: %s\n", err.data);
		} else {
			struct sandbox_choice c;
			sandbox_choose_host(&c, d, &jail.host);
			struct buf line = BUF_INIT;
			sandbox_choice_describe(&line, &c);
			printf("reachable; bwrap %s; %s\n", jail.bwrap ? jail.bwrap : "(none)",
			       line.data);
			say_isolation(&c, "the ssh user");
			rc = c.refuse ? -1 : 0;
			buf_free(&line);
			sandbox_choice_free(&c);
			remote_sandbox_free(&jail);
		}
		ssh_close(&ssh);
	}
	buf_free(&dir);
	buf_free(&err);
	return rc;
}

int cmd_doctor(int argc, char **argv)
{
	struct server server;
	struct cli_targets which;
	int status = cli_targets_open(&server, &which, argc, argv);
	if (status)
		return status;
	const struct deploy_policy *d = &server.rules.deploy;
	struct sandbox_choice here;
	struct buf line = BUF_INIT;
	sandbox_choose(&here, d);
	sandbox_choice_describe(&line, &here);
	printf("this machine (gates 3-5, the apps of targets here): %s\n", line.data);
	say_isolation(&here, d->sandbox_user ? d->sandbox_user : "gitgate's user");
	if (here.refuse)
		status = STATUS_REJECTED;
	for (size_t i = 0; i < d->ntargets; i++) {
		const struct deploy_target *t = &d->targets[i];
		if (!cli_targets_match(&which, t))
			continue;
		for (size_t h = 0; h < t->hosts.n; h++)
			if (check_host(&server, t, t->hosts.items[h]) < 0)
				status = STATUS_REJECTED;
	}
	buf_free(&line);
	sandbox_choice_free(&here);
	server_close(&server);
	return status;
}
