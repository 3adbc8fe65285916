/*
 * post-receive: git runs this after the refs moved, with the same lines as
 * pre-receive. It cannot reject anything; until deploys exist it records
 * the push in the server's push log.
 */
#include <stdio.h>
#include <string.h>

#include "push_log.h"
#include "status.h"

int main(void)
{
	struct buf input = BUF_INIT, err = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		buf_add(&input, chunk, n);
	int status = push_log_append(input.data ? input.data : "", &err);
	if (status != 0)
		fprintf(stderr, "warning: gitgate: the push was accepted but not recorded: %s\n",
			err.data);
	buf_free(&input);
	buf_free(&err);
	return status ? STATUS_FAULT : STATUS_PASSED;
}
