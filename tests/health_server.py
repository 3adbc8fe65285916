#!/usr/bin/env python3
"""A service to health-check, for test_health.c: an HTTP server on 127.0.0.1,
on a port the system picks, printed on stdout as the first line.

  /ok                 200 {"status":"ok"}
  /fail               503 {"status":"down"}
  /slow?ms=N          200 {"status":"ok"} after N ms
  /flaky?fail=K       503 for the first K requests to /flaky, then 200
  /redirect           302 to /ok
  /big                200 with a body of 2 MiB

It stops on SIGTERM, when the process that started it is gone, or after
--seconds (default 60), so a test that dies leaves nothing running.

usage: health_server.py [--seconds N]
"""
import http.server
import os
import signal
import sys
import threading
import time
import urllib.parse

flaky_requests = 0
flaky_lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        global flaky_requests
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        ok = b'{"status":"ok"}'
        if url.path == "/ok":
            self.answer(200, ok)
        elif url.path == "/fail":
            self.answer(503, b'{"status":"down"}')
        elif url.path == "/slow":
            time.sleep(int(query.get("ms", ["1000"])[0]) / 1000)
            self.answer(200, ok)
        elif url.path == "/flaky":
            with flaky_lock:
                flaky_requests += 1
                failing = flaky_requests <= int(query.get("fail", ["1"])[0])
            self.answer(503 if failing else 200, b'{"status":"down"}' if failing else ok)
        elif url.path == "/redirect":
            self.answer(302, b"", [("Location", "/ok")])
        elif url.path == "/big":
            self.answer(200, b"x" * (2 * 1024 * 1024))
        else:
            self.answer(404, b'{"status":"no such path"}')

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out and hung up is what some tests do


def stop_when_orphaned(parent, seconds):
    end = time.monotonic() + seconds
    while os.getppid() == parent and time.monotonic() < end:
        time.sleep(0.2)
    os._exit(0)


def main():
    seconds = 60
    if len(sys.argv) == 3 and sys.argv[1] == "--seconds":
        seconds = float(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=stop_when_orphaned, args=(os.getppid(), seconds),
                     daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
