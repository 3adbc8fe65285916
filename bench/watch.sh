#!/usr/bin/env bash
# Watch benchmark: what a confirmed deploy's watch costs while nothing goes
# wrong, and how long a release that starts failing after its switch serves
# before the watch has the old slot serving again.
#
#   1. idle: a deploy with watch_seconds = 3600 at the default
#      watch_interval_seconds (30), one target through a real nginx; the
#      watcher's CPU time (user + system, /proc/PID/stat) over IDLE seconds
#      (default 120), given as CPU per hour of watching.
#   2. failover: the same target, watch_interval_seconds = 1 (the smallest)
#      and the same health retries as the e2e tests (health_retries 15,
#      every 200 ms): once the watch has checked the release a few times,
#      the bench makes it answer 503 (a file its app reads) and a loop asks
#      nginx every 5 ms; the time from that moment to the first answer from
#      the old release, the median of RUNS runs. The floor is the interval
#      (at most a second until the next check) plus the health check's own
#      retries before it calls the release failed (here 15 x 200 ms = 3 s):
#      both are the admin's, in rules.ini.
#
# usage: bench/watch.sh [BUILD_DIR]      environment: IDLE (120), RUNS (3)
set -euo pipefail
SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$SOURCE/build}" && pwd)
IDLE=${IDLE:-120}
RUNS=${RUNS:-3}
[ -x "$BUILD/gitgate" ] || { echo "bench: build first (no $BUILD/gitgate)" >&2; exit 2; }
command -v nginx >/dev/null || { echo "bench: needs nginx" >&2; exit 2; }

WORK=$(mktemp -d)
STATE=$WORK/server.git/gitgate
NGX=$WORK/nginx
# nginx, the apps (by the pid files gitgate keeps) and any watcher.
cleanup() {
	local f pid start
	for pid in $(pgrep -f 'deploy --watch' 2>/dev/null); do
		case $(readlink "/proc/$pid/cwd" 2>/dev/null) in "$WORK"/*) kill -KILL "$pid" ;; esac
	done
	[ -s "$NGX/nginx.pid" ] && kill -QUIT "$(cat "$NGX/nginx.pid")" 2>/dev/null
	for f in "$STATE"/targets/*/*.pid; do
		[ -e "$f" ] || continue
		read -r pid start <"$f"
		[ "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" = "$start" ] &&
			kill -TERM -- "-$pid" 2>/dev/null
	done
	sleep 0.2
	rm -rf "$WORK"
}
trap cleanup EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$WORK NO_COLOR=1 GITGATE_USER=bench
git config --global user.email bench@example.com
git config --global user.name bench
git config --global init.defaultBranch main

. "$SOURCE/tests/nginx_own.sh"
read -r P1 P2 PF < <(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
mkdir -p "$NGX" "$WORK/srv" "$WORK/work/argo"
nginx_config "$NGX" "$PF" "$NGX/argo.upstream" >"$NGX/nginx.conf"
echo "server 127.0.0.1:$P1;" >"$NGX/argo.upstream"
nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log"

# The app answers /health with its revision, 503 once $ROOT-FAIL-REVISION
# exists (the bench makes it).
cat >"$WORK/work/argo/app.py" <<'PY'
import http.server, json, os, sys
rev = os.environ.get("REVISION", "?")
fail = os.environ["ROOT"] + "-FAIL-" + rev
class App(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"revision": rev}).encode()
        self.send_response(503 if os.path.exists(fail) else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), App).serve_forever()
PY
git -C "$WORK/work" init -q
git -C "$WORK/work" add -A
git -C "$WORK/work" commit -qm "argo"
git clone -q --bare "$WORK/work" "$WORK/server.git"
git -C "$WORK/work" remote add origin "$WORK/server.git"
mkdir -p "$STATE"
rules() { # rules WATCH_SECONDS INTERVAL
	cat >"$STATE/rules.ini" <<EOF
[project argo]
path = argo/
[deploy]
sandbox = no
keep_releases = 3
nginx = nginx -p $NGX -c $NGX/nginx.conf -e $NGX/error.log
nginx_pid_file = $NGX/nginx.pid
[environment bench]
freeze = no
health_level = 2
watch_seconds = $1
watch_interval_seconds = $2
[target argo bench]
root = $WORK/srv/argo
ports = $P1 $P2
run = python3 argo/app.py \$PORT
switch = nginx $NGX/argo.upstream
live_url = http://127.0.0.1:$PF/health
health_url = http://127.0.0.1:\$PORT/health
health_retries = 15
health_interval_ms = 200
health_successes = 1
health_deadline_seconds = 10
EOF
}
commit() { (cd "$WORK/work" && echo "# $1" >>argo/app.py && git commit -qam "$1" && git push -q origin main); }
deploy() { (cd "$WORK/server.git" && "$BUILD/gitgate" deploy argo bench >"$WORK/deploy.out" 2>&1) ||
	{ cat "$WORK/deploy.out" >&2; exit 1; }; }
# The watcher of the newest deploy, once it has claimed its watch.
watcher() {
	local f pid
	for _ in $(seq 100); do
		for f in "$STATE"/watches/*.json; do
			[ -e "$f" ] || continue
			pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("pid", 0))' "$f")
			[ "$pid" != 0 ] && { echo "$pid"; return; }
		done
		sleep 0.1
	done
	echo "bench: no watcher claimed the watch" >&2
	exit 1
}

echo "watch benchmark: one target through nginx on 127.0.0.1; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
rules 3600 30
deploy
pid=$(watcher)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks "$pid")
sleep "$IDLE"
after=$(ticks "$pid")
python3 - "$before" "$after" "$hz" "$IDLE" <<'PY'
import sys
before, after, hz, idle = (int(x) for x in sys.argv[1:])
cpu = (after - before) / hz
print("  idle watch (every 30 s, %d s measured): %.2f s CPU, %.2f s CPU an hour of watching (%.3f%% of a core)"
      % (idle, cpu, cpu * 3600 / idle, cpu * 100 / idle))
PY

rules 600 1
times=()
for run in $(seq "$RUNS"); do
	commit "good $run"
	deploy
	old=$(git -C "$WORK/work" rev-parse HEAD)
	commit "fails later $run"
	deploy
	new=$(git -C "$WORK/work" rev-parse HEAD)
	watcher >/dev/null
	sleep 3 # checked a few times, healthy
	t=$(python3 - "http://127.0.0.1:$PF/health" "$WORK/srv/argo-FAIL-$new" "$old" <<'PY'
import json, sys, time, urllib.error, urllib.request
url, mark, old = sys.argv[1:]
open(mark, "w").close()
t0 = time.monotonic()
while time.monotonic() - t0 < 60:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if json.load(r)["revision"] == old:
                print("%.3f" % (time.monotonic() - t0))
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.005)
sys.exit(1)
PY
	) || { echo "bench: the old release did not serve again within 60 s" >&2; exit 1; }
	times+=("$t")
	rm -f "$WORK/srv/argo-FAIL-$new"
done
python3 - "${times[@]}" <<'PY'
import statistics, sys
t = [float(x) for x in sys.argv[1:]]
print("  a failing release to the old slot serving (interval 1 s, 15 retries of 200 ms): median %.2f s (%s)"
      % (statistics.median(t), ", ".join("%.2f" % x for x in t)))
PY
