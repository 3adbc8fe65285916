/*
 * http: libcurl made ready once for the whole process (its global set-up
 * is not thread-safe, so it is done once, under pthread_once, before the
 * first request of any module: health checks, notifications).
 */
#ifndef GITGATE_HTTP_H
#define GITGATE_HTTP_H

#include "buf.h"

/* Returns 0, or -1 with libcurl's reason in err. */
int http_start(struct buf *err);

#endif
