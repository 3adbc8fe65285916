#!/usr/bin/env bash
# End-to-end: the deploy engine under faults and bad input, through real
# pushes into a real bare repository and real apps on 127.0.0.1. A worker
# killed with -9 at each point of a deploy, a client that hangs up, pushes
# that overlap; a missing or unreadable env file, a taken port, a command
# that hangs, a health URL that never answers, a pushed rules.ini, shell
# metacharacters in names, a full disk. Every process a test starts is
# stopped by its pid at the end (deploy_lib.sh's stop_apps).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy_lib.sh"

# Is PID gone (no such process, or a zombie nobody reaped)?
gone() {
	local state
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ]
}

# The deploy server of deploy_lib.sh with its hooks, and argo's staging
# target running its commands through $SRV/hold, which stops at the point
# $SRV/hold-at names: it writes $SRV/marks/POINT ("PID PPID") and waits
# for $SRV/marks/POINT.go, at most 60 s. The points: tests (gate 3), build
# (gate 5, the export made and tested), slot (the new slot's app starting),
# switch (right after the live link moved), gate11 (the app's answer to
# the live URL). Each command also appends "begin|end POINT REVISION" to
# $SRV/order.
new_fault_server() {
	new_deploy_server
	mkdir -p "$SRV/marks"
	cat >"$SRV/hold" <<SH
#!/bin/sh
srv=$SRV
point=\$1
shift
echo "begin \$point \$REVISION" >>"\$srv/order"
if [ "\$(cat "\$srv/hold-at" 2>/dev/null)" = "\$point" ]; then
	echo "\$\$ \$(sed 's/.*) //' /proc/\$\$/stat | cut -d' ' -f20)" >>"\$srv/pids"
	echo "\$\$ \$PPID" >"\$srv/marks/\$point.tmp" && mv "\$srv/marks/\$point.tmp" "\$srv/marks/\$point"
	n=0
	while [ ! -e "\$srv/marks/\$point.go" ] && [ \$n -lt 600 ]; do sleep 0.1; n=\$((n + 1)); done
fi
[ "\$point" = slot ] && exec "\$@"
"\$@"
rc=\$?
echo "end \$point \$REVISION" >>"\$srv/order"
exit \$rc
SH
	cat >"$SRV/switch.sh" <<'SH'
#!/bin/sh
# switch.sh LINK SLOT_DIR HOLD: the link swapped atomically, then HOLD switch.
ln -sfn "$2" "$1.new" && mv -T "$1.new" "$1" || exit 1
exec "$3" switch true
SH
	chmod +x "$SRV/hold" "$SRV/switch.sh"
	# The app of deploy_lib.sh, whose second answer (the first is the slot
	# check, the second gate 11's) holds at gate11 as $SRV/hold does.
	python3 - ../work/argo/app.py <<'PY'
import sys
path = sys.argv[1]
app = open(path).read()
app = app.replace("        answered += 1\n", '''        answered += 1
        if answered == 2:
            srv = os.path.dirname(os.path.dirname(os.environ["ROOT"]))
            try:
                at = open(os.path.join(srv, "hold-at")).read().strip()
            except OSError:
                at = ""
            if at == "gate11":
                mark = os.path.join(srv, "marks", "gate11")
                with open(mark + ".tmp", "w") as f:
                    f.write("%d %d\\n" % (os.getpid(), os.getppid()))
                os.rename(mark + ".tmp", mark)
                import time
                for _ in range(600):
                    if os.path.exists(mark + ".go"):
                        break
                    time.sleep(0.1)
''', 1)
open(path, "w").write(app)
PY
	(cd ../work && git commit -qam "argo: holds at gate 11 when told" && git push -q origin main)
	local h=$SRV/hold
	sed -i "/^\[target argo staging\]/,/^\[/{
		s|^test = |test = $h tests |
		s|^run = |build = $h build true\nrun = $h slot |
		s|^switch = .*|switch = command $SRV/switch.sh $SRV/srv/argo-staging-live \$ROOT-\$SLOT $h|
	}" gitgate/rules.ini
	ln -s "$GITGATE_BIN/pre-receive" hooks/pre-receive
	ln -s "$GITGATE_BIN/post-receive" hooks/post-receive
	git config receive.advertisePushOptions true
}

# The revision the live staging slot answers with, and that slot's folder.
live_port() {
	case $(readlink "$SRV/srv/argo-staging-live") in
	*-blue) echo "$S1" ;;
	*-green) echo "$S2" ;;
	esac
}
live_revision() { answers "$(live_port)"; }

# commit_change MESSAGE: a change to argo in the clone; its revision in $REV.
commit_change() {
	(cd ../work && echo "# $1" >>argo/app.py && git commit -qam "$1")
	REV=$(git -C ../work rev-parse HEAD)
}

# push_bg LOG [git push args]: pushes the clone's main in the background;
# PUSH_PID is git push's pid.
push_bg() {
	local log=$1
	shift
	(cd ../work && exec git push "$@" origin main) >"$log" 2>&1 &
	PUSH_PID=$!
	track "$PUSH_PID"
}

# wait_gone PID [TENTHS]: until PID is gone, at most TENTHS tenths of a second.
wait_gone() {
	local tries=0
	until gone "$1" || [ $tries -ge "${2:-300}" ]; do sleep 0.1; tries=$((tries + 1)); done
	gone "$1"
}

# The history's records for argo in staging, as "outcome revision" lines.
outcomes() {
	"$G" history argo staging --format json |
		python3 -c 'import json,sys; [print(r["outcome"], r["to"]) for r in json.load(sys.stdin)]'
}

# Is the lock free? (flock(1) with -n: it would wait otherwise.)
lock_free() {
	flock -n -x "$1" true
}

# The queued jobs' workers: the pid in the job file.
job_worker() {
	cat gitgate/queue/*.json 2>/dev/null | grep -o '"worker":[0-9]*' | head -1 | cut -d: -f2
}

# One scenario over the kill points: at each, a push's worker is killed with
# -9; the push ends and says so; the live URL answers the last good version
# (after gitgate deploy --reconcile, the next run, when the crash came after
# the switch); the history closes the deploy as abandoned, once; the locks
# are free, the queue empty; the next push deploys.
t_a_worker_killed_at_any_point_leaves_the_last_good_version() {
	new_fault_server
	commit_change "first"
	expect 0 "the first push" git -C ../work push origin main
	local good=$REV point worker mark holder records
	[ "$(live_revision)" = "$good" ] || { fail "the first deploy did not go live"; return; }
	for point in tests build slot switch gate11; do
		echo "$point" >"$SRV/hold-at"
		commit_change "crash at $point"
		local crashed=$REV
		records=$(outcomes | wc -l)
		push_bg "$SRV/push-$point.out"
		if ! wait_for "$SRV/marks/$point" 300; then
			fail "$point: the deploy never reached its point"
			cat "$SRV/push-$point.out"
			return
		fi
		worker=$(job_worker)
		read -r holder mark <"$SRV/marks/$point"
		is_worker "$worker" || { fail "$point: $worker is not the job's worker"; return; }
		# The command at the point is the worker's own child (the app's
		# answer at gate 11 comes from the app, in its own session).
		[ "$point" = gate11 ] || [ "$mark" = "$worker" ] ||
			fail "$point: the held command's parent is $mark, not the worker $worker"
		kill -9 "$worker"
		# The push sees its worker gone and ends; nobody reaps the worker.
		wait_gone "$PUSH_PID" 150 || fail "$point: the push did not end after its worker died"
		contains "$SRV/push-$point.out" "the deploy worker stopped before job"
		# What the deploy left of its own: the held command (not the slot's
		# app, which the next run must stop).
		case $point in
		tests | build | switch) kill -KILL -- "-$holder" 2>/dev/null ;;
		esac
		rm -f "$SRV/hold-at"
		if [ "$point" = tests ] || [ "$point" = build ] || [ "$point" = slot ]; then
			[ "$(live_revision)" = "$good" ] || fail "$point: the live URL no longer answers $good"
		fi
		OUT=$(mktemp)
		"$G" deploy --reconcile >"$OUT" 2>&1 || { fail "$point: reconcile failed:"; cat "$OUT"; }
		case $point in
		switch | gate11) contains "$OUT" "died after its switch; back on" ;;
		*) lacks "$OUT" "died after its switch" ;;
		esac
		lacks "$OUT" "gate  1/11"
		[ "$(live_revision)" = "$good" ] || fail "$point: after reconcile the live URL does not answer $good"
		outcomes >"$SRV/outcomes"
		[ "$(wc -l <"$SRV/outcomes")" = $((records + 1)) ] ||
			{ fail "$point: expected one new record:"; cat "$SRV/outcomes"; }
		[ "$(tail -1 "$SRV/outcomes")" = "abandoned $crashed" ] ||
			{ fail "$point: the crashed deploy is not closed as abandoned:"; cat "$SRV/outcomes"; }
		lock_free gitgate/locks/argo-staging.lock || fail "$point: the deploy lock is held"
		lock_free gitgate/worker.lock || fail "$point: the worker lock is held"
		[ -z "$(ls gitgate/queue/)" ] || fail "$point: jobs are left in the queue: $(ls gitgate/queue)"
		if [ "$point" = gate11 ]; then
			gone "$holder" || fail "gate11: the unconfirmed slot's app is still running"
		fi
		# The next push deploys, from where the crash left it.
		commit_change "after $point"
		expect 0 "the push after $point" git -C ../work push origin main
		contains "$OUT" ": deployed"
		[ "$(live_revision)" = "$REV" ] || { fail "$point: the next push did not deploy"; cat "$OUT"; }
		if [ "$point" = slot ]; then
			gone "$holder" || fail "slot: the half-started app was not stopped by the next deploy"
		fi
		good=$REV
		rm -f "$SRV"/marks/*
	done
}

run_tests
