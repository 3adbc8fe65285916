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
	ln -s "$GITGATE_BIN/pre-receive" hooks/pre-receive
	ln -s "$GITGATE_BIN/post-receive" hooks/post-receive
	git config receive.advertisePushOptions true
	local outside inside
	outside=$(hours_from_now 2 3)
	inside=$(hours_from_now -1 1)
	staging_hours "$outside"
	"$G" rules | grep -q "deploys start $outside" || fail "gitgate rules does not show the hours"
	cd ../work
	echo "# outside" >>argo/app.py && git commit -qam outside
	push_expect 0 origin main
	contains "$OUT" "remote: step        hours         argo              failed"
	contains "$OUT" "deploys to staging start within $outside only ([environment staging] deploy_hours), and it is"
	contains "$OUT" "an emergency goes through: -o \"emergency=REASON\""
	lacks "$OUT" "gate  3/11"
	curl -s --max-time 2 "http://127.0.0.1:$S1/health" >/dev/null && fail "staging was deployed outside its hours"
	(cd ../server.git && last_staging_record) >record.txt
	contains record.txt "refused hours:failed None $(git rev-parse HEAD)"
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

run_tests
