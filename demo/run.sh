#!/usr/bin/env bash
# The built-in demo, in a throwaway folder: a monorepo shaped like the team's
# (argo/, alpine-backend/, alpine-frontend/, packages/ui) with the default
# rules and the pre-commit hook, and one commit of each kind, printed as a
# user sees them. Then a "server" on this machine: a bare repository with the
# server hooks, staging and production targets of every project on free
# 127.0.0.1 ports (each project a tiny Python HTTP service answering /health
# with its revision), and an nginx of the demo's own in front of each target.
# Pushes are checked, deploy to staging, and with the phrase go through the
# 11 gates to production; a deploy that breaks behind the proxy is switched
# back by gate 11; a Friday (the clock faked with libfaketime, for those
# pushes only) refuses deploys until an emergency is declared; then status,
# history, health check all production and rollback; argo over SSH on
# another machine; and alpine-backend as a Compose pair on a dockerd of the
# demo's own.
#
# Everything the demo starts (nginx, the apps, a request loop) is stopped by
# its pid when it ends, passed or failed. It exits non-zero when something
# that should have happened did not.
set -u
BUILD=${1:?usage: demo/run.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEMO=$(mktemp -d "${TMPDIR:-/tmp}/gitgate-demo.XXXXXX")
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=Demo GIT_AUTHOR_EMAIL=demo@example.com
export GIT_COMMITTER_NAME=Demo GIT_COMMITTER_EMAIL=demo@example.com
# The pusher, as the server sees them. A real server takes the name from
# its hosting platform ([push] identity: gitolite's GL_USER, GitLab's
# GL_USERNAME, Gitea's GITEA_PUSHER_NAME); the demo's server is a bare
# repository on this machine, so its rules.ini says identity =
# env:GITGATE_USER and the demo, its admin, sets it.
export GITGATE_USER=alice
unset GITGATE_SKIP
PHRASE="deploy fully to production"
PROJECTS=(argo alpine-backend alpine-frontend)
ENVS=(staging production)
SERVER=$DEMO/server.git
STATE=$SERVER/gitgate
SRV=$DEMO/srv
NGX=$DEMO/nginx
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
G=$BUILD/gitgate

bold() { if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
step() { printf '\n'; bold "== $*"; }
note() { printf '  %s\n' "$*"; }
# cmdline ARGS...: the command as one would type it (words with spaces quoted).
cmdline() {
	local a out=
	for a in "$@"; do
		case $a in *[[:space:]\;]*) a="\"$a\"" ;; esac
		out+=${out:+ }$a
	done
	printf '%s' "$out"
}
show() { printf '$ %s\n' "$(cmdline "$@")"; "$@" 2>&1 | sed 's/^/  /'; return "${PIPESTATUS[0]}"; }

# What should happen and did not: said at once, counted, and the exit status.
PROBLEMS=0
problem() {
	printf '  !! DEMO PROBLEM: %s\n' "$*"
	PROBLEMS=$((PROBLEMS + 1))
}
expect_rc() { # expect_rc WANT GOT WHAT
	[ "$1" = "$2" ] || problem "$3: exit $2, expected $1"
}

verdict() { if [ "$1" = 0 ]; then echo "  -> accepted"; else echo "  -> refused (exit $1)"; fi; }
attempt() { # attempt WANT MESSAGE: commit what is staged, print the outcome, undo a refused one
	show git commit -q -m "$2"
	local rc=$?
	verdict $rc
	expect_rc "$1" $rc "git commit -m '$2'"
	if [ $rc != 0 ]; then git reset -q --hard; fi
}

# ---- stopping everything the demo started -----------------------------------
LOOP_PID=
# pid_alive_as PID START: that process, not another one that got its number
# (START is its start time in clock ticks, as /proc/PID/stat field 22 says).
pid_alive_as() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086 # the fields after the command name
	set -- $stat "$2"
	[ "${20}" = "${!#}" ] && [ "$1" != Z ]
}
stop_everything() {
	local f pid start tries apps=() left=()
	[ -n "$LOOP_PID" ] && kill "$LOOP_PID" 2>/dev/null
	# A deploy worker still running (the demo stopped mid-push) is stopped
	# first, so that it starts nothing more.
	if [ -f "$STATE/worker.lock" ] && ! flock -n "$STATE/worker.lock" true 2>/dev/null; then
		pid=$(sed -n 's/^pid //p' "$STATE/worker.lock")
		[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
		sleep 0.5
	fi
	# A deploy's watcher (scene 18), in a session of its own.
	for pid in $(pgrep -f 'deploy --watch' 2>/dev/null); do
		case $(readlink "/proc/$pid/cwd" 2>/dev/null) in "$DEMO"/*) kill -TERM "$pid" 2>/dev/null ;; esac
	done
	# The apps: each slot's pid file names its process group's leader (on
	# the other machine too, under its roots).
	for f in "$STATE"/targets/*/*.pid "$DEMO"/host/srv/*-run/*.pid; do
		[ -e "$f" ] || continue
		read -r pid start <"$f"
		pid_alive_as "$pid" "$start" || continue
		kill -TERM -- "-$pid" 2>/dev/null
		apps+=("$pid $start")
	done
	if [ -s "$NGX/nginx.pid" ]; then
		pid=$(cat "$NGX/nginx.pid")
		kill -QUIT "$pid" 2>/dev/null
		for tries in $(seq 50); do
			[ -e "/proc/$pid" ] || break
			sleep 0.1
		done
		[ -e "/proc/$pid" ] && left+=("nginx $pid")
		printf '\nstopped nginx (pid %s)' "$pid"
	fi
	for f in "${apps[@]}"; do
		read -r pid start <<<"$f"
		for tries in $(seq 50); do
			pid_alive_as "$pid" "$start" || break
			sleep 0.1
		done
		pid_alive_as "$pid" "$start" && left+=("app $pid")
	done
	[ ${#apps[@]} -gt 0 ] && printf ' and %d apps (%s)' "${#apps[@]}" "$(printf '%s\n' "${apps[@]}" | cut -d' ' -f1 | xargs)"
	if [ -s "$DEMO/host/sshd.pid" ]; then
		# gitgate's ssh master to it, kept between deploys: by its pid.
		ssh_masters_stop "$STATE/ssh"
		host_copiers_stop "$DEMO/host/srv"
		pid=$(cat "$DEMO/host/sshd.pid")
		kill -TERM "$pid" 2>/dev/null
		for tries in $(seq 50); do
			[ -e "/proc/$pid" ] || break
			sleep 0.1
		done
		[ -e "/proc/$pid" ] && left+=("sshd $pid")
		printf ', the other machine'"'"'s sshd (pid %s)' "$pid"
	fi
	docker_stop
	echo
	[ ${#left[@]} = 0 ] || problem "still running after the demo stopped them: ${left[*]}"
}
finish() {
	local rc=$?
	stop_everything
	if [ "$PROBLEMS" != 0 ]; then
		printf '\ngitgate demo: %d thing(s) did not happen as they should (see "DEMO PROBLEM" above)\n' "$PROBLEMS"
		[ "$rc" = 0 ] && rc=1
	fi
	exit "$rc"
}
trap finish EXIT
trap 'problem "interrupted"; exit 130' INT TERM

for tool in "$NGINX" curl flock; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "demo: needs $tool (./install.sh --demo installs it)" >&2; exit 2; }
done
ls /usr/lib/*/faketime/libfaketimeMT.so.1 >/dev/null 2>&1 ||
	{ echo "demo: needs libfaketime (./install.sh --demo installs it)" >&2; exit 2; }

# ---- the demo's Docker (step 17) ---------------------------------------------
# A dockerd of the demo's own: its data, socket and pid file under $DEMO,
# no iptables, no bridge (the images use the host's network); stopped by
# its pid with everything else.
DOCKERD_PID=
DOCKERD_DIR=$DEMO/docker
# shellcheck source=tests/dockerd.sh
. "$SOURCE/tests/dockerd.sh"
docker_stop() {
	[ -n "$DOCKERD_PID" ] || return 0
	dockerd_stop "$DOCKERD_DIR" "$DOCKERD_PID" || problem "dockerd $DOCKERD_PID still runs"
	printf ', dockerd (pid %s) and its containers' "$DOCKERD_PID"
}

# ---- the monorepo ---------------------------------------------------------------
# app_py NAME: a project's HTTP service. gitgate runs it in the slot's folder
# with $PORT, $REVISION and $ENVIRONMENT in its environment (and the
# target's env file's variables).
app_py() {
	cat <<PY
"""$1: the demo's HTTP service. GET /health answers with the revision it
runs; gitgate starts it with \$PORT, \$REVISION and \$ENVIRONMENT set."""
import http.server
import json
import os
import sys

SERVICE = "$1"
# Requests for other Host names are refused (None: any host).
ALLOWED_HOSTS = None


def health():
    return {"status": "ok", "service": SERVICE,
            "environment": os.environ.get("ENVIRONMENT", "?"),
            "revision": os.environ.get("REVISION", "?")}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = self.headers.get("Host", "").rsplit(":", 1)[0]
        if ALLOWED_HOSTS is not None and host not in ALLOWED_HOSTS:
            self.answer(400, {"status": "error", "error": "unknown host " + host})
        elif self.path == "/health":
            self.answer(200, health())
        else:
            self.answer(404, {"status": "error", "error": "not found"})

    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
}

cd "$DEMO"
git init -q -b main monorepo && cd monorepo
cp "$SOURCE/rules.ini" rules.ini
mkdir -p argo/tests argo/scripts alpine-backend alpine-frontend packages/ui
echo 'def trade(): return "ok"' >argo/engine.py
echo 'export const health = () => "ok";' >alpine-backend/server.js
echo 'export const App = () => null;' >alpine-frontend/App.tsx
echo '{"name": "@demo/ui", "version": "1.0.0"}' >packages/ui/package.json
echo 'export const Button = () => null;' >packages/ui/Button.js
for p in "${PROJECTS[@]}"; do app_py "$p" >"$p/app.py"; done
cat >argo/tests/test_app.py <<'PY'
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import app  # noqa: E402


class HealthTest(unittest.TestCase):
    def test_health_says_ok(self):
        self.assertEqual(app.health()["status"], "ok")


if __name__ == "__main__":
    unittest.main()
PY
cat >argo/scripts/health_check_unified.py <<'PY'
"""Argo's level 3 health check (the team's): the app on $PORT answers
/health, says ok, and runs $REVISION."""
import json
import os
import sys
import urllib.request

url = "http://127.0.0.1:%s/health" % os.environ["PORT"]
with urllib.request.urlopen(url, timeout=3) as r:
    body = json.load(r)
ok = body.get("status") == "ok" and body.get("revision") == os.environ.get("REVISION")
print("argo health level 3:", "ok" if ok else "FAILED", body)
sys.exit(0 if ok else 1)
PY
git add -A && git commit -q -m "import the monorepo"
ln -s "$BUILD/pre-commit" .git/hooks/pre-commit
bold "gitgate demo in $DEMO/monorepo (the pre-commit hook is installed)"

step "1. argo/ and alpine-*/ in one commit (project isolation)"
echo 'def stop(): return "stopped"' >>argo/engine.py
echo 'export const ready = () => true;' >>alpine-backend/server.js
git add -A
attempt 1 "touch argo and alpine together"

step "2. debug code in an added line"
printf 'export const App = () => {\n  console.log("rendering");\n  return null;\n};\n' >alpine-frontend/App.tsx
git add -A
attempt 1 "frontend with console.log"

step "3. a local-only secret file"
echo 'ALPACA_API_KEY=not-a-real-key' >argo/.env.local
git add -A
attempt 1 "add argo/.env.local"

step "4. shared package changed without a version bump (a warning, not a block)"
echo 'export const Link = () => null;' >>packages/ui/Button.js
git add -A
attempt 0 "ui: add Link"

step "5. a clean change to the coupled alpine projects"
echo 'export const version = () => "2";' >>alpine-backend/server.js
echo 'export const Footer = () => null;' >>alpine-frontend/App.tsx
git add -A
attempt 0 "alpine: version endpoint and footer"

step "6. the same verdict as JSON, for CI"
echo 'debugger;' >>alpine-backend/server.js
git add -A
show "$G" check --staged --format json
rc=$?
verdict $rc
expect_rc 1 $rc "gitgate check --staged on debug code"
git reset -q --hard

# ---- the server -------------------------------------------------------------------
# Free ports on 127.0.0.1: two slots a target, and nginx's port in front of
# it. Below the kernel's ephemeral range, so that no connection made during
# the demo (a health check's, curl's) can be given one of them meanwhile.
read -r -a FREE < <(python3 - <<'PY'
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
ports = []
while len(ports) < 18:
    port = random.randrange(max(1024, low - 12000), low)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    if port not in ports:
        ports.append(port)
print(" ".join(map(str, ports)))
PY
)
declare -A BLUE GREEN FRONT
i=0
for e in "${ENVS[@]}"; do
	for p in "${PROJECTS[@]}"; do
		BLUE[$p-$e]=${FREE[i]} GREEN[$p-$e]=${FREE[i + 1]} FRONT[$p-$e]=${FREE[i + 2]}
		i=$((i + 3))
	done
done

# The server's env files: the variables the team's rules require, demo values.
mkdir -p "$SRV/shared" "$NGX"
for e in "${ENVS[@]}"; do
	printf 'ALPACA_API_KEY=demo-%s-alpaca\nSTRIPE_SECRET_KEY=sk_test_demo_%s\nDATABASE_URL=postgres://127.0.0.1:5432/argo\nREDIS_URL=redis://127.0.0.1:6379/0\n' \
		"$e" "$e" >"$SRV/shared/argo-$e.env"
	printf 'ANALYTICS_API_KEY=demo-%s-analytics\nRESEND_API_KEY=re_demo_%s\nDATABASE_URL=postgres://127.0.0.1:5432/alpine\nREDIS_URL=redis://127.0.0.1:6379/1\n' \
		"$e" "$e" >"$SRV/shared/alpine-backend-$e.env"
	printf 'NEXT_PUBLIC_API_URL=http://127.0.0.1:%s\nNEXT_PUBLIC_WS_URL=ws://127.0.0.1:%s/ws\n' \
		"${FRONT[alpine-backend-$e]}" "${FRONT[alpine-backend-$e]}" >"$SRV/shared/alpine-frontend-$e.env"
done

required() {
	case $1 in
	argo) echo "ALPACA_API_KEY STRIPE_SECRET_KEY DATABASE_URL REDIS_URL" ;;
	alpine-backend) echo "ANALYTICS_API_KEY RESEND_API_KEY DATABASE_URL REDIS_URL" ;;
	alpine-frontend) echo "NEXT_PUBLIC_API_URL NEXT_PUBLIC_WS_URL" ;;
	esac
}

target() { # target PROJECT ENV
	local p=$1 e=$2
	cat <<EOF

[target $p $e]
root = $SRV/$p-$e
ports = ${BLUE[$p-$e]} ${GREEN[$p-$e]}
env_file = $SRV/shared/$p-$e.env
env_required = $(required "$p")
EOF
	if [ "$p" = argo ]; then
		cat <<'EOF'
test = python3 argo/tests/test_app.py
lint = python3 -m py_compile argo/app.py argo/engine.py
build = python3 -m compileall -q argo
health_command = python3 argo/scripts/health_check_unified.py --level 3
EOF
	else
		echo "lint = python3 -m py_compile $p/app.py"
	fi
	cat <<EOF
run = python3 \$PROJECT/app.py \$PORT
switch = nginx $NGX/$p-$e.upstream
live_url = http://127.0.0.1:${FRONT[$p-$e]}/health
health_url = http://127.0.0.1:\$PORT/health
health_body = "status":\\s*"ok"
health_latency_ms = 500
health_timeout_ms = 2000
health_retries = 8
health_interval_ms = 150
health_successes = 2
health_deadline_seconds = 20
command_timeout_seconds = 60
EOF
}

step "7. the server: hooks, deploy targets on 127.0.0.1, and an nginx in front"
git init -q --bare "$SERVER"
mkdir "$STATE"
# The checks of rules.ini as they are; the deploy part is this demo's own:
# the team's environments, gates and freeze, with roots under $SRV and
# free ports instead of the team's /root and servers.
{
	sed -e '/^; ---- Deploy time/,$d' -e 's/^identity = auto$/identity = env:GITGATE_USER/' \
		"$SOURCE/rules.ini"
	cat <<EOF
; ---- Deploy time: the demo's server (everything on 127.0.0.1) -----------------
[deploy]
confirm_phrase = $PHRASE
freeze_days = fri
freeze_timezone = UTC
emergency_users = alice
keep_releases = 3
lock_wait_seconds = 120
exclude = /scripts/local_*.sh /scripts/local_*.py
exclude = *.local.json .env.local tests/ *_test.py /argo/config.json
exclude = venv/ __pycache__/ *.pyc node_modules/ .next/ *.log *.db backups/
nginx = $NGINX -p $NGX -c $NGX/nginx.conf -e $NGX/error.log
nginx_pid_file = $NGX/nginx.pid

[environment staging]
auto = yes
health_level = 2

[environment production]
requires = staging
confirm = yes
health_level = 3
EOF
	for e in "${ENVS[@]}"; do
		for p in "${PROJECTS[@]}"; do target "$p" "$e"; done
	done
} >"$STATE/rules.ini"
ln -s "$BUILD/pre-receive" "$SERVER/hooks/pre-receive"
ln -s "$BUILD/post-receive" "$SERVER/hooks/post-receive"
git -C "$SERVER" config receive.advertisePushOptions true
"$G" rules --rules "$STATE/rules.ini" >/dev/null || problem "the demo server's rules.ini is not valid"
grep -qx 'identity = env:GITGATE_USER' "$STATE/rules.ini" ||
	problem "the demo server's rules.ini does not say where the pusher's name comes from"

# nginx, the demo's own (its prefix, config, pid file and logs under $NGX):
# one port a target, proxying to the upstream file gitgate's switch writes.
{
	cat <<CONF
daemon on;
pid $NGX/nginx.pid;
error_log $NGX/error.log;
worker_processes 1;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $NGX/body;
  proxy_temp_path $NGX/proxy;
  fastcgi_temp_path $NGX/fastcgi;
  uwsgi_temp_path $NGX/uwsgi;
  scgi_temp_path $NGX/scgi;
CONF
	for e in "${ENVS[@]}"; do
		for p in "${PROJECTS[@]}"; do
			name=${p//-/_}_$e
			printf '  upstream %s { include %s/%s-%s.upstream; }\n' "$name" "$NGX" "$p" "$e"
			printf '  server { listen 127.0.0.1:%s; location / { proxy_pass http://%s; } }\n' \
				"${FRONT[$p-$e]}" "$name"
			echo "server 127.0.0.1:${BLUE[$p-$e]};" >"$NGX/$p-$e.upstream"
		done
	done
	echo "}"
} >"$NGX/nginx.conf"
"$NGINX" -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log" ||
	{ problem "nginx did not start"; exit 1; }
note "bare repository $SERVER (pre-receive checks, post-receive deploys)"
note "its rules:      $STATE/rules.ini (checks as above; deploy sections for this demo)"
note "nginx:          $NGX (pid $(cat "$NGX/nginx.pid"); its own prefix and config)"
note ""
note "$(printf '%-16s %-11s %-12s %-12s %s' target environment "blue slot" "green slot" "nginx in front")"
for e in "${ENVS[@]}"; do
	for p in "${PROJECTS[@]}"; do
		note "$(printf '%-16s %-11s %-12s %-12s %s' "$p" "$e" ":${BLUE[$p-$e]}" ":${GREEN[$p-$e]}" "http://127.0.0.1:${FRONT[$p-$e]}/")"
	done
done
note ""
note "one target, as the server's rules.ini has it:"
sed -n '/^\[target argo production\]/,/^command_timeout_seconds/p' "$STATE/rules.ini" | sed 's/^/    /'
note ""
note "staging: a push deploys there (health level 2); production: needs staging"
note "first, the phrase \"$PHRASE\", and health level 3"
note "(latency, and argo's health_check_unified.py). Fridays freeze (UTC)."


# ---- deploy helpers ---------------------------------------------------------------
# served PROJECT ENV: the revision nginx's port for that target answers with
# (or what went wrong).
served() {
	curl -s --max-time 3 "http://127.0.0.1:${FRONT[$1-$2]}/health" |
		python3 -c 'import json,sys
try: print(json.load(sys.stdin).get("revision", "?"))
except Exception: print("(no answer)")'
}
expect_served() { # expect_served PROJECT ENV REVISION
	local got
	got=$(served "$1" "$2")
	note "$(printf '%-16s %-11s via nginx :%s -> %.12s' "$1" "$2" "${FRONT[$1-$2]}" "$got")"
	[ "$got" = "$3" ] || problem "$1 in $2 serves '$got', expected ${3:0:12}"
}
# The worker a push started runs until the queue is empty; the next push
# waits for it, so that the demo's clock (below) is the one the deploy reads.
worker_idle() {
	local tries
	for tries in $(seq 200); do
		flock -n "$STATE/worker.lock" true 2>/dev/null && return 0
		sleep 0.1
	done
	problem "the deploy worker is still running after 20 s"
}
# loop_start URL: a request loop asking URL every 20 ms (at most 120 s),
# which loop_stop ends: the answers in order, each with how many came in a
# row, in $DEMO/loop.json.
loop_start() {
	rm -f "$DEMO/loop.stop"
	python3 - "$1" "$DEMO/loop.stop" >"$DEMO/loop.json" <<'PY' &
import json, os, sys, time, urllib.error, urllib.request
url, stop = sys.argv[1], sys.argv[2]
seen, started = [], time.time()
while not os.path.exists(stop) and time.time() - started < 120:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            what = "200 %s" % json.load(r)["revision"][:12]
    except urllib.error.HTTPError as e:
        what = "%d %s" % (e.code, json.load(e).get("error", "?"))
    except Exception as e:
        what = type(e).__name__
    if not seen or seen[-1][0] != what:
        seen.append([what, 0])
    seen[-1][1] += 1
    time.sleep(0.02)
print(json.dumps(seen))
PY
	LOOP_PID=$!
}
loop_stop() {
	touch "$DEMO/loop.stop"
	wait "$LOOP_PID"
	LOOP_PID=
}
# Fridays freeze deploys, so the server's week is set: steps 8 to 12 run
# on this week's Thursday, 13 to 15 on its Friday. The clock is faked with
# libfaketime, whole days only (the weekday changes, the time of day does
# not), for the pushes and the server's commands; it reaches the hooks, the
# deploy worker and the apps through the environment (LD_PRELOAD, FAKETIME),
# as it would any program. (Not through the faketime wrapper: it waits until
# every process that inherited its pipe is gone, and the apps run on. The
# monotonic clock is shifted too, libfaketime's default: with
# DONT_FAKE_MONOTONIC=1 its pthread_cond_timedwait, which gitgate's command
# time limits wait in, returns at once when the offset is negative.)
FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1)
on_day() { # on_day thu|fri COMMAND...: run COMMAND on that day of this week (UTC)
	local want=4 days
	[ "$1" = fri ] && want=5
	shift
	days=$((want - $(date -u +%u))) # %u: 1 = Monday .. 7 = Sunday
	if [ "$days" = 0 ]; then
		"$@"
	else
		[ "$days" -gt 0 ] && days=+$days
		LD_PRELOAD="$FAKETIME_LIB${LD_PRELOAD:+:$LD_PRELOAD}" FAKETIME="${days}d" "$@"
	fi
}
push() { # push WANT_STATUS ARGS...: git push, output shown and kept in $OUT
	local want=$1 rc
	shift
	worker_idle
	OUT=$DEMO/push.out
	printf '$ %s\n' "$(cmdline git push "$@")"
	# A subshell: the redirection must not be the demo's own (its traps
	# print to the demo's output).
	(on_day "${DAY:-thu}" git push "$@") >"$OUT" 2>&1
	rc=$?
	sed 's/^/  /; s/ *$//' "$OUT"
	verdict $rc
	expect_rc "$want" $rc "git push $*"
}
says() { # says TEXT: the last push said it
	grep -qF -- "$1" "$OUT" || problem "the push did not say: $1"
}
count() { # count N TEXT: the last push said it N times
	local got
	got=$(grep -cF -- "$2" "$OUT")
	[ "$got" = "$1" ] || problem "the push said '$2' $got times, expected $1"
}
server() { # server COMMAND...: gitgate on the server, in its repository
	printf '$ %s\n' "$(cmdline gitgate "$@")"
	(cd "$SERVER" && on_day "${DAY:-fri}" "$G" "$@") >"$DEMO/server.out" 2>&1
	local rc=$?
	sed 's/^/  /' "$DEMO/server.out"
	return $rc
}

step "8. the first push deploys every unit to staging"
note "The server's clock (libfaketime, whole days): $(on_day thu date -u '+%A %F') for"
note "steps 8 to 12, $(on_day fri date -u '+%A %F') from step 13 on."
git remote add origin "$SERVER"
push 0 origin main
count 2 "to staging at"
count 2 ": deployed"
says "alpine-analytics, argo are not deployed to production by this push"
for p in "${PROJECTS[@]}"; do expect_served "$p" staging "$(git rev-parse HEAD)"; done

step "9. a commit that skipped the client hook is refused at push time"
echo 'def buy(): breakpoint()' >>argo/engine.py
git commit -q --no-verify -am "argo: buy (client hook skipped)"
push 1 origin main
says "pre-receive hook declined"
git reset -q --hard HEAD^

step "10. a clean push is accepted, recorded, and deploys argo (only) to staging"
echo 'def sell(): return "sold"' >>argo/engine.py
git commit -q -am "argo: sell"
push 0 origin main
count 1 "argo to staging at"
count 0 "alpine-analytics to staging at"
printf '  pushes.jsonl: '
tail -n 1 "$STATE/pushes.jsonl"
expect_served argo staging "$(git rev-parse HEAD)"

step "11. with the phrase, a push goes through all 11 gates to production"
note "packages/ui changed (version bumped): every unit deploys, staging then production"
echo 'export const Badge = () => null;' >>packages/ui/Button.js
echo '{"name": "@demo/ui", "version": "1.1.0"}' >packages/ui/package.json
git commit -q -am "ui: Badge (1.1.0)"
push 0 -o "confirm=$PHRASE" origin main
count 2 "to production at"
count 4 ": deployed"
for n in 3 4 5 6 7 8 9 10 11; do
	grep -qE "gate +$n/11 +[a-z-]+ +argo +passed" "$OUT" || problem "argo's gate $n did not pass on the way to production"
done
PROD_GOOD=$(git rev-parse HEAD)
for e in "${ENVS[@]}"; do
	for p in "${PROJECTS[@]}"; do expect_served "$p" "$e" "$PROD_GOOD"; done
done

step "12. healthy on its own port, broken behind nginx: gate 11 switches back"
note "argo starts refusing unknown Host names; nginx proxies as 'argo_staging',"
note "so the new slot passes its own check and fails once live. Meanwhile a"
note "request loop asks staging's nginx for argo's /health every 20 ms."
sed -i 's/^ALLOWED_HOSTS = None$/ALLOWED_HOSTS = {"127.0.0.1", "localhost"}/' argo/app.py
show git diff --stat
git commit -q -am "argo: refuse requests for unknown hosts"
STAGING_GOOD=$(git rev-parse HEAD^)
loop_start "http://127.0.0.1:${FRONT[argo-staging]}/health"
push 0 origin main
note "(the push itself is accepted: post-receive runs after the refs moved)"
says "gate 11/11  health-after  argo              failed"
says "argo is back on"
says ": rolled-back"
sleep 0.5
loop_stop
note "the request loop through nginx, in order (answer: how many requests):"
python3 - "$DEMO/loop.json" "${STAGING_GOOD:0:12}" <<'PY' || problem "the old version was not serving before and after the deploy"
import json, sys
seen, good = json.load(open(sys.argv[1])), "200 " + sys.argv[2]
for what, n in seen:
    print("    %-52s %5d" % (what, n))
sys.exit(0 if seen and seen[0][0] == good and seen[-1][0] == good else 1)
PY
note "(the 400s: the new version, live while gate 11 tried it, until the switch back;"
note " the alternation at each switch is nginx's reload, old and new workers side by side)"
expect_served argo staging "$STAGING_GOOD"
status_line=$( (cd "$SERVER" && "$G" history argo staging --format json) |
	python3 -c 'import json,sys; r=json.load(sys.stdin)[-1]; print(r["outcome"])')
[ "$status_line" = rolled-back ] || problem "the history does not record the deploy as rolled back"

step "13. Friday: deploys are frozen; an emergency goes through"
sed -i 's/^ALLOWED_HOSTS = .*/ALLOWED_HOSTS = {"127.0.0.1", "localhost", "argo_staging", "argo_production"}/' argo/app.py
git commit -q -am "argo: allow the host names nginx proxies as"
DAY=fri push 0 -o "confirm=$PHRASE" origin main
says "no deploys to staging today"
says ": refused"
count 0 "to production at"
expect_served argo staging "$STAGING_GOOD"
note ""
note "alice adds a test for the fix and declares an emergency (she is in"
note "[deploy] emergency_users); the reason is recorded:"
cat >>argo/tests/test_app.py <<'PY'


class ProxyHostsTest(unittest.TestCase):
    def test_nginx_names_are_allowed(self):
        self.assertIn("argo_production", app.ALLOWED_HOSTS)
PY
git commit -q -am "argo: test the proxy's host names"
DAY=fri push 0 -o "confirm=$PHRASE" -o "emergency=argo staging serves an old build; fix verified" origin main
count 2 ": deployed"
count 1 "argo to production at"
HOTFIX=$(git rev-parse HEAD)
expect_served argo staging "$HOTFIX"
expect_served argo production "$HOTFIX"

step "14. on the server: status, history, health check all production"
server status
expect_rc 0 $? "gitgate status"
grep -q "^argo  *production  *live green ${HOTFIX:0:12}" "$DEMO/server.out" ||
	problem "status does not show argo's hotfix live on green in production"
server history -n 12
expect_rc 0 $? "gitgate history"
for outcome in deployed refused rolled-back; do
	grep -q " $outcome " "$DEMO/server.out" || problem "history shows no '$outcome' deploy"
done
(cd "$SERVER" && "$G" history argo production --format json) | python3 -c '
import json, sys
r = json.load(sys.stdin)[-1]
assert r["emergency"].startswith("argo staging serves"), r
' || problem "the emergency was not recorded in the history"
server health check all production
expect_rc 0 $? "gitgate health check all production"
note "a pusher with git alone (GitLab, Gitea, GitHub) reads the same from the server's deploys ref:"
show git fetch -q origin refs/gitgate/deploys
expect_rc 0 $? "git fetch origin refs/gitgate/deploys"
show git show FETCH_HEAD:status | tee "$DEMO/ref-status.out" | sed -n 1,6p
grep -q "^  argo  *production  *live green ${HOTFIX:0:12}" "$DEMO/ref-status.out" ||
	problem "the deploys ref's status does not show argo's hotfix live on green"

step "15. rollback: back to the warm slot in a second"
server rollback argo production
expect_rc 0 $? "gitgate rollback argo production"
expect_served argo production "$PROD_GOOD"
server status argo production

step "16. another machine: argo's second production site, over SSH"
if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/sshd ] ||
	! unshare --mount --propagation private true 2>/dev/null; then
	note "skipped: the demo's other machine is an sshd of its own on 127.0.0.2, which"
	note "needs root, OpenSSH's server and mount namespaces (./install.sh --demo as root)"
else
	mkdir -p "$DEMO/host/srv"
	# shellcheck source=tests/sshd_host.sh
	. "$SOURCE/tests/sshd_host.sh"
	if ! sshd_host_start "$DEMO/host" 127.0.0.2; then
		problem "the other machine's sshd did not start: $(cat "$DEMO/host/sshd.log")"
	else
		read -r EU1 EU2 < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
		cp "$SRV/shared/argo-production.env" "$DEMO/host/argo.env"
		cat >>"$STATE/rules.ini" <<EOF

[environment production-eu]
requires = staging
confirm = yes
health_level = 2

[target argo production-eu]
host = root@127.0.0.2:$SSHD_PORT
ssh_known_hosts = $DEMO/host/known_hosts
ssh_identity = $DEMO/host/deploy_key
root = $DEMO/host/srv/argo
ports = $EU1 $EU2
env_file = $DEMO/host/argo.env
env_required = $(required argo)
test = python3 argo/tests/test_app.py
run = python3 \$PROJECT/app.py \$PORT
switch = link $DEMO/host/srv/argo-live
health_url = http://127.0.0.1:\$PORT/health
health_body = "status":\\s*"ok"
health_retries = 8
health_interval_ms = 150
health_deadline_seconds = 20
command_timeout_seconds = 60
EOF
		note "the other machine: an sshd of the demo's own on 127.0.0.2:$SSHD_PORT; the"
		note "server's rules.ini gains an environment there (the team's two production servers"
		note "are such hosts), reached with a key and a known_hosts line the admin made:"
		sed -n '/^\[target argo production-eu\]/,/^ssh_identity/p' "$STATE/rules.ini" | sed 's/^/    /'
		note ""
		note "a developer with no shell on the server deploys what main holds there, by"
		note "pushing it to refs/deploy/production-eu with the phrase:"
		push 0 -o "confirm=$PHRASE" origin main:refs/deploy/production-eu
		says "step        connect       argo              passed"
		says "gate 11/11  health-after  argo              passed"
		count 1 "argo to production-eu at"
		on_host=$(curl -s --max-time 5 "http://127.0.0.1:$EU1/health" |
			python3 -c 'import json, sys; print(json.load(sys.stdin)["revision"])' 2>/dev/null)
		[ "$on_host" = "$(git rev-parse main)" ] ||
			problem "argo on the other machine does not serve main ($on_host)"
		server status argo production-eu
		expect_rc 0 $? "gitgate status argo production-eu"
	fi
fi

step "17. alpine-backend as a Compose pair: images built at gate 5, a rollback without a build"
if why=$(dockerd_missing); then
	note "skipped: the demo's Docker is a dockerd of its own: $why"
	note "(./install.sh --demo as root installs what it needs)"
elif ! dockerd_start "$DOCKERD_DIR" gitgate-demo/busybox:1; then
	note "skipped: dockerd cannot run here: $(tail -n 1 "$DOCKERD_DIR/log")"
else
	note "a dockerd of the demo's own (pid $DOCKERD_PID, socket $DOCKER_HOST), no registry:"
	note "the image is FROM scratch with busybox, whose httpd serves a CGI /health"
	mkdir -p alpine-backend/www/cgi-bin
	printf '%s\n' 'FROM gitgate-demo/busybox:1' 'COPY www /www' >alpine-backend/Dockerfile
	cat >alpine-backend/www/cgi-bin/health <<'SH'
#!/bin/sh
printf 'Content-Type: application/json\r\n\r\n{"status": "ok", "service": "alpine-backend", "revision": "%s", "key": "%s"}\n' \
	"$REVISION" "${ANALYTICS_API_KEY:+set}"
SH
	chmod +x alpine-backend/www/cgi-bin/health
	cat >alpine-backend/docker-compose.yml <<'YML'
services:
  web:
    build: .
    init: true
    network_mode: host
    environment:
      - REVISION=${REVISION}
      - ANALYTICS_API_KEY=${ANALYTICS_API_KEY}
    command: ["httpd", "-f", "-p", "127.0.0.1:${PORT}", "-h", "/www"]
YML
	read -r CB1 CB2 CF1 CF2 < <(python3 -c '
import socket
s = [socket.socket() for _ in range(4)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
	printf '#!/bin/sh\n# a secrets manager, as env_command runs it\necho "ANALYTICS_API_KEY=ak_live_demo_%s"\n' \
		"$(date +%s)" >"$SRV/secrets.sh"
	chmod +x "$SRV/secrets.sh"
	cat >>"$STATE/rules.ini" <<EOF

[environment containers]
auto = yes
health_level = 2
freeze = no

[target alpine-backend containers]
root = $SRV/alpine-backend-containers
ports = $CB1 $CB2
compose = alpine-backend/docker-compose.yml
env_command = $SRV/secrets.sh \$ENVIRONMENT
env_required = ANALYTICS_API_KEY
switch = link $SRV/alpine-backend-containers-live
health_url = http://127.0.0.1:\$PORT/cgi-bin/health
health_body = "status":\\s*"ok"
health_retries = 20
health_interval_ms = 250
health_successes = 1
command_timeout_seconds = 120

[target alpine-frontend containers]
root = $SRV/alpine-frontend-containers
ports = $CF1 $CF2
run = python3 \$PROJECT/app.py \$PORT
switch = link $SRV/alpine-frontend-containers-live
health_url = http://127.0.0.1:\$PORT/health
health_retries = 20
health_interval_ms = 250
health_successes = 1
EOF
	note "the server's rules.ini gains an environment where alpine-backend is a Compose"
	note "target (alpine-frontend, deployed with it, stays a supervised app), its secret"
	note "from an env_command:"
	sed -n '/^\[target alpine-backend containers\]/,/^switch/p' "$STATE/rules.ini" | sed 's/^/    /'
	git add -A alpine-backend
	git commit -q -m "alpine-backend: a Compose app"
	push 0 origin main
	says "gate  5/11  build         alpine-analytics  passed"
	count 1 "alpine-analytics to containers at"
	served_compose() { # the revision the Compose slot on port $1 answers with
		curl -s --max-time 3 "http://127.0.0.1:$1/cgi-bin/health" |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])' 2>/dev/null
	}
	COMPOSE_FIRST=$(git rev-parse HEAD)
	[ "$(served_compose "$CB1")" = "$COMPOSE_FIRST" ] || problem "alpine-backend's blue Compose slot does not serve main"
	echo "# second" >>alpine-backend/Dockerfile
	git commit -q -am "alpine-backend: a second image"
	push 0 origin main
	[ "$(served_compose "$CB2")" = "$(git rev-parse HEAD)" ] || problem "alpine-backend's green Compose slot does not serve main"
	note "the images gate 5 built, one a release (the pair's two slots run one each):"
	docker image ls --format '{{.Repository}}:{{.Tag}}  {{.ID}}' alpine-backend/containers/web | sed 's/^/    /'
	server status alpine-backend containers
	grep -q 'web running (Up' "$DEMO/server.out" || problem "status does not show the Compose slots' containers"
	before=$(docker image ls -q --no-trunc | sort | md5sum)
	started=$(date +%s%N)
	server rollback alpine-analytics containers
	expect_rc 0 $? "gitgate rollback alpine-analytics containers"
	note "$(printf 'the rollback took %d ms; images built by it: %s' $((($(date +%s%N) - started) / 1000000)) \
		"$([ "$(docker image ls -q --no-trunc | sort | md5sum)" = "$before" ] && echo none || echo some)")"
	[ "$(docker image ls -q --no-trunc | sort | md5sum)" = "$before" ] || problem "the rollback built images"
	[ "$(served_compose "$CB1")" = "$COMPOSE_FIRST" ] || problem "the rollback does not serve the first Compose release"
fi

step "18. a confirmed deploy: canary steps, a watch that catches a late failure, the report"
# A preview environment for argo: its nginx server logs each request with
# the upstream that answered it, the access log the canary and the watch read
# (and asks for the Host name argo allows since step 12).
read -r PV1 PV2 PVF < <(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
sed -i '$d' "$NGX/nginx.conf"
cat >>"$NGX/nginx.conf" <<CONF
  log_format gitgate '\$remote_addr - \$remote_user [\$time_local] "\$request" \$status \$body_bytes_sent "\$http_referer" "\$http_user_agent" \$upstream_addr';
  upstream argo_preview { include $NGX/argo-preview.upstream; }
  server { listen 127.0.0.1:$PVF; access_log $NGX/argo-preview.access.log gitgate;
           location / { proxy_set_header Host localhost; proxy_pass http://argo_preview; } }
}
CONF
echo "server 127.0.0.1:$PV1;" >"$NGX/argo-preview.upstream"
FRONT[argo-preview]=$PVF
"$NGINX" -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log" -s reload || problem "nginx did not reload"
cp "$SRV/shared/argo-staging.env" "$SRV/shared/argo-preview.env"
cat >>"$STATE/rules.ini" <<RULES

[environment preview]
health_level = 2
freeze = no
canary = 10 50
canary_step_seconds = 4
watch_seconds = 30
watch_interval_seconds = 1

[target argo preview]
root = $SRV/argo-preview
ports = $PV1 $PV2
env_file = $SRV/shared/argo-preview.env
env_required = $(required argo)
run = python3 \$PROJECT/app.py \$PORT
switch = nginx $NGX/argo-preview.upstream
live_url = http://127.0.0.1:$PVF/health
health_url = http://127.0.0.1:\$PORT/health
health_retries = 8
health_interval_ms = 150
health_deadline_seconds = 20
error_log = $NGX/argo-preview.access.log
error_min_requests = 10
health_log_pattern = CRITICAL
RULES
note "the server's rules.ini gains a preview environment: two canary steps (10% and 50% of"
note "the requests for 4 s each) before the full switch, then a 30 s watch, checked every"
note "second (health, the app's log, the error rate in nginx's access log):"
sed -n '/^\[environment preview\]/,/^watch_interval/p' "$STATE/rules.ini" | sed 's/^/    /'
DAY=thu server deploy argo preview
expect_rc 0 $? "gitgate deploy argo preview"
PREVIEW_GOOD=$(git rev-parse HEAD)
note ""
note "a release whose health gives way after 400 requests, deployed while a request loop"
note "asks preview's nginx every 20 ms: the canary's steps send it too few requests to break"
note "it; after the full switch the watch sees it break and puts the old release back."
python3 - <<'PY'
p = "argo/app.py"
s = open(p).read()
s = s.replace("class Handler(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n",
              "ANSWERED = 0\n\n\nclass Handler(http.server.BaseHTTPRequestHandler):\n"
              "    def do_GET(self):\n"
              "        global ANSWERED\n"
              "        ANSWERED += 1\n"
              "        if ANSWERED > 400:\n"
              "            self.answer(503, {\"status\": \"degraded\", \"error\": \"the cache gave way\"})\n"
              "            return\n")
open(p, "w").write(s)
PY
git commit -q -am "argo: count the requests answered"
push 0 origin main
loop_start "http://127.0.0.1:$PVF/health"
DAY=thu server deploy argo preview
expect_rc 0 $? "gitgate deploy argo preview (the canary passes, the watch begins)"
grep -qF "step        canary 50%" "$DEMO/server.out" || problem "the deploy did not say its canary steps"
PREVIEW_ID=$(sed -n 's/^deploy \([0-9a-f-]*\): .*/\1/p' "$DEMO/server.out" | head -1)
note "... the watch runs apart from the deploy; waiting for its end:"
for tries in $(seq 120); do
	[ -e "$STATE/watches/$PREVIEW_ID.json" ] || break
	sleep 0.5
done
loop_stop
DAY=thu server history argo preview
grep -q "watch of $PREVIEW_ID: rolled-back" "$DEMO/server.out" ||
	problem "the watch did not switch the failing release back"
expect_served argo preview "$PREVIEW_GOOD"
note "what the request loop through nginx was answered, in all, and last:"
python3 - "$DEMO/loop.json" <<'PY'
import json, sys
seen, total = json.load(open(sys.argv[1])), {}
for what, n in seen:
    total[what] = total.get(what, 0) + n
for what, n in total.items():
    print("    %-52s %5d" % (what, n))
print("    last: %s" % seen[-1][0])
PY
REPORT=$DEMO/report-$PREVIEW_ID.html
(cd "$SERVER" && on_day thu "$G" report "$PREVIEW_ID" --format html) >"$REPORT" ||
	problem "gitgate report --format html failed"
DAY=thu server report "$PREVIEW_ID"
note ""
note "the health confirmation report as one HTML page (a timeline of the gates, the watch's"
note "checks drawn as SVG), to open in a browser: $REPORT"

step "history of the monorepo"
git log --oneline | sed 's/^/  /'
printf '\nThe demo stops nginx and every app now. Its files stay at %s; remove them when done.\n' "$DEMO"
