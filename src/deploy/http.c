/*
 * http: see http.h.
 */
#include "http.h"

#include <curl/curl.h>
#include <pthread.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static CURLcode ready;

/* Never undone by curl_global_cleanup: the process may still be checking
 * in another thread, and the memory goes with the process. */
static void start(void)
{
	ready = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int http_start(struct buf *err)
{
	pthread_once(&once, start);
	if (ready) {
		buf_printf(err, "cannot start libcurl: %s", curl_easy_strerror(ready));
		return -1;
	}
	return 0;
}
