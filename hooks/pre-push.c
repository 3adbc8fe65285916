/*
 * pre-push: git runs this with the remote's name and URL as arguments and
 * one line per ref on stdin, "<local-ref> <local-id> <remote-ref>
 * <remote-id>". It checks the commits the remote does not have yet; a
 * non-zero exit stops the push before anything is sent.
 */
#include <stdio.h>
#include <string.h>

#include "push_gate.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr,
			"gitgate pre-push: expected the remote's name and URL (git gives both)\n");
		return STATUS_USAGE;
	}
	struct push_request req = {0};
	struct buf line = BUF_INIT, err = BUF_INIT;
	int status = STATUS_PASSED;
	while (buf_read_line(&line, stdin)) {
		if (!line.len)
			continue;
		/* Ref names hold no spaces (git check-ref-format), so splitting is safe. */
		char local_ref[1024], local_id[80], remote_ref[1024], remote_id[80];
		if (sscanf(line.data, "%1023s %79s %1023s %79s", local_ref, local_id, remote_ref,
			   remote_id) != 4) {
			fprintf(stderr, "error: gitgate: unexpected input from git: '%.200s'\n",
				line.data);
			status = STATUS_FAULT;
			break;
		}
		if (push_add_update(&req, remote_ref, remote_id, local_id, &err) < 0) {
			fprintf(stderr, "error: gitgate: %s\n", err.data);
			status = STATUS_FAULT;
			break;
		}
	}
	if (status == STATUS_PASSED) {
		struct push_gate_options opts = {.mode = PUSH_CLIENT,
						 .remote = argv[1],
						 .remote_url = argc > 2 ? argv[2] : NULL,
						 .format = REPORT_TEXT,
						 .out = stderr,
						 .diag = stderr};
		status = push_gate_run(&opts, &req);
	}
	push_request_free(&req);
	buf_free(&line);
	buf_free(&err);
	return status;
}
