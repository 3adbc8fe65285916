/*
 * pre-receive: git runs this in the server's repository with one line per
 * ref on stdin, "<old-id> <new-id> <ref>", and the pushed objects still in
 * quarantine. A non-zero exit rejects the whole push, and no ref moves.
 */
#include <stdio.h>
#include <string.h>

#include "push_gate.h"

int main(void)
{
	struct push_request req = {0};
	struct buf line = BUF_INIT, err = BUF_INIT;
	int status = STATUS_PASSED;
	while (buf_read_line(&line, stdin)) {
		char old_id[80], new_id[80];
		int ref_at = 0;
		if (sscanf(line.data, "%79s %79s %n", old_id, new_id, &ref_at) != 2 || !ref_at ||
		    !line.data[ref_at]) {
			fprintf(stderr, "error: gitgate: unexpected input from git: '%.200s'\n",
				line.data);
			status = STATUS_FAULT;
			break;
		}
		if (push_add_update(&req, line.data + ref_at, old_id, new_id, &err) < 0) {
			fprintf(stderr, "error: gitgate: %s\n", err.data);
			status = STATUS_FAULT;
			break;
		}
	}
	if (status == STATUS_PASSED) {
		struct push_gate_options opts = {
		    .mode = PUSH_SERVER, .format = REPORT_TEXT, .out = stderr, .diag = stderr};
		status = push_gate_run(&opts, &req);
	} else {
		fprintf(stderr,
			"error: gitgate: the push could not be checked, so it is refused\n");
	}
	push_request_free(&req);
	buf_free(&line);
	buf_free(&err);
	return status;
}
