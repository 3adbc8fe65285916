/*
 * notify: see notify.h.
 */
#include "notify.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "run.h"

#define GRACE_MS 1000

static void notify_command(const struct deploy_policy *d, const char *text, const char *log,
			   FILE *out)
{
	struct run_options opts = {.argv = (const char *const *)d->notify_command.argv,
				   .in = {.kind = RUN_IN_BUFFER, .data = text, .len = strlen(text)},
				   .out = {.kind = RUN_OUT_APPEND, .path = log},
				   .err = {.kind = RUN_OUT_APPEND, .path = log},
				   .limit_ms = d->notify_timeout_seconds * 1000,
				   .grace_ms = GRACE_MS};
	struct run_result result;
	struct buf why = BUF_INIT;
	if (run(&result, &opts, &why) == 0 && (result.code || result.timed_out))
		run_describe(&why, &result);
	if (why.len)
		fprintf(out, "warning: gitgate: the notify command: %s\n", why.data);
	buf_free(&why);
}

static size_t discard(char *data, size_t size, size_t n, void *unused)
{
	(void)data;
	(void)unused;
	return size * n;
}

static void notify_url(const struct deploy_policy *d, const char *text, FILE *out)
{
	struct buf why = BUF_INIT;
	CURL *c = http_start(&why) == 0 ? curl_easy_init() : NULL;
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (c) {
		curl_easy_setopt(c, CURLOPT_URL, d->notify_url);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)d->notify_timeout_seconds * 1000);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
		CURLcode rc = curl_easy_perform(c);
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (rc)
			buf_adds(&why, curl_easy_strerror(rc));
		else if (status < 200 || status > 299)
			buf_printf(&why, "HTTP %ld", status);
		curl_easy_cleanup(c);
	} else if (!why.len) {
		buf_adds(&why, "cannot start libcurl");
	}
	if (why.len)
		fprintf(out, "warning: gitgate: notify_url: %s\n", why.data);
	curl_slist_free_all(headers);
	buf_free(&why);
}

void notify_send(const struct deploy_policy *d, const json_t *record, const char *log, FILE *out)
{
	if (!d->notify_command.argv && !d->notify_url)
		return;
	char *text = json_dumps(record, JSON_COMPACT);
	if (!text)
		return;
	if (d->notify_command.argv)
		notify_command(d, text, log, out);
	if (d->notify_url)
		notify_url(d, text, out);
	free(text);
}
