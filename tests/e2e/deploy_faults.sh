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
# preswitch (the switch command begun, the link not moved yet), switch
# (right after the live link moved), gate11 (the new app's answer to gate
# 11's check). With argo/HANG in the tree, the app never answers. While
# $SRV/orphan names a pid, each switch command appends to
# $SRV/orphan-at-switch whether that process still runs.
# Each command also appends "begin|end POINT REVISION" to
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
	cat >"$SRV/switch.sh" <<SH
#!/bin/sh
# switch.sh LINK SLOT_DIR HOLD: HOLD preswitch, the link swapped
# atomically, then HOLD switch.
if [ -s "$SRV/orphan" ]; then
	state=\$(sed 's/.*) //' "/proc/\$(cat "$SRV/orphan")/stat" 2>/dev/null | cut -d' ' -f1)
	case \$state in "" | Z | X) echo gone ;; *) echo running ;; esac >>"$SRV/orphan-at-switch"
fi
"\$3" preswitch true || exit 1
ln -sfn "\$2" "\$1.new" && mv -T "\$1.new" "\$1" || exit 1
exec "\$3" switch true
SH
	chmod +x "$SRV/hold" "$SRV/switch.sh"
	# The app of deploy_lib.sh, whose second answer (the first is the slot
	# check's, the second gate 11's) holds at gate11 as $SRV/hold does.
	python3 - ../work/argo/app.py <<'PY'
import sys
path = sys.argv[1]
app = open(path).read()
app = app.replace("        answered += 1\n", '''        answered += 1
        if os.path.exists(os.path.join(here, "HANG")):
            import time
            time.sleep(120)
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
	# $SRV/hold pauses the commands and tells their pids: a sandbox would
	# hide $SRV and give them pids of a namespace of their own. The sandbox
	# has its own tests (sandbox.sh).
	sed -i "s/^\[deploy\]/[deploy]\nsandbox = no/" gitgate/rules.ini
	ln -s "$GITGATE_BIN/pre-receive" hooks/pre-receive
	ln -s "$GITGATE_BIN/post-receive" hooks/post-receive
	git config receive.advertisePushOptions true
}

# The port of the live staging slot, and the revision it answers with.
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
		rm -f "$SRV/hold-at"
		if [ "$point" = tests ] || [ "$point" = build ] || [ "$point" = slot ]; then
			[ "$(live_revision)" = "$good" ] || fail "$point: the live URL no longer answers $good"
		fi
		OUT=$(mktemp)
		"$G" deploy --reconcile >"$OUT" 2>&1 || { fail "$point: reconcile failed:"; cat "$OUT"; }
		case $point in
		switch | gate11) contains "$OUT" "died after its switch; back on" ;;
		slot) contains "$OUT" "died before its switch; its app in the green slot is stopped" ;;
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
		# What the dead worker ran is stopped: the held command, with no
		# time limit over it any more, and the app it started and never
		# confirmed (slot: the held process is that app).
		wait_gone "$holder" 20 || fail "$point: the held process $holder outlived its deploy"
		# The next push deploys, from where the crash left it.
		commit_change "after $point"
		expect 0 "the push after $point" git -C ../work push origin main
		contains "$OUT" ": deployed"
		[ "$(live_revision)" = "$REV" ] || { fail "$point: the next push did not deploy"; cat "$OUT"; }
		good=$REV
		rm -f "$SRV"/marks/*
	done
	# A job of two environments killed in the second: its record names
	# that one, staging's stays deployed.
	sed -i "/^\[target argo production\]/,/^\[/s|^test = |test = $SRV/hold prodtests |" gitgate/rules.ini
	echo prodtests >"$SRV/hold-at"
	commit_change "crash in production"
	push_bg "$SRV/push-production.out" -o "confirm=$PHRASE"
	wait_for "$SRV/marks/prodtests" || { fail "production's tests never ran"; cat "$SRV/push-production.out"; return; }
	kill -9 "$(job_worker)"
	wait_gone "$PUSH_PID" 150 || fail "production: the push did not end after its worker died"
	read -r holder mark <"$SRV/marks/prodtests"
	"$G" deploy --reconcile >"$SRV/reconcile.out" 2>&1 || fail "production: reconcile failed"
	wait_gone "$holder" 20 || fail "production: the held tests outlived their deploy"
	"$G" history argo --format json | python3 -c '
import json, sys
last = {r["environment"]: r for r in json.load(sys.stdin) if r["to"] == sys.argv[1]}
assert last["staging"]["outcome"] == "deployed", last
assert last["production"]["outcome"] == "abandoned", last
' "$REV" || { fail "the abandoned record does not name production:"; "$G" history argo; }
}

# A worker killed while its switch command runs (before it moved the
# link): that command, orphaned, must not move traffic after reconcile put
# it back. Reconcile ends what the dead worker ran before it switches: the
# switch command that reconcile runs sees the orphan gone, and releasing
# the orphan afterwards moves nothing.
t_a_dead_workers_switch_command_is_ended_before_reconcile() {
	new_fault_server
	commit_change "first"
	expect 0 "the first push" git -C ../work push origin main
	local good=$REV holder mark
	echo preswitch >"$SRV/hold-at"
	commit_change "killed in its switch command"
	push_bg "$SRV/push.out"
	wait_for "$SRV/marks/preswitch" || { fail "the switch command never ran"; cat "$SRV/push.out"; return; }
	read -r holder mark <"$SRV/marks/preswitch"
	kill -9 "$(job_worker)"
	wait_gone "$PUSH_PID" 150 || fail "the push did not end after its worker died"
	rm -f "$SRV/hold-at"
	echo "$holder" >"$SRV/orphan"
	OUT=$(mktemp)
	"$G" deploy --reconcile >"$OUT" 2>&1 || { fail "reconcile failed:"; cat "$OUT"; }
	contains "$OUT" "died after its switch; back on blue"
	[ "$(cat "$SRV/orphan-at-switch" 2>/dev/null)" = gone ] ||
		fail "reconcile switched while the dead worker's switch command still ran: $(cat "$SRV/orphan-at-switch" 2>/dev/null)"
	touch "$SRV/marks/preswitch.go"
	sleep 0.5
	gone "$holder" || fail "the orphaned switch command still runs"
	[ "$(live_revision)" = "$good" ] || fail "traffic left the old slot after reconcile"
	[ "$(readlink "$SRV/srv/argo-staging-live")" = "$SRV/srv/argo-staging-blue" ] ||
		fail "the link points at $(readlink "$SRV/srv/argo-staging-live")"
}

# state_on_tmpfs SIZE: the state folder, as it is, moved onto a tmpfs of
# SIZE mounted over it (unmounted by stop_apps); 1, said as a skip, where
# no tmpfs can be mounted.
state_on_tmpfs() {
	cp -a gitgate "$SRV/state-before"
	if ! mount -t tmpfs -o "size=$1" gitgate-full gitgate 2>"$SRV/mount.err"; then
		echo "SKIP: cannot mount a tmpfs here: $(cat "$SRV/mount.err")"
		return 1
	fi
	echo "$PWD/gitgate" >>"$SRV/mounts"
	cp -a "$SRV/state-before/." gitgate/
}

# behind_a_held_push PUSH_OUT OUT GITGATE-ARGS...: a push whose deploy holds
# in its tests, `gitgate GITGATE-ARGS` started meanwhile (it waits for the
# lock), then the tests let go; each output in its file. Returns gitgate's
# status once the push has ended.
behind_a_held_push() {
	local push_out=$1 out=$2 pid
	shift 2
	echo tests >"$SRV/hold-at"
	push_bg "$push_out"
	wait_for "$SRV/marks/tests" || { fail "the push's deploy never reached its tests"; return 1; }
	GITGATE_USER=alice "$G" "$@" >"$out" 2>&1 &
	pid=$!
	track "$pid"
	sleep 1
	rm -f "$SRV/hold-at"
	touch "$SRV/marks/tests.go"
	wait_gone "$PUSH_PID" 300 || fail "the push did not end"
	wait "$pid"
}

# A deploy that waits for the lock decides from the state it finds once it
# holds it: a gitgate deploy waiting behind a push's deploy goes into the
# slot that is not live then (not the one it saw before), and a rollback
# waiting behind the next push's deploy goes back from what that deploy
# made live. Something serves, and the state names it, all along.
t_jobs_waiting_for_the_lock_act_on_what_they_find() {
	new_fault_server
	commit_change "first"
	expect 0 "the first push" git -C ../work push origin main
	commit_change "second"
	local second=$REV
	behind_a_held_push "$SRV/push1.out" "$SRV/cli.out" deploy argo staging ||
		{ fail "the deploy that waited for the lock failed:"; cat "$SRV/cli.out"; }
	contains "$SRV/push1.out" "at ${second:0:12}: deployed"
	contains "$SRV/cli.out" "at ${second:0:12}: deployed"
	# The push went live in green; the waiting deploy then took blue.
	[ "$(readlink "$SRV/srv/argo-staging-live")" = "$SRV/srv/argo-staging-blue" ] ||
		fail "the waiting deploy did not take the slot that was not live"
	[ "$("$G" status argo staging | grep -c 'blue.*live\|live.*blue')" -ge 1 ] ||
		{ fail "status does not say blue is live:"; "$G" status argo staging; }
	[ "$(live_revision)" = "$second" ] || fail "the live slot does not serve $second"
	[ "$(answers "$S2")" = "$second" ] || fail "the warm slot does not serve $second"
	# A rollback waiting behind the next push's deploy goes back from it.
	rm -f "$SRV"/marks/*
	commit_change "third"
	local third=$REV
	behind_a_held_push "$SRV/push2.out" "$SRV/rb.out" rollback argo staging ||
		{ fail "the rollback that waited for the lock failed:"; cat "$SRV/rb.out"; }
	contains "$SRV/push2.out" "at ${third:0:12}: deployed"
	[ "$(live_revision)" = "$second" ] || fail "the rollback did not go back from $third to $second"
	[ "$(readlink "$SRV/srv/argo-staging-live")" = "$SRV/srv/argo-staging-blue" ] ||
		fail "the rollback did not go back to blue"
	"$G" history argo staging --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)[-1]
assert (r["kind"], r["outcome"], r["from"], r["to"]) == ("rollback", "deployed", sys.argv[1], sys.argv[2]), r
' "$third" "$second" || { fail "the rollback record is not from $third to $second:"; "$G" history argo staging; }
}

# The switch moves traffic, then its record cannot be written (the state
# folder's disk fills during the switch command): the switch is undone, the
# old slot serves and the state names it; the new slot is stopped; the
# mark stays until the record can be written, and reconcile then closes
# the deploy with one record.
t_a_switch_that_cannot_be_recorded_is_undone() {
	new_fault_server
	commit_change "first"
	expect 0 "the first push" git -C ../work push origin main
	local good=$REV id
	state_on_tmpfs 4m || return 0
	cat >"$SRV/fill-switch.sh" <<SH
#!/bin/sh
# fill-switch.sh LINK SLOT_DIR: the first time, the state's disk filled;
# then the link swapped.
if [ -e "$SRV/fill-once" ]; then
	rm -f "$SRV/fill-once"
	dd if=/dev/zero of="$PWD/gitgate/filler" bs=4k 2>/dev/null
fi
ln -sfn "\$2" "\$1.new" && mv -T "\$1.new" "\$1"
SH
	chmod +x "$SRV/fill-switch.sh"
	sed -i "/^\[target argo staging\]/,/^\[/s|^switch = .*|switch = command $SRV/fill-switch.sh $SRV/srv/argo-staging-live \$ROOT-\$SLOT|" \
		gitgate/rules.ini
	touch "$SRV/fill-once"
	commit_change "its switch fills the disk"
	OUT=$(mktemp)
	(cd ../work && git push origin main) >"$OUT" 2>&1
	[ -e gitgate/filler ] || { fail "the switch never filled the disk"; cat "$OUT"; return; }
	contains "$OUT" "No space left on device"
	contains "$OUT" "could not be recorded"
	[ "$(readlink "$SRV/srv/argo-staging-live")" = "$SRV/srv/argo-staging-blue" ] ||
		fail "the link was left on $(readlink "$SRV/srv/argo-staging-live")"
	[ "$(live_revision)" = "$good" ] || fail "the old slot does not serve"
	grep -q '"live": *"blue"\|"live":"blue"' gitgate/targets/argo-staging/slots.json ||
		{ fail "the state does not name blue live:"; cat gitgate/targets/argo-staging/slots.json; }
	curl -s --max-time 1 "http://127.0.0.1:$S2/health" >/dev/null
	[ $? = 7 ] || fail "the unconfirmed slot's app still runs"
	[ -e gitgate/targets/argo-staging/pending.json ] || fail "no mark is left for reconcile"
	id=$(grep -o '"deploy":"[^"]*"' gitgate/targets/argo-staging/pending.json | cut -d'"' -f4)
	rm -f gitgate/filler
	"$G" deploy --reconcile >"$SRV/reconcile.out" 2>&1 || { fail "reconcile failed:"; cat "$SRV/reconcile.out"; }
	[ ! -e gitgate/targets/argo-staging/pending.json ] || fail "reconcile left the mark"
	[ "$(grep -c "\"id\":\"$id\"" gitgate/history.jsonl)" = 1 ] ||
		{ fail "deploy $id has not exactly one record:"; cat gitgate/history.jsonl; }
	[ "$(live_revision)" = "$good" ] || fail "after reconcile the old slot does not serve"
	commit_change "after the full disk"
	expect 0 "the next push" git -C ../work push origin main
	[ "$(live_revision)" = "$REV" ] || fail "the next push did not deploy"
}

# A coupled unit's worker killed during gate 11 leaves a mark on each of
# its targets: reconcile puts both back and writes one record.
t_a_coupled_deploy_killed_at_gate_11_is_recorded_once() {
	ALPINE=1 new_fault_server
	cp ../work/argo/app.py ../work/alpine-backend/app.py
	cp ../work/argo/app.py ../work/alpine-frontend/app.py
	(cd ../work && git commit -qam "alpine: holds at gate 11 when told")
	expect 0 "the first push" git -C ../work push origin main
	local good id
	good=$(git rev-parse main)
	echo gate11 >"$SRV/hold-at"
	(cd ../work && echo "# next" >>alpine-backend/app.py && git commit -qam "alpine killed at gate 11")
	push_bg "$SRV/push.out"
	wait_for "$SRV/marks/gate11" || { fail "the deploy never reached gate 11"; cat "$SRV/push.out"; return; }
	[ "$(ls gitgate/targets/*/pending.json | wc -l)" = 2 ] || fail "not both targets are marked"
	id=$(grep -o '"deploy":"[^"]*"' gitgate/targets/alpine-backend-staging/pending.json | cut -d'"' -f4)
	kill -9 "$(job_worker)"
	wait_gone "$PUSH_PID" 150 || fail "the push did not end after its worker died"
	rm -f "$SRV/hold-at"
	"$G" deploy --reconcile >"$SRV/reconcile.out" 2>&1 || { fail "reconcile failed:"; cat "$SRV/reconcile.out"; }
	[ "$(grep -c "died after its switch; back on blue" "$SRV/reconcile.out")" = 2 ] ||
		{ fail "reconcile did not put both projects back:"; cat "$SRV/reconcile.out"; }
	[ "$(grep -c "\"id\":\"$id\"" gitgate/history.jsonl)" = 1 ] ||
		{ fail "deploy $id has not exactly one record:"; grep "$id" gitgate/history.jsonl; }
	[ "$(answers "$AB1")" = "$good" ] && [ "$(answers "$AF1")" = "$good" ] ||
		fail "the old slots do not serve $good"
}

# A tip pre-receive noted but whose post-receive never ran (missing here)
# is deployed by gitgate deploy --reconcile, to the auto environments,
# credited to its pusher. One that no hook noted (the branch moved on the
# server by hand) is deployed the same way, from the revision queued
# before, by reconcile only: the worker's own start leaves it alone (a push
# in flight looks the same).
t_reconcile_catches_up_with_a_tip_no_hook_noted() {
	new_fault_server
	commit_change "first"
	expect 0 "the first push" git -C ../work push origin main
	local good=$REV
	rm hooks/post-receive
	commit_change "accepted, never queued"
	expect 0 "a push with no post-receive" git -C ../work push origin main
	[ "$(live_revision)" = "$good" ] || fail "the push deployed without its post-receive"
	OUT=$(mktemp)
	"$G" deploy --reconcile >"$OUT" 2>&1 || { fail "reconcile failed:"; cat "$OUT"; }
	contains "$OUT" "${REV:0:12} was pushed to main by alice, but its push ended"
	contains "$OUT" "argo is not deployed to production by this push"
	[ "$(live_revision)" = "$REV" ] || { fail "reconcile did not deploy the noted tip:"; cat "$OUT"; }
	# Moved by hand: no hook ran at all.
	commit_change "moved by hand"
	git fetch -q ../work main && git update-ref refs/heads/main FETCH_HEAD
	"$G" deploy --reconcile >"$OUT" 2>&1 || { fail "reconcile failed:"; cat "$OUT"; }
	contains "$OUT" "${REV:0:12} was pushed to main by someone (the push was not noted)"
	[ "$(live_revision)" = "$REV" ] || { fail "reconcile did not deploy the tip:"; cat "$OUT"; }
	"$G" deploy --reconcile >"$OUT" 2>&1 || fail "the second reconcile failed"
	lacks "$OUT" "was pushed to main"
	ln -s "$GITGATE_BIN/post-receive" hooks/post-receive
}

# The client hangs up mid-deploy: the deploy goes on, finishes, is recorded.
t_a_client_that_hangs_up_loses_nothing() {
	new_fault_server
	echo tests >"$SRV/hold-at"
	commit_change "the client hangs up"
	push_bg "$SRV/push.out"
	wait_for "$SRV/marks/tests" || { fail "the deploy never reached its tests"; return; }
	kill -9 "$PUSH_PID"
	wait_gone "$PUSH_PID" 50 || fail "git push did not die"
	touch "$SRV/marks/tests.go"
	await_answer "$S1" "$REV" || fail "the deploy did not finish after the client hung up"
	local tries=0
	until [ -z "$(ls gitgate/queue/)" ] || [ $tries -ge 100 ]; do sleep 0.1; tries=$((tries + 1)); done
	[ "$(outcomes | tail -1)" = "deployed $REV" ] || { fail "the deploy was not recorded:"; outcomes; }
}

# A push while a deploy runs waits for it, then deploys: two pushes at once
# never interleave their deploys.
t_overlapping_pushes_deploy_one_after_the_other() {
	new_fault_server
	echo tests >"$SRV/hold-at"
	commit_change "first of two"
	local first=$REV
	push_bg "$SRV/push1.out"
	local push1=$PUSH_PID
	wait_for "$SRV/marks/tests" || { fail "the first deploy never reached its tests"; return; }
	commit_change "second of two"
	local second=$REV
	push_bg "$SRV/push2.out"
	local push2=$PUSH_PID tries=0
	until [ "$(ls gitgate/queue/ | wc -l)" = 2 ] || [ $tries -ge 100 ]; do sleep 0.1; tries=$((tries + 1)); done
	[ "$(ls gitgate/queue/ | wc -l)" = 2 ] || fail "the second push queued no job"
	sleep 0.5
	[ "$(grep -c "$second" "$SRV/order")" = 0 ] || fail "the second deploy began while the first ran"
	touch "$SRV/marks/tests.go"
	wait_gone "$push1" 300 || fail "the first push did not end"
	wait_gone "$push2" 300 || fail "the second push did not end"
	contains "$SRV/push1.out" "at ${first:0:12}: deployed"
	contains "$SRV/push2.out" "at ${second:0:12}: deployed"
	# Every command of the first before any of the second.
	python3 - "$SRV/order" "$first" "$second" <<'PY' || { fail "the deploys interleaved:"; cat "$SRV/order"; }
import sys
lines = [l.split() for l in open(sys.argv[1]) if l.strip()]
revs = [l[2] for l in lines if len(l) > 2 and l[2] in sys.argv[2:]]
assert revs and revs == sorted(revs, key=lambda r: sys.argv[2:].index(r)), revs
assert revs[0] == sys.argv[2] and revs[-1] == sys.argv[3], revs
PY
	"$G" history argo staging --format json | python3 -c '
import json, sys
a, b = json.load(sys.stdin)[-2:]
assert (a["outcome"], b["outcome"]) == ("deployed", "deployed"), (a, b)
assert a["finished"] <= b["started"], (a, b)
' || fail "the history does not show two deploys, one after the other"
	[ "$(live_revision)" = "$second" ] || fail "the second push is not live"
}

# The env file missing, or not a file gitgate can read: gate 7 refuses at
# once, and the last good version keeps serving.
t_an_env_file_that_cannot_be_read_stops_gate_7() {
	new_deploy_server
	deploy_expect 0 argo staging
	local good env_file got
	good=$(git rev-parse main)
	push_change "next"
	mkdir "$SRV/a-folder.env"
	mkfifo "$SRV/a-fifo.env"
	for env_file in "$SRV/missing.env" "$SRV/a-folder.env" "$SRV/a-fifo.env"; do
		sed -i "/^env_file = /d; /^\[target argo staging\]/a env_file = $env_file" gitgate/rules.ini
		OUT=$(mktemp)
		GITGATE_USER=alice timeout 20 "$G" deploy argo staging >"$OUT" 2>&1
		got=$?
		[ $got = 1 ] || { fail "$env_file: deploy exited $got, not 1:"; cat "$OUT"; }
		contains "$OUT" "gate  7/11  environment   argo              failed"
		grep -qF "cannot read the env file $env_file" "$OUT" || grep -qF "cannot read $env_file" "$OUT" ||
			fail "$env_file: gate 7 did not say it cannot be read"
		lacks "$OUT" "gate  3/11"
		[ "$(answers "$S1")" = "$good" ] || fail "$env_file: the last good version stopped serving"
	done
}

# The next slot's port is taken by another process, which even answers
# the health URL: the new slot cannot start, nothing is switched, and the
# old slot keeps serving.
t_a_taken_port_keeps_the_old_slot() {
	new_deploy_server
	deploy_expect 0 argo staging
	local good tries=0
	good=$(git rev-parse main)
	python3 - "$S2" <<'PY' &
import http.server, sys
class Squat(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"status": "ok", "revision": "squatter"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Squat)
server.timeout = 60
for _ in range(200):
    server.handle_request()
PY
	track $!
	until [ "$(answers "$S2" 2>/dev/null)" = squatter ] || [ $tries -ge 50 ]; do sleep 0.1; tries=$((tries + 1)); done
	push_change "next"
	deploy_expect 1 argo staging
	contains "$OUT" "step        slot          argo              failed"
	contains "$OUT" "$S2"
	[ "$(readlink "$SRV/srv/argo-staging-live")" = "$SRV/srv/argo-staging-blue" ] ||
		fail "the live link moved to the taken port's slot"
	[ "$(answers "$S1")" = "$good" ] || fail "the old slot stopped serving"
	[ "$(answers "$S2")" = squatter ] || fail "the port's owner was disturbed"
}

# A command past its limit is stopped with its whole process group: its
# child and grandchild are gone, and the deploy fails in bounded time.
t_a_hung_command_is_killed_with_its_group() {
	new_deploy_server
	cat >"$SRV/hang.sh" <<SH
#!/bin/sh
sh -c 'sleep 300 & echo \$! >"$SRV/grandchild"; wait' &
echo \$! >"$SRV/child"
sleep 300
SH
	chmod +x "$SRV/hang.sh"
	# hang.sh and the pids it tells are outside any sandbox (sandbox.sh
	# has the sandboxed case).
	sed -i "/^\[target argo staging\]/,/^\[/{s|^test = .*|test = $SRV/hang.sh|}
		/^\[target argo staging\]/a command_timeout_seconds = 2
		s/^\[deploy\]/[deploy]\nsandbox = no/" gitgate/rules.ini
	local t0=$SECONDS f
	deploy_expect 1 argo staging
	[ $((SECONDS - t0)) -lt 15 ] || fail "the deploy took $((SECONDS - t0)) s past a 2 s limit"
	contains "$OUT" "gate  3/11  tests         argo              failed"
	contains "$OUT" "time limit"
	for f in child grandchild; do
		[ -s "$SRV/$f" ] || { fail "the test command's $f never started"; continue; }
		track "$(cat "$SRV/$f")"
		gone "$(cat "$SRV/$f")" || fail "the test command's $f outlived it"
	done
}

# A health URL that never answers (the app, with argo/HANG, takes every
# request and never replies): the slot check ends at its deadline, the
# hung app is stopped, nothing is switched, the old version keeps serving.
t_a_health_url_that_never_answers_is_bounded() {
	new_fault_server
	sed -i "/^\[target argo staging\]/,/^\[/{
		s|^health_url = .*|&\nhealth_timeout_ms = 1000|
		s|^health_deadline_seconds = .*|health_deadline_seconds = 3|
	}" gitgate/rules.ini
	commit_change "good"
	expect 0 "the first push" git -C ../work push origin main
	local good=$REV t0 pid start
	(cd ../work && touch argo/HANG && git add -A && git commit -qm "hangs")
	t0=$SECONDS
	expect 0 "a push whose app hangs" git -C ../work push origin main
	[ $((SECONDS - t0)) -lt 15 ] || fail "a 3 s health deadline took $((SECONDS - t0)) s"
	contains "$OUT" "step        slot          argo              failed"
	contains "$OUT" "deadline"
	[ "$(live_revision)" = "$good" ] || fail "the old version stopped serving"
	if [ -e gitgate/targets/argo-staging/green.pid ]; then
		read -r pid start <gitgate/targets/argo-staging/green.pid
		gone "$pid" || fail "the hung app was left running"
	fi
	curl -s --max-time 1 "http://127.0.0.1:$S2/health" >/dev/null
	[ $? = 7 ] || fail "something still listens on the hung slot's port"
}

# A rules.ini in the pushed tree changes nothing: the server's own rules
# (its commands) are the ones used.
t_a_pushed_rules_ini_is_ignored() {
	new_fault_server
	cat >../work/rules.ini <<INI
[deploy]
branch = main
[environment staging]
auto = yes
[target argo staging]
root = $SRV/srv/pwned-root
ports = 1 2
test = touch $SRV/pwned-test
run = touch $SRV/pwned-run
switch = command touch $SRV/pwned-switch
INI
	cp ../work/rules.ini ../work/argo/rules.ini
	(cd ../work && git add -A && git commit -qm "rules of my own")
	REV=$(git -C ../work rev-parse HEAD)
	expect 0 "a push with a rules.ini" git -C ../work push origin main
	contains "$OUT" ": deployed"
	[ "$(live_revision)" = "$REV" ] || fail "the push did not deploy"
	grep -q "begin tests $REV" "$SRV/order" || fail "the server's test command did not run"
	[ -z "$(find "$SRV" -name 'pwned*')" ] || fail "the pushed rules were used: $(find "$SRV" -name 'pwned*')"
}

# Shell metacharacters in branch names, file names, a message and push
# options stay data: nothing they spell is ever run.
t_shell_metacharacters_are_never_run() {
	new_fault_server
	local m=$SRV/pwned b
	(cd ../work &&
		echo x >"argo/\$(touch $(basename "$m")-file1)" &&
		echo x >"argo/;touch pwned-file2;" &&
		echo x >"argo/\`touch pwned-file3\`" &&
		echo x >"argo/'\$(touch pwned-file4)'.py" &&
		git add -A && git commit -qm "\$(touch $m-message) \`touch pwned-message2\`")
	REV=$(git -C ../work rev-parse HEAD)
	local b1="x;touch\${IFS}$m-branch1" b2="\$(touch\${IFS}$m-branch2)" b3="'\$(touch\${IFS}pwned-branch3)'"
	for b in "$b1" "$b2" "$b3"; do
		git check-ref-format --branch "$b" >/dev/null || fail "git refuses the branch name $b"
		git -C ../work branch "$b" || fail "cannot make branch $b"
	done
	GITGATE_USER=alice expect 0 "a push of the names" git -C ../work push -o "confirm=\$(touch $m-option)" \
		-o "emergency=\`touch $m-emergency\`" origin main "$b1" "$b2" "$b3"
	contains "$OUT" ": deployed"
	[ "$(live_revision)" = "$REV" ] || fail "the push did not deploy"
	deploy_expect 0 argo staging --rev "$b2"
	contains "$OUT" ": deployed"
	# (The refs themselves are files named so.)
	local found
	found=$(find "$SRV" /tmp -maxdepth 8 -name 'pwned*' -not -path '*/refs/*' 2>/dev/null)
	[ -z "$found" ] || fail "something was run: $found"
}

# The disk under the state directory is full (a small tmpfs mounted over
# it), before the deploy, or from its build on (the build fills it): the
# deploy fails and says why, the state is as it was (the history whole
# lines, what each slot runs), the last good version keeps serving, the
# lock is free; with space again, the next deploy runs.
# An app that prints without end fills no disk: its log is rotated at
# app_log_max_bytes, app_log_keep old ones kept, by a log writer in the
# app's process group, which the next deploy into the slot stops with it.
t_a_chatty_apps_log_is_capped_and_rotated() {
	new_deploy_server
	ln -s "$GITGATE_BIN/pre-receive" hooks/pre-receive
	ln -s "$GITGATE_BIN/post-receive" hooks/post-receive
	sed -i "s/^\\[deploy\\]/[deploy]\\napp_log_max_bytes = 65536\\napp_log_keep = 2/" gitgate/rules.ini
	cd ../work
	# 6 x 64 KiB of numbered 64-byte lines as it starts.
	sed -i '1a import sys\nfor i in range(6144):\n    print("line %06d %051d" % (i, 0), flush=True)' argo/app.py
	git commit -qam chatty
	push_expect 0 origin main
	contains "$OUT" "remote: gate 11/11  health-after  argo              passed"
	local dir=../server.git/gitgate/targets/argo-staging tries=0 f pid
	until tail -n 1 "$dir/blue.log" | grep -q "^line 006143 " || [ $tries -ge 100 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	tail -n 1 "$dir/blue.log" | grep -q "^line 006143 " || fail "blue.log does not end with the newest line"
	for f in blue.log blue.log.1 blue.log.2; do
		[ -s "$dir/$f" ] && [ "$(wc -c <"$dir/$f")" -le 65536 ] || fail "$f is not within 1..65536 bytes"
	done
	[ ! -e "$dir/blue.log.3" ] || fail "app_log_keep = 2 left a blue.log.3"
	read -r pid _ <"$dir/blue.pid"
	[ "$(ps -o comm= -g "$pid" | grep -c '^gitgate-log$')" = 1 ] || fail "no log writer in the app's group"
	# Green, then blue again: the first blue app's group is stopped whole.
	echo "# two" >>argo/app.py && git commit -qam two && push_expect 0 origin main
	echo "# three" >>argo/app.py && git commit -qam three && push_expect 0 origin main
	[ -z "$(ps -o stat= -g "$pid" | grep -v '^Z')" ] ||
		fail "the first blue app's group outlived its stop: $(ps -o pid,stat,comm -g "$pid")"
}

t_a_full_disk_fails_the_deploy_and_keeps_the_state() {
	new_deploy_server
	# The build below fills the state folder's disk: in the sandbox it
	# could not even see it.
	sed -i "s/^\[deploy\]/[deploy]\nsandbox = no/" gitgate/rules.ini
	deploy_expect 0 argo staging
	local good when got
	good=$(git rev-parse main)
	state_on_tmpfs 2m || return 0
	for when in before build; do
		push_change "full $when"
		cp gitgate/history.jsonl "$SRV/history-before"
		cp gitgate/targets/argo-staging/slots.json "$SRV/slots-before"
		if [ $when = before ]; then
			dd if=/dev/zero of=gitgate/filler bs=4k 2>/dev/null
		else
			sed -i "/^\[target argo staging\]/a build = sh -c 'dd if=/dev/zero of=$PWD/gitgate/filler bs=4k 2>/dev/null; exit 0'" \
				gitgate/rules.ini
		fi
		OUT=$(mktemp)
		GITGATE_USER=alice "$G" deploy argo staging >"$OUT" 2>&1
		got=$?
		[ $got = 1 ] || [ $got = 3 ] || { fail "$when: deploy exited $got, not 1 or 3:"; cat "$OUT"; }
		[ -e gitgate/filler ] || fail "$when: the disk was never filled"
		contains "$OUT" "No space left on device"
		python3 - "$SRV/history-before" gitgate/history.jsonl <<'PY' || fail "$when: the history is damaged"
import json, sys
before, after = (open(p, "rb").read() for p in sys.argv[1:])
assert after.startswith(before) and after.endswith(b"\n"), "not the old history, then whole lines"
for line in after[len(before):].splitlines():
    assert json.loads(line)["outcome"] in ("failed", "refused"), line
PY
		cmp -s "$SRV/slots-before" gitgate/targets/argo-staging/slots.json || fail "$when: slots.json changed"
		[ "$(answers "$S1")" = "$good" ] || fail "$when: the last good version stopped serving"
		flock -n -x gitgate/locks/argo-staging.lock true || fail "$when: the deploy lock is held"
		rm -f gitgate/filler
		sed -i '/^build = sh -c/d' gitgate/rules.ini
	done
	deploy_expect 0 argo staging
	[ "$(answers "$S2")" = "$(git rev-parse main)" ] || fail "the deploy after the disk was freed did not go live"
}

run_tests
