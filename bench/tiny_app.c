/*
 * The deploy benchmark's app: listens on 127.0.0.1:PORT at once and answers
 * every request with {"status": "ok", "revision": "$REVISION"}. It starts in
 * about a millisecond, so a deploy's health checks wait for it as little as
 * an app can make them, and what is left of a deploy's time is gitgate's.
 *
 * usage: tiny_app PORT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	const char *revision = getenv("REVISION");
	char body[256], reply[512];
	snprintf(body, sizeof(body), "{\"status\": \"ok\", \"revision\": \"%s\"}",
		 revision ? revision : "?");
	int len = snprintf(reply, sizeof(reply),
			   "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			   strlen(body), body);
	struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
	inet_pton(AF_INET, "127.0.0.1", &at.sin_addr);
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&at, sizeof(at)) < 0 || listen(s, 64) < 0) {
		perror("tiny_app");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		/* The request's head, then the answer (a bare TCP check sends
		 * nothing and closes: read returns 0). */
		char request[8192];
		size_t got = 0;
		ssize_t n;
		while (got < sizeof(request) - 1 &&
		       (n = read(c, request + got, sizeof(request) - 1 - got)) > 0) {
			got += (size_t)n;
			request[got] = '\0';
			if (strstr(request, "\r\n\r\n"))
				break;
		}
		if (got && write(c, reply, (size_t)len) < 0)
			perror("tiny_app");
		close(c);
	}
}
