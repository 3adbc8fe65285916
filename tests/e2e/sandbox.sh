#!/usr/bin/env bash
# End-to-end: pushed code has no power over the gate. A change that deploys
# only to staging brings a test (gate 3), an app (run) and a migration that
# try to read production's env file, rules.ini, history.jsonl and the ssh
# key, and to write rules.ini, the state folder and production's root.
# In the sandbox (bubblewrap) each attempt fails, nothing changes, no
# secret shows anywhere, and the app still gets its own variables, writes
# its own slot and serves. With sandbox = no the very same push gets
# through: the checks here can fail.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy_lib.sh"

PROD_SECRET=prod-secret-4f9a1c2e
OWN_TOKEN=staging-token-77e2d0

# The deploy server with env files for both targets, an ssh key, a migrate
# for staging, `sandbox = MODE`, the hooks, and argo/evil.py: with
# argo/ATTACK in the tree, `evil.attack(WHO)` tries every path of
# argo/paths.txt, prints whatever it could read and writes what happened
# to report-WHO in its folder (the release, the slot).
new_sandbox_server() {
	new_deploy_server
	mkdir -p "$SRV/env" "$SRV/keys"
	echo "PROD_SECRET=$PROD_SECRET" >"$SRV/env/production.env"
	echo "OWN_TOKEN=$OWN_TOKEN" >"$SRV/env/staging.env"
	chmod 600 "$SRV"/env/*.env
	ssh-keygen -q -t ed25519 -N "" -C gitgate-test -f "$SRV/keys/id_deploy"
	# Its fourth line is the private key's own (the first two are a header).
	KEY_LINE=$(sed -n 4p "$SRV/keys/id_deploy")
	sed -i -e "/^\\[target argo staging\\]/a env_file = $SRV/env/staging.env\\nmigrate = python3 argo/evil.py migrate" \
		-e "/^\\[target argo production\\]/a env_file = $SRV/env/production.env" \
		-e "s|^\\[deploy\\]|[deploy]\\nssh_identity = $SRV/keys/id_deploy\\nsandbox = $1|" gitgate/rules.ini
	ln -s "$GITGATE_BIN/pre-receive" hooks/pre-receive
	ln -s "$GITGATE_BIN/post-receive" hooks/post-receive
	git config receive.advertisePushOptions true
	cat >../work/argo/paths.txt <<EOF
prod_env=$SRV/env/production.env
rules=$SRV/server.git/gitgate/rules.ini
history=$SRV/server.git/gitgate/history.jsonl
key=$SRV/keys/id_deploy
state=$SRV/server.git/gitgate
prod_root=$SRV/srv/argo-production-blue
EOF
	cp "$GITGATE_SOURCE/tests/e2e/attempt.py" ../work/argo/
	cat >../work/argo/evil.py <<'PY'
import errno, os, sys
from attempt import attempt
here = os.path.dirname(os.path.abspath(__file__))

def attack(who):
    if not os.path.exists(os.path.join(here, "ATTACK")):
        return
    p = dict(l.split("=", 1) for l in open(os.path.join(here, "paths.txt")).read().split("\n") if l)
    report = []
    for name in ("prod_env", "rules", "history", "key"):
        attempt(report, "read " + name, lambda: open(p[name]).read())
    try:
        report.append("list state: " + " ".join(sorted(os.listdir(p["state"]))))
    except OSError as e:
        report.append("list state: " + errno.errorcode[e.errno])
    attempt(report, "write rules", lambda: open(p["rules"], "a").write("\n[deploy]\nemergency_users = mallory\n") and None)
    attempt(report, "write state", lambda: open(os.path.join(p["state"], "evil"), "w").write("x") and None)
    attempt(report, "write prod_root", lambda: open(os.path.join(p["prod_root"], "evil"), "w").write("x") and None)
    report.append("env own: " + ("yes" if os.environ.get("OWN_TOKEN", "").startswith("staging-token-") else "no"))
    report.append("env prod: " + ("yes" if "PROD_SECRET" in os.environ else "no"))
    attempt(report, "write own", lambda: open("own-file", "w").write(who) and None)
    with open("report-" + who, "w") as f:
        f.write("\n".join(report) + "\n")

if __name__ == "__main__":
    attack(sys.argv[1])
PY
	sed -i '1i import evil; evil.attack("test")' ../work/argo/test_app.py
	sed -i '1a import evil; evil.attack("run")' ../work/argo/app.py
	(cd ../work && git add -A && git commit -qm "argo with evil.py, idle" && git push -q origin main)
}

# The checksums of what no pushed code may change.
admin_sums() {
	(cd "$SRV" && sha256sum env/production.env env/staging.env keys/id_deploy server.git/gitgate/rules.ini
	 find -L srv/argo-production-blue -type f -exec sha256sum {} + | sort)
}

# Staging and production live at one revision, then the attack pushed: it
# deploys to staging only. The report files of the new staging slot are
# left in $REPORTS.
push_the_attack() {
	deploy_expect 0 argo to staging
	deploy_expect 0 argo to production --confirm "$PHRASE"
	[ "$(answers "$P1")" = "$(git rev-parse main)" ] || fail "production does not serve the first revision"
	BEFORE=$(admin_sums)
	cd ../work
	touch argo/ATTACK && git add -A && git commit -qm "attack" && push_expect 0 origin main
	PUSH_OUT=$OUT
	cd ../server.git
	REPORTS=$(readlink -f "$SRV/srv/argo-staging-live")
}

# No secret in the push's output, the deploy logs, history.jsonl, the
# reports: returns 1 when one is found.
no_secret_anywhere() {
	! grep -rqF -e "$PROD_SECRET" -e "$KEY_LINE" -e "$OWN_TOKEN" "$PUSH_OUT" gitgate/logs gitgate/history.jsonl "$REPORTS"
}

t_pushed_code_reaches_no_admin_file_and_changes_nothing() {
	new_sandbox_server auto
	push_the_attack
	contains "$PUSH_OUT" "remote: gate  1/11  identify"
	lacks "$PUSH_OUT" "not sandboxed"
	tail -1 gitgate/history.jsonl | grep -q 'first deploy; sandboxed (bubblewrap)\|; sandboxed (bubblewrap)' || fail "gate 1's detail does not say sandboxed"
	contains "$PUSH_OUT" "remote: gate 11/11  health-after  argo              passed"
	local live=$S1
	[ "$(readlink "$SRV/srv/argo-staging-live")" = "$SRV/srv/argo-staging-green" ] && live=$S2
	[ "$(answers "$live")" = "$(git rev-parse main)" ] || fail "staging's live slot does not serve the attack's revision"
	local who line
	for who in test run migrate; do
		[ -s "$REPORTS/report-$who" ] || { fail "no report from the $who"; continue; }
		# Only the folders on the way to the release are there.
		grep -qE "^list state: (ENOENT|EACCES|releases)$" "$REPORTS/report-$who" ||
			fail "$who: $(grep "^list state:" "$REPORTS/report-$who")"
		for line in "read prod_env" "read rules" "read history" "read key" \
			"write rules" "write state" "write prod_root"; do
			grep -qE "^$line: (ENOENT|EACCES|EROFS)$" "$REPORTS/report-$who" ||
				fail "$who: $(grep "^$line:" "$REPORTS/report-$who")"
		done
		contains "$REPORTS/report-$who" "env prod: no"
		contains "$REPORTS/report-$who" "write own: ok"
	done
	# Gate 3 gets no env file; the app and its migration get their own.
	contains "$REPORTS/report-test" "env own: no"
	contains "$REPORTS/report-run" "env own: yes"
	contains "$REPORTS/report-migrate" "env own: yes"
	[ "$(cat "$REPORTS/own-file")" = migrate ] || fail "the app's slot was not written"
	[ "$(admin_sums)" = "$BEFORE" ] || fail "an admin file changed: $(diff <(echo "$BEFORE") <(admin_sums))"
	[ -z "$(find "$SRV" -name evil -newer "$REPORTS/report-test")" ] || fail "a file named evil was written: $(find "$SRV" -name evil)"
	lacks gitgate/rules.ini mallory
	no_secret_anywhere || fail "a secret shows in an output or record: $(grep -rlF -e "$PROD_SECRET" -e "$KEY_LINE" -e "$OWN_TOKEN" "$PUSH_OUT" gitgate "$REPORTS")"
	tail -1 gitgate/history.jsonl | grep -q '"sandbox": *"bubblewrap"' || fail "the record does not say the deploy was sandboxed"
}

t_without_the_sandbox_the_same_push_reaches_them() {
	new_sandbox_server no
	push_the_attack
	contains "$PUSH_OUT" "warning: gitgate: not sandboxed: sandbox = no in rules.ini (the pushed code runs as"
	contains "$REPORTS/report-test" "read prod_env: ok"
	contains "$REPORTS/report-run" "write prod_root: ok"
	contains "$REPORTS/report-migrate" "read key: ok"
	grep -q "^list state: .*history.jsonl" "$REPORTS/report-run" || fail "the app did not list the state folder"
	[ "$(admin_sums)" != "$BEFORE" ] || fail "the admin files did not change: the check above cannot fail"
	contains gitgate/rules.ini mallory
	no_secret_anywhere && fail "no secret showed: the check above cannot fail"
	tail -1 gitgate/history.jsonl | grep -q '"sandbox": *"none: sandbox = no' || fail "the record does not say sandbox = no"
}

t_sandbox_yes_without_bubblewrap_refuses_and_auto_says_so() {
	new_deploy_server
	sed -i "s|^\\[deploy\\]|[deploy]\\nsandbox_bwrap = /nonexistent/bwrap\\nsandbox = yes|" gitgate/rules.ini
	deploy_expect 1 argo to staging
	contains "$OUT" "gate  1/11  identify"
	contains "$OUT" "not sandboxed: no bubblewrap at /nonexistent/bwrap"
	contains "$OUT" "(sandbox = yes: no deploy)"
	lacks "$OUT" "gate  3/11"
	curl -s --max-time 2 "http://127.0.0.1:$S1/health" >/dev/null && fail "staging was deployed without a sandbox"
	"$G" rules >rules.txt 2>&1
	contains rules.txt "not sandboxed: no bubblewrap at /nonexistent/bwrap"
	sed -i "s|^sandbox = yes|sandbox = auto|" gitgate/rules.ini
	deploy_expect 0 argo to staging
	contains "$OUT" "not sandboxed: no bubblewrap at /nonexistent/bwrap"
	tail -1 gitgate/history.jsonl | grep -q '"sandbox": *"none: no bubblewrap' || fail "the record does not say there was no sandbox"
}

# sandbox_network = no cuts the network of gates 3-5 (the app serves: it
# keeps it); sandbox_user runs every command and the app as that user.
t_sandbox_network_no_and_sandbox_user() {
	[ "$(id -u)" = 0 ] || { echo "SKIPPED: only root may switch users"; return; }
	new_deploy_server
	local user=gg-sandbox-$$
	useradd --system --no-create-home --shell /usr/sbin/nologin "$user" || { fail "useradd failed"; return; }
	trap 'stop_apps; userdel "$user" 2>/dev/null' EXIT
	# The release is bound from the state folder: its parents let the user through.
	chmod 755 "$SRV" "$SRV/.."
	sed -i "s|^\\[deploy\\]|[deploy]\\nsandbox = yes\\nsandbox_network = no\\nsandbox_user = $user|" gitgate/rules.ini
	printf 'import os, socket\nopen("whoami", "w").write(str(os.getuid()))\ntry:\n    socket.create_connection(("127.0.0.1", %s), 2)\n    open("net", "w").write("yes")\nexcept OSError:\n    open("net", "w").write("no")\n' "$P1" >../work/argo/test_app.py
	python3 -m http.server --bind 127.0.0.1 "$P1" >/dev/null 2>&1 &
	track $!
	(cd ../work && git commit -qam "who am i" && git push -q origin main)
	deploy_expect 0 argo to staging
	local rel pid
	rel=$(readlink -f "$SRV/srv/argo-staging-blue")
	[ "$(cat "$rel/whoami")" = "$(id -u "$user")" ] || fail "the tests ran as uid $(cat "$rel/whoami" 2>/dev/null), not $user's"
	[ "$(cat "$rel/net")" = no ] || fail "the tests reached 127.0.0.1:$P1 with sandbox_network = no"
	[ "$(answers "$S1")" = "$(git rev-parse main)" ] || fail "the app does not serve"
	read -r pid _ <gitgate/targets/argo-staging/blue.pid
	[ "$(stat -c %u "/proc/$pid")" = "$(id -u "$user")" ] || fail "the app does not run as $user"
	stop_apps
	userdel "$user" 2>/dev/null
}

# A sandboxed command past its time limit ends with its whole pid
# namespace: its child and grandchild too.
t_a_hung_sandboxed_command_ends_with_everything_it_started() {
	new_deploy_server
	local mark=$((3000 + RANDOM % 1000))
	sed -i "/^\[target argo staging\]/,/^\[/{s|^test = .*|test = sh -c 'sh -c \"sleep $mark \& wait\" \& sleep $mark'|}
		/^\[target argo staging\]/a command_timeout_seconds = 2" gitgate/rules.ini
	local t0=$SECONDS
	deploy_expect 1 argo staging
	[ $((SECONDS - t0)) -lt 15 ] || fail "the deploy took $((SECONDS - t0)) s past a 2 s limit"
	contains "$OUT" "time limit"
	sleep 0.5
	pgrep -f "^sleep $mark\$" >/dev/null && fail "a sleep $mark of the test outlived its time limit: $(pgrep -af "sleep $mark")"
	true
}

run_tests
