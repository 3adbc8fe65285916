/*
 * pre-push: git runs this with the remote's name and URL as arguments and
 * one line per ref on stdin, "<local-ref> <local-id> <remote-ref>
 * <remote-id>". It checks the commits the remote does not have yet; a
 * non-zero exit stops the push before anything is sent. `gitgate hook
 * pre-push` is the same for hook managers.
 */
#include <stdio.h>

#include "push_gate.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr,
			"gitgate pre-push: expected the remote's name and URL (git gives both)\n");
		return STATUS_USAGE;
	}
	return push_gate_client_hook(argv[1], argc > 2 ? argv[2] : NULL, stdin);
}
