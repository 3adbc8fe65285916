/* ssh: which URLs and ports of a remote target go through its connection. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssh.h"

/* A URL that names another host than the target's own is reached
 * directly: it comes back as it is, and the connection is not asked (this
 * one has no master: a forward would fail). */
static void assert_direct(const char *url)
{
	struct ssh s;
	memset(&s, 0, sizeof(s));
	struct buf out = BUF_INIT, err = BUF_INIT;
	cr_assert_eq(ssh_reach_url(&s, url, &out, &err), 0, "%s: %s", url, err.data);
	cr_assert_str_eq(out.data, url);
	cr_assert_eq(s.nforwards, 0);
	buf_free(&out);
	buf_free(&err);
}

Test(ssh, a_url_naming_another_host_is_reached_directly)
{
	assert_direct("http://argo-host.example.com:8000/health");
	assert_direct("http://10.0.0.5/health");
	assert_direct("https://[2001:db8::1]:8443/health?full=1");
	assert_direct("http://localhost.example.com/health");
	assert_direct("http://128.0.0.1:8000/");
}

/* The host's own loopback names go through a forward: the connection is
 * asked (here one whose ssh is `false`: the real ones are the e2e tests'),
 * and its failing is said. */
Test(ssh, a_url_on_the_hosts_loopback_needs_the_connection)
{
	const char *own[] = {"http://localhost:8000/health", "http://127.0.0.1/health",
			     "http://127.0.0.3:9/x", "http://[::1]:8000/", "http://LocalHost/"};
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		struct ssh s;
		memset(&s, 0, sizeof(s));
		s.shown = "nobody@nowhere:22";
		s.host = "nowhere";
		s.dir = "/";
		s.control = "none";
		const char *argv[] = {"false", NULL};
		s.common = (struct strvec){(char **)argv, 1, 0};
		struct buf out = BUF_INIT, err = BUF_INIT;
		cr_assert_eq(ssh_reach_url(&s, own[i], &out, &err), -1, "%s was not forwarded",
			     own[i]);
		cr_assert(strstr(err.data, "cannot forward a port"), "%s: %s", own[i], err.data);
		buf_free(&out);
		buf_free(&err);
	}
}

Test(ssh, a_port_on_the_hosts_loopback_only_is_forwarded)
{
	struct ssh s;
	memset(&s, 0, sizeof(s));
	struct buf err = BUF_INIT;
	unsigned local = 0;
	cr_assert_eq(ssh_reach_port(&s, "db.internal", 5432, &local, &err), 0);
	cr_assert_eq(ssh_reach_port(&s, "[2001:db8::2]", 6379, &local, &err), 0);
	cr_assert_eq(local, 0);
	buf_free(&err);
}

/* One master per user, host, port, known_hosts and key: a target with
 * another key or known_hosts never uses a connection another one opened. */
Test(ssh, a_master_is_named_by_host_user_and_key)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	ssh_master_name(&a, "deploy", "argo.example.com", 22, "/etc/gitgate/known_hosts",
			"/etc/gitgate/id_ed25519");
	ssh_master_name(&b, "deploy", "argo.example.com", 22, "/etc/gitgate/known_hosts",
			"/etc/gitgate/id_ed25519");
	cr_assert_str_eq(a.data, b.data);
	cr_assert_eq(a.len, 18, "%s", a.data);
	cr_assert_eq(strncmp(a.data, "h-", 2), 0);
	const char *other[][5] = {
	    {"root", "argo.example.com", "22", "/etc/gitgate/known_hosts",
	     "/etc/gitgate/id_ed25519"},
	    {"deploy", "argo2.example.com", "22", "/etc/gitgate/known_hosts",
	     "/etc/gitgate/id_ed25519"},
	    {"deploy", "argo.example.com", "2222", "/etc/gitgate/known_hosts",
	     "/etc/gitgate/id_ed25519"},
	    {"deploy", "argo.example.com", "22", NULL, "/etc/gitgate/id_ed25519"},
	    {"deploy", "argo.example.com", "22", "/etc/gitgate/known_hosts", "/etc/gitgate/other"},
	};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		buf_clear(&b);
		ssh_master_name(&b, other[i][0], other[i][1], (unsigned)atoi(other[i][2]),
				other[i][3], other[i][4]);
		cr_assert_str_neq(a.data, b.data, "case %zu", i);
	}
	/* The file as it is now: changed, it names another master. */
	char path[] = "/tmp/gitgate-known-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	buf_clear(&a);
	ssh_master_name(&a, "deploy", "argo.example.com", 22, path, NULL);
	FILE *f = fopen(path, "a");
	cr_assert_not_null(f);
	fputs("[argo.example.com]:22 ssh-ed25519 AAAA\n", f);
	fclose(f);
	buf_clear(&b);
	ssh_master_name(&b, "deploy", "argo.example.com", 22, path, NULL);
	cr_assert_str_neq(a.data, b.data);
	unlink(path);
	buf_free(&a);
	buf_free(&b);
}
