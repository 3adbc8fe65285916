#!/usr/bin/env bash
# End-to-end: Compose targets through real pushes, on a Docker daemon of
# the test's own (Debian's docker.io, started with its data, socket and pid
# file under a temporary folder, no iptables, no bridge; stopped by its pid
# at the end, passed or failed). No registry: the images are FROM a
# busybox image the test builds first (Debian's busybox-static: `busybox
# httpd` serves a CGI health check), with network_mode: host on free ports
# of 127.0.0.1. Alpine's two projects deploy as one coupled unit, each a
# Compose blue/green pair; secrets come from an env file and an
# env_command. Where dockerd cannot run, the file says so and is skipped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy_lib.sh"

# ---- the test's own dockerd --------------------------------------------------

# shellcheck source=tests/dockerd.sh
. "$GITGATE_SOURCE/tests/dockerd.sh"
DOCKERD_DIR=
DOCKERD_PID=
stop_dockerd() {
	[ -n "$DOCKERD_DIR" ] || return 0
	dockerd_stop "$DOCKERD_DIR" "$DOCKERD_PID"
	rm -rf "$DOCKERD_DIR"
}

skip() {
	echo "SKIPPED: $*"
	stop_dockerd
	exit 0
}

start_dockerd() {
	local why
	why=$(dockerd_missing) && skip "$why"
	DOCKERD_DIR=$(mktemp -d /tmp/gitgate-dockerd.XXXXXX)
	trap stop_dockerd EXIT
	if ! dockerd_start "$DOCKERD_DIR" gitgate-test/busybox:1; then
		kill -0 "$DOCKERD_PID" 2>/dev/null || skip "dockerd cannot run here: $(tail -1 "$DOCKERD_DIR/log")"
		cat "$DOCKERD_DIR/log" "$DOCKERD_DIR/base.log" 2>/dev/null | tail -5
		echo "FAIL: dockerd runs, but did not answer or build the base image"
		exit 1
	fi
}

# ---- a server with Compose targets ------------------------------------------------

# project_files DIR: a project's Compose app. web serves /cgi-bin/health
# (JSON with its $REVISION; 503 from its second answer on when the release
# holds www/BROKEN_LIVE) and /cgi-bin/secret ($SECRET_TOKEN, which only the
# env file or env_command gives); worker, an image gate 5 does not build.
project_files() {
	mkdir -p "$1/www/cgi-bin"
	printf '%s\n' 'FROM gitgate-test/busybox:1' 'COPY www /www' >"$1/Dockerfile"
	cat >"$1/www/cgi-bin/health" <<'SH'
#!/bin/sh
n=$(cat /tmp/answered 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >/tmp/answered
status=ok
[ -e /www/BROKEN_LIVE ] && [ "$n" -gt 1 ] && { status=broken; printf 'Status: 503 Broken\r\n'; }
printf 'Content-Type: application/json\r\n\r\n{"status": "%s", "revision": "%s"}\n' "$status" "$REVISION"
SH
	printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%%s\\n" "$SECRET_TOKEN"\n' \
		>"$1/www/cgi-bin/secret"
	chmod +x "$1/www/cgi-bin/health" "$1/www/cgi-bin/secret"
	cat >"$1/compose.yml" <<'YML'
services:
  web:
    build: .
    init: true
    network_mode: host
    environment:
      - REVISION=${REVISION}
      - SECRET_TOKEN=${SECRET_TOKEN:-}
    command: ["httpd", "-f", "-p", "127.0.0.1:${PORT}", "-h", "/www"]
  worker:
    image: gitgate-test/busybox:1
    init: true
    network_mode: host
    command: ["sh", "-c", "while :; do sleep 1; done"]
YML
}

# compose_target PROJECT ENV PORT PORT: a Compose target whose switch is a
# link, with an env file in staging and an env_command in production.
compose_target() {
	cat <<EOF
[target $1 $2]
root = $SRV/srv/$1-$2
ports = $3 $4
compose = $1/compose.yml
switch = command $SRV/switch.sh $SRV/srv/$1-$2-live \$ROOT-\$SLOT
health_url = http://127.0.0.1:\$PORT/cgi-bin/health
health_retries = 40
health_interval_ms = 250
health_successes = 1
health_deadline_seconds = 20
command_timeout_seconds = 120
env_required = SECRET_TOKEN
migrate = sh -c 'echo "migrating with SECRET_TOKEN=\$SECRET_TOKEN"'
EOF
	if [ "$2" = staging ]; then
		echo "env_file = $SRV/staging.env"
	else
		echo "env_command = $SRV/secrets.sh \$ENVIRONMENT"
	fi
}

# new_compose_server PROJECT...: a bare repository with its hooks, each
# project one of unit alpine, with staging and production Compose targets
# (ports in $PORTS_<project>_<env>: "BLUE GREEN"). The switch command holds
# before it moves the link while $SRV/hold-switch exists (its pid in
# $SRV/held). The staging env file and production's env_command give
# $STAGING_SECRET and $PROD_SECRET.
new_compose_server() {
	SRV=$PWD
	trap 'stop_apps; remove_containers' EXIT
	STAGING_SECRET=sk_stage_8Hq2ComposeEnvFile01 PROD_SECRET=sk_prod_Zt71ComposeEnvCommand9
	git init -q --bare server.git
	mkdir -p server.git/gitgate srv
	git init -q work
	local p units="" targets="" ports
	for p in "$@"; do
		project_files "work/$p"
		units+="[project $p]"$'\n'"path = $p/"$'\n'
		read -r -a ports < <(free_ports 4)
		eval "PORTS_${p//-/_}_staging=\"${ports[0]} ${ports[1]}\""
		eval "PORTS_${p//-/_}_production=\"${ports[2]} ${ports[3]}\""
		targets+="$(compose_target "$p" staging "${ports[0]}" "${ports[1]}")"$'\n'
		targets+="$(compose_target "$p" production "${ports[2]}" "${ports[3]}")"$'\n'
	done
	printf 'SECRET_TOKEN=%s\n' "$STAGING_SECRET" >"$SRV/staging.env"
	cat >"$SRV/secrets.sh" <<SH
#!/bin/sh
# A secrets manager's client, as env_command runs it: it says its secret
# on stdout and on stderr, and fails when told to.
echo "fetching \$1's secrets: SECRET_TOKEN=$PROD_SECRET" >&2
echo "SECRET_TOKEN=$PROD_SECRET"
echo "FROM_COMMAND=yes"
[ -e "$SRV/secrets-fail" ] && exit 3
[ -e "$SRV/secrets-hang" ] && sleep 60
exit 0
SH
	cat >"$SRV/switch.sh" <<SH
#!/bin/sh
if [ -e "$SRV/hold-switch" ]; then
	echo \$\$ >"$SRV/held.tmp" && mv "$SRV/held.tmp" "$SRV/held"
	n=0; while [ \$n -lt 600 ]; do sleep 0.1; n=\$((n + 1)); done
fi
ln -sfn "\$2" "\$1.new" && mv -T "\$1.new" "\$1"
SH
	chmod +x "$SRV/secrets.sh" "$SRV/switch.sh"
	cat >server.git/gitgate/rules.ini <<EOF
[push]
identity = env:GITGATE_USER
$units
[unit alpine]
projects = $*
[deploy]
keep_releases = 2
sandbox = no
[environment staging]
auto = yes
health_level = 2
freeze = no
[environment production]
requires = staging
confirm = yes
health_level = 2
freeze = no
$targets
EOF
	(cd work && git add -A && git commit -qm "alpine as Compose apps")
	git -C work remote add origin ../server.git
	cd server.git
	ln -s "$GITGATE_BIN/pre-receive" hooks/pre-receive
	ln -s "$GITGATE_BIN/post-receive" hooks/post-receive
	git config receive.advertisePushOptions true
}

remove_containers() {
	local ids
	ids=$(docker ps -aq)
	# shellcheck disable=SC2086
	[ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
	return 0
}

port_of() { # port_of PROJECT ENV SLOT
	local var="PORTS_${1//-/_}_$2" ports
	read -r -a ports <<<"${!var}"
	[ "$3" = blue ] && echo "${ports[0]}" || echo "${ports[1]}"
}

served() { # served PROJECT ENV SLOT: the revision that slot's web answers with
	curl -s --max-time 5 "http://127.0.0.1:$(port_of "$@")/cgi-bin/health" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])' 2>/dev/null
}

live_slot() { # live_slot PROJECT ENV
	case $(readlink "$SRV/srv/$1-$2-live") in
	*-blue) echo blue ;;
	*-green) echo green ;;
	*) echo none ;;
	esac
}

# The containers of a slot's project: "ID STATE" a line each.
containers() {
	docker ps -a --no-trunc --filter "label=com.docker.compose.project=$1" --format '{{.ID}} {{.State}}' | sort
}

push() { # push [git push args]: the clone's main; output in $OUT
	OUT=$(mktemp)
	(cd ../work && git push "$@" origin main) >"$OUT" 2>&1 || { fail "push $* failed:"; sed 's/^/      /' "$OUT"; }
}

seconds_since() { # seconds_since NANOSECONDS: from then to now, in seconds
	local ns=$(($(date +%s%N) - $1))
	printf '%d.%01d' $((ns / 1000000000)) $((ns / 100000000 % 10))
}

commit() { # commit MESSAGE: a change to every project; its revision in $REV
	(cd ../work && for p in alpine-*/; do echo "# $1" >>"$p/Dockerfile"; done && git commit -qam "$1")
	REV=$(git -C ../work rev-parse HEAD)
}

# ---- the tests ----------------------------------------------------------------------

# Alpine's two projects as one coupled Compose unit: to staging, then with
# the phrase to production; its images built once at gate 5 and tagged by
# release, the env file's and env_command's values in the containers and
# nowhere in what gitgate shows, logs or records; status shows each slot's
# containers; a rollback to the warm slot and one --to a kept release start
# from the kept images without a build, the warm one without recreating a
# container; a pruned release's images go, the kept ones stay.
t_alpine_as_a_coupled_compose_unit() {
	new_compose_server alpine-backend alpine-frontend
	local a b c p outputs=()
	REV=$(git -C ../work rev-parse HEAD)
	a=$REV
	push
	outputs+=("$OUT")
	contains "$OUT" "remote: gate  5/11  build         alpine            passed"
	contains "$OUT" "remote: gate 11/11  health-after  alpine            passed"
	for p in alpine-backend alpine-frontend; do
		[ "$(served $p staging blue)" = "$a" ] || fail "$p's staging blue slot does not serve $a"
		[ "$(live_slot $p staging)" = blue ] || fail "$p's staging live link is not blue"
		[ "$(containers $p-staging-blue | grep -c ' running$')" = 2 ] ||
			fail "$p-staging-blue does not run its two containers: $(containers $p-staging-blue)"
		[ "$(curl -s "http://127.0.0.1:$(port_of $p staging blue)/cgi-bin/secret")" = "$STAGING_SECRET" ] ||
			fail "$p's container did not get the env file's SECRET_TOKEN"
	done
	docker image ls --format '{{.Repository}}:{{.Tag}}' >images.txt
	grep -q "^alpine-backend/staging/web:2.*-${a:0:12}$" images.txt || { fail "no image tagged by a's release:"; cat images.txt; }
	grep -q "^alpine-backend/staging/worker" images.txt && fail "worker's image (not built) was named as built"
	docker image inspect --format '{{index .Config.Labels "gitgate.target"}}' \
		"$(grep -m1 '^alpine-frontend/staging/web:' images.txt)" | grep -qx alpine-frontend/staging ||
		fail "the image does not carry its target's label"
	grep -q "^alpine-backend/production/" images.txt && fail "production images before production deployed"

	commit "b"
	b=$REV
	push -o "confirm=$PHRASE"
	outputs+=("$OUT")
	[ "$(grep -c ': deployed' "$OUT")" = 2 ] || { fail "b: expected staging and production deployed:"; cat "$OUT"; }
	for p in alpine-backend alpine-frontend; do
		[ "$(served $p staging green)" = "$b" ] || fail "$p's staging green slot does not serve $b"
		[ "$(served $p production blue)" = "$b" ] || fail "$p's production blue slot does not serve $b"
		[ "$(curl -s "http://127.0.0.1:$(port_of $p production blue)/cgi-bin/secret")" = "$PROD_SECRET" ] ||
			fail "$p's production container did not get env_command's SECRET_TOKEN"
	done
	commit "c"
	c=$REV
	push -o "confirm=$PHRASE"
	outputs+=("$OUT")
	[ "$(served alpine-backend production green)" = "$c" ] || fail "production's green slot does not serve $c"
	[ "$(served alpine-backend production blue)" = "$b" ] || fail "production's blue slot is not warm with $b"
	# Staging kept b and c (keep_releases = 2, both slots'): a's images are
	# gone, b's and c's stay.
	docker image ls --format '{{.Repository}}:{{.Tag}}' >images.txt
	grep -q -- "-${a:0:12}$" images.txt && { fail "a's images outlived its pruned release:"; cat images.txt; }
	for rev in "$b" "$c"; do
		[ "$(grep -c -- "^alpine-.*/staging/web:.*-${rev:0:12}$" images.txt)" = 2 ] ||
			{ fail "the images of kept release ${rev:0:12} are not both there:"; cat images.txt; }
	done

	"$G" status alpine production >status.txt 2>&1 || fail "status failed"
	[ "$(grep -c '          web running (Up' status.txt)" = 4 ] || { fail "status does not show each slot's web container:"; cat status.txt; }
	contains status.txt "worker running (Up"

	# Back to the warm slot: nothing built, no container recreated.
	local before after started took
	before=$(containers alpine-backend-production-blue; containers alpine-frontend-production-blue)
	docker image ls -q --no-trunc | sort >ids-before.txt
	started=$(date +%s%N)
	OUT=$(mktemp)
	"$G" rollback alpine production >"$OUT" 2>&1 || { fail "rollback failed:"; cat "$OUT"; }
	took=$(seconds_since "$started")
	outputs+=("$OUT")
	echo "rollback to the warm slot: ${took}s" | tee -a "${COMPOSE_TIMES:-/dev/null}"
	[ "${took%.*}" -lt 15 ] || fail "the rollback to the warm slot took ${took}s"
	after=$(containers alpine-backend-production-blue; containers alpine-frontend-production-blue)
	[ "$before" = "$after" ] || fail "the warm slot's containers were recreated: $before / $after"
	[ "$(served alpine-frontend production blue)" = "$b" ] || fail "the rollback does not serve $b"
	[ "$(live_slot alpine-frontend production)" = blue ] || fail "the rollback did not switch to blue"
	# --to c, a kept release: into the green slot again, from its images.
	started=$(date +%s%N)
	OUT=$(mktemp)
	"$G" rollback alpine production --to "$c" >"$OUT" 2>&1 || { fail "rollback --to failed:"; cat "$OUT"; }
	took=$(seconds_since "$started")
	outputs+=("$OUT")
	echo "rollback --to a kept release: ${took}s" | tee -a "${COMPOSE_TIMES:-/dev/null}"
	[ "${took%.*}" -lt 30 ] || fail "the rollback --to a kept release took ${took}s"
	contains "$OUT" "a kept release: built when it was deployed"
	[ "$(served alpine-backend production green)" = "$c" ] || fail "rollback --to does not serve $c"
	docker image ls -q --no-trunc | sort >ids-after.txt
	cmp -s ids-before.txt ids-after.txt || { fail "a rollback built images:"; diff ids-before.txt ids-after.txt; }
	grep -q 'Step 1/' gitgate/logs/*.log || fail "no build in any log: the check proves nothing"
	for log in $(ls -t gitgate/logs/*.log | head -2); do
		grep -q 'Step 1/\|Successfully built' "$log" && fail "$log: a rollback ran a build"
	done

	# The secrets: in the containers, nowhere in gitgate's.
	local shown=$SRV/shown
	{
		"$G" history alpine --format json
		"$G" logs
		for log in gitgate/logs/2*.log; do "$G" logs "$(basename "$log" .log)"; done
	} >"$shown" 2>&1
	for secret in "$STAGING_SECRET" "$PROD_SECRET"; do
		seen_nowhere "$secret" "${outputs[@]}" "$shown" $(find gitgate -type f)
	done
	! grep -q "FROM_COMMAND" gitgate/logs/*.log || fail "env_command's output reached a log"
	grep -q 'migrating with SECRET_TOKEN=\*\*\*' gitgate/logs/*.log ||
		fail "no log holds the masked value: the check proves nothing"
}

# What must never go live: an image that fails to build (gate 5), a
# container that exits at once, a release whose health fails once live
# (gate 11 switches back to the old project, still serving); env_command's
# failure stops gate 7 without a word of its output.
t_what_fails_never_goes_live() {
	new_compose_server alpine-backend
	local good
	REV=$(git -C ../work rev-parse HEAD)
	good=$REV
	push
	[ "$(served alpine-backend staging blue)" = "$good" ] || { fail "the first deploy did not go live"; cat "$OUT"; return; }
	# A Dockerfile that fails: gate 5, nothing changed live.
	(cd ../work && echo 'RUN false' >>alpine-backend/Dockerfile && git commit -qam "a failing build")
	push
	contains "$OUT" "remote: gate  5/11  build         alpine            failed"
	[ "$(served alpine-backend staging blue)" = "$good" ] || fail "a failed build changed what is live"
	[ -z "$(containers alpine-backend-staging-green)" ] || fail "a failed build started a project"
	# A container that exits at once: the slot fails, nothing left of it.
	(cd ../work && sed -i '$d' alpine-backend/Dockerfile && sed -i 's|command: \["httpd"|command: ["false", "httpd"|' alpine-backend/compose.yml &&
		git commit -qam "a web that exits")
	push
	contains "$OUT" "remote: step        slot          alpine            failed"
	[ "$(live_slot alpine-backend staging)" = blue ] || fail "an exiting container went live"
	[ "$(served alpine-backend staging blue)" = "$good" ] || fail "the old project stopped serving"
	[ -z "$(containers alpine-backend-staging-green)" ] || fail "the failed slot's project was left: $(containers alpine-backend-staging-green)"
	# Healthy in its slot, broken once live: gate 11 switches back.
	(cd ../work && sed -i 's|command: \["false", "httpd"|command: ["httpd"|' alpine-backend/compose.yml &&
		touch alpine-backend/www/BROKEN_LIVE && git add -A && git commit -qm "broken once live")
	push
	contains "$OUT" "remote: gate 11/11  health-after  alpine            failed"
	contains "$OUT" "rolled-back"
	[ "$(live_slot alpine-backend staging)" = blue ] || fail "gate 11 did not switch back"
	[ "$(served alpine-backend staging blue)" = "$good" ] || fail "the old project does not serve after gate 11 failed"
	[ -z "$(containers alpine-backend-staging-green)" ] || fail "the rolled-back project still runs"
	# At health level 3 the new project's containers may log no line that
	# health_log_pattern matches since they started.
	sed -i 's/^health_level = 2/health_level = 3/' gitgate/rules.ini
	sed -i '/^\[target alpine-backend staging\]/a health_log_pattern = CRITICAL' gitgate/rules.ini
	(cd ../work && rm alpine-backend/www/BROKEN_LIVE &&
		sed -i 's|command: \["httpd", "-f"|command: ["sh", "-c", "echo CRITICAL: no database >\&2; exec httpd \\"$$@\\"", "sh", "-f"|' alpine-backend/compose.yml &&
		git add -A && git commit -qm "logs CRITICAL at its start")
	push
	contains "$OUT" "remote: step        slot          alpine            failed"
	contains "$OUT" "matching health_log_pattern since it started (alpine-backend-staging-green's containers), the first:"
	contains "$OUT" "CRITICAL: no database"
	[ "$(live_slot alpine-backend staging)" = blue ] || fail "a release that logs CRITICAL went live"
	[ -z "$(containers alpine-backend-staging-green)" ] || fail "the project that logged CRITICAL was left running"
	# env_command fails: gate 7, its output nowhere.
	touch "$SRV/secrets-fail"
	deploy_expect 1 alpine production --confirm "$PHRASE"
	contains "$OUT" "gate  7/11  environment   alpine            failed"
	contains "$OUT" "env_command exited with 3"
	lacks "$OUT" "fetching"
	seen_nowhere "$PROD_SECRET" "$OUT" gitgate/history.jsonl gitgate/logs/*.log
	# env_command past the target's time limit: gate 7 too, in that time.
	rm "$SRV/secrets-fail" && touch "$SRV/secrets-hang"
	sed -i '/^\[target alpine-backend production\]/,/^\[/s/^command_timeout_seconds = .*/command_timeout_seconds = 2/' gitgate/rules.ini
	local started=$SECONDS
	deploy_expect 1 alpine production --confirm "$PHRASE"
	contains "$OUT" "gate  7/11  environment   alpine            failed"
	contains "$OUT" "env_command was stopped at its time limit"
	[ $((SECONDS - started)) -lt 15 ] || fail "a hung env_command was not stopped at its limit"
	seen_nowhere "$PROD_SECRET" "$OUT" gitgate/history.jsonl gitgate/logs/*.log
}

# A worker killed -9 while its switch command holds (the new project up):
# reconcile puts traffic back, stops the project it never confirmed, and
# leaves the live one serving; the next push deploys.
t_a_killed_deploy_is_reconciled() {
	new_compose_server alpine-backend
	local good worker
	REV=$(git -C ../work rev-parse HEAD)
	good=$REV
	push
	[ "$(served alpine-backend staging blue)" = "$good" ] || { fail "the first deploy did not go live"; cat "$OUT"; return; }
	touch "$SRV/hold-switch"
	commit "killed"
	(cd ../work && exec git push origin main) >push.out 2>&1 &
	track $!
	wait_for "$SRV/held" 900 || { fail "the switch never ran"; cat push.out; return; }
	[ "$(containers alpine-backend-staging-green | grep -c running)" = 2 ] || fail "the new project is not up at the switch"
	worker=$(cat gitgate/queue/*.json 2>/dev/null | grep -o '"worker":[0-9]*' | head -1 | cut -d: -f2)
	is_worker "$worker" || { fail "$worker is not the worker"; return; }
	kill -9 "$worker"
	rm -f "$SRV/hold-switch"
	OUT=$(mktemp)
	"$G" deploy --reconcile >"$OUT" 2>&1 || { fail "reconcile failed:"; cat "$OUT"; }
	contains "$OUT" "died after its switch; back on blue"
	[ "$(live_slot alpine-backend staging)" = blue ] || fail "reconcile did not switch back"
	[ "$(served alpine-backend staging blue)" = "$good" ] || fail "the live project does not serve after reconcile"
	[ -z "$(containers alpine-backend-staging-green)" ] || fail "the unconfirmed project was left: $(containers alpine-backend-staging-green)"
	"$G" history alpine staging --format json | python3 -c '
import json, sys
assert json.load(sys.stdin)[-1]["outcome"] == "abandoned"' || fail "the killed deploy is not recorded as abandoned"
	commit "after"
	push
	[ "$(served alpine-backend staging green)" = "$REV" ] || { fail "the next push did not deploy"; cat "$OUT"; }
}

# A Compose target on another machine (an sshd of the test's own on
# 127.0.0.2, whose sessions reach the test's dockerd): gate 5 sends the
# release there and builds on that Docker; the slot comes up there, is
# checked through the connection, and the next deploy prunes there too.
t_a_compose_target_on_a_remote_host() {
	new_compose_server alpine-backend
	[ -x /usr/sbin/sshd ] || { fail "no sshd (openssh-server) for the remote host"; return; }
	mkdir -p "$SRV/host"
	# shellcheck source=tests/sshd_host.sh
	. "$GITGATE_SOURCE/tests/sshd_host.sh"
	sshd_host_start "$SRV/host" 127.0.0.2 "SetEnv DOCKER_HOST=$DOCKER_HOST" ||
		{ fail "the remote host's sshd did not start: $(cat "$SRV/host/sshd.log")"; return; }
	track "$(cat "$SRV/host/sshd.pid")"
	sed -i "/^\[target alpine-backend staging\]/a host = root@127.0.0.2:$SSHD_PORT\nssh_known_hosts = $SRV/host/known_hosts\nssh_identity = $SRV/host/deploy_key" \
		gitgate/rules.ini
	REV=$(git -C ../work rev-parse HEAD)
	push
	contains "$OUT" "remote: step        connect       alpine            passed"
	contains "$OUT" "remote: gate 11/11  health-after  alpine            passed"
	[ "$(served alpine-backend staging blue)" = "$REV" ] || { fail "the remote Compose slot does not serve $REV"; cat "$OUT"; return; }
	ls "$SRV/srv/alpine-backend-staging-releases/"*/.gitgate-compose.json >/dev/null 2>&1 ||
		fail "the release there has no override: it was not built there"
	[ "$(readlink "$SRV/srv/alpine-backend-staging-blue")" = "$(ls -d "$SRV/srv/alpine-backend-staging-releases/"2*)" ] ||
		fail "the blue slot there does not point at the release gate 5 sent"
	local first=$REV
	commit "second"
	push
	commit "third"
	push
	[ "$(served alpine-backend staging blue)" = "$REV" ] || fail "the third deploy does not serve there"
	docker image ls --format '{{.Repository}}:{{.Tag}}' >images.txt
	grep -q -- "-${first:0:12}$" images.txt && { fail "the first release's image outlived it there:"; cat images.txt; }
	[ "$(grep -c '^alpine-backend/staging/web:' images.txt)" = 2 ] || { fail "expected the two kept releases' images:"; cat images.txt; }
}

# compose.c's own reading of Docker (a slot's containers, their logs since
# a time, their stop), by the unit tests that need a daemon: this one.
t_the_docker_side_of_compose() {
	GITGATE_TEST_DOCKER=1 "$GITGATE_BIN/tests/test_compose" --jobs 1 --filter 'compose_docker/*' >unit.out 2>&1 ||
		{ fail "compose's Docker tests failed:"; cat unit.out; }
	grep -q 'Tested: 1 | Passing: 1' unit.out || { fail "compose's Docker tests did not run:"; cat unit.out; }
}

start_dockerd
run_tests
