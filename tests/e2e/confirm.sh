#!/usr/bin/env bash
# End-to-end: what makes a deploy confirmed, through real pushes into a
# server's bare repository and real apps on 127.0.0.1: deploy_hours, and
# the health confirmation report and its sign-off. Every app a test starts
# is stopped by its pid when the test ends, passed or failed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy_lib.sh"

# hours_from_now FROM TO: "HH:MM-HH:MM", FROM and TO hours from now (UTC).
hours_from_now() {
	local now
	now=$(date -u +%s)
	printf '%s-%s' "$(date -u -d "@$((now + $1 * 3600))" +%H:%M)" \
		"$(date -u -d "@$((now + $2 * 3600))" +%H:%M)"
}

# staging_hours SPAN: [environment staging] deploy_hours = SPAN
staging_hours() {
	sed -i '/^deploy_hours = /d' "$SRV/server.git/gitgate/rules.ini"
	sed -i "s/^\\[environment staging\\]/[environment staging]\\ndeploy_hours = $1/" \
		"$SRV/server.git/gitgate/rules.ini"
}

# The last record in staging: its outcome, its calendar steps (freeze,
# hours) with their results, its emergency and its revision.
last_staging_record() {
	"$G" history argo staging --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)[-1]
steps = " ".join("%s:%s" % (g["name"], g["result"]) for g in r["gates"] if g["name"] in ("freeze", "hours"))
print(r["outcome"], steps, r.get("emergency"), r["to"])'
}

t_deploy_hours_refuse_a_push_outside_them_and_an_emergency_goes_through() {
	new_deploy_server
	server_hooks
	local outside inside
	outside=$(hours_from_now 2 3)
	inside=$(hours_from_now -1 1)
	staging_hours "$outside"
	"$G" rules | grep -q "deploys start $outside" || fail "gitgate rules does not show the hours"
	cd ../work
	echo "# outside" >>argo/app.py && git commit -qam outside
	push_expect 0 origin main
	contains "$OUT" "remote: step        hours         argo              refused"
	contains "$OUT" "deploys to staging start within $outside only ([environment staging] deploy_hours), and it is"
	contains "$OUT" "an emergency goes through: -o \"emergency=REASON\""
	lacks "$OUT" "gate  3/11"
	curl -s --max-time 2 "http://127.0.0.1:$S1/health" >/dev/null && fail "staging was deployed outside its hours"
	(cd ../server.git && last_staging_record) >record.txt
	contains record.txt "refused hours:refused None $(git rev-parse HEAD)"
	# An emergency by a listed user goes through, and is recorded.
	echo "# emergency" >>argo/app.py && git commit -qam emergency
	push_expect 0 -o "emergency=hotfix 7" origin main
	contains "$OUT" "remote: step        hours         argo              passed"
	contains "$OUT" "only ([environment staging] deploy_hours), and it is"
	contains "$OUT" ": an emergency goes through"
	contains "$OUT" ": deployed"
	[ "$(answers "$S1")" = "$(git rev-parse HEAD)" ] || fail "the emergency did not deploy staging"
	(cd ../server.git && last_staging_record) >record.txt
	contains record.txt "deployed hours:passed hotfix 7 $(git rev-parse HEAD)"
	# Within the hours (a span through midnight when now is near it), no word of them.
	staging_hours "$inside"
	echo "# inside" >>argo/app.py && git commit -qam inside
	push_expect 0 origin main
	lacks "$OUT" "hours"
	contains "$OUT" ": deployed"
	[ "$(answers "$S2")" = "$(git rev-parse HEAD)" ] || fail "staging does not serve the push within its hours"
	(cd ../server.git && last_staging_record) >record.txt
	contains record.txt "deployed  None $(git rev-parse HEAD)"
}

# screenshot HTML PNG: the page in headless chromium (Debian's), in a
# session of its own that the cleanup ends by its pid.
screenshot() {
	setsid timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--window-size=1100,1800 --screenshot="$2" "file://$1" >"$2.log" 2>&1 &
	local pid=$!
	track "$pid"
	wait "$pid" || { fail "chromium could not take the screenshot:"; sed 's/^/      /' "$2.log"; }
}

# colours PNG: what it holds, "key value" lines (png_colors.py): the
# timeline's green and red, and the verdict's.
colours() {
	python3 "$GITGATE_SOURCE/tests/e2e/png_colors.py" "$1" passed=2e7d32 failed=c62828 \
		skipped=9e9e9e
}

# value KEY FILE: the number png_colors.py said for KEY.
value() { sed -n "s/^$1 //p" "$2"; }

# The newest deploy id in staging.
last_id() { "$G" history argo staging --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])'; }

t_a_deploys_report_in_every_format_its_sign_off_and_no_secret() {
	new_deploy_server
	server_hooks
	local secret=sk_live_51ReportSecretValue9
	printf 'SECRET_TOKEN=%s\n' "$secret" >"$SRV/app.env"
	sed -i "/^\[target argo staging\]/a env_file = $SRV/app.env\nenv_required = SECRET_TOKEN\nmigrate = python3 argo/migrate.py" \
		gitgate/rules.ini
	cd ../work
	cat >argo/migrate.py <<'PY'
import os, sys
print("migrating with", os.environ["SECRET_TOKEN"], flush=True)
sys.exit(3 if os.path.exists(os.path.join(os.path.dirname(__file__), "FAIL_MIGRATE")) else 0)
PY
	git add -A && git commit -qm "a migration" && push_expect 0 origin main
	contains "$OUT" ": deployed"
	cd ../server.git
	local id
	id=$(last_id)
	"$G" report "$id" >report.txt 2>&1 || { fail "report failed:"; cat report.txt; }
	contains report.txt "Health confirmation report: deploy $id"
	contains report.txt "  by            alice (env GITGATE_USER)"
	contains report.txt "  to            $(git rev-parse main)"
	contains report.txt "  outcome       deployed (the deploy's)"
	contains report.txt "  confirmed     no: no one has signed it off (gitgate signoff ID)"
	grep -Eq '^  3    tests +passed +[0-9.]+ +tests passed$' report.txt || fail "no tests gate in the report"
	grep -Eq '^  11   health-after +passed ' report.txt || fail "no gate 11 in the report"
	grep -Eq '^  step slot +passed ' report.txt || fail "no slot step in the report"
	grep -Eq "GET http://127.0.0.1:$S1/health +[0-9]+ +ok" report.txt || fail "no health check in the report"
	# Signed off, with a note that holds the secret: recorded masked.
	OUT=$(mktemp)
	"$G" signoff "$id" --note "checked with $secret, all good" >"$OUT" 2>&1 || { fail "signoff failed:"; cat "$OUT"; }
	contains "$OUT" "deploy $id (deployed) signed off by alice"
	contains gitgate/history.jsonl '"kind":"signoff","deploy":"'"$id"'","by":"alice","by_source":"env GITGATE_USER","note":"checked with ***, all good"'
	"$G" history >history.txt 2>&1
	contains history.txt "    signed off $id by alice at "
	contains history.txt ": checked with ***, all good"
	"$G" status argo staging >status.txt 2>&1
	contains status.txt "last: deploy $id deployed"
	"$G" report "$id" >report.txt 2>&1
	contains report.txt "  confirmed     yes"
	contains report.txt "  checks passed "
	grep -Eq '^  alice \(env GITGATE_USER\) +20[0-9-]+T[0-9:]+Z +checked with \*\*\*, all good$' report.txt ||
		fail "the sign-off is not in the report"
	"$G" report "$id" --format md >report.md 2>&1
	contains report.md "# Health confirmation report: deploy $id"
	contains report.md "- **confirmed**: yes"
	contains report.md "| gate | name | result | seconds | detail |"
	contains report.md "| checked with \*\*\*, all good |"
	"$G" report "$id" --format json >report.json 2>&1
	python3 - report.json "$id" <<'PY' || fail "the JSON report is not what it should be"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["id"] == sys.argv[2] and r["confirmed"] is True and r["why"] is None, r
assert r["checks"]["total"] >= 2 and r["checks"]["passed"] == r["checks"]["total"], r["checks"]
assert [g["number"] for g in r["deploy"]["gates"] if g["number"]] == [1, 2, 7, 8, 3, 4, 5, 6, 9, 10, 11], r
assert r["signoffs"][0]["by"] == "alice" and r["watch"] is None, r
PY
	"$G" report "$id" --format html >report.html 2>&1
	grep -Eqi '<script|<link|src=|href=|url\(|@import' report.html && fail "the page loads something from elsewhere"
	contains report.html '<svg id="timeline"'
	contains report.html ">Confirmed</p>"
	screenshot "$PWD/report.html" "$PWD/deployed.png"
	colours "$PWD/deployed.png" >deployed.txt
	[ "$(value colours deployed.txt)" -gt 50 ] || fail "the screenshot is nearly blank: $(cat deployed.txt)"
	[ "$(value passed deployed.txt)" -gt 2000 ] || fail "no green bars or verdict in the screenshot: $(cat deployed.txt)"
	[ "$(value failed deployed.txt)" = 0 ] || fail "red in a deploy that passed: $(cat deployed.txt)"
	# A migration that prints the secret and fails: the report shows the
	# step red, the secret nowhere, and the deploy cannot be signed off.
	(cd ../work && touch argo/FAIL_MIGRATE && git add -A && git commit -qm "failing migration" &&
		git push -q origin main) >/dev/null 2>&1
	local failed
	failed=$(last_id)
	[ "$failed" != "$id" ] || fail "the failing deploy has no record"
	"$G" report "$failed" >failed.txt 2>&1
	contains failed.txt "  outcome       failed (the deploy's)"
	grep -Eq '^  step slot +failed +[0-9.]+ +exited with 3 \(argo: python3 argo/migrate.py\)$' failed.txt ||
		fail "the failed step is not in the report"
	grep -Eq '^ {30,}migrating with \*\*\*$' failed.txt || fail "the step's masked output is not in the report, a line of its own"
	"$G" report "$failed" --format html >failed.html 2>&1
	contains failed.html ">Not confirmed</p>"
	screenshot "$PWD/failed.html" "$PWD/failed.png"
	colours "$PWD/failed.png" >failed-colours.txt
	[ "$(value failed failed-colours.txt)" -gt 1000 ] || fail "no red in the failed deploy's screenshot: $(cat failed-colours.txt)"
	[ "$(value passed failed-colours.txt)" -gt 100 ] || fail "no green gate in the failed deploy's screenshot: $(cat failed-colours.txt)"
	local records
	records=$(wc -l <gitgate/history.jsonl)
	OUT=$(mktemp)
	"$G" signoff "$failed" >"$OUT" 2>&1
	[ $? = 1 ] || fail "a failed deploy was signed off"
	contains "$OUT" "its latest outcome is failed: only a deployed or confirmed deploy is signed off"
	[ "$(wc -l <gitgate/history.jsonl)" = "$records" ] || fail "a refused sign-off wrote a record"
	"$G" report 20200101-000000-0000 >unknown.txt 2>&1
	[ $? = 2 ] || fail "an unknown deploy's report did not exit 2"
	contains unknown.txt "no deploy 20200101-000000-0000 in the history"
	"$G" report "$id" --format pdf >/dev/null 2>&1
	[ $? = 2 ] || fail "an unknown format did not exit 2"
	seen_nowhere_in "$secret" report.txt report.md report.json report.html failed.txt failed.html \
		history.txt gitgate/history.jsonl
}

# seen_nowhere_in VALUE FILE...: VALUE is in none of the files.
seen_nowhere_in() {
	local value=$1 f
	shift
	for f in "$@"; do
		grep -qaF -- "$value" "$f" && fail "the secret's value is in $f"
	done
	return 0
}

run_tests
