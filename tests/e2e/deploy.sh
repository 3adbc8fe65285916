#!/usr/bin/env bash
# End-to-end: gitgate deploy on a server's bare repository, into blue/green
# slots of real HTTP apps on 127.0.0.1, through the gates; what is live
# after every kind of failure; status, history and logs. Every app a test
# starts is stopped by its pid when the test ends, passed or failed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy_lib.sh"

t_staging_then_production_through_every_gate() {
	new_deploy_server
	local first
	first=$(git rev-parse main)
	deploy_expect 0 argo to staging
	contains "$OUT" "gate  3/11  tests"
	contains "$OUT" "gate 11/11  health-after  argo              passed"
	contains "$OUT" ": deployed"
	[ "$(answers "$S1")" = "$first" ] || fail "staging's blue slot does not serve $first"
	[ "$(readlink "$SRV/srv/argo-staging-live")" = "$SRV/srv/argo-staging-blue" ] ||
		fail "the live link does not point at the blue slot"
	for wrong in "" "Deploy fully to production" "deploy fully  to production"; do
		deploy_expect 1 argo to production --confirm "$wrong"
		contains "$OUT" "gate 10/11  confirmation"
		contains "$OUT" "needs the exact phrase \"$PHRASE\""
	done
	deploy_expect 1 argo to production
	deploy_expect 0 argo to production --confirm "$PHRASE"
	contains "$OUT" "gate  6/11  staging       argo              passed"
	[ "$(answers "$P1")" = "$first" ] || fail "production does not serve $first"
	# A revision staging does not run yet stops at gate 6.
	push_change "second"
	deploy_expect 1 argo to production --confirm "$PHRASE"
	contains "$OUT" "gate  6/11  staging       argo              failed"
	contains "$OUT" "does not run"
	[ "$(answers "$P1")" = "$first" ] || fail "production changed after a refused deploy"
	# Staging first, then production: the green slots take over.
	deploy_expect 0 argo staging
	deploy_expect 0 argo production --confirm "$PHRASE"
	[ "$(answers "$P2")" = "$(git rev-parse main)" ] || fail "production's green slot is not live"
	[ "$(answers "$P1")" = "$first" ] || fail "the old slot should stay up, warm"
	"$G" status argo production >status.txt 2>&1 || fail "status failed"
	contains status.txt "live green $(git rev-parse --short=12 main)"
	contains status.txt "  second"
	contains status.txt "last: deploy"
	grep -q "last: deploy .* deployed, .*; health: 4 of 4 checks passed" status.txt || fail "status does not show the last deploy and its health"
	"$G" history argo production >history.txt 2>&1 || fail "history failed"
	[ "$(grep -c ' deployed ' history.txt)" = 2 ] || fail "expected two production deploys in the history"
	contains history.txt "refused"
	"$G" history --format json | python3 -c '
import json, sys
records = json.load(sys.stdin)
assert all(r["kind"] == "deploy" and len(r["to"]) == 40 for r in records), records
assert records[-1]["health"], "no health checks recorded"
' || fail "history JSON is not what the contract says"
	"$G" logs >logs.txt 2>&1 || fail "logs failed"
	# The team's spelling; and JSON with each check.
	"$G" health check all production >health.txt 2>&1 || { fail "health check failed:"; cat health.txt; }
	contains health.txt "argo in production (green slot):"
	contains health.txt "GET http://127.0.0.1:$P2/health"
	"$G" health argo --format json | python3 -c '
import json, sys
reports = json.load(sys.stdin)
assert {r["environment"] for r in reports} == {"staging", "production"}, reports
assert all(r["passed"] and r["checks"] for r in reports), reports
' || fail "health --format json is not one report per environment"
	# The team's rollback: back to the warm blue slot in seconds.
	OUT=$(mktemp)
	GITGATE_USER=alice "$G" rollback argo production >"$OUT" 2>&1 || { fail "rollback failed:"; cat "$OUT"; }
	contains "$OUT" "migrate is not run again by a rollback"
	[ "$(readlink "$SRV/srv/argo-production-live")" = "$SRV/srv/argo-production-blue" ] ||
		fail "the rollback did not switch to blue"
	"$G" history argo production --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)[-1]
assert (r["kind"], r["outcome"]) == ("rollback", "deployed"), r
' || fail "the rollback was not recorded"
}

# A health command that compares the app's revision with $REVISION: gate 9
# checks the live slot, so it gets that slot's revision, not the one being
# deployed.
t_a_health_command_gets_the_checked_slots_revision() {
	new_deploy_server
	cat >../work/argo/check.py <<'PY'
import json, os, sys, urllib.request
with urllib.request.urlopen("http://127.0.0.1:%s/health" % os.environ["PORT"], timeout=5) as r:
    sys.exit(0 if json.load(r)["revision"] == os.environ["REVISION"] else 1)
PY
	(cd ../work && git add -A && git commit -qm check && git push -q origin main)
	sed -i 's/^health_level = 2/health_level = 3/' gitgate/rules.ini
	sed -i '/^\[target argo /a health_command = python3 argo/check.py' gitgate/rules.ini
	deploy_expect 0 argo staging
	deploy_expect 0 argo production --confirm "$PHRASE"
	push_change "second"
	deploy_expect 0 argo staging
	deploy_expect 0 argo production --confirm "$PHRASE"
	contains "$OUT" "gate  9/11  health-before argo              passed"
}

# A server on 127.0.0.1 that appends every POST body to $SRV/posted.jsonl;
# sets NOTIFY_PORT and NOTIFY_PID (stopped by stop_apps).
start_notify_server() {
	python3 - "$SRV/posted.jsonl" >"$SRV/notify.port" <<'PY' &
import http.server, sys
out = sys.argv[1]
class Post(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(out, "ab") as f:
            f.write(body + b"\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Post)
print(server.server_address[1], flush=True)
server.timeout = 60
for _ in range(20):
    server.handle_request()
PY
	NOTIFY_PID=$!
	local tries=0
	until [ -s "$SRV/notify.port" ] || [ $tries -ge 50 ]; do sleep 0.1; tries=$((tries + 1)); done
	NOTIFY_PORT=$(cat "$SRV/notify.port")
}

t_a_failed_deploy_leaves_the_last_good_version_serving() {
	new_deploy_server
	start_notify_server
	printf '#!/bin/sh\ncat >>"%s/told.jsonl"; echo >>"%s/told.jsonl"\n' "$SRV" "$SRV" >"$SRV/tell"
	chmod +x "$SRV/tell"
	sed -i "s|^keep_releases = 2|keep_releases = 2\nnotify_command = $SRV/tell\nnotify_url = http://127.0.0.1:$NOTIFY_PORT/deploys|" gitgate/rules.ini
	local good
	good=$(git rev-parse main)
	deploy_expect 0 argo staging
	# The new slot never gets healthy: it is never switched to.
	push_change "broken" argo/BROKEN
	deploy_expect 1 argo staging
	contains "$OUT" "slot          argo              failed"
	contains "$OUT" "HTTP 503"
	[ "$(answers "$S1")" = "$good" ] || fail "the old version stopped serving"
	curl -s --max-time 2 "http://127.0.0.1:$S2/health" >/dev/null && fail "the broken slot was left running"
	# Healthy in its slot but not live: gate 11 switches back.
	(cd ../work && git rm -q argo/BROKEN && touch argo/BROKEN_LIVE && git add -A &&
		git commit -qm "broken live" && git push -q origin main)
	deploy_expect 1 argo staging
	contains "$OUT" "step        switch        argo              passed"
	contains "$OUT" "gate 11/11  health-after  argo              failed"
	contains "$OUT" "argo is back on blue, healthy"
	contains "$OUT" ": rolled-back"
	[ "$(readlink "$SRV/srv/argo-staging-live")" = "$SRV/srv/argo-staging-blue" ] ||
		fail "the live link was not switched back"
	[ "$(answers "$S1")" = "$good" ] || fail "the old version is not serving after the rollback"
	"$G" history argo staging --format json | python3 -c '
import json, sys
outcomes = [r["outcome"] for r in json.load(sys.stdin)]
assert outcomes == ["deployed", "failed", "rolled-back"], outcomes
' || fail "the history does not say deployed, failed, rolled back"
	# Each ending was told: the record on the command's stdin, and POSTed.
	for told in "$SRV/told.jsonl" "$SRV/posted.jsonl"; do
		python3 - "$told" <<'PY' || fail "$told does not hold the three records"
import json, sys
records = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert [r["outcome"] for r in records] == ["deployed", "failed", "rolled-back"], records
PY
	done
}

t_gates_refuse_and_say_why() {
	FREEZE_DAY=$(date -u +%a | tr 'A-Z' 'a-z') new_deploy_server
	# Tests that fail: gate 3, with the command's last lines.
	push_change "failing tests" argo/FAIL_TESTS
	deploy_expect 1 argo staging
	contains "$OUT" "gate  3/11  tests         argo              failed"
	contains "$OUT" "python3 argo/test_app.py"
	(cd ../work && git rm -q argo/FAIL_TESTS && git commit -qm fixed && git push -q origin main)
	# A TODO that reached the server without its hooks: gate 8.
	push_change "sneaky TODO marker"
	(cd ../work && echo 'x = 1  # TODO later' >>argo/app.py && git commit -qam todo && git push -q origin main)
	deploy_expect 1 argo staging
	contains "$OUT" "gate  8/11  code-quality  argo              failed"
	(cd ../work && sed -i '/TODO later/d' argo/app.py && git commit -qam "no todo" && git push -q origin main)
	# gate 8 looks at every commit since the live revision: the first deploy
	# still sees the TODO commit, so accept it as the baseline.
	git config gitgate.baseline "$(git rev-parse main)" # what install.sh --server sets
	# Gate 8 judges the deployed unit's files: a TODO in alpine-backend
	# (alpine's to answer for, at alpine's deploy) does not stop argo.
	(cd ../work && echo 'y = 2  # TODO alpine' >alpine-backend/later.py && git add -A &&
		git commit -qm "alpine todo" && git push -q origin main)
	deploy_expect 0 argo staging --dry-run
	contains "$OUT" "gate  8/11  code-quality  argo              passed"
	lacks "$OUT" "alpine-backend/later.py"
	(cd ../work && git rm -q alpine-backend/later.py && git commit -qm "no alpine todo" && git push -q origin main)
	# Env file: placeholders are named, values never shown.
	printf 'API_KEY=changeme\nDB=sk_live_value_never_shown\n' >"$SRV/prod.env"
	sed -i "/^\[target argo staging\]/a env_file = $SRV/prod.env\nenv_required = API_KEY DB MISSING" \
		gitgate/rules.ini
	deploy_expect 1 argo staging
	contains "$OUT" "API_KEY holds a placeholder"
	contains "$OUT" "MISSING is missing"
	lacks "$OUT" "sk_live_value_never_shown"
	lacks "$OUT" "changeme"
	# Set right, the app runs with them; their values are in no output,
	# log, progress or record of gitgate's.
	printf 'API_KEY=ak_live_second_secret\nDB=sk_live_value_never_shown\nMISSING=x\n' >"$SRV/prod.env"
	deploy_expect 0 argo staging
	grep -rl -e sk_live_value_never_shown -e ak_live_second_secret "$OUT" gitgate/history.jsonl \
		gitgate/logs && fail "a secret's value was written where gitgate reports"
	# Production freezes today: an emergency by a listed user goes through.
	deploy_expect 1 argo production --confirm "$PHRASE"
	contains "$OUT" "no deploys to production today"
	DEPLOYER=mallory deploy_expect 1 argo production --confirm "$PHRASE" --emergency "outage"
	contains "$OUT" "mallory may not declare an emergency"
	deploy_expect 1 argo production --confirm "$PHRASE" --emergency "  "
	contains "$OUT" "an emergency needs a reason"
	deploy_expect 0 argo production --confirm "$PHRASE" --emergency "outage 42"
	"$G" history argo production --format json | grep -q '"emergency": "outage 42"' ||
		fail "the emergency was not recorded"
	"$G" history argo production --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)[-1]
assert (r["user"], r["user_source"]) == ("alice", "env GITGATE_USER"), r
' || fail "the record does not say who deployed, and where the name came from"
	# Names and reasons in a record reach the terminal escaped, even ones
	# that no pusher could give (JSON holds any character).
	python3 - gitgate/history.jsonl <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
r.update(user="eve\x1b[2J\nmallory", user_source="env\x07", emergency="\x1b]0;pwned\x07 outage")
open(sys.argv[1], "a").write(json.dumps(r) + "\n")
PY
	"$G" history argo production >"$OUT" 2>&1
	"$G" status argo production >>"$OUT" 2>&1
	lacks "$OUT" $'\x1b'
	lacks "$OUT" $'\x07'
	contains "$OUT" 'eve\e[2J\nmallory (env\x07)'
	contains "$OUT" 'emergency: \e]0;pwned\x07 outage'
	contains "$OUT" 'by eve\e[2J\nmallory (env\x07)'
}

# A migration that prints its settings (the secret split across two writes)
# and fails, and an app that prints the secret at its start: the env file's
# values are in nothing gitgate shows, logs, records or sends; "***" is
# where they were; a value under 4 characters is left as it is.
t_env_values_are_masked_everywhere_gitgate_reports() {
	new_deploy_server
	ln -s "$GITGATE_BIN/pre-receive" hooks/pre-receive
	ln -s "$GITGATE_BIN/post-receive" hooks/post-receive
	local secret=sk_live_51HxMaskE2eToken0123
	printf 'SECRET_TOKEN=%s\nDEBUG=yes\n' "$secret" >"$SRV/app.env"
	printf '#!/bin/sh\ncat >>"%s/told.jsonl"; echo >>"%s/told.jsonl"\n' "$SRV" "$SRV" >"$SRV/tell"
	chmod +x "$SRV/tell"
	sed -i "s|^keep_releases = 2|keep_releases = 2\nnotify_command = $SRV/tell|" gitgate/rules.ini
	sed -i "/^\[target argo staging\]/a env_file = $SRV/app.env\nenv_required = SECRET_TOKEN\nmigrate = python3 argo/migrate.py" \
		gitgate/rules.ini
	cd ../work
	cat >argo/migrate.py <<'PY'
import os, sys, time
token = os.environ["SECRET_TOKEN"]
sys.stdout.write("migrating with SECRET_TOKEN=" + token[:9])
sys.stdout.flush()
time.sleep(0.3)
print(token[9:] + " DEBUG=" + os.environ["DEBUG"], flush=True)
if os.path.exists(os.path.join(os.path.dirname(__file__), "FAIL_MIGRATE")):
    sys.stderr.write("migration failed: %r\n" % {"SECRET_TOKEN": token})
    sys.exit(3)
PY
	sed -i '1a print("app starts with", os.environ.get("SECRET_TOKEN"), flush=True)' argo/app.py
	git add -A && git commit -qm "migrations"
	push_expect 0 origin main
	local passed=$OUT
	contains "$passed" "remote: gate 11/11  health-after  argo              passed"
	grep -qF "app starts with $secret" ../server.git/gitgate/targets/argo-staging/blue.log ||
		fail "the app did not print the secret to its own log: the test proves nothing"
	touch argo/FAIL_MIGRATE && git add -A && git commit -qm "a failing migration"
	push_expect 0 origin main
	local failed=$OUT
	cd ../server.git
	contains "$failed" "remote: step        slot          argo              failed"
	contains "$failed" "migration failed: {'SECRET_TOKEN': '***'}"
	contains "$failed" "migrating with SECRET_TOKEN=*** DEBUG=yes"
	local shown=$SRV/shown
	{
		"$G" history argo staging
		"$G" history argo staging --format json
		"$G" logs
		for log in gitgate/logs/2*.log; do "$G" logs "$(basename "$log" .log)"; done
	} >"$shown" 2>&1
	# Nowhere in gitgate's state but the app's own logs (the app's to keep).
	seen_nowhere "$secret" "$passed" "$failed" "$shown" "$SRV/told.jsonl" \
		$(find gitgate -type f ! -path 'gitgate/targets/*/blue.log' ! -path 'gitgate/targets/*/green.log')
	# The escaped form a detail shows is masked as well as the raw one.
	seen_nowhere "sk_live_51HxMask" "$failed" "$shown" gitgate/history.jsonl "$SRV/told.jsonl"
	contains "$shown" "migrating with SECRET_TOKEN=*** DEBUG=yes"
	contains gitgate/history.jsonl "{'SECRET_TOKEN': '***'}"
	contains "$SRV/told.jsonl" "{'SECRET_TOKEN': '***'}"
	[ "$(grep -c '"outcome": *"failed"' "$SRV/told.jsonl")" = 1 ] ||
		fail "the failed deploy was not told"
	grep -lF "migration failed: {'SECRET_TOKEN': '***'}" gitgate/logs/2*.log >/dev/null ||
		fail "no deploy log holds the masked failure"
}

t_a_push_deploys_to_staging_and_with_the_phrase_to_production() {
	new_deploy_server
	ln -s "$GITGATE_BIN/pre-receive" hooks/pre-receive
	ln -s "$GITGATE_BIN/post-receive" hooks/post-receive
	git config receive.advertisePushOptions true
	cd ../work
	echo "# one" >>argo/app.py && git commit -qam one
	push_expect 0 origin main
	contains "$OUT" "remote: gate 11/11  health-after  argo              passed"
	contains "$OUT" "remote: gitgate: argo is not deployed to production by this push"
	contains "$OUT" "confirm=$PHRASE"
	[ "$(answers "$S1")" = "$(git rev-parse HEAD)" ] || fail "the push did not deploy staging"
	curl -s --max-time 2 "http://127.0.0.1:$P1/health" >/dev/null && fail "production was deployed without the phrase"
	echo "# two" >>argo/app.py && git commit -qam two
	push_expect 0 -o "confirm=$PHRASE" origin main
	[ "$(grep -c ': deployed' "$OUT")" = 2 ] || fail "expected staging and production deployed"
	[ "$(answers "$P1")" = "$(git rev-parse HEAD)" ] || fail "production does not serve the push"
	# Only what changed deploys: a change outside argo queues nothing for it.
	echo 'export const b = 2;' >>alpine-backend/api.js && git commit -qam "alpine only"
	push_expect 0 origin main
	lacks "$OUT" "argo to staging"
	# -o detach: the push returns, the deploy goes on and is recorded.
	echo "# three" >>argo/app.py && git commit -qam three
	push_expect 0 -o detach origin main
	contains "$OUT" "deploying in the background"
	# Staging: blue, then green, now blue again.
	await_answer "$S1" "$(git rev-parse HEAD)" || fail "the detached deploy did not finish"
	# keep_releases = 2: three staging deploys leave the two the slots hold.
	local tries=0
	until [ "$(ls ../server.git/gitgate/releases/argo-staging | wc -l)" = 2 ] || [ $tries -ge 50 ]; do
		sleep 0.2
		tries=$((tries + 1))
	done
	[ "$(ls ../server.git/gitgate/releases/argo-staging | wc -l)" = 2 ] || fail "old releases were not pruned"
	# Their files are removed after the record, by a process of their own.
	tries=0
	until [ "$(ls -A ../server.git/gitgate/releases/argo-staging | wc -l)" = 2 ] || [ $tries -ge 50 ]; do
		sleep 0.2
		tries=$((tries + 1))
	done
	[ "$(ls -A ../server.git/gitgate/releases/argo-staging | wc -l)" = 2 ] || fail "pruned releases were not swept: $(ls -A ../server.git/gitgate/releases/argo-staging)"
	cd ../server.git
}

t_a_deploy_killed_after_its_switch_is_undone() {
	new_deploy_server
	# A switch that switches, then kills the deploy that ran it.
	cat >"$SRV/switch.sh" <<'SH'
#!/bin/sh
ln -sfn "$2" "$1.new" && mv -T "$1.new" "$1" || exit 1
[ -e "$3" ] && kill -9 "$PPID"
exit 0
SH
	chmod +x "$SRV/switch.sh"
	sed -i "s|^switch = link $SRV/srv/argo-staging-live|switch = command $SRV/switch.sh $SRV/srv/argo-staging-live \$ROOT-\$SLOT $SRV/crash-now|" gitgate/rules.ini
	deploy_expect 0 argo staging
	local good
	good=$(git rev-parse main)
	push_change "next"
	touch "$SRV/crash-now"
	deploy_expect 137 argo staging
	[ "$(readlink "$SRV/srv/argo-staging-live")" = "$SRV/srv/argo-staging-green" ] ||
		fail "the crash was meant to come right after the switch"
	rm "$SRV/crash-now"
	OUT=$(mktemp)
	"$G" deploy --reconcile >"$OUT" 2>&1 || { fail "reconcile failed:"; cat "$OUT"; }
	contains "$OUT" "died after its switch; back on blue"
	[ "$(readlink "$SRV/srv/argo-staging-live")" = "$SRV/srv/argo-staging-blue" ] ||
		fail "reconcile did not switch back"
	[ "$(answers "$S1")" = "$good" ] || fail "the last good version is not serving"
	"$G" history argo staging --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)[-1]
assert (r["outcome"], r["kind"], r["user"]) == ("abandoned", "deploy", "alice"), r
assert r["from"] and r["from"] != r["to"], r
' || fail "the killed deploy was not recorded as abandoned, with its user and revisions"
	# The lock died with the deploy: the next deploy runs.
	deploy_expect 0 argo staging
}

# An nginx of the test's own in front of argo's staging slots (never the
# system's service): NGINX_PORT, its config under $SRV/nginx.
start_nginx() {
	command -v nginx >/dev/null || { fail "nginx is not installed (install.sh --test installs it)"; return 1; }
	local n=$SRV/nginx
	mkdir -p "$n"
	read -r NGINX_PORT _ < <(free_ports)
	nginx_config "$n" "$NGINX_PORT" "$n/argo-staging.upstream" >"$n/nginx.conf"
	echo "server 127.0.0.1:$S1;" >"$n/argo-staging.upstream"
	nginx -p "$n" -c "$n/nginx.conf" -e "$n/error.log" || { fail "nginx did not start"; return 1; }
	sed -i "s|^emergency_users = alice|emergency_users = alice\nnginx = nginx -p $n -c $n/nginx.conf -e $n/error.log\nnginx_pid_file = $n/nginx.pid|" gitgate/rules.ini
	sed -i "s|^switch = link $SRV/srv/argo-staging-live|switch = nginx $n/argo-staging.upstream\nlive_url = http://127.0.0.1:$NGINX_PORT/health|" gitgate/rules.ini
}

t_zero_downtime_through_nginx() {
	new_deploy_server
	start_nginx || return
	deploy_expect 0 argo staging
	# A bounded loop through nginx: at most 100000 requests or 120 s.
	python3 - "http://127.0.0.1:$NGINX_PORT/health" "$SRV/loop.stop" >"$SRV/loop.json" <<'PY' &
import json, os, sys, time, urllib.request
url, stop = sys.argv[1], sys.argv[2]
codes, revisions, n, started = {}, [], 0, time.time()
while n < 100000 and time.time() - started < 120 and not os.path.exists(stop):
    n += 1
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            code, rev = r.status, json.load(r)["revision"]
    except urllib.error.HTTPError as e:
        code, rev = e.code, None
    except Exception as e:
        code, rev = type(e).__name__, None
    codes[str(code)] = codes.get(str(code), 0) + 1
    if rev and (not revisions or revisions[-1] != rev):
        revisions.append(rev)
print(json.dumps({"requests": n, "codes": codes, "revisions": revisions}))
PY
	LOOP_PID=$!
	sleep 0.5
	local n
	for n in 1 2 3; do
		push_change "release $n"
		deploy_expect 0 argo staging
		# nginx's reload lets old and new workers accept side by side for
		# a moment; once the switch has returned, every request reaches
		# the new slot.
		local i
		for i in $(seq 20); do
			[ "$(answers "$NGINX_PORT")" = "$(git rev-parse main)" ] ||
				{ fail "request $i after deploy $n reached the old slot"; break; }
		done
	done
	GITGATE_USER=alice "$G" rollback argo staging >"$SRV/rollback.out" 2>&1 || fail "the rollback failed"
	sleep 0.5
	touch "$SRV/loop.stop"
	wait "$LOOP_PID"
	LOOP_PID=
	python3 - "$SRV/loop.json" "$(git rev-parse main~1)" <<'PY' || fail "requests failed during the deploys: $(cat "$SRV/loop.json")"
import json, sys
r = json.load(open(sys.argv[1]))
print("zero-downtime loop:", r["requests"], "requests,", r["codes"], ",", len(set(r["revisions"])), "versions,", len(r["revisions"]), "changes seen")
assert r["requests"] > 50, r
assert r["codes"] == {"200": r["requests"]}, r
# The first release, three more, and the rollback back to the second of those.
assert len(set(r["revisions"])) == 4, r
assert r["revisions"][-1] == sys.argv[2], r
PY
}

# live_of PROJECT ENV: the slot the live link points at (blue or green).
live_of() {
	readlink "$SRV/srv/$1-$2-live" | sed 's/.*-//'
}

t_a_shared_package_change_tests_every_unit_first() {
	ALPINE=1 new_deploy_server
	ln -s "$GITGATE_BIN/post-receive" hooks/post-receive
	git config receive.advertisePushOptions true
	local first
	first=$(git rev-parse main)
	# deploy all: every unit's tests before any slot starts.
	deploy_expect 0 all staging
	contains "$OUT" "2 units: the gates up to the tests for every one of them first"
	local tests slot
	tests=$(grep -n 'gate  3/11  tests         alpine' "$OUT" | cut -d: -f1)
	slot=$(grep -n 'step        slot          argo' "$OUT" | cut -d: -f1)
	[ -n "$tests" ] && [ -n "$slot" ] && [ "$tests" -lt "$slot" ] ||
		fail "argo's slot started before alpine's tests ran"
	for port in "$S1" "$AB1" "$AF1"; do
		[ "$(answers "$port")" = "$first" ] || fail "port $port does not serve $first"
	done
	# A push that changes packages/ deploys every unit, tests first: one
	# unit failing its tests stops every unit.
	cd ../work
	echo '{"name": "ui", "version": "1.0.1"}' >packages/ui/package.json
	touch alpine-frontend/FAIL_TESTS
	git add -A && git commit -qm "ui 1.0.1"
	push_expect 0 origin main
	contains "$OUT" "remote: gate  3/11  tests         alpine            failed"
	contains "$OUT" "not deployed: every unit must pass its tests before any deploys, and alpine did not"
	lacks "$OUT" "step        slot"
	[ "$(answers "$S1")" = "$first" ] || fail "argo deployed although alpine's tests failed"
	git rm -q alpine-frontend/FAIL_TESTS && git commit -qm "frontend fixed"
	echo '{"name": "ui", "version": "1.0.2"}' >packages/ui/package.json
	git commit -qam "ui 1.0.2"
	push_expect 0 origin main
	[ "$(grep -c ': deployed' "$OUT")" = 2 ] || fail "expected argo and alpine deployed"
	# Production, which needs the phrase, is named with the units it would take.
	contains "$OUT" "remote: gitgate: argo is not deployed to production by this push (it needs the phrase)"
	local second
	second=$(git rev-parse HEAD)
	for port in "$S2" "$AB2" "$AF2"; do
		[ "$(answers "$port")" = "$second" ] || fail "port $port does not serve $second"
	done
	# The coupled projects switch together and go back together when one
	# of them fails gate 11.
	touch alpine-frontend/BROKEN_LIVE && git add -A && git commit -qm "frontend broken once live"
	push_expect 0 origin main
	contains "$OUT" "remote: gate 11/11  health-after  alpine            failed"
	contains "$OUT" "alpine-backend is back on green, healthy"
	contains "$OUT" "alpine-frontend is back on green, healthy"
	lacks "$OUT" "argo to staging"
	[ "$(live_of alpine-backend staging)$(live_of alpine-frontend staging)" = greengreen ] ||
		fail "the alpine projects are not both back on green"
	cd ../server.git
	"$G" history alpine staging --format json | python3 -c '
import json, sys
outcomes = [r["outcome"] for r in json.load(sys.stdin)]
assert outcomes == ["deployed", "failed", "deployed", "rolled-back"], outcomes
' || fail "alpine's history is not deployed, failed, deployed, rolled back"
	"$G" history argo staging --format json | python3 -c '
import json, sys
outcomes = [r["outcome"] for r in json.load(sys.stdin)]
assert outcomes == ["deployed", "refused", "deployed"], outcomes
' || fail "argo's history is not deployed, refused, deployed"
}

t_rollback_to_a_kept_release_or_a_revision() {
	new_deploy_server
	local r1 r3
	r1=$(git rev-parse main)
	deploy_expect 0 argo staging
	push_change "r2"
	deploy_expect 0 argo staging
	push_change "r3"
	r3=$(git rev-parse main)
	deploy_expect 0 argo staging
	# keep_releases = 2: r1's release is gone; it is exported and built
	# again (named by an abbreviated revision, as git takes it).
	ls gitgate/releases/argo-staging | grep -q -- "-${r1:0:12}" && fail "r1's release was kept"
	OUT=$(mktemp)
	GITGATE_USER=alice "$G" rollback argo staging --to "${r1:0:10}" >"$OUT" 2>&1 ||
		{ fail "rollback --to r1 failed:"; cat "$OUT"; }
	contains "$OUT" "rollback --to does not run tests and lint again"
	contains "$OUT" "migrate is not run by a rollback"
	"$G" history argo staging --format json | grep -q '"exported again, installed and built"' ||
		fail "the rollback --to's build gate does not say the release was built again"
	[ "$(answers "$S2")" = "$r1" ] || fail "r1 is not live on green after rollback --to"
	[ "$(live_of argo staging)" = green ] || fail "the live link is not on green"
	# A kept release by its id: r3's, in the blue slot.
	local id
	id=$(ls gitgate/releases/argo-staging | grep -- "-${r3:0:12}")
	OUT=$(mktemp)
	GITGATE_USER=alice "$G" rollback argo staging --to "$id" >"$OUT" 2>&1 ||
		{ fail "rollback --to $id failed:"; cat "$OUT"; }
	"$G" history argo staging --format json | grep -q '"a kept release: built when it was deployed"' ||
		fail "the rollback --to's build gate does not name the kept release"
	[ "$(answers "$S1")" = "$r3" ] || fail "r3 is not live again"
	OUT=$(mktemp)
	GITGATE_USER=alice "$G" rollback argo staging --to "$r3" >"$OUT" 2>&1
	[ $? = 1 ] || fail "rollback --to what is live should be refused"
	contains "$OUT" "runs ${r3:0:12} already"
	GITGATE_USER=alice "$G" rollback argo staging --to nosuch >"$OUT" 2>&1
	[ $? = 2 ] || fail "rollback --to nonsense should be a usage error"
	contains "$OUT" "'nosuch' is neither a kept release nor a commit here"
	"$G" history argo staging --format json | python3 -c '
import json, sys
r = [x for x in json.load(sys.stdin) if x["kind"] == "rollback"]
assert [(x["to"], x["outcome"], x["options"].get("to")) for x in r] == [
    (sys.argv[1], "deployed", sys.argv[3]), (sys.argv[2], "deployed", sys.argv[4])], r
' "$r1" "$r3" "${r1:0:10}" "$id" || fail "the rollbacks were not recorded with --to"
}

t_dry_run_and_detach() {
	new_deploy_server
	deploy_expect 0 argo staging --dry-run
	contains "$OUT" "dry run: nothing is run, locked, switched or recorded"
	contains "$OUT" "argo: export $(git rev-parse --short=12 main), install \`\`, then \`python3 argo/test_app.py\`"
	contains "$OUT" "would start argo in its blue slot on port $S1"
	contains "$OUT" "dry run: argo to staging at $(git rev-parse --short=12 main) would deploy"
	[ -e gitgate/history.jsonl ] && fail "a dry run wrote a record"
	[ -e gitgate/releases/argo-staging ] && [ -n "$(ls gitgate/releases/argo-staging)" ] && fail "a dry run exported"
	curl -s --max-time 2 "http://127.0.0.1:$S1/health" >/dev/null && fail "a dry run started the app"
	deploy_expect 1 argo production --dry-run
	contains "$OUT" "needs the exact phrase"
	contains "$OUT" "would not deploy"
	# --detach: queued, and the worker deploys after the command returned.
	deploy_expect 0 argo staging --detach
	contains "$OUT" "queued: argo to staging"
	local tries=0
	until ls gitgate/logs/2*.log >/dev/null 2>&1 || [ $tries -ge 100 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	# logs --follow: the gates as they pass, until the deploy has ended.
	timeout 60 "$G" logs --follow >"$SRV/follow.txt" 2>&1 || fail "logs --follow failed or did not end"
	contains "$SRV/follow.txt" "gate 11/11  health-after  argo              passed"
	"$G" history argo staging --format json | grep -q '"outcome": "deployed"' ||
		fail "logs --follow ended before the deploy was recorded"
	await_answer "$S1" "$(git rev-parse main)" || fail "the detached deploy did not go live"
	# A reason that is not UTF-8 is queued escaped, never refused.
	deploy_expect 0 argo staging --detach --emergency $'fix \xff now'
	contains "$OUT" "queued: argo to staging"
	tries=0
	until "$G" history argo staging --format json | grep -qF 'fix \\xff now' || [ $tries -ge 100 ]; do
		sleep 0.2
		tries=$((tries + 1))
	done
	"$G" history argo staging --format json | grep -qF 'fix \\xff now' ||
		{ fail "the reason was not recorded escaped:"; "$G" history argo staging --format json | tail -c 600; }
}

t_a_push_cut_off_before_post_receive_is_deployed_by_reconcile() {
	new_deploy_server
	# pre-receive passes, then takes its time: the pusher hangs up meanwhile,
	# so git moves the ref but never runs post-receive.
	printf '#!/bin/sh\n"%s/pre-receive" || exit $?\ntouch "%s/pre-receive-passed"\nsleep 2\n' \
		"$GITGATE_BIN" "$SRV" >hooks/pre-receive
	chmod +x hooks/pre-receive
	ln -s "$GITGATE_BIN/post-receive" hooks/post-receive
	git config receive.advertisePushOptions true
	cd ../work
	echo "# cut off" >>argo/app.py && git commit -qam "cut off"
	git push -q -o "confirm=$PHRASE" origin main >/dev/null 2>&1 &
	local pusher=$! tries=0
	until [ -e "$SRV/pre-receive-passed" ] || [ $tries -ge 100 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	kill -9 "$pusher"
	wait "$pusher" 2>/dev/null
	local tip
	tip=$(git rev-parse HEAD)
	cd ../server.git
	tries=0
	until [ "$(git rev-parse main)" = "$tip" ] || [ $tries -ge 50 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	[ "$(git rev-parse main)" = "$tip" ] || { fail "git did not take the push"; return; }
	[ -e gitgate/queue ] && [ -n "$(ls gitgate/queue)" ] && fail "post-receive ran after all: the test shows nothing"
	# Reconcile finds the tip once the receive-pack that took it is gone.
	OUT=$(mktemp)
	tries=0
	until grep -q "its push ended before its deploys were queued" "$OUT" || [ $tries -ge 30 ]; do
		"$G" deploy --reconcile >"$OUT" 2>&1 || { fail "reconcile failed:"; cat "$OUT"; return; }
		sleep 0.2
		tries=$((tries + 1))
	done
	contains "$OUT" "${tip:0:12} was pushed to main by"
	contains "$OUT" "argo is not deployed to production by this push"
	[ "$(answers "$S1")" = "$tip" ] || fail "reconcile did not deploy the tip to staging"
	"$G" history argo production --format json | grep -q '"kind"' && fail "production was deployed without the phrase"
	# Found once: the next reconcile has nothing to do.
	"$G" deploy --reconcile >"$OUT" 2>&1 || fail "the second reconcile failed"
	lacks "$OUT" "its push ended"
}

t_lint_build_and_health_before_each_stop_a_deploy() {
	new_deploy_server
	sed -i "/^\[target argo staging\]/a lint = sh -c \"test ! -e argo/FAIL_LINT\"\nbuild = sh -c \"test ! -e argo/FAIL_BUILD\"" \
		gitgate/rules.ini
	deploy_expect 0 argo staging
	push_change "lint fails" argo/FAIL_LINT
	deploy_expect 1 argo staging
	contains "$OUT" "gate  4/11  lint          argo              failed"
	[ "$(answers "$S1")" != "$(git rev-parse main~1)" ] && fail "the live version changed"
	(cd ../work && git rm -q argo/FAIL_LINT && touch argo/FAIL_BUILD && git add -A &&
		git commit -qm "build fails" && git push -q origin main)
	deploy_expect 1 argo staging
	contains "$OUT" "gate  5/11  build         argo              failed"
	(cd ../work && git rm -q argo/FAIL_BUILD && git commit -qm "builds" && git push -q origin main)
	# What is live breaks: gate 9 refuses to deploy over it, unless an
	# emergency (the fix for a broken production) says so.
	touch "$SRV/srv/argo-staging-blue/argo/BROKEN"
	deploy_expect 1 argo staging
	contains "$OUT" "gate  9/11  health-before argo              failed"
	deploy_expect 0 argo staging --emergency "staging is down"
	contains "$OUT" "(emergency: going on)"
	"$G" history argo staging --format json | python3 -c '
import json, sys
failed = [(r["outcome"], [g["name"] for g in r["gates"] if g["result"] == "failed"]) for r in json.load(sys.stdin)]
assert failed == [("deployed", []), ("failed", ["lint"]), ("failed", ["build"]),
                  ("failed", ["health-before"]), ("deployed", [])], failed
' || fail "the history does not name the gate that stopped each deploy"
	[ "$(answers "$S2")" = "$(git rev-parse main)" ] || fail "the emergency deploy is not live"
}

t_a_push_to_a_deploy_ref_deploys_what_is_on_the_branch() {
	new_deploy_server
	ln -s "$GITGATE_BIN/pre-receive" hooks/pre-receive
	ln -s "$GITGATE_BIN/post-receive" hooks/post-receive
	git config receive.advertisePushOptions true
	cd ../work
	echo "# staged" >>argo/app.py && git commit -qam staged
	push_expect 0 origin main
	[ "$(answers "$S1")" = "$(git rev-parse HEAD)" ] || fail "the push did not deploy staging"
	# No shell on the server: production, by a push of what main holds.
	push_expect 0 origin main:refs/deploy/production
	contains "$OUT" "needs the exact phrase"
	push_expect 0 -o "confirm=$PHRASE" origin main:refs/deploy/production
	contains "$OUT" "remote: gate 11/11  health-after  argo              passed"
	[ "$(answers "$P1")" = "$(git rev-parse HEAD)" ] || fail "the deploy ref did not deploy production"
	[ -z "$(git -C ../server.git for-each-ref refs/deploy)" ] || fail "the deploy ref stayed"
	# What runs there already is not deployed again.
	push_expect 0 origin main:refs/deploy/staging
	contains "$OUT" "argo in staging runs $(git rev-parse --short=12 HEAD) already"
	lacks "$OUT" "gate  3/11"
	# Only what is on the deploy branch, only to an environment.
	git checkout -q -b side && echo "# side" >>argo/app.py && git commit -qam side
	push_expect 1 -o "confirm=$PHRASE" origin side:refs/deploy/production
	contains "$OUT" "deploy-ref: a deploy ref deploys only what is on the deploy branch"
	push_expect 1 origin main:refs/deploy/nowhere
	contains "$OUT" "deploy-ref: no environment of rules.ini has this name"
	[ "$(answers "$P1")" = "$(git rev-parse main)" ] || fail "production changed"
	cd ../server.git
}

t_usage_errors_exit_2() {
	new_deploy_server
	deploy_expect 2 nosuch staging
	contains "$OUT" "no such unit"
	deploy_expect 2 argo nowhere
	deploy_expect 2 argo staging --rev not-a-revision
	contains "$OUT" "'not-a-revision' is not a commit here"
	deploy_expect 2 argo
}

run_tests
