# Helpers for the deploy end-to-end tests (deploy.sh, deploy_faults.sh):
# a server's bare repository with argo's staging and production targets,
# real HTTP apps on 127.0.0.1, and the cleanup that stops, by pid, every
# process a test started, passed or failed. Sourced after lib.sh.

G=$GITGATE_BIN/gitgate
PHRASE="deploy fully to production"
# Who pushes and deploys: the servers' rules.ini say identity =
# env:GITGATE_USER (the test is the admin who sets it); a test that needs
# someone else says so on its command line.
export GITGATE_USER=alice

# Free ports on 127.0.0.1 (four by default: staging's two slots, then
# production's).
free_ports() {
	python3 - "${1:-4}" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# The start time of PID, from /proc: with the pid, one process for good.
proc_start() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# track PID...: a process the test started, stopped (its group too) at the
# end; $SRV/pids holds "PID START" lines, so a reused pid is left alone.
track() {
	local pid
	for pid in "$@"; do echo "$pid $(proc_start "$pid")" >>"$SRV/pids"; done
}

# Is PID a gitgate deploy worker (its command line says so)?
is_worker() {
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q 'deploy --worker'
}

stop_apps() {
	local f pid start
	[ -n "${NOTIFY_PID:-}" ] && kill "$NOTIFY_PID" 2>/dev/null
	[ -n "${LOOP_PID:-}" ] && kill "$LOOP_PID" 2>/dev/null
	[ -s "$SRV/nginx/nginx.pid" ] && kill -QUIT "$(cat "$SRV/nginx/nginx.pid")" 2>/dev/null
	# A worker a push started and a test left running.
	for pid in $(sed -n 's/^pid //p' "$SRV/server.git/gitgate/worker.lock" 2>/dev/null) \
		$(cat "$SRV"/server.git/gitgate/queue/*.json 2>/dev/null | grep -o '"worker":[0-9]*' | cut -d: -f2); do
		is_worker "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	# gitgate's ssh masters, where a test had a remote host (sshd_host.sh).
	if declare -F ssh_masters_stop >/dev/null; then
		ssh_masters_stop "$SRV/server.git/gitgate/ssh"
		host_copiers_stop "$SRV/srv"
	fi
	[ -s "$SRV/pids" ] && while read -r pid start; do
		[ -n "$start" ] && [ "$(proc_start "$pid")" = "$start" ] || continue
		kill -KILL -- "-$pid" 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
	done <"$SRV/pids"
	# A deploy's watcher, in a session of its own.
	for pid in $(pgrep -f 'deploy --watch' 2>/dev/null); do
		case $(readlink "/proc/$pid/cwd" 2>/dev/null) in "$SRV"/*) kill -KILL "$pid" 2>/dev/null ;; esac
	done
	for f in "$SRV"/server.git/gitgate/targets/*/*.pid; do
		[ -e "$f" ] || continue
		read -r pid start <"$f"
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	done
	[ -s "$SRV/mounts" ] && while read -r f; do umount "$f" 2>/dev/null || umount -l "$f"; done <"$SRV/mounts"
}

# A server with argo's staging and production targets, and a clone with an
# app that answers /health with its revision (503 when argo/BROKEN exists;
# with argo/BROKEN_LIVE, 503 from its second request on: healthy in its
# slot, broken once live); its tests fail when argo/FAIL_TESTS exists.
# With ALPINE=1, the coupled unit alpine (alpine-backend, alpine-frontend:
# the same app, staging only, ports AB1 AB2 AF1 AF2) and the shared
# packages/ too.
new_deploy_server() {
	SRV=$PWD
	trap stop_apps EXIT
	read -r S1 S2 P1 P2 AB1 AB2 AF1 AF2 < <(free_ports 8)
	git init -q --bare server.git
	mkdir -p server.git/gitgate srv
	git init -q work
	mkdir -p work/argo work/alpine-backend
	cat >work/argo/app.py <<'PY'
import http.server, os, sys
here = os.path.dirname(os.path.abspath(__file__))
rev = os.environ.get("REVISION", "?")
answered = 0
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global answered
        answered += 1
        broken = os.path.exists(os.path.join(here, "BROKEN")) or (
            answered > 1 and os.path.exists(os.path.join(here, "BROKEN_LIVE")))
        body = ('{"status": "%s", "revision": "%s"}' % ("broken" if broken else "ok", rev)).encode()
        self.send_response(503 if broken else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
PY
	printf 'import os, sys\nsys.exit(1 if os.path.exists(os.path.join(os.path.dirname(__file__), "FAIL_TESTS")) else 0)\n' >work/argo/test_app.py
	echo 'export const a = 1;' >work/alpine-backend/api.js
	if [ -n "${ALPINE:-}" ]; then
		mkdir -p work/alpine-frontend work/packages/ui
		cp work/argo/*.py work/alpine-backend/ && cp work/argo/*.py work/alpine-frontend/
		echo '{"name": "ui", "version": "1.0.0"}' >work/packages/ui/package.json
	fi
	git -C work add -A && git -C work commit -qm "argo app"
	git -C work remote add origin ../server.git
	git -C work push -q origin main
	target() { # target ENV PORT PORT [PROJECT]
		local project=${4:-argo}
		cat <<EOF
[target $project $1]
root = $SRV/srv/$project-$1
ports = $2 $3
test = python3 $project/test_app.py
run = python3 $project/app.py \$PORT
switch = link $SRV/srv/$project-$1-live
health_url = http://127.0.0.1:\$PORT/health
health_retries = 15
health_interval_ms = 200
health_successes = 1
health_deadline_seconds = 15
EOF
	}
	cat >server.git/gitgate/rules.ini <<EOF
[push]
identity = env:GITGATE_USER
[project argo]
path = argo/
[project alpine-backend]
path = alpine-backend/
[scan debug]
files = *.py
pattern = \\bTODO\\b
[deploy]
emergency_users = alice
keep_releases = 2
[environment staging]
auto = yes
health_level = 2
freeze = no
[environment production]
requires = staging
confirm = yes
health_level = 2
$(target staging "$S1" "$S2")
$(target production "$P1" "$P2")
EOF
	[ -n "${ALPINE:-}" ] && cat >>server.git/gitgate/rules.ini <<EOF
[project alpine-frontend]
path = alpine-frontend/
[unit alpine]
projects = alpine-backend alpine-frontend
[shared]
path = packages/
$(target staging "$AB1" "$AB2" alpine-backend)
$(target staging "$AF1" "$AF2" alpine-frontend)
EOF
	# Fridays freeze production; the tests must not depend on the day.
	sed -i "s/^\\[deploy\\]/[deploy]\\nfreeze_days = ${FREEZE_DAY:-sun}/" server.git/gitgate/rules.ini
	cd server.git
}

# server_hooks: the server checks and deploys pushes (install.sh --server does
# the same), and takes push options.
server_hooks() {
	ln -s "$GITGATE_BIN/pre-receive" "$SRV/server.git/hooks/pre-receive"
	ln -s "$GITGATE_BIN/post-receive" "$SRV/server.git/hooks/post-receive"
	git -C "$SRV/server.git" config receive.advertisePushOptions true
}

# deploy_expect STATUS ARGS...: runs gitgate deploy in the server; output in $OUT.
deploy_expect() {
	local want=$1
	shift
	OUT=$(mktemp)
	GITGATE_USER=${DEPLOYER:-alice} "$G" deploy "$@" >"$OUT" 2>&1
	local got=$?
	[ "$got" = "$want" ] || { fail "deploy $* exited $got, not $want:"; sed 's/^/      /' "$OUT"; }
}

answers() { # answers PORT: the revision the app on PORT reports
	curl -s --max-time 5 "http://127.0.0.1:$1/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])'
}

await_answer() { # await_answer PORT REVISION: up to 20 s for the app on PORT to report it
	local tries=0
	until [ "$(answers "$1" 2>/dev/null)" = "$2" ] || [ $tries -ge 100 ]; do
		sleep 0.2
		tries=$((tries + 1))
	done
	[ "$(answers "$1" 2>/dev/null)" = "$2" ]
}

push_change() { # push_change MESSAGE [FILE]
	(cd ../work && { [ -n "${2:-}" ] && touch "$2" || echo "# $1" >>argo/app.py; } &&
		git add -A && git commit -qm "$1" && git push -q origin main)
}

# wait_for FILE [TENTHS]: until FILE exists, at most TENTHS tenths of a second (default 300).
wait_for() {
	local tries=0
	until [ -e "$1" ] || [ $tries -ge "${2:-300}" ]; do sleep 0.1; tries=$((tries + 1)); done
	[ -e "$1" ]
}

# seen_nowhere VALUE FILE...: VALUE is in none of the files.
seen_nowhere() {
	local value=$1 f
	shift
	for f in "$@"; do
		grep -qaF -- "$value" "$f" && { fail "the secret's value is in $f:"; grep -aF -- "$value" "$f" | sed 's/^/      /'; }
	done
	return 0
}
