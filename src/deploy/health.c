/*
 * health: see health.h. Every network check is a libcurl easy transfer with
 * the same settings (easy_new), so the guarantees on protocols, proxies,
 * redirects and time are set in one place; a TCP check is a transfer that
 * stops once connected (CURLOPT_CONNECT_ONLY), which gives it libcurl's
 * resolver with its timeout, IPv6 and the same error reporting. Reasons are
 * gitgate's own words from libcurl's codes, so they read the same whatever
 * libcurl's version and never repeat a URL.
 */
#include "health.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deadline.h"
#include "escape.h"
#include "http.h"
#include "run.h"

#define BODY_MAX (1024 * 1024)
#define COMMAND_GRACE_MS 500 /* from SIGTERM to SIGKILL for a command at its limit */

static const struct {
	const char *scheme;
	unsigned port;
} default_ports[] = {
    {"postgres", 5432}, {"postgresql", 5432}, {"redis", 6379},	  {"rediss", 6380}, {"mysql", 3306},
    {"amqp", 5672},	{"amqps", 5671},      {"mongodb", 27017}, {"http", 80},	    {"https", 443},
};

static unsigned default_port(const char *scheme)
{
	for (size_t i = 0; i < sizeof(default_ports) / sizeof(default_ports[0]); i++)
		if (!strcmp(default_ports[i].scheme, scheme))
			return default_ports[i].port;
	return 0;
}

/* The URL as libcurl reads it, or NULL with the reason in err. */
static CURLU *url_parse(const char *url, unsigned flags, const char *what, struct buf *err)
{
	CURLU *u = curl_url();
	if (!u) {
		buf_printf(err, "%s: out of memory", what);
		return NULL;
	}
	CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, flags);
	if (rc) {
		buf_printf(err, "%s is not a URL (%s)", what, curl_url_strerror(rc));
		curl_url_cleanup(u);
		return NULL;
	}
	return u;
}

/* A part of a URL copied into our allocator, or NULL when it is absent. */
static char *url_part(CURLU *u, CURLUPart part)
{
	char *value;
	if (curl_url_get(u, part, &value, 0))
		return NULL;
	char *copy = xstrdup(value);
	curl_free(value);
	return copy;
}

int health_dependency_parse(struct health_dependency *out, const char *url, struct buf *err)
{
	memset(out, 0, sizeof(*out));
	CURLU *u = url_parse(url, CURLU_NON_SUPPORT_SCHEME, "a dependency URL", err);
	if (!u)
		return -1;
	char *scheme = url_part(u, CURLUPART_SCHEME);
	char *host = url_part(u, CURLUPART_HOST);
	char *port = url_part(u, CURLUPART_PORT);
	curl_url_cleanup(u);
	int rc = -1;
	/* A URL without a host (postgres:///app?host=/run/postgresql) names a
	 * Unix socket, which is not a network dependency to reach. libcurl
	 * reads the path of such a URL as its host when it does not know the
	 * scheme, so the empty authority is looked for in the text itself. */
	const char *authority = strstr(url, "://");
	if (!host || !*host || (authority && authority[3] == '/')) {
		buf_printf(err, "the %s dependency URL names no host", scheme);
		goto done;
	}
	out->port = port ? (unsigned)strtoul(port, NULL, 10) : default_port(scheme);
	if (!out->port) {
		buf_printf(err, "the %s://%s dependency URL has no port and %s has no default",
			   scheme, host, scheme);
		goto done;
	}
	out->host = host;
	host = NULL;
	struct buf shown = BUF_INIT;
	buf_printf(&shown, "%s://%s:%u", scheme, out->host, out->port);
	out->shown = buf_detach(&shown);
	rc = 0;
done:
	free(scheme);
	free(host);
	free(port);
	return rc;
}

void health_dependency_free(struct health_dependency *d)
{
	free(d->host);
	free(d->shown);
	memset(d, 0, sizeof(*d));
}

/* What health_run checks, read from the spec once, before any attempt. */
struct plan {
	const struct health_spec *spec;
	unsigned timeout_ms;
	unsigned char status_ok[600]; /* by HTTP status code */
	char **urls_shown;	      /* the URLs without user and password */
	struct health_dependency *deps;
	size_t ndeps;
	struct health_dependency service; /* level 1: the service's own port */
};

/* "200 204", "2xx", "2xx,301": codes and classes, by spaces or commas. */
static int plan_status(struct plan *p, const char *text, struct buf *err)
{
	static const char *const separators = " \t,";
	size_t taken = 0;
	for (const char *s = text + strspn(text, separators); *s; s += strspn(s, separators)) {
		size_t len = strcspn(s, separators);
		int is_class = len == 3 && s[0] >= '1' && s[0] <= '5' &&
			       (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X');
		int is_code = len == 3 && s[0] >= '1' && s[0] <= '5' && s[1] >= '0' &&
			      s[1] <= '9' && s[2] >= '0' && s[2] <= '9';
		if (!is_class && !is_code) {
			buf_printf(err,
				   "health status: \"%.*s\" is neither a code (200) nor a "
				   "class (2xx)",
				   (int)len, s);
			return -1;
		}
		int first = (s[0] - '0') * 100 + (is_code ? (s[1] - '0') * 10 + s[2] - '0' : 0);
		memset(p->status_ok + first, 1, is_code ? 1 : 100);
		taken++;
		s += len;
	}
	if (!taken) {
		buf_adds(err, "health status: no code or class given");
		return -1;
	}
	return 0;
}

/* The URL as it may be shown: without user and password. */
static int plan_url(struct plan *p, size_t i, struct buf *err)
{
	struct buf what = BUF_INIT;
	buf_printf(&what, "health URL %zu", i + 1);
	CURLU *u = url_parse(p->spec->urls[i], 0, what.data, err);
	buf_free(&what);
	if (!u)
		return -1;
	char *scheme = url_part(u, CURLUPART_SCHEME);
	int rc = -1;
	if (strcmp(scheme, "http") && strcmp(scheme, "https")) {
		buf_printf(err, "health URL %zu is %s, not http or https", i + 1, scheme);
	} else {
		curl_url_set(u, CURLUPART_USER, NULL, 0);
		curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
		const char *named = p->spec->urls_shown ? p->spec->urls_shown[i] : NULL;
		p->urls_shown[i] = named ? xstrdup(named) : url_part(u, CURLUPART_URL);
		rc = 0;
	}
	free(scheme);
	curl_url_cleanup(u);
	return rc;
}

static void plan_free(struct plan *p)
{
	for (size_t i = 0; p->urls_shown && i < p->spec->nurls; i++)
		free(p->urls_shown[i]);
	free(p->urls_shown);
	for (size_t i = 0; i < p->ndeps; i++)
		health_dependency_free(&p->deps[i]);
	free(p->deps);
	health_dependency_free(&p->service);
}

/* Level 1's host and port, in the form dependencies take. */
static int plan_port(struct plan *p, struct buf *err)
{
	const char *host = p->spec->host ? p->spec->host : "127.0.0.1";
	if (!p->spec->port || p->spec->port > 65535) {
		buf_printf(err, "health level 1 needs a port (1 to 65535), not %u", p->spec->port);
		return -1;
	}
	/* An IPv6 address goes into a URL in brackets. */
	int bare_ipv6 = strchr(host, ':') && host[0] != '[';
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s%s%s", bare_ipv6 ? "[" : "", host, bare_ipv6 ? "]" : "");
	p->service.host = buf_detach(&b);
	p->service.port = p->spec->port;
	buf_printf(&b, "%s:%u", p->service.host, p->service.port);
	p->service.shown = buf_detach(&b);
	return 0;
}

static int plan_make(struct plan *p, const struct health_spec *spec, struct buf *err)
{
	memset(p, 0, sizeof(*p));
	p->spec = spec;
	p->timeout_ms = spec->timeout_ms ? spec->timeout_ms : HEALTH_TIMEOUT_MS;
	if (spec->level < 1 || spec->level > 3) {
		buf_printf(err, "health level %d: there are levels 1, 2 and 3", spec->level);
		return -1;
	}
	if (spec->level == 1)
		return plan_port(p, err);
	if (!spec->nurls) {
		buf_printf(err, "health level %d needs at least one URL", spec->level);
		return -1;
	}
	if (plan_status(p, spec->status ? spec->status : "2xx", err) < 0)
		return -1;
	p->urls_shown = xcalloc(spec->nurls, sizeof(*p->urls_shown));
	for (size_t i = 0; i < spec->nurls; i++)
		if (plan_url(p, i, err) < 0)
			goto fail;
	if (spec->level < 3)
		return 0;
	p->deps = xcalloc(spec->ndeps ? spec->ndeps : 1, sizeof(*p->deps));
	for (; p->ndeps < spec->ndeps; p->ndeps++) {
		if (health_dependency_parse(&p->deps[p->ndeps], spec->dependency_urls[p->ndeps],
					    err) < 0) {
			buf_printf(err, " (dependency %zu)", p->ndeps + 1);
			goto fail;
		}
		const char *shown =
		    spec->dependency_shown ? spec->dependency_shown[p->ndeps] : NULL;
		if (shown) {
			free(p->deps[p->ndeps].shown);
			p->deps[p->ndeps].shown = xstrdup(shown);
		}
	}
	return 0;
fail:
	plan_free(p);
	return -1;
}

static unsigned ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	long long ms =
	    (long long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
	return ms < 0 ? 0 : (unsigned)ms;
}

/* How long a check may take: its own limit (0: none), or what is left
 * before the deadline when that is less. */
struct allowance {
	unsigned ms;	 /* 0: no limit */
	int by_deadline; /* the deadline set ms */
};

/* 0 when the deadline has passed and the check must not start. */
static int allowance_get(struct allowance *a, unsigned own_ms, const struct deadline *d)
{
	int left = deadline_left_ms(d);
	a->by_deadline = left >= 0 && (!own_ms || (unsigned)left < own_ms);
	a->ms = a->by_deadline ? (unsigned)left : own_ms;
	return !a->by_deadline || a->ms > 0;
}

/* A check the deadline cut short means the deadline was reached, whatever
 * the clock says a moment later (a timer may fire a hair early). */
static void allowance_why(struct health_report *r, struct buf *why, const struct allowance *a)
{
	if (a->by_deadline) {
		r->deadline_reached = 1;
		buf_printf(why, "stopped at the deadline after %u ms", a->ms);
	} else {
		buf_printf(why, "timed out after %u ms", a->ms);
	}
}

/* Records a check of the current attempt; why NULL means it passed. */
static void report_add(struct health_report *r, const char *what, unsigned ms, const char *why)
{
	struct health_check_result *c = ARRAY_PUSH(r->items, r->n, r->cap);
	struct buf b = BUF_INIT;
	escape_bytes(&b, what, strlen(what));
	c->what = buf_detach(&b);
	c->ms = ms;
	c->ok = !why;
	if (why) {
		escape_bytes(&b, why, strlen(why));
		c->why = buf_detach(&b);
	} else {
		c->why = NULL;
	}
	buf_free(&b);
}

static void report_clear(struct health_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].what);
		free(r->items[i].why);
	}
	r->n = 0;
}

void health_report_free(struct health_report *r)
{
	report_clear(r);
	free(r->items);
	memset(r, 0, sizeof(*r));
}

static void mask_in_place(char **s, const struct mask *m)
{
	char *masked = mask_string(m, *s);
	free(*s);
	*s = masked;
}

void health_report_mask(struct health_report *r, const struct mask *m)
{
	for (size_t i = 0; m->n && i < r->n; i++) {
		mask_in_place(&r->items[i].what, m);
		mask_in_place(&r->items[i].why, m);
	}
}

struct body {
	struct buf data;
	int too_big;
};

static size_t body_keep(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;
	if (b->data.len + len > BODY_MAX) {
		b->too_big = 1;
		return 0; /* stops the transfer with CURLE_WRITE_ERROR */
	}
	buf_add(&b->data, data, len);
	return len;
}

static CURL *easy_new(const char *url, const struct allowance *a, char *errors)
{
	CURL *c = curl_easy_init();
	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* An empty proxy overrides http_proxy and the like; "*" covers any
	 * proxy option a libcurl build might read from elsewhere. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)a->ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errors);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "gitgate/" GITGATE_VERSION " health");
	errors[0] = '\0';
	return c;
}

/* Why a transfer failed, in gitgate's words. */
static void why_transfer(struct health_report *r, struct buf *why, CURL *c, CURLcode rc,
			 const char *errors, const struct allowance *a, const struct body *body)
{
	long os_errno = 0;
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		allowance_why(r, why, a);
		return;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
		if (os_errno == ECONNREFUSED)
			buf_adds(why, "connection refused");
		else if (os_errno)
			buf_printf(why, "cannot connect: %s", strerror((int)os_errno));
		else
			buf_adds(why, "cannot connect");
		return;
	case CURLE_COULDNT_RESOLVE_HOST:
		buf_adds(why, "cannot resolve the host");
		return;
	case CURLE_WRITE_ERROR:
		if (body && body->too_big) {
			buf_printf(why, "body larger than %d MiB", BODY_MAX / (1024 * 1024));
			return;
		}
		break;
	default:
		break;
	}
	/* The rest (TLS above all) is best said by libcurl's own detail. */
	buf_adds(why, *errors ? errors : curl_easy_strerror(rc));
}

static void check_tcp(struct health_report *r, const struct plan *p,
		      const struct health_dependency *to, const struct deadline *d)
{
	struct buf what = BUF_INIT, url = BUF_INIT, why = BUF_INIT;
	buf_printf(&what, "tcp %s", to->shown);
	struct allowance a;
	if (!allowance_get(&a, p->timeout_ms, d)) {
		report_add(r, what.data, 0, "not run: the deadline had passed");
		goto done;
	}
	/* A plain http URL, so that connecting is all that happens. */
	buf_printf(&url, "http://%s:%u/", to->host, to->port);
	char errors[CURL_ERROR_SIZE];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CURL *c = easy_new(url.data, &a, errors);
	if (!c) {
		report_add(r, what.data, 0, "cannot start libcurl");
		goto done;
	}
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	CURLcode rc = curl_easy_perform(c);
	if (rc)
		why_transfer(r, &why, c, rc, errors, &a, NULL);
	curl_easy_cleanup(c);
	report_add(r, what.data, ms_since(&t0), rc ? why.data : NULL);
done:
	buf_free(&what);
	buf_free(&url);
	buf_free(&why);
}

/* 0 when the body matches, else -1 with the reason in why. */
static int body_match(const pcre2_code *re, const struct buf *body, struct buf *why)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc =
	    pcre2_match(re, (PCRE2_SPTR)(body->data ? body->data : ""), body->len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	if (rc >= 0) /* 0: a match whose groups did not all fit */
		return 0;
	if (rc == PCRE2_ERROR_NOMATCH) {
		buf_adds(why, "body does not match");
	} else {
		PCRE2_UCHAR message[256];
		pcre2_get_error_message(rc, message, sizeof(message));
		buf_printf(why, "body cannot be matched: %s", (const char *)message);
	}
	return -1;
}

static void check_url(struct health_report *r, const struct plan *p, size_t i,
		      const struct deadline *d)
{
	const struct health_spec *s = p->spec;
	struct buf what = BUF_INIT, why = BUF_INIT;
	struct body body = {BUF_INIT, 0};
	buf_printf(&what, "GET %s", p->urls_shown[i]);
	struct allowance a;
	if (!allowance_get(&a, p->timeout_ms, d)) {
		report_add(r, what.data, 0, "not run: the deadline had passed");
		goto done;
	}
	char errors[CURL_ERROR_SIZE];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CURL *c = easy_new(s->urls[i], &a, errors);
	if (!c) {
		report_add(r, what.data, 0, "cannot start libcurl");
		goto done;
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_keep);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	CURLcode rc = curl_easy_perform(c);
	unsigned ms = ms_since(&t0);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc)
		why_transfer(r, &why, c, rc, errors, &a, &body);
	else if (status < 100 || status > 599 || !p->status_ok[status])
		buf_printf(&why, "HTTP %ld", status);
	else if (s->body && body_match(s->body, &body.data, &why) < 0)
		; /* why says it */
	else if (s->level >= 3 && s->latency_ms && ms > s->latency_ms)
		buf_printf(&why, "latency %u ms > %u ms", ms, s->latency_ms);
	curl_easy_cleanup(c);
	report_add(r, what.data, ms, why.len ? why.data : NULL);
done:
	buf_free(&what);
	buf_free(&why);
	buf_free(&body.data);
}

static void check_command(struct health_report *r, const struct plan *p, const struct deadline *d)
{
	const struct health_spec *s = p->spec;
	struct buf what = BUF_INIT, why = BUF_INIT;
	buf_adds(&what, "run");
	for (const char *const *arg = s->command_shown ? s->command_shown : s->command; *arg; arg++)
		buf_printf(&what, " %s", *arg);
	struct allowance a;
	if (!allowance_get(&a, s->command_limit_ms, d)) {
		report_add(r, what.data, 0, "not run: the deadline had passed");
		goto done;
	}
	struct run_output out = {.kind = RUN_OUT_DISCARD};
	if (s->command_log)
		out = (struct run_output){
		    .kind = RUN_OUT_APPEND, .path = s->command_log, .mask = s->command_log_mask};
	struct run_options opts = {.argv = s->command,
				   .env = s->command_env,
				   .cwd = s->command_cwd,
				   .in = {.kind = s->command_input ? RUN_IN_BUFFER : RUN_IN_NULL,
					  .data = s->command_input,
					  .len = s->command_input_len},
				   .out = out,
				   .err = out,
				   .limit_ms = a.ms,
				   .grace_ms = COMMAND_GRACE_MS};
	struct run_result result;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (run(&result, &opts, &why) == 0 && (result.timed_out || result.code)) {
		if (result.timed_out)
			allowance_why(r, &why, &a);
		else
			run_describe(&why, &result);
	}
	report_add(r, what.data, ms_since(&t0), why.len ? why.data : NULL);
done:
	buf_free(&what);
	buf_free(&why);
}

/* One attempt at the whole level; 1 when every check passed. */
static int attempt(struct health_report *r, const struct plan *p, const struct deadline *d)
{
	const struct health_spec *s = p->spec;
	report_clear(r);
	if (s->level == 1) {
		check_tcp(r, p, &p->service, d);
	} else {
		for (size_t i = 0; i < s->nurls; i++)
			check_url(r, p, i, d);
		for (size_t i = 0; s->level >= 3 && i < p->ndeps; i++)
			check_tcp(r, p, &p->deps[i], d);
		if (s->level >= 3 && s->command)
			check_command(r, p, d);
	}
	for (size_t i = 0; i < r->n; i++)
		if (!r->items[i].ok)
			return 0;
	return 1;
}

static void sleep_ms(unsigned ms)
{
	struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

int health_run(struct health_report *out, const struct health_spec *spec, struct buf *err)
{
	memset(out, 0, sizeof(*out));
	out->level = spec->level;
	struct plan plan;
	if (plan_make(&plan, spec, err) < 0)
		return -1;
	if (http_start(err) < 0) {
		plan_free(&plan);
		return -1;
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct deadline d;
	deadline_start_ms(&d, spec->deadline_ms);
	unsigned needed = spec->successes ? spec->successes : 1, in_a_row = 0, failed = 0;
	for (;;) {
		out->attempts++;
		if (attempt(out, &plan, &d)) {
			in_a_row++;
		} else {
			in_a_row = 0;
			failed++;
		}
		if (in_a_row >= needed) {
			out->passed = 1;
			break;
		}
		if (!in_a_row && spec->reachable && !spec->reachable(spec->reachable_ctx)) {
			out->unreachable = 1;
			break;
		}
		if (failed > spec->retries) {
			/* It may also have cut the last attempt short. */
			out->deadline_reached = out->deadline_reached || deadline_passed(&d);
			break;
		}
		/* No attempt starts at or after the deadline: one that would
		 * have no time for its checks tells nothing. */
		int left = deadline_left_ms(&d);
		if (left >= 0 && (unsigned)left <= spec->interval_ms) {
			out->deadline_reached = 1;
			break;
		}
		sleep_ms(spec->interval_ms);
	}
	out->ms = ms_since(&t0);
	plan_free(&plan);
	return 0;
}

void health_report_text(FILE *out, const struct health_report *r)
{
	fprintf(out, "health level %d: %s after %u attempt%s, %u ms%s\n", r->level,
		r->passed ? "passed" : "FAILED", r->attempts, r->attempts == 1 ? "" : "s", r->ms,
		r->deadline_reached ? " (deadline reached)" : "");
	for (size_t i = 0; i < r->n; i++) {
		const struct health_check_result *c = &r->items[i];
		fprintf(out, "  %-6s %6u ms  %s%s%s\n", c->ok ? "ok" : "failed", c->ms, c->what,
			c->ok ? "" : ": ", c->ok ? "" : c->why);
	}
}

json_t *health_report_checks_json(const struct health_report *r)
{
	json_t *checks = json_array();
	for (size_t i = 0; i < r->n; i++) {
		const struct health_check_result *c = &r->items[i];
		json_t *o = json_object();
		json_object_set_new(o, "what", json_string(c->what));
		json_object_set_new(o, "ms", json_integer(c->ms));
		json_object_set_new(o, "ok", json_boolean(c->ok));
		if (!c->ok)
			json_object_set_new(o, "why", json_string(c->why));
		json_array_append_new(checks, o);
	}
	return checks;
}

json_t *health_report_json(const struct health_report *r)
{
	json_t *root = json_object();
	json_object_set_new(root, "level", json_integer(r->level));
	json_object_set_new(root, "passed", json_boolean(r->passed));
	json_object_set_new(root, "attempts", json_integer(r->attempts));
	json_object_set_new(root, "ms", json_integer(r->ms));
	json_object_set_new(root, "deadline_reached", json_boolean(r->deadline_reached));
	json_object_set_new(root, "checks", health_report_checks_json(r));
	return root;
}
