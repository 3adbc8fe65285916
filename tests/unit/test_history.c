/* history: deploy records built, appended whole, and read back by unit and environment. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "history.h"

static char dir[] = "/tmp/gitgate-history-XXXXXX";

static void setup(void)
{
	strcpy(dir, "/tmp/gitgate-history-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/history.jsonl", dir);
	unlink(path.data);
	rmdir(dir);
	buf_free(&path);
}

TestSuite(history, .init = setup, .fini = teardown);

static void append(const char *unit, const char *env, enum history_outcome outcome)
{
	struct buf id = BUF_INIT, err = BUF_INIT;
	history_new_id(&id);
	json_t *r = history_record_new(
	    id.data, "deploy", unit, NULL, env, "alice", "gitolite GL_USER",
	    "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222");
	history_record_gate(r, 3, "tests", GATE_PASSED, 1.5, NULL);
	history_record_gate(r, 11, "health", GATE_FAILED, 0.25, "HTTP 503 from /health");
	history_record_finish(r, outcome);
	cr_assert_eq(history_append(dir, r, &err), 0, "%s", err.data);
	json_decref(r);
	buf_free(&id);
	buf_free(&err);
}

Test(history, a_record_holds_what_the_contract_names)
{
	append("argo", "production", OUTCOME_ROLLED_BACK);
	json_t *records;
	size_t skipped;
	struct buf err = BUF_INIT;
	cr_assert_eq(history_read(&records, dir, NULL, NULL, 10, &skipped, &err), 0);
	cr_assert_eq(json_array_size(records), 1);
	json_t *r = json_array_get(records, 0);
	const char *keys[] = {"id",    "kind",	 "unit",    "project", "environment",
			      "user",  "from",	 "to",	    "options", "emergency",
			      "gates", "health", "outcome", "started", "finished"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_assert(json_object_get(r, keys[i]) != NULL, "no %s", keys[i]);
	cr_assert_str_eq(json_string_value(json_object_get(r, "outcome")), "rolled-back");
	json_t *gate = json_array_get(json_object_get(r, "gates"), 1);
	cr_assert_eq(json_integer_value(json_object_get(gate, "number")), 11);
	cr_assert_str_eq(json_string_value(json_object_get(gate, "result")), "failed");
	cr_assert_str_eq(json_string_value(json_object_get(gate, "detail")),
			 "HTTP 503 from /health");
	cr_assert_eq(strlen(json_string_value(json_object_get(r, "id"))), 20);
	json_decref(records);
	buf_free(&err);
}

Test(history, reading_keeps_the_last_matching_records_and_skips_broken_lines)
{
	for (int i = 0; i < 5; i++)
		append("argo", i % 2 ? "staging" : "production", OUTCOME_DEPLOYED);
	append("alpine-analytics", "production", OUTCOME_FAILED);
	struct buf path = BUF_INIT, err = BUF_INIT;
	buf_printf(&path, "%s/history.jsonl", dir);
	FILE *f = fopen(path.data, "a");
	fputs("{not json\n", f);
	fclose(f);
	append("argo", "production", OUTCOME_REFUSED);
	json_t *records;
	size_t skipped;
	cr_assert_eq(history_read(&records, dir, "argo", "production", 2, &skipped, &err), 0);
	cr_assert_eq(skipped, 1);
	cr_assert_eq(json_array_size(records), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(records, 1), "outcome")),
			 "refused", "oldest first, newest last");
	json_decref(records);
	cr_assert_eq(history_read(&records, dir, NULL, "staging", 10, &skipped, &err), 0);
	cr_assert_eq(json_array_size(records), 2);
	json_decref(records);
	buf_free(&path);
	buf_free(&err);
}

Test(history, text_from_outside_is_kept_escaped_and_a_missing_file_is_empty)
{
	json_t *records;
	size_t skipped;
	struct buf err = BUF_INIT;
	cr_assert_eq(history_read(&records, dir, NULL, NULL, 5, &skipped, &err), 0);
	cr_assert_eq(json_array_size(records), 0);
	json_decref(records);
	json_t *r = history_record_new("x", "deploy", "argo", "argo", "production",
				       "eve\xff\x1b[2J", "env GITGATE_USER", NULL, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(r, "user")), "eve\\xff\\e[2J");
	cr_assert_str_eq(json_string_value(json_object_get(r, "user_source")), "env GITGATE_USER");
	cr_assert(json_is_null(json_object_get(r, "from")));
	json_decref(r);
	buf_free(&err);
}

Test(history, who_is_shown_escaped_with_where_the_name_came_from)
{
	json_t *r =
	    json_pack("{s:s, s:s}", "user", "eve\x1b[2J\nmallory", "user_source", "env\x07 X");
	struct buf who = BUF_INIT;
	history_record_who(&who, r);
	cr_assert_str_eq(who.data, "eve\\e[2J\\nmallory (env\\x07 X)");
	json_object_del(r, "user_source");
	buf_clear(&who);
	history_record_who(&who, r);
	cr_assert_str_eq(who.data, "eve\\e[2J\\nmallory", "an older record: the name alone");
	json_decref(r);
	buf_free(&who);
}

/* Ids made one after another sort in the order they were made, also within
 * one second (gitgate logs takes the newest by name). */
Test(history, ids_sort_as_they_were_made)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	for (int i = 0; i < 200; i++) {
		buf_clear(&a);
		buf_clear(&b);
		history_new_id(&a);
		struct timespec pause = {.tv_nsec = 20 * 1000};
		nanosleep(&pause, NULL);
		history_new_id(&b);
		cr_assert_lt(strcmp(a.data, b.data), 0, "%s then %s", a.data, b.data);
		cr_assert_eq(strlen(a.data), strlen("20261204-120000-0000"));
	}
	buf_free(&a);
	buf_free(&b);
}
