#!/usr/bin/env bash
# End-to-end: confirmed deploys. Canary steps through a real nginx (the
# shares a bounded request loop sees at each step; an app answering 500
# rolled back at its first step), and the watch after gate 11 (a release
# that starts failing its health or logs CRITICAL after its switch is
# switched back; a watch confirmed; superseded by a newer deploy; kept
# through kill -9 of the worker and of its watcher). Every process a test
# starts is stopped by its pid when it ends, passed or failed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy_lib.sh"

# The app of these tests: /health answers its revision (503 once
# FAIL_AFTER's seconds have passed since it started), /work answers 500
# when ERRORS exists in its release; it prints CRITICAL on each request
# once CRITICAL_AFTER's seconds have passed.
confirm_app() {
	cat >../work/argo/app.py <<'PY'
import http.server, json, os, sys, time
here = os.path.dirname(os.path.abspath(__file__))
rev, started = os.environ.get("REVISION", "?"), time.time()
def after(name):
    path = os.path.join(here, name)
    return os.path.exists(path) and time.time() - started > float(open(path).read())
class App(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if after("CRITICAL_AFTER"):
            print("CRITICAL: the ledger does not balance", flush=True)
        code = 200
        if self.path.startswith("/health") and after("FAIL_AFTER"):
            code = 503
        if self.path.startswith("/work") and os.path.exists(os.path.join(here, "ERRORS")):
            code = 500
        body = json.dumps({"revision": rev}).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), App).serve_forever()
PY
	(cd ../work && git add -A && git commit -qm "the confirm app" && git push -q origin main)
}

# A server whose staging goes through nginx with an access log gitgate
# reads; ENV-LINES are added to [environment staging], TARGET-LINES to
# its target.
confirm_server() {
	new_deploy_server
	confirm_app
	local n=$SRV/nginx
	mkdir -p "$n"
	read -r NGINX_PORT _ < <(free_ports)
	nginx_config "$n" "$NGINX_PORT" "$n/argo-staging.upstream" "$n/access.log" >"$n/nginx.conf"
	echo "server 127.0.0.1:$S1;" >"$n/argo-staging.upstream"
	nginx -p "$n" -c "$n/nginx.conf" -e "$n/error.log" || { fail "nginx did not start"; return 1; }
	sed -i "s|^emergency_users = alice|emergency_users = alice\nnginx = nginx -p $n -c $n/nginx.conf -e $n/error.log\nnginx_pid_file = $n/nginx.pid|" gitgate/rules.ini
	sed -i "s|^switch = link $SRV/srv/argo-staging-live|switch = nginx $n/argo-staging.upstream\nlive_url = http://127.0.0.1:$NGINX_PORT/health\nerror_log = $n/access.log\nerror_min_requests = 5\nhealth_log_pattern = CRITICAL\n${2:-}|" gitgate/rules.ini
	sed -i "s|^\[environment staging\]|[environment staging]\nwatch_interval_seconds = 1\n${1:-}|" gitgate/rules.ini
	"$G" rules >/dev/null 2>"$SRV/rules.err" || { fail "the rules do not load: $(cat "$SRV/rules.err")"; return 1; }
}

# loop_start PATH: a bounded request loop through nginx to PATH (at most
# 20000 requests or 60 s), each answer's revision and code a line of
# $SRV/loop.txt; loop_stop ends it.
loop_start() {
	python3 - "http://127.0.0.1:$NGINX_PORT$1" "$SRV/loop.stop" >"$SRV/loop.txt" <<'PY' &
import json, os, sys, time, urllib.request
url, stop = sys.argv[1], sys.argv[2]
n, started = 0, time.time()
while n < 20000 and time.time() - started < 60 and not os.path.exists(stop):
    n += 1
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            print(r.status, json.load(r)["revision"], flush=True)
    except urllib.error.HTTPError as e:
        print(e.code, json.load(e)["revision"], flush=True)
    except Exception as e:
        print(type(e).__name__, "-", flush=True)
    time.sleep(0.005)
PY
	LOOP_PID=$!
	track "$LOOP_PID"
}
loop_stop() {
	touch "$SRV/loop.stop"
	wait "$LOOP_PID" 2>/dev/null
	LOOP_PID=
	rm -f "$SRV/loop.stop"
}

# records PY-EXPR: evaluates PY-EXPR over r, the list of history records.
records() {
	python3 - "$SRV/server.git/gitgate/history.jsonl" "$1" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = eval(sys.argv[2])
if not ok:
    print(json.dumps(r[-3:], indent=1))
sys.exit(0 if ok else 1)
PY
}

# await_record PY-EXPR [SECONDS]: until records PY-EXPR holds (default 60 s).
await_record() {
	local tries=0
	until records "$1" >/dev/null 2>&1 || [ $tries -ge $((${2:-60} * 5)) ]; do
		sleep 0.2
		tries=$((tries + 1))
	done
	records "$1" || fail "no record where $1"
}

t_canary_steps_share_the_requests_then_switch() {
	confirm_server "canary = 20 50\ncanary_step_seconds = 3" || return
	deploy_expect 0 argo staging
	local old new
	old=$(git rev-parse main)
	push_change "second"
	new=$(git rev-parse main)
	loop_start /work
	sleep 0.5
	deploy_expect 0 argo staging
	sleep 0.5
	loop_stop
	contains "$OUT" "step        canary 20%    argo              passed"
	[ "$(answers "$NGINX_PORT")" = "$new" ] || fail "nginx does not send requests to $new"
	# The shares nginx gave each step, from its own access log: the lines
	# of each step's time, by the upstream that answered them.
	python3 - "$SRV/server.git/gitgate/history.jsonl" "$SRV/nginx/access.log" "$S2" <<'PY' || fail "the canary's shares are off"
import json, sys
rec = [json.loads(l) for l in open(sys.argv[1])][-1]
lines = [l.split() for l in open(sys.argv[2]) if "/work" in l]
new = "127.0.0.1:" + sys.argv[3]
steps = rec["canary"]
assert [s["percent"] for s in steps] == [20, 50] and all(s["ok"] for s in steps), steps
for s in steps:
    mine = [l for l in lines if s["at"] + 0.3 <= float(l[-1]) <= s["at"] + s["seconds"] - 0.3]
    share = sum(1 for l in mine if l[-2] == new) / max(len(mine), 1)
    print("canary step %d%%: %d requests seen, %.0f%% to the new slot, %d counted by gitgate" % (s["percent"], len(mine), share * 100, s["requests"]))
    assert len(mine) > 20, (s, len(mine))
    assert abs(share * 100 - s["percent"]) <= 12, (s, share)
    assert s["requests"] > 5, s
PY
	grep -q "^200 $old" "$SRV/loop.txt" && grep -q "^200 $new" "$SRV/loop.txt" ||
		fail "the loop did not see both releases"
	if grep -qv "^200 " "$SRV/loop.txt"; then
		fail "a request failed: $(grep -v '^200 ' "$SRV/loop.txt" | sort | uniq -c)"
	fi
}

t_a_canary_answering_errors_is_rolled_back_at_its_first_step() {
	confirm_server "canary = 20 50\ncanary_step_seconds = 4" || return
	deploy_expect 0 argo staging
	local old
	old=$(git rev-parse main)
	loop_start /work
	push_change "errors" argo/ERRORS
	deploy_expect 1 argo staging
	loop_stop
	contains "$OUT" "rolled-back"
	contains "$OUT" "error rate"
	records 'r[-1]["outcome"] == "rolled-back" and len(r[-1]["canary"]) == 1 and not r[-1]["canary"][0]["ok"] and r[-1]["canary"][0]["errors"] > 0' ||
		fail "the record does not say which step failed, with its errors"
	# Every request after the rollback reaches the old slot.
	local i
	for i in $(seq 30); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NGINX_PORT/work")" = 200 ] ||
			{ fail "request $i after the rollback failed"; break; }
	done
	[ "$(answers "$NGINX_PORT")" = "$old" ] || fail "the old slot does not serve"
	curl -s --max-time 1 "http://127.0.0.1:$S2/health" >/dev/null && fail "the canary's app still runs"
	return 0
}

t_the_watch_switches_back_a_release_that_fails_after_its_switch() {
	confirm_server "watch_seconds = 30" || return
	# Every notice, one JSON record a line.
	printf '#!/bin/sh\ncat >>"%s/told.jsonl"; echo >>"%s/told.jsonl"\n' "$SRV" "$SRV" >"$SRV/tell"
	chmod +x "$SRV/tell"
	sed -i "s|^keep_releases = 2|keep_releases = 2\nnotify_command = $SRV/tell|" gitgate/rules.ini
	deploy_expect 0 argo staging
	local old id
	old=$(git rev-parse main)
	echo 5 >../work/argo/FAIL_AFTER
	push_change "fails after 5 s" argo/FAIL_AFTER
	deploy_expect 0 argo staging
	contains "$OUT" "watching argo in staging"
	id=$(sed -n 's/^deploy \([0-9a-f-]*\): .*/\1/p' "$OUT" | head -1)
	"$G" status argo staging >"$SRV/status.txt" 2>&1
	contains "$SRV/status.txt" "watching, 1 min left (deploy $id)"
	await_record "r[-1]['kind'] == 'watch' and r[-1]['deploy'] == '$id' and r[-1]['outcome'] == 'rolled-back'" 40
	[ "$(answers "$NGINX_PORT")" = "$old" ] || fail "the old release does not serve after the watch"
	records "sum(1 for x in r if x['kind'] == 'watch' and x['deploy'] == '$id') == 1" || fail "not one watch record"
	records "any(not c['ok'] for c in r[-1]['checks'])" || fail "the failed check is not in the record"
	# Two notices of this deploy: at gate 11 (deployed, watching), and at
	# the watch's end.
	python3 - "$SRV/told.jsonl" "$id" <<'PY' || fail "the notices are not both there: $(cat "$SRV/told.jsonl")"
import json, sys
told = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mine = [t for t in told if t.get("id") == sys.argv[2] or t.get("deploy") == sys.argv[2]]
assert [t["kind"] for t in mine] == ["deploy", "watch"], mine
assert mine[0]["outcome"] == "deployed" and mine[0]["watch"]["seconds"] == 30, mine[0]
assert mine[1]["outcome"] == "rolled-back", mine[1]
PY
}

t_the_watch_catches_critical_lines_and_confirms_a_quiet_release() {
	confirm_server "watch_seconds = 4" || return
	deploy_expect 0 argo staging
	local id
	id=$(sed -n 's/^deploy \([0-9a-f-]*\): .*/\1/p' "$OUT" | head -1)
	await_record "r[-1]['kind'] == 'watch' and r[-1]['deploy'] == '$id' and r[-1]['outcome'] == 'confirmed'" 30
	records "len(r[-1]['checks']) >= 2" || fail "the watch's checks are not recorded"
	local old
	old=$(git rev-parse main)
	echo 1 >../work/argo/CRITICAL_AFTER
	sed -i 's/^watch_seconds = 4/watch_seconds = 30/' gitgate/rules.ini
	push_change "critical" argo/CRITICAL_AFTER
	deploy_expect 0 argo staging
	id=$(sed -n 's/^deploy \([0-9a-f-]*\): .*/\1/p' "$OUT" | head -1)
	await_record "r[-1]['kind'] == 'watch' and r[-1]['deploy'] == '$id' and r[-1]['outcome'] == 'rolled-back' and 'CRITICAL' in r[-1]['why']" 40
	[ "$(answers "$NGINX_PORT")" = "$old" ] || fail "the old release does not serve"
}

t_a_newer_deploy_supersedes_the_watch_and_kill_9_loses_none() {
	confirm_server "watch_seconds = 8" || return
	server_hooks
	deploy_expect 0 argo staging
	local first second
	first=$(sed -n 's/^deploy \([0-9a-f-]*\): .*/\1/p' "$OUT" | head -1)
	# The push's deploy, detached (-o detach: the push returns at once),
	# through the worker, supersedes the first watch.
	(cd ../work && echo "# second" >>argo/app.py && git commit -qam second &&
		git push -q -o detach origin main) >"$SRV/push.txt" 2>&1 || fail "the push failed: $(cat "$SRV/push.txt")"
	await_record "any(x['kind'] == 'watch' and x['deploy'] == '$first' and x['outcome'] == 'superseded' for x in r)" 30
	await_record "r[-1]['kind'] == 'deploy' and r[-1]['outcome'] == 'deployed'" 30
	second=$(python3 -c "import json,sys; print([json.loads(l) for l in open(sys.argv[1])][-1]['id'])" "$SRV/server.git/gitgate/history.jsonl")
	# Its watcher killed with -9: reconcile starts another, and the watch
	# ends once, confirmed.
	local watcher
	for _ in $(seq 50); do
		watcher=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('pid', 0))" "$SRV/server.git/gitgate/watches/$second.json" 2>/dev/null)
		[ -n "$watcher" ] && [ "$watcher" != 0 ] && break
		sleep 0.2
	done
	[ -n "$watcher" ] && [ "$watcher" != 0 ] || { fail "no watcher claimed the watch"; return; }
	kill -KILL "$watcher"
	"$G" deploy --reconcile >"$SRV/reconcile.txt" 2>&1 || fail "reconcile failed: $(cat "$SRV/reconcile.txt")"
	contains "$SRV/reconcile.txt" "watching again"
	await_record "any(x['kind'] == 'watch' and x['deploy'] == '$second' and x['outcome'] == 'confirmed' for x in r)" 30
	records "sum(1 for x in r if x['kind'] == 'watch' and x['deploy'] == '$second') == 1" || fail "two records of one watch"
	[ ! -e "$SRV/server.git/gitgate/watches/$second.json" ] || fail "the watch file stayed"
}

run_tests
