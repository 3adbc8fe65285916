/* confirmation: the health confirmation report rendered from synthetic records (a deploy, its
 * canary steps, its watch, its sign-offs) in each format, judged, masked, and read back from a
 * history file by deploy id. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confirmation.h"
#include "env_seen.h"
#include "helpers.h"
#include "history.h"

#define ID "20260110-100000-1a2b"
#define FROM "1111111111111111111111111111111111111111"
#define TO "2222222222222222222222222222222222222222"

/* A deploy of argo to production as the engine records one; its gate 8
 * failed when failing_gate. */
static json_t *deploy_record(enum history_outcome outcome, int failing_gate)
{
	json_t *r = history_record_new(ID, "deploy", "argo", "argo", "production", "alice",
				       "env GITGATE_USER", FROM, TO);
	history_record_gate(r, 0, "hours", GATE_PASSED, 0, "within 09:00-16:00");
	history_record_gate(r, 1, "identify", GATE_PASSED, 0.1, "argo: 111111111111 -> 222222");
	history_record_gate(r, 8, "code-quality", failing_gate ? GATE_FAILED : GATE_PASSED, 0.4,
			    "1 error | see <script>alert(1)</script> \x1b[2J here");
	history_record_gate(r, 3, "tests", GATE_PASSED, 4.2, "tests passed\n12 of 12\n");
	history_record_gate(r, 10, "confirmation", GATE_SKIPPED, 0, "not required here");
	history_record_gate(r, 11, "health-after", GATE_PASSED, 0.6, NULL);
	json_array_append_new(json_object_get(r, "health"),
			      json_pack("{s:s, s:i, s:b}", "what",
					"GET http://127.0.0.1:8001/health", "ms", 12, "ok", 1));
	json_object_set_new(
	    r, "canary",
	    json_pack("[{s:i, s:s, s:f, s:i, s:i, s:b, s:n}, {s:i, s:s, s:f, s:i, s:i, s:b, s:n}]",
		      "percent", 10, "started", "2026-01-10T10:00:10Z", "seconds", 60.0, "requests",
		      412, "errors", 3, "ok", 1, "why", "percent", 50, "started",
		      "2026-01-10T10:01:10Z", "seconds", 60.0, "requests", 2040, "errors", 9, "ok",
		      1, "why"));
	history_record_finish(r, outcome);
	return r;
}

/* Its watch, every check passing but the last when failing. */
static json_t *watch_record(const char *outcome, int failing)
{
	json_t *checks = json_array();
	for (int i = 0; i < 6; i++) {
		char at[32];
		snprintf(at, sizeof(at), "2026-01-10T10:%02d:00Z", 3 + i * 2);
		int ok = !(failing && i == 5);
		json_array_append_new(checks,
				      json_pack("{s:s, s:b, s:i, s:s, s:o, s:i, s:i}", "at", at,
						"ok", ok, "latency_ms", 10 + i * 7, "what",
						"GET http://127.0.0.1/health", "why",
						ok ? json_null() : json_string("HTTP 500 \x1b[31m"),
						"requests", 40 * (i + 1), "errors", 0));
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "kind", "watch", "deploy",
			 ID, "unit", "argo", "environment", "production", "started",
			 "2026-01-10T10:02:00Z", "finished", "2026-01-10T10:14:00Z", "outcome",
			 outcome, "why", failing ? "HTTP 500" : "", "checks", checks);
}

/* The records in order, taken over by the array. */
static json_t *records_of(json_t *first, ...)
{
	json_t *all = json_array();
	va_list ap;
	va_start(ap, first);
	for (json_t *r = first; r; r = va_arg(ap, json_t *))
		json_array_append_new(all, r);
	va_end(ap);
	return all;
}

static void gather(struct confirmation *c, json_t *records)
{
	struct buf err = BUF_INIT;
	cr_assert_eq(confirmation_from_records(c, records, ID, &err), 0, "%s", err.data);
	json_decref(records);
	buf_free(&err);
}

static char *rendered(const struct confirmation *c, enum confirmation_format format)
{
	struct buf out = BUF_INIT;
	confirmation_render(&out, c, format);
	return buf_detach(&out);
}

static void has(const char *text, const char *want)
{
	cr_assert_not_null(strstr(text, want), "wanted '%s' in:\n%s", want, text);
}

static void lacks(const char *text, const char *unwanted)
{
	cr_assert_null(strstr(text, unwanted), "did not want '%s' in:\n%s", unwanted, text);
}

static struct confirmation confirmed(void)
{
	struct confirmation c;
	gather(&c, records_of(deploy_record(OUTCOME_DEPLOYED, 0), watch_record("confirmed", 0),
			      history_signoff_new(ID, "bob", "os", "all green | shipped"), NULL));
	c.watched = 1;
	return c;
}

Test(confirmation, the_text_report_says_who_what_every_gate_check_step_and_the_sign_off)
{
	struct confirmation c = confirmed();
	cr_assert_str_eq(c.outcome, "confirmed");
	cr_assert_eq(c.checks, 1 + 2 + 6, "gate 11's check, two canary steps, six watch checks");
	cr_assert_eq(c.passed, c.checks);
	char *text = rendered(&c, CONFIRMATION_TEXT);
	has(text, "Health confirmation report: deploy " ID "\n");
	has(text, "  by            alice (env GITGATE_USER)\n");
	has(text, "  from          " FROM "\n");
	has(text, "  to            " TO "\n");
	has(text, "  outcome       confirmed (its watch's)\n");
	has(text, "  checks passed 9 of 9 (100%)\n");
	has(text, "  confirmed     yes\n");
	has(text, "Gates and steps:\n  gate name         result  seconds detail\n");
	has(text, "  step hours        passed  0.0     within 09:00-16:00\n");
	has(text, "  3    tests        passed  4.2     tests passed\n"
		  "                                    12 of 12\n"
		  "  10   confirmation");
	has(text, "  10   confirmation skipped 0.0     not required here\n");
	has(text, "see <script>alert(1)</script> \\e[2J here");
	lacks(text, "\x1b");
	has(text, "GET http://127.0.0.1:8001/health 12 ok");
	has(text, "  10%  2026-01-10T10:00:10Z 60.0    412      3      0.73% ok");
	has(text, "  50%  2026-01-10T10:01:10Z 60.0    2040     9      0.44% ok");
	has(text, "  watch         2026-01-10T10:02:00Z to 2026-01-10T10:14:00Z\n");
	has(text,
	    "  2026-01-10T10:13:00Z ok     45         240      0      GET http://127.0.0.1/health");
	has(text, "Sign-off:\n  by       at                   note\n  bob (os) ");
	has(text, " all green | shipped\n");
	free(text);
	confirmation_free(&c);
}

Test(confirmation, the_verdict_needs_the_watch_every_check_and_a_sign_off)
{
	struct confirmation c;
	struct buf why = BUF_INIT;
	gather(&c, records_of(deploy_record(OUTCOME_DEPLOYED, 0), NULL));
	c.watched = 1;
	cr_assert(!confirmation_complete(&c, &why));
	cr_assert_str_eq(why.data, "its watch has not ended");
	cr_assert(confirmation_may_sign(&c, &why), "deployed, watching: may be signed off");
	c.watched = 0;
	buf_clear(&why);
	cr_assert(!confirmation_complete(&c, &why));
	cr_assert_str_eq(why.data, "no one has signed it off (gitgate signoff ID)");
	confirmation_free(&c);

	gather(&c, records_of(deploy_record(OUTCOME_DEPLOYED, 0), watch_record("rolled-back", 1),
			      NULL));
	cr_assert_str_eq(c.outcome, "rolled-back");
	cr_assert_eq(c.passed + 1, c.checks);
	buf_clear(&why);
	cr_assert(!confirmation_complete(&c, &why));
	cr_assert_str_eq(why.data, "its outcome is rolled-back");
	buf_clear(&why);
	cr_assert(!confirmation_may_sign(&c, &why));
	cr_assert_str_eq(why.data, "its latest outcome is rolled-back: only a deployed or "
				   "confirmed deploy is signed off");
	char *text = rendered(&c, CONFIRMATION_TEXT);
	has(text, "  checks passed 8 of 9 (88%)\n");
	has(text, "  confirmed     no: its outcome is rolled-back\n");
	has(text, "  watch         2026-01-10T10:02:00Z to 2026-01-10T10:14:00Z: HTTP 500\n");
	has(text, "failed 45 "); /* the failing watch check's row */
	has(text, " HTTP 500 \\e[31m\n");
	lacks(text, "\x1b");
	has(text, "Sign-off: none\n");
	free(text);
	confirmation_free(&c);

	gather(&c, records_of(deploy_record(OUTCOME_FAILED, 1), NULL));
	buf_clear(&why);
	cr_assert(!confirmation_may_sign(&c, &why));
	has(why.data, "its latest outcome is failed");
	confirmation_free(&c);
	buf_free(&why);
}

Test(confirmation, markdown_escapes_what_would_be_its_own_syntax)
{
	struct confirmation c = confirmed();
	char *md = rendered(&c, CONFIRMATION_MD);
	has(md, "# Health confirmation report: deploy " ID "\n");
	has(md, "- **confirmed**: yes\n");
	has(md, "## Gates and steps\n\n| gate | name | result | seconds | detail |\n");
	has(md, "| 8 | code-quality | passed | 0.4 | 1 error \\| see \\<script\\>alert(1)"
		"\\</script\\> \\\\e\\[2J here |\n");
	has(md, "| 3 | tests | passed | 4.2 | tests passed<br>12 of 12 |\n");
	has(md, "## Watch checks\n");
	has(md, "| bob (os) | 2026");
	has(md, "all green \\| shipped |\n");
	lacks(md, "<script>");
	free(md);
	confirmation_free(&c);
}

Test(confirmation, the_html_page_is_self_contained_with_a_timeline_and_the_latency)
{
	struct confirmation c;
	gather(&c,
	       records_of(deploy_record(OUTCOME_DEPLOYED, 1), watch_record("confirmed", 1), NULL));
	char *html = rendered(&c, CONFIRMATION_HTML);
	has(html, "<!DOCTYPE html>");
	has(html, "<p class=\"verdict\" style=\"color:#fff;background:#c62828\">Not confirmed</p>");
	/* Nothing from elsewhere: no script, no link, no reference to fetch. */
	lacks(html, "<script");
	lacks(html, "<link");
	lacks(html, "src=");
	lacks(html, "href=");
	lacks(html, "url(");
	lacks(html, "@import");
	has(html, "&lt;script&gt;alert(1)&lt;/script&gt; \\e[2J here");
	lacks(html, "\x1b");
	/* The timeline: a bar a gate, coloured by its result, the failed one red. */
	has(html, "<td>tests passed<br>12 of 12</td>");
	has(html, "<td>HTTP 500 \\e[31m</td>");
	has(html, "<svg id=\"timeline\"");
	has(html, ">gate 3 tests</text>");
	has(html, "fill=\"#2e7d32\"><title>gate 3 tests: passed, 4.20 s</title>");
	has(html, "fill=\"#c62828\"><title>gate 8 code-quality: failed, 0.40 s</title>");
	has(html, "fill=\"#9e9e9e\"><title>gate 10 confirmation: skipped, 0.00 s</title>");
	has(html, ">step hours</text>");
	/* The watch's latency: six points over ten minutes, the last one red. */
	has(html, "<svg id=\"latency\"");
	has(html, "<polyline points=\"70.0,");
	has(html, ">45 ms</text>"); /* the top of the axis */
	has(html, ">600 s</text>");
	has(html, "<circle cx=\"830.0\" cy=\"10.0\" r=\"4\" fill=\"#c62828\">");
	has(html, "<circle cx=\"70.0\"");
	free(html);
	confirmation_free(&c);
}

Test(confirmation, json_holds_the_records_and_the_verdict)
{
	struct confirmation c = confirmed();
	char *text = rendered(&c, CONFIRMATION_JSON);
	json_error_t error;
	json_t *root = json_loads(text, 0, &error);
	cr_assert_not_null(root, "%s in:\n%s", error.text, text);
	cr_assert_str_eq(json_string_value(json_object_get(root, "id")), ID);
	cr_assert(json_is_true(json_object_get(root, "confirmed")));
	cr_assert(json_is_null(json_object_get(root, "why")));
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(root, "checks"), "total")),
		     9);
	cr_assert_eq(json_array_size(json_object_get(root, "canary")), 2);
	cr_assert_eq(json_array_size(json_object_get(json_object_get(root, "watch"), "checks")), 6);
	cr_assert_str_eq(json_string_value(json_object_get(
			     json_array_get(json_object_get(root, "signoffs"), 0), "by")),
			 "bob");
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(root, "deploy"), "outcome")),
	    "deployed");
	json_decref(root);
	free(text);
	confirmation_free(&c);
}

Test(confirmation, masked_values_are_in_no_format)
{
	struct confirmation c;
	json_t *deploy = deploy_record(OUTCOME_DEPLOYED, 0);
	history_record_gate(deploy, 0, "slot", GATE_FAILED, 0.1, "migrate said DB=sk_live_hidden1");
	gather(&c, records_of(deploy, history_signoff_new(ID, "bob", "os", "key sk_live_hidden1"),
			      NULL));
	struct mask m = MASK_INIT;
	mask_add(&m, "sk_live_hidden1", strlen("sk_live_hidden1"));
	confirmation_mask(&c, &m);
	for (int f = CONFIRMATION_TEXT; f <= CONFIRMATION_JSON; f++) {
		char *text = rendered(&c, (enum confirmation_format)f);
		lacks(text, "sk_live_hidden1");
		has(text, f == CONFIRMATION_MD ? "DB=\\*\\*\\*" : "DB=***");
		free(text);
	}
	mask_free(&m);
	confirmation_free(&c);
}

Test(confirmation, a_deploys_records_are_read_back_by_its_id)
{
	char dir[] = "/tmp/gitgate-confirmation-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct buf err = BUF_INIT, path = BUF_INIT;
	json_t *other = history_record_new("20260110-090000-0000", "deploy", "argo", "argo",
					   "staging", "eve", "os", FROM, TO);
	json_t *records[] = {other, deploy_record(OUTCOME_DEPLOYED, 0),
			     history_signoff_new("20260110-090000-0000", "eve", "os", NULL),
			     watch_record("confirmed", 0),
			     history_signoff_new(ID, "bob", "os", NULL)};
	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
		cr_assert_eq(history_append(dir, records[i], &err), 0, "%s", err.data);
		json_decref(records[i]);
	}
	struct confirmation c;
	cr_assert_eq(confirmation_read(&c, dir, ID, &err), 0, "%s", err.data);
	cr_assert_eq(json_array_size(c.records), 3, "its deploy, watch and sign-off only");
	cr_assert_str_eq(c.outcome, "confirmed");
	cr_assert_eq(json_array_size(c.signoffs), 1);
	confirmation_free(&c);
	cr_assert_eq(confirmation_read(&c, dir, "20260101-000000-ffff", &err), 1);
	cr_assert_str_eq(err.data, "no deploy 20260101-000000-ffff in the history (gitgate "
				   "history lists them)");
	confirmation_free(&c);
	buf_printf(&path, "%s/history.jsonl", dir);
	unlink(path.data);
	rmdir(dir);
	buf_free(&path);
	buf_free(&err);
}

/* What a deploy of this process read whole of its env files (gate 7) masks
 * its records as they are published, and is not read again: here from a
 * host no one answers on, which is asked when nothing was kept. */
Test(confirmation, the_values_a_deploy_read_mask_without_asking_its_host_again)
{
	char dir[] = "/tmp/gitgate-seen-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct rules rules;
	struct buf err = BUF_INIT;
	const char *text = "[project argo]\npath = argo/\n"
			   "[environment production]\nhealth_level = 1\n"
			   "[target argo production]\nroot = /srv/argo\nports = 8000 8001\n"
			   "run = app --port $PORT\nswitch = link /srv/argo-live\n"
			   "host = root@127.0.0.1:1\nenv_file = /srv/argo.env\n";
	cr_assert_eq(load_rules_text(&rules, text, &err), 0, "%s", err.data);
	struct env_seen seen = {0};
	struct deploy_site site = {.rules = &rules, .state_dir = dir, .seen = &seen};
	struct confirmation c;
	gather(&c, records_of(deploy_record(OUTCOME_DEPLOYED, 0), NULL));
	struct mask m = MASK_INIT;
	cr_assert_eq(confirmation_env_mask(&site, &c, &m, &err), -1, "the host answered");
	has(err.data, "127.0.0.1");
	buf_clear(&err);
	struct mask read = MASK_INIT;
	mask_add(&read, "tok-5cd1e7a9f0", strlen("tok-5cd1e7a9f0"));
	env_seen_add(&seen, "argo", "production", &read);
	cr_assert_eq(confirmation_env_mask(&site, &c, &m, &err), 0, "%s", err.data);
	char *masked = mask_string(&m, "printed tok-5cd1e7a9f0 here");
	cr_assert_str_eq(masked, "printed *** here");
	free(masked);
	mask_free(&read);
	mask_free(&m);
	env_seen_free(&seen);
	confirmation_free(&c);
	rules_free(&rules);
	buf_free(&err);
	char rm[64];
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	cr_assert_eq(system(rm), 0);
}
