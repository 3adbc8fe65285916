#!/usr/bin/env bash
# End-to-end: remote targets over SSH, with real OpenSSH. One machine plays
# the git server and two production hosts: each host is an sshd of the
# test's own on a loopback address of its own (127.0.0.2, 127.0.0.3), with
# its own port, host key and authorized_keys, and, in a mount namespace of
# its own, its own files under $SRV/remote (the same path on both hosts,
# as a target's root is) and, for the second, its own `localhost`
# (127.0.0.3), so that both hosts' apps can listen on the same ports.
# Every process a test starts (sshd, the apps on the hosts) is stopped by
# its pid when the test ends, passed or failed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../sshd_host.sh"

# The hosts need mount namespaces (unshare --mount: root, or a user
# namespace); where there are none, ctest reports this file skipped.
if ! unshare --mount --propagation private true 2>/dev/null; then
	echo "SKIPPED: no mount namespaces here (unshare --mount), which the test's hosts need"
	exit 0
fi

G=$GITGATE_BIN/gitgate
PHRASE="deploy fully to production"

free_port() { # free_port ADDRESS
	python3 -c 'import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])' "$1"
}

# Stops what the test started: gitgate's ssh masters and copiers on the
# hosts, the apps on the hosts (by their pid files' process groups), each
# sshd's sessions, then each sshd, by pid.
stop_hosts() {
	local f pid start dir child
	ssh_masters_stop "$SRV/server.git/gitgate/ssh"
	host_copiers_stop "$SRV"/host-*/srv
	[ -s "$SRV/listener.pid" ] && kill -TERM "$(cat "$SRV/listener.pid")" 2>/dev/null
	for f in "$SRV"/host-*/nginx/nginx.pid; do
		[ -s "$f" ] && kill -QUIT "$(cat "$f")" 2>/dev/null
	done
	for f in "$SRV"/host-*/srv/*-run/*.pid; do
		[ -e "$f" ] || continue
		read -r pid start <"$f"
		kill -TERM -- "-$pid" 2>/dev/null
	done
	for dir in "$SRV"/host-*; do
		[ -s "$dir/daemon.pid" ] || continue
		pid=$(cat "$dir/daemon.pid")
		for child in $(ps -o pid= --ppid "$pid"); do
			kill -TERM "$child" 2>/dev/null
		done
		kill -TERM "$pid" 2>/dev/null
	done
	return 0
}

# The test's machine: the git server's deploy key and known_hosts (empty:
# no host is trusted until a test says so), and $SRV/remote, where each
# host's own files appear in its namespace (and nothing in the server's).
lab() {
	SRV=$PWD
	trap stop_hosts EXIT
	mkdir -p remote
	ssh-keygen -q -t ed25519 -N '' -C gitgate -f "$SRV/deploy_key"
	: >"$SRV/known_hosts"
}

# start_sshd NAME: (re)starts the host's sshd, as configured by new_host;
# without bubblewrap there when the file host-NAME/no-bwrap exists.
start_sshd() {
	local dir=$SRV/host-$1 hosts= no_bwrap=
	[ -e "$dir/hosts" ] && hosts=$dir/hosts
	[ -e "$dir/no-bwrap" ] && no_bwrap=$(command -v bwrap)
	mkdir -p /run/sshd
	# Root's home there is its own (its passwd line says so), with the
	# deploy key in its ~/.ssh/authorized_keys and no ~/.bashrc: this
	# machine's runs pyenv init (0.2 s a command).
	unshare --mount --propagation private sh -c '
		mount --bind "$1" "$2" || exit 1
		mount --bind "$1/passwd" /etc/passwd || exit 1
		if [ -n "$3" ]; then mount --bind "$3" /etc/hosts || exit 1; fi
		if [ -n "$5" ]; then mount --bind /dev/null "$5" || exit 1; fi
		exec /usr/sbin/sshd -D -e -f "$4"' sh "$dir" "$SRV/remote" "$hosts" "$dir/sshd_config" \
		"$no_bwrap" 2>>"$dir/sshd.log" &
	echo $! >"$dir/daemon.pid"
	local tries=0
	until python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)' \
		"$(cat "$dir/address")" "$(cat "$dir/port")" 2>/dev/null; do
		tries=$((tries + 1))
		[ $tries -lt 50 ] || { fail "sshd $1 did not start:"; cat "$dir/sshd.log"; return 1; }
		sleep 0.1
	done
}

# new_host NAME ADDRESS [LOCALHOST]: a host with its own sshd on ADDRESS,
# its own host key, the deploy key authorized, its files under $SRV/remote
# (in its namespace), root's home among them ($SRV/remote/home);
# LOCALHOST: what `localhost` is there. Sets
# HOST_<NAME> to root@ADDRESS:PORT.
new_host() {
	local name=$1 address=$2 dir=$SRV/host-$1 port
	[ -x /usr/sbin/sshd ] || { fail "sshd is not installed (install.sh --test installs it)"; return 1; }
	mkdir -p "$dir/srv"
	port=$(free_port "$address")
	echo "$address" >"$dir/address"
	echo "$port" >"$dir/port"
	ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/host_key"
	mkdir -p "$dir/home/.ssh"
	cp "$SRV/deploy_key.pub" "$dir/home/.ssh/authorized_keys"
	sed "s|^root:\([^:]*:[^:]*:[^:]*:[^:]*\):[^:]*:|root:\1:$SRV/remote/home:|" /etc/passwd >"$dir/passwd"
	[ -n "${3:-}" ] && printf '%s localhost\n' "$3" >"$dir/hosts"
	cat >"$dir/sshd_config" <<EOF
ListenAddress $address:$port
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile .ssh/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
LogLevel ERROR
EOF
	start_sshd "$name" || return 1
	printf -v "HOST_$name" 'root@%s:%s' "$address" "$port"
}

# What the admin does for a host: its key, fetched and added.
trust() { # trust NAME
	local dir=$SRV/host-$1
	ssh-keyscan -p "$(cat "$dir/port")" "$(cat "$dir/address")" 2>/dev/null >>"$SRV/known_hosts"
}

# A bare repository whose pushes deploy argo to production on the hosts
# given (auto, so that a push deploys it), and a clone with an app that
# answers /health with its revision and the env file's GREETING, on
# localhost (the host's own); broken (503) when ROOT-BROKEN-REVISION exists
# on its host, broken once live (from its second request) with
# argo/BROKEN_LIVE.
new_remote_server() { # new_remote_server HOSTS-LINE [EXTRA-TARGET-LINES]
	read -r P1 P2 < <(python3 -c 'import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
	ROOT="$SRV/remote/srv/it's argo"
	git init -q --bare server.git
	mkdir -p server.git/gitgate
	git init -q work
	mkdir -p work/argo
	cat >work/argo/app.py <<'PY'
import http.server, os, sys
here = os.path.dirname(os.path.abspath(__file__))
rev, greeting = os.environ.get("REVISION", "?"), os.environ.get("GREETING", "?")
answered = 0
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global answered
        answered += 1
        broken = os.path.exists(os.environ["ROOT"] + "-BROKEN-" + rev) or (
            answered > 1 and os.path.exists(os.path.join(here, "BROKEN_LIVE")))
        body = ('{"status": "%s", "revision": "%s", "greeting": "%s"}' % (
            "broken" if broken else "ok", rev, greeting)).encode()
        self.send_response(503 if broken else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("localhost", int(sys.argv[1])), Health).serve_forever()
PY
	git -C work add -A && git -C work commit -qm "argo app"
	git -C work remote add origin ../server.git
	cat >server.git/gitgate/rules.ini <<EOF
[project argo]
path = argo/
[deploy]
freeze_days = ${FREEZE_DAY:-sun}
ssh_known_hosts = $SRV/known_hosts
ssh_identity = $SRV/deploy_key
keep_releases = 2
$(environment production "$1")
${2:-}
EOF
	ln -s "$GITGATE_BIN/pre-receive" server.git/hooks/pre-receive
	ln -s "$GITGATE_BIN/post-receive" server.git/hooks/post-receive
	git -C server.git config receive.advertisePushOptions true
}

# environment ENV HOSTS-LINE: an auto environment and argo's target there,
# on the hosts given; root, env file and ports the same on every host. The
# app (in its sandbox there) may write its root's folder: the tests' marks
# (ROOT-BROKEN-REVISION, ROOT-migrating) are there.
environment() {
	cat <<EOF
[environment $1]
auto = yes
health_level = 2
[target argo $1]
$2
root = $ROOT
sandbox_writable = ${ROOT%/*}
ports = $P1 $P2
env_file = $SRV/remote/argo.env
env_required = GREETING
run = python3 argo/app.py \$PORT
switch = link $ROOT-live
health_url = http://localhost:\$PORT/health
health_retries = 30
health_interval_ms = 100
health_successes = 1
health_deadline_seconds = 10
EOF
}

# one_host [EXTRA-TARGET-LINES]: the machine, host a (127.0.0.2) trusted,
# argo's production target on it, its env file saying GREETING=a.
one_host() {
	lab
	new_host a 127.0.0.2 || return 1
	new_remote_server "host = $HOST_a" "${1:-}"
	trust a
	greet a "a"
}

master_pid() { # the pid of gitgate's one ssh master (nothing when there is none)
	local sock
	for sock in "$SRV"/server.git/gitgate/ssh/h-*; do
		[ -S "$sock" ] && ssh_master_pid "$sock"
	done
}

greet() { # greet NAME GREETING: the env file on host NAME
	printf 'GREETING=%s\n' "$2" >"$SRV/host-$1/argo.env"
}

answer() { # answer ADDRESS PORT FIELD: what the app there says
	curl -s --max-time 5 "http://$1:$2/health" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$3" 2>/dev/null
}

commit() { # commit MESSAGE [FILE]: a commit to argo
	(cd "$SRV/work" && { [ -n "${2:-}" ] && touch "$2" || echo "# $1" >>argo/app.py; } &&
		git add -A && git commit -qm "$1")
}

push() { # push [MESSAGE [FILE]]: a commit to argo (when a message is given), pushed; output in $OUT
	[ $# = 0 ] || commit "$@"
	OUT=$(mktemp)
	(cd "$SRV/work" && GITGATE_USER=alice git push origin "${BRANCH:-main}" >"$OUT" 2>&1)
}

last_record() { # last_record PYTHON-ASSERTION [ARG...]: on the newest history record r
	local check=$1
	shift
	(cd "$SRV/server.git" && "$G" history argo production --format json) |
		python3 -c "import json, sys
r = json.load(sys.stdin)[-1]
$check" "$@" || fail "the last record is not as expected"
}

# A release as it should be on the host: git archive of REV in the work
# tree, less what its .deployignore names (a path a line, here) and what
# rules.ini excludes now (argo/bulky.bin, once ten_changes adds it), into
# DIR.
archived() { # archived REV DIR
	local path
	mkdir -p "$2" && git -C "$SRV/work" -c tar.umask=022 archive "$1" | tar -x -C "$2" || return
	while read -r path; do rm -rf "${2:?}/$path"; done <"$2/.deployignore"
	if grep -q '^exclude = argo/bulky.bin$' "$SRV/server.git/gitgate/rules.ini"; then rm -f "$2/argo/bulky.bin"; fi
}

# Everything of a folder that a release is: each entry's path, kind, mode
# and symlink target, then each file's checksum.
tree_of() { # tree_of DIR
	(cd "$1" && find . -mindepth 1 -printf '%P %y %m %l\n' | LC_ALL=C sort &&
		find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2)
}

# The release on host a that serves REV (its folder, by the id's revision).
release_of() { # release_of REV
	local r
	for r in "$SRV/host-a/srv/it's argo-releases/"*-"${1:0:12}"; do [ -d "$r" ] && echo "$r"; done
}

# Is the release of REV on host a what git archive of REV less the
# exclusions is, byte for byte, mode for mode, link for link?
as_archived() { # as_archived REV
	local want=$SRV/want-$1 there
	there=$(release_of "$1")
	[ -n "$there" ] || { fail "no release of $1 on host a"; return; }
	archived "$1" "$want"
	diff -r --no-dereference "$want" "$there" >"$SRV/diff.txt" 2>&1 &&
		[ "$(tree_of "$want")" = "$(tree_of "$there")" ] ||
		{ fail "the release of $1 on host a is not its archive:"; cat "$SRV/diff.txt"; diff <(tree_of "$want") <(tree_of "$there"); }
}

# The slot step's detail in the newest record holds TEXT.
slot_says() { # slot_says TEXT
	last_record '
slot = [g for g in r["gates"] if g["name"] == "slot"][-1]
assert sys.argv[1] in (slot["detail"] or ""), slot' "$1"
}

# Ten files of argo changed in every way a release can change, five gone:
# bytes (3), new (1), mode (1), a symlink's target (1), a file become a
# folder (1 file in it) and a folder a file (1), a folder no longer
# excluded (1 file), .deployignore itself (1); gone: a file removed, the
# two that changed kind, a file .deployignore now excludes, and one
# rules.ini now excludes.
ten_changes() {
	(cd "$SRV/work" && echo "# second" >>argo/app.py && echo B >>argo/b.txt && echo C >>argo/c.txt &&
		echo new >argo/new.txt && git rm -q argo/old.txt && chmod +x argo/tool.sh &&
		ln -sfn tool.sh argo/link && git rm -q argo/was-file && mkdir argo/was-file &&
		echo inside >argo/was-file/inside && git rm -qr argo/was-dir && echo file >argo/was-dir &&
		printf 'argo/notes.md\n' >.deployignore && git add -A && git commit -qm second)
	sed -i 's|^\[deploy\]|[deploy]\nexclude = argo/bulky.bin|' "$SRV/server.git/gitgate/rules.ini"
}

t_a_push_deploys_to_a_remote_host_and_rolls_back() {
	lab
	new_host a 127.0.0.2 || return
	new_remote_server "host = $HOST_a"
	trust a
	greet a "hello from a"
	# Files of each kind, for the second deploy to change (ten_changes), and
	# thirty it leaves as they are.
	(cd work && mkdir argo/lib && for f in $(seq 30); do echo "$f" >"argo/lib/f$f.py"; done &&
		for f in b c old notes bulky; do echo "$f" >"argo/$f.txt"; done &&
		mv argo/bulky.txt argo/bulky.bin && mv argo/notes.txt argo/notes.md &&
		echo '#!/bin/sh' >argo/tool.sh && ln -s app.py argo/link && echo f >argo/was-file &&
		mkdir -p argo/was-dir argo/docs && echo x >argo/was-dir/x && echo guide >argo/docs/guide.md &&
		printf 'argo/docs/\n' >.deployignore)
	push "first" && contains "$OUT" "remote: gate 11/11  health-after  argo              passed" ||
		{ fail "the first push did not deploy:"; cat "$OUT"; }
	contains "$OUT" "connect"
	local first second
	first=$(git -C work rev-parse HEAD)
	[ "$(answer 127.0.0.1 "$P1" revision)" = "$first" ] || fail "host a's blue slot does not serve $first"
	[ "$(answer 127.0.0.1 "$P1" greeting)" = "hello from a" ] || fail "the app did not get host a's env file"
	# Everything is on the host: the release, the slot, the live link, the pid file.
	[ "$(readlink "$SRV/host-a/srv/it's argo-live")" = "$ROOT-blue" ] || fail "the live link on host a is not the blue slot"
	ls "$SRV/host-a/srv/it's argo-releases/"*/argo/app.py >/dev/null 2>&1 || fail "no release on host a"
	[ -s "$SRV/host-a/srv/it's argo-run/blue.pid" ] || fail "no pid file on host a"
	[ ! -e "$SRV/remote/srv" ] || fail "the git server's own \$SRV/remote was written to"
	# The connection stays for the next deploy: the same master serves it.
	local master
	master=$(master_pid)
	[ -n "$master" ] || fail "no ssh master stayed after the deploy"
	slot_says "sent whole: "
	as_archived "$first"
	# The second deploy sends the ten files that changed and the five paths
	# gone; the host makes the rest of the release from its copy of the
	# first, which stays as it was.
	local before
	before=$(tree_of "$(release_of "$first")")
	ten_changes
	push
	[ "$(master_pid)" = "$master" ] || fail "the second deploy did not reuse master $master: $(master_pid)"
	slot_says "sent 10 changed files"
	slot_says ", 5 removed, "
	grep -q "release .* sent 10 changed files" server.git/gitgate/logs/*.log || fail "the deploy log does not say what was sent"
	as_archived "$(git -C work rev-parse HEAD)"
	[ "$(tree_of "$(release_of "$first")")" = "$before" ] || fail "the first release changed as the second was made from it"
	# Copies, not hard links: what an app writes in its release reaches no
	# other release, nor the host's copy the next is made from.
	[ -z "$(find "$(release_of "$(git -C work rev-parse HEAD)")" -type f -links +1)" ] ||
		fail "the second release shares files with another (hard links)"
	# The host's spare copy of the second release is made after the deploy
	# (by its prune, in the background), not while it waits: the next
	# release is that copy.
	local rel="$SRV/host-a/srv/it's argo-releases" n=0
	second=$(git -C work rev-parse HEAD)
	while ! { [ -s "$rel/.spare.id" ] && cmp -s "$rel/.spare.id" "$rel/.pristine.id"; } && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	cmp -s "$rel/.spare.id" "$rel/.pristine.id" || fail "no spare copy of the pristine one after the deploy"
	diff -r --no-dereference "$rel/.spare" "$rel/.pristine" >/dev/null || fail "the spare is not the pristine copy"
	# A spare changed there since it was made is not used: the next release
	# is made from the pristine copy, and is its archive all the same.
	echo tampered >>"$rel/.spare/argo/b.txt"
	# A slot that is a folder, not a symlink, is never replaced: the deploy
	# that meets one (its release sent, its slot's app stopped, in one trip)
	# fails once, saying so, and green goes on serving.
	local blue="$SRV/host-a/srv/it's argo-blue"
	mv "$blue" "$SRV/blue-link" && mkdir "$blue"
	push "meets a folder"
	contains "$OUT" "is not a symlink: gitgate replaces only links"
	lacks "$OUT" "sent whole"
	as_archived "$(git -C work rev-parse HEAD)"
	last_record 'assert r["outcome"] == "failed", r'
	[ "$(answer 127.0.0.1 "$P2" revision)" = "$second" ] || fail "green does not serve $second after the failed deploy"
	# Its app stopped there, blue holds no release gitgate knows of: a
	# rollback to it is refused rather than started from whatever it holds.
	(cd server.git && GITGATE_USER=alice "$G" rollback argo production) >rollback.txt 2>&1 &&
		fail "a rollback went to blue after the failed deploy"
	contains rollback.txt "has no other slot to roll back to"
	rmdir "$blue" && mv "$SRV/blue-link" "$blue"
	# A master that died (killed: its socket stays behind) is replaced, and
	# the deploy goes on.
	kill -KILL "$master"
	[ -n "$(find "$SRV/server.git/gitgate/ssh" -type s)" ] || fail "the killed master left no socket to trip on"
	[ "$(answer 127.0.0.1 "$P2" revision)" = "$second" ] || fail "the green slot does not serve $second"
	(cd server.git && "$G" status argo production) >status.txt 2>&1
	contains status.txt "$HOST_a"
	contains status.txt "live green"
	# keep_releases = 2: the third deploy's prune leaves the slots' two there.
	# The host's copy of the second was changed there (by hand): the third
	# travels whole, and is its archive all the same.
	echo changed >>"$SRV/host-a/srv/it's argo-releases/.pristine/argo/b.txt"
	push "third"
	contains "$OUT" "gate 11/11  health-after  argo              passed"
	slot_says "sent whole: "
	as_archived "$(git -C work rev-parse HEAD)"
	[ -n "$(master_pid)" ] && [ "$(master_pid)" != "$master" ] || fail "the killed master was not replaced: $(master_pid)"
	local kept=("$SRV/host-a/srv/it's argo-releases/"*)
	[ ${#kept[@]} = 2 ] || fail "host a keeps ${#kept[@]} releases, not 2: ${kept[*]}"
	[[ "${kept[*]}" != *"-${first:0:12}"* ]] || fail "the first release was not pruned on host a"
	# The team's rollback: back to the warm green slot on host a.
	OUT=$(mktemp)
	(cd server.git && GITGATE_USER=alice "$G" rollback argo production) >"$OUT" 2>&1 ||
		{ fail "rollback failed:"; cat "$OUT"; }
	[ "$(readlink "$SRV/host-a/srv/it's argo-live")" = "$ROOT-green" ] || fail "the rollback did not switch host a back to green"
	last_record 'assert (r["kind"], r["outcome"]) == ("rollback", "deployed"), r'
	# Healthy in its slot, broken once live: gate 11 fails through the
	# forward, and host a is switched back to what served. (Its release
	# is made from the host's copy of the third, one file sent.)
	push "broken once live" argo/BROKEN_LIVE
	slot_says "sent 1 changed file ("
	contains "$OUT" "gate 11/11  health-after  argo              failed"
	contains "$OUT" "rolled-back"
	[ "$(readlink "$SRV/host-a/srv/it's argo-live")" = "$ROOT-green" ] || fail "host a is not back on green"
	[ "$(answer 127.0.0.1 "$P2" revision)" = "$second" ] || fail "the old slot does not serve after the rollback"
	# The rolled-back slot's app was stopped there, its pid file gone.
	curl -s --max-time 2 "http://127.0.0.1:$P1/health" >/dev/null && fail "the rolled-back blue slot still answers"
	[ ! -e "$SRV/host-a/srv/it's argo-run/blue.pid" ] || fail "the blue slot's pid file is still on host a"
	last_record 'assert r["outcome"] == "rolled-back", r'
	# gitgate health asks the host through a connection of its own.
	(cd server.git && "$G" health argo production) >health.txt 2>&1 || { fail "gitgate health failed:"; cat health.txt; }
	contains health.txt "argo on $HOST_a in production (green slot):"
	contains health.txt "GET http://localhost:$P2/health on $HOST_a"
	# Two at once through the one master (each with a forward of its own,
	# taken back as it ends): both answer, and the master stays.
	master=$(master_pid)
	(cd server.git && "$G" health argo production) >health1.txt 2>&1 &
	local one=$!
	(cd server.git && "$G" health argo production) >health2.txt 2>&1 || { fail "the second health check failed:"; cat health2.txt; }
	wait "$one" || { fail "the first health check failed:"; cat health1.txt; }
	[ "$(master_pid)" = "$master" ] || fail "two checks at once did not share master $master: $(master_pid)"
	! ss -ltnp 2>/dev/null | grep -q "pid=$master," || fail "the master still listens on a forward: $(ss -ltnp | grep "pid=$master,")"
	# rollback --to a revision whose release was pruned: exported again
	# here, sent there, into the warm slot; the host's copy of the release
	# before is gone, so it travels whole.
	rm -rf "$SRV/host-a/srv/it's argo-releases/.pristine"
	OUT=$(mktemp)
	(cd server.git && GITGATE_USER=alice "$G" rollback argo production --to "$first") >"$OUT" 2>&1 ||
		{ fail "rollback --to failed:"; cat "$OUT"; }
	[ "$(answer 127.0.0.1 "$P1" revision)" = "$first" ] || fail "rollback --to does not serve $first on host a"
	[ "$(readlink "$SRV/host-a/srv/it's argo-live")" = "$ROOT-blue" ] || fail "rollback --to did not switch host a to blue"
	slot_says "sent whole: "
	as_archived "$first"
}

t_a_rolling_deploy_stops_at_the_failing_host_and_takes_the_first_back() {
	lab
	new_host a 127.0.0.2 || return
	new_host b 127.0.0.3 127.0.0.3 || return
	new_remote_server "hosts = $HOST_a $HOST_b" "health_dependencies = DEP"
	trust a
	trust b
	greet a "a"
	greet b "b"
	# Level 3's dependency checks go through each host's connection too:
	# host b's `localhost:$Q` is 127.0.0.3, where only a listener of the
	# test's listens (from here, localhost:$Q has nobody).
	local q
	q=$(free_port 127.0.0.3)
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.3", int(sys.argv[1]))); s.listen(); time.sleep(300)' "$q" &
	echo $! >"$SRV/listener.pid"
	echo "DEP=redis://user:secret@localhost:$q" >>"$SRV/host-b/argo.env"
	echo "DEP=redis://127.0.0.2:$(cat "$SRV/host-a/port")" >>"$SRV/host-a/argo.env"
	sed -i 's/^env_required = GREETING$/env_required = GREETING DEP/; s/^health_level = 2$/health_level = 3/' server.git/gitgate/rules.ini
	push "first" || true
	contains "$OUT" "host 2 of 2"
	contains "$OUT" "gate 11/11  health-after  argo              passed"
	# Each check named as the host sees it, not by the forward it went through.
	last_record '
checks = [c["what"] for c in r["health"]]
assert "tcp redis://localhost:%s on %s" % (sys.argv[1], sys.argv[2]) in checks, checks
assert "GET http://localhost:%s/health on %s" % (sys.argv[3], sys.argv[2]) in checks, checks
assert not any("secret" in w or "127.0.0.1" in w for w in checks), checks' "$q" "$HOST_b" "$P1"
	local first
	first=$(git -C work rev-parse HEAD)
	[ "$(answer 127.0.0.1 "$P1" greeting)" = a ] || fail "host a does not serve"
	[ "$(answer 127.0.0.3 "$P1" greeting)" = b ] || fail "host b does not serve"
	# Host b's new slot will fail its check: host a, already live on the
	# new release, goes back too.
	commit "second"
	touch "$SRV/host-b/srv/it's argo-BROKEN-$(git -C work rev-parse HEAD)"
	push
	contains "$OUT" "rolled-back"
	[ "$(readlink "$SRV/host-a/srv/it's argo-live")" = "$ROOT-blue" ] || fail "host a was not taken back"
	[ "$(readlink "$SRV/host-b/srv/it's argo-live")" = "$ROOT-blue" ] || fail "host b switched"
	[ "$(answer 127.0.0.1 "$P1" revision)" = "$first" ] || fail "host a does not serve $first"
	last_record '
assert r["outcome"] == "rolled-back" and r["project"] == "argo", r
slots = [g for g in r["gates"] if g["name"] == "slot"]
assert [g["result"] for g in slots] == ["passed", "failed"], slots
assert "127.0.0.3" in slots[1]["detail"] and "back on blue" in slots[1]["detail"], slots[1]
assert [g["result"] for g in r["gates"] if g["name"] == "health-after"] == ["passed"], r["gates"]'
	(cd server.git && "$G" status argo production) >status.txt 2>&1
	contains status.txt "$HOST_a"
	contains status.txt "$HOST_b"
}

t_the_apps_log_on_the_host_is_capped_and_rotated() {
	one_host || return
	sed -i "s|^keep_releases = 2|keep_releases = 2\napp_log_max_bytes = 65536|" server.git/gitgate/rules.ini
	# The app says 3 x 64 KiB of numbered 64-byte lines as it starts.
	sed -i '1a import sys\nfor i in range(3072):\n    print("line %06d %051d" % (i, 0), flush=True)' work/argo/app.py
	push "chatty" && contains "$OUT" "gate 11/11  health-after  argo              passed" ||
		{ fail "the push did not deploy:"; cat "$OUT"; return; }
	local run="$SRV/host-a/srv/it's argo-run" size1 size2
	size1=$(wc -c <"$run/blue.log")
	size2=$(wc -c <"$run/blue.log.1")
	[ "$size1" -le 65536 ] && [ "$size2" -le 65536 ] && [ "$size2" -gt 0 ] ||
		fail "blue.log is $size1 bytes and blue.log.1 $size2: not within 65536"
	[ ! -e "$run/blue.log.2" ] || fail "app_log_keep = 1 left a blue.log.2"
	cat "$run/blue.log.1" "$run/blue.log" | tail -n 1 | grep -q "^line 003071 " ||
		fail "the newest line is not the last one logged"
	# The app and its log writer are one group on the host, which the
	# next deploy into the blue slot stops whole.
	local pid
	read -r pid _ <"$run/blue.pid"
	[ "$(ps -o stat= -g "$pid" | grep -vc '^Z')" -ge 2 ] || fail "the host's app group has no log writer"
	push "second" && push "third" || { fail "the next deploys failed:"; cat "$OUT"; }
	# (Zombies aside: this machine's init may be slow to reap orphans.)
	[ -z "$(ps -o stat= -g "$pid" | grep -v '^Z')" ] ||
		fail "the first blue app's group outlived its stop: $(ps -o pid,stat,comm -g "$pid")"
}

# The watch after gate 11 reads the app's log where the app runs: on the
# host (ROOT-run/SLOT.log there), through the connection; this machine
# has no such file. A release that logs CRITICAL once it serves is put back.
t_a_watch_reads_the_app_log_on_the_host() {
	one_host "health_log_pattern = CRITICAL" || return
	sed -i 's/^\[environment production\]$/[environment production]\nwatch_seconds = 20\nwatch_interval_seconds = 1/' \
		server.git/gitgate/rules.ini
	sed -i 's/^        answered += 1$/        answered += 1\n        if answered > 2 and os.path.exists(os.path.join(here, "CRITICAL")):\n            print("CRITICAL: the ledger does not balance", flush=True)/' \
		work/argo/app.py
	push "first" && contains "$OUT" "watching argo in production" ||
		{ fail "the first push did not deploy with a watch:"; cat "$OUT"; return; }
	local first
	first=$(git -C work rev-parse HEAD)
	push "critical once it serves" argo/CRITICAL
	contains "$OUT" "gate 11/11  health-after  argo              passed"
	local tries=0
	until (cd server.git && "$G" history argo production) | grep -q "watch of .*: rolled-back" ||
		[ $tries -ge 150 ]; do
		sleep 0.2
		tries=$((tries + 1))
	done
	(cd server.git && "$G" history argo production) >history.txt
	grep -q "watch of .*: rolled-back.*CRITICAL" history.txt ||
		{ fail "the watch did not put the release back for its CRITICAL line:"; cat history.txt; }
	grep -q "CRITICAL" "$SRV/host-a/srv/it's argo-run/green.log" || fail "the app's log on the host holds no CRITICAL"
	[ "$(readlink "$SRV/host-a/srv/it's argo-live")" = "$ROOT-blue" ] || fail "host a is not back on blue"
	[ "$(answer 127.0.0.1 "$P1" revision)" = "$first" ] || fail "the old release does not serve on host a"
}

t_an_unknown_or_changed_host_key_stops_the_deploy() {
	lab
	new_host a 127.0.0.2 || return
	new_remote_server "host = $HOST_a"
	greet a "a"
	push "first"
	contains "$OUT" "step        connect       argo              failed"
	contains "$OUT" "Host key verification failed"
	contains "$OUT" "ssh-keyscan -p $(cat "$SRV/host-a/port") 127.0.0.2 >> $SRV/known_hosts"
	(cd server.git && "$G" doctor) >doctor.txt 2>&1 && fail "doctor passed an untrusted host"
	contains doctor.txt "argo production on $HOST_a: not reachable: "
	[ ! -e "$SRV/host-a/srv/it's argo-blue" ] || fail "a slot was made on an untrusted host"
	# Another key under the host's name: refused too, never replaced.
	ssh-keygen -q -t ed25519 -N '' -f "$SRV/impostor"
	printf '[127.0.0.2]:%s %s\n' "$(cat "$SRV/host-a/port")" "$(cut -d' ' -f1,2 "$SRV/impostor.pub")" >"$SRV/known_hosts"
	OUT=$(mktemp)
	(cd server.git && GITGATE_USER=alice "$G" deploy argo production) >"$OUT" 2>&1 && fail "a deploy to a host with a changed key passed"
	contains "$OUT" "ssh-keyscan"
	contains "$OUT" "ssh-keygen -R"
	[ "$(wc -l <"$SRV/known_hosts")" = 1 ] || fail "known_hosts was changed"
	last_record 'assert r["outcome"] == "failed" and any(g["name"] == "connect" and g["result"] == "failed" for g in r["gates"]), r'
}

t_a_connection_lost_mid_deploy_leaves_the_old_slot_serving() {
	one_host || return
	push "first"
	local first
	first=$(git -C work rev-parse HEAD)
	# From now on the deploy waits in migrate, on the host, where the test
	# cuts it off.
	echo "migrate = sh -c 'touch \"\$0-migrating\"; sleep 30' \$ROOT" >>server.git/gitgate/rules.ini
	(cd work && echo "# second" >>argo/app.py && git commit -qam second)
	OUT=$(mktemp)
	(cd work && GITGATE_USER=alice git push origin main >"$OUT" 2>&1) &
	local pusher=$! tries=0
	until [ -e "$SRV/host-a/srv/it's argo-migrating" ] || [ $tries -ge 100 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	[ -e "$SRV/host-a/srv/it's argo-migrating" ] || fail "the deploy never reached migrate"
	# The host goes away: its sshd and every session of it.
	local pid child
	pid=$(cat "$SRV/host-a/daemon.pid")
	for child in $(ps -o pid= --ppid "$pid"); do kill -KILL "$child"; done
	{ kill -KILL "$pid" && wait "$pid"; } 2>/dev/null
	wait "$pusher"
	contains "$OUT" "step        slot          argo              failed"
	[ "$(readlink "$SRV/host-a/srv/it's argo-live")" = "$ROOT-blue" ] || fail "the live link moved"
	[ "$(answer 127.0.0.1 "$P1" revision)" = "$first" ] || fail "the old slot does not serve"
	last_record '
assert r["outcome"] == "failed", r
slot = [g for g in r["gates"] if g["name"] == "slot"][0]
assert slot["result"] == "failed" and "connection to root@127.0.0.2" in slot["detail"], slot
assert "sleep 30" in slot["detail"], slot'
	# The host is back: the next deploy starts clean.
	start_sshd a || return
	sed -i '/^migrate = /d' server.git/gitgate/rules.ini
	OUT=$(mktemp)
	(cd server.git && GITGATE_USER=alice "$G" deploy argo production) >"$OUT" 2>&1 || { fail "the next deploy failed:"; cat "$OUT"; }
	[ "$(answer 127.0.0.1 "$P2" revision)" = "$(git -C work rev-parse HEAD)" ] || fail "the next deploy does not serve"
	# Lost during the slot's health check (the new app answers 503, so the
	# check retries, for up to 30 s): said at once as the connection's
	# loss, not after every retry as the app's fault.
	sed -i 's/^health_retries = .*/health_retries = 300/; s/^health_deadline_seconds = .*/health_deadline_seconds = 60/' \
		server.git/gitgate/rules.ini
	commit "third"
	local third t0
	third=$(git -C work rev-parse HEAD)
	touch "$SRV/host-a/srv/it's argo-BROKEN-$third"
	OUT=$(mktemp)
	(cd work && GITGATE_USER=alice git push origin main >"$OUT" 2>&1) &
	pusher=$! tries=0
	until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$P1/health")" = 503 ] ||
		[ $tries -ge 100 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	[ $tries -lt 100 ] || fail "the broken app never started"
	t0=$SECONDS
	pid=$(cat "$SRV/host-a/daemon.pid")
	for child in $(ps -o pid= --ppid "$pid"); do kill -KILL "$child"; done
	{ kill -KILL "$pid" && wait "$pid"; } 2>/dev/null
	wait "$pusher"
	[ $((SECONDS - t0)) -lt 15 ] || fail "the loss was said after $((SECONDS - t0)) s, not at once"
	contains "$OUT" "was lost: the app could not be asked"
	last_record '
slot = [g for g in r["gates"] if g["name"] == "slot"][0]
assert slot["result"] == "failed" and slot["detail"].startswith("the connection to root@127.0.0.2"), slot
assert "was lost" in slot["detail"], slot'
}

# The nginx switch on the host: an nginx of the test's own, started there
# (in the host's namespace) as its admin would, checked and reloaded there.
t_the_nginx_switch_runs_on_the_host() {
	one_host || return
	command -v nginx >/dev/null || { fail "nginx is not installed (install.sh --test installs it)"; return; }
	local n=$SRV/remote/nginx port
	port=$(free_port 127.0.0.1)
	mkdir -p "$SRV/host-a/nginx"
	nginx_config "$n" "$port" "$n/argo.upstream" >"$SRV/host-a/nginx/nginx.conf"
	echo "server 127.0.0.1:$P1;" >"$SRV/host-a/nginx/argo.upstream"
	ssh -T -oBatchMode=yes -oUserKnownHostsFile="$SRV/known_hosts" -i "$SRV/deploy_key" \
		-p "$(cat "$SRV/host-a/port")" root@127.0.0.2 \
		nginx -p "$n" -c "$n/nginx.conf" -e "$n/error.log" || { fail "nginx did not start on host a"; return; }
	sed -i "s|^\\[deploy\\]|[deploy]\\nnginx = nginx -p $n -c $n/nginx.conf -e $n/error.log\\nnginx_pid_file = $n/nginx.pid|" server.git/gitgate/rules.ini
	sed -i "s|^switch = link .*|switch = nginx $n/argo.upstream\\nlive_url = http://localhost:$port/health|" server.git/gitgate/rules.ini
	push "first"
	contains "$OUT" "health-after  argo              passed"
	[ "$(answer 127.0.0.1 "$port" revision)" = "$(git -C work rev-parse HEAD)" ] || fail "host a's nginx does not serve the first deploy"
	push "second"
	contains "$OUT" "health-after  argo              passed"
	grep -qx "server 127.0.0.1:$P2;" "$SRV/host-a/nginx/argo.upstream" || fail "the upstream on host a is not the green slot's"
	[ "$(answer 127.0.0.1 "$port" revision)" = "$(git -C work rev-parse HEAD)" ] || fail "host a's nginx does not serve the second deploy"
	# nginx -t failing there: the upstream file is put back there, nginx
	# not reloaded, and the green slot goes on serving.
	local second
	second=$(git -C work rev-parse HEAD)
	sed -i "s|^nginx = nginx -p $n -c $n/nginx.conf|nginx = nginx -p $n -c $n/missing.conf|" server.git/gitgate/rules.ini
	push "third"
	contains "$OUT" "step        switch        argo              failed"
	contains "$OUT" "is as it was"
	grep -qx "server 127.0.0.1:$P2;" "$SRV/host-a/nginx/argo.upstream" || fail "the upstream on host a was not put back"
	[ "$(answer 127.0.0.1 "$port" revision)" = "$second" ] || fail "host a's nginx does not serve the second deploy after a failed switch"
}

# A deploy killed right after its switch on a host: --reconcile switches
# that host back, through the master the dead deploy used (it outlives it).
t_a_deploy_killed_after_its_switch_is_undone_on_the_host() {
	one_host || return
	push "first"
	local first
	first=$(git -C work rev-parse HEAD)
	# From now on the switch, on the host, swaps the link and, the first
	# time, says so and waits (to be killed).
	sed -i "s|^switch = link .*|switch = command sh -c 'ln -sfn \"\\\$1\" \"\\\$0.new\" \\&\\& mv -T \"\\\$0.new\" \"\\\$0\" \\&\\& { [ -e \"\\\$0.switched\" ] \|\| { touch \"\\\$0.switched\"; sleep 30; }; }' \\\$ROOT-live \\\$ROOT-\\\$SLOT|" server.git/gitgate/rules.ini
	grep -q 'switched\" ] || { touch' server.git/gitgate/rules.ini || fail "the test did not set its switch"
	# The next revision reaches the server without a push (no post-receive):
	# the test runs the deploy itself, to kill it. Reconcile then undoes it
	# and leaves that tip alone: its deploy was abandoned, never retried by
	# itself (the last record says so).
	commit "second"
	git -C server.git fetch -q ../work main:main || fail "the server did not get the second commit"
	(cd server.git && GITGATE_USER=alice exec "$G" deploy argo production >"$SRV/killed.out" 2>&1) &
	local deployer=$! tries=0
	until [ -e "$SRV/host-a/srv/it's argo-live.switched" ] || [ $tries -ge 100 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	[ "$(readlink "$SRV/host-a/srv/it's argo-live")" = "$ROOT-green" ] || { fail "the switch did not happen:"; cat "$SRV/killed.out"; }
	{ kill -KILL "$deployer" && wait "$deployer"; } 2>/dev/null
	local master
	master=$(master_pid)
	[ -n "$master" ] || fail "the killed deploy's master is gone"
	OUT=$(mktemp)
	(cd server.git && "$G" deploy --reconcile) >"$OUT" 2>&1 || { fail "reconcile failed:"; cat "$OUT"; }
	contains "$OUT" "argo on $HOST_a in production: the deploy"
	contains "$OUT" "back on blue"
	[ "$(readlink "$SRV/host-a/srv/it's argo-live")" = "$ROOT-blue" ] || fail "reconcile did not switch host a back"
	[ "$(answer 127.0.0.1 "$P1" revision)" = "$first" ] || fail "the last good version does not serve on host a"
	[ "$(master_pid)" = "$master" ] || fail "reconcile did not use the master the killed deploy left"
	last_record 'assert r["outcome"] == "abandoned", r'
}

# Staging on one host, production on another: production's gate 6 asks
# staging's host, through a connection of its own in the same deploy.
t_gate_6_asks_the_staging_host() {
	lab
	new_host a 127.0.0.2 || return
	new_host b 127.0.0.3 127.0.0.3 || return
	new_remote_server "host = $HOST_a"
	trust a
	trust b
	greet a "production"
	greet b "staging"
	sed -i 's/^\[environment production\]$/[environment production]\nrequires = staging/' server.git/gitgate/rules.ini
	environment staging "host = $HOST_b" >>server.git/gitgate/rules.ini
	push "first"
	contains "$OUT" "gate  6/11  staging       argo              passed"
	[ "$(grep -c ': deployed' "$OUT")" = 2 ] || { fail "expected staging and production deployed:"; cat "$OUT"; }
	[ "$(answer 127.0.0.3 "$P1" greeting)" = staging ] || fail "staging does not serve on host b"
	[ "$(answer 127.0.0.1 "$P1" greeting)" = production ] || fail "production does not serve on host a"
}

# command_timeout_seconds bounds a command on the host there too, not only
# the ssh that runs it here.
t_a_command_over_its_time_limit_is_stopped_on_the_host() {
	one_host "command_timeout_seconds = 1" || return
	echo "migrate = sh -c 'sleep 4; touch \"\$0-late\"' \$ROOT" >>server.git/gitgate/rules.ini
	push "first"
	contains "$OUT" "step        slot          argo              failed"
	contains "$OUT" "was stopped at its time limit"
	sleep 4
	[ ! -e "$SRV/host-a/srv/it's argo-late" ] || fail "the migrate went on on the host past its time limit"
}

t_hostile_names_reach_no_shell() {
	local marker=/tmp/gitgate-e2e-remote-$$
	rm -f "$marker"
	one_host || return
	BRANCH="'\$(touch\${IFS}$marker)'"
	sed -i "s|^\\[deploy\\]|[deploy]\\nbranch = $BRANCH|" server.git/gitgate/rules.ini
	# The third kind of switch, a command of one's own, run on the host with
	# the root's blank and quote in its words.
	sed -i "s|^switch = link .*|switch = command sh -c 'ln -sfn \"\\\$1\" \"\\\$0.new\" \\&\\& mv -T \"\\\$0.new\" \"\\\$0\"' \\\$ROOT-live \\\$ROOT-\\\$SLOT|" server.git/gitgate/rules.ini
	grep -q '^switch = command' server.git/gitgate/rules.ini || fail "the test did not set its switch"
	git -C work checkout -q -b "$BRANCH"
	# A file name has no '/': printf makes the marker's path, if a shell runs it.
	local file="'\$(touch \$(printf \\\\057tmp\\\\057${marker#/tmp/}))'"
	push "hostile" "argo/$file"
	contains "$OUT" "health-after  argo              passed"
	# (The slot links hold the host's paths: the release is seen from here.)
	local there=("$SRV/host-a/srv/it's argo-releases/"*/argo)
	[ -e "${there[0]}/$file" ] || { fail "the hostile file did not arrive as itself:"; ls "${there[0]}"; }
	[ "$(readlink "$SRV/host-a/srv/it's argo-live")" = "$ROOT-blue" ] || fail "the command switch did not point the live link at blue"
	# A dry run reads the host (gate 7, gate 9) through a connection too.
	OUT=$(mktemp)
	(cd server.git && GITGATE_USER=alice "$G" deploy argo production --dry-run) >"$OUT" 2>&1 ||
		{ fail "the dry run failed:"; cat "$OUT"; }
	contains "$OUT" "gate  7/11  environment   argo              passed"
	contains "$OUT" "would start argo on $HOST_a in its green slot"
	[ ! -e "$marker" ] || fail "a hostile name was run by a shell"
	# The names are hostile indeed: a shell quoting them naively runs them.
	sh -c "echo '$file'" >/dev/null 2>&1
	[ -e "$marker" ] || fail "the test's hostile file name would not have been run by a shell"
	rm -f "$marker"
}

# ---- The sandbox on the host ------------------------------------------------

OTHER_SECRET=other-secret-5d1e88
ARGO_SECRET=argo-secret-c03b7a

# One host, argo's production target there with an evil app and migrate
# (argo/evil.py, run when argo/ATTACK is in the tree: it tries every path
# of argo/paths.txt, prints what it could read and writes what happened to
# report-WHO in its slot), `sandbox = MODE`, and the app allowed to write
# the host's whole folder ($SRV/remote): what must stay out of its reach
# there is hidden explicitly. Another target (argo in staging) has its
# root and env file on the same host; root's ~/.ssh is there too.
evil_host() { # evil_host MODE
	one_host "migrate = python3 argo/evil.py migrate" || return 1
	sed -i -e "s|^\\[deploy\\]|[deploy]\\nsandbox = $1|" \
		-e "s|^sandbox_writable = .*|sandbox_writable = $SRV/remote|" server.git/gitgate/rules.ini
	printf 'GREETING=a\nSECRET=%s\n' "$ARGO_SECRET" >"$SRV/host-a/argo.env"
	printf 'GREETING=other\nSECRET=%s\n' "$OTHER_SECRET" >"$SRV/host-a/other.env"
	mkdir -p "$SRV/host-a/srv/other"
	echo "$OTHER_SECRET" >"$SRV/host-a/srv/other/secret.txt"
	cat >>server.git/gitgate/rules.ini <<EOF
[environment staging]
health_level = 1
[target argo staging]
host = $HOST_a
root = $SRV/remote/srv/other
ports = $((P1 + 1)) $((P2 + 1))
env_file = $SRV/remote/other.env
run = python3 argo/app.py \$PORT
switch = link $SRV/remote/srv/other-live
EOF
	cat >work/argo/paths.txt <<EOF
env=$SRV/remote/argo.env
other_env=$SRV/remote/other.env
other=$SRV/remote/srv/other
keys=$SRV/remote/home/.ssh/authorized_keys
run=$ROOT-run
pristine=$ROOT-releases/.pristine
outside=$SRV
EOF
	cp "$GITGATE_SOURCE/tests/e2e/attempt.py" work/argo/
	cat >work/argo/evil.py <<'PY'
import os, sys
from attempt import attempt
here = os.path.dirname(os.path.abspath(__file__))

def write(path):
    with open(path, "a") as f:
        f.write("evil\n")

def attack(who):
    if not os.path.exists(os.path.join(here, "ATTACK")):
        return
    p = dict(l.split("=", 1) for l in open(os.path.join(here, "paths.txt")).read().split("\n") if l)
    report = []
    for name in ("env", "other_env", "keys"):
        attempt(report, "read " + name, lambda: open(p[name]).read())
    attempt(report, "read other", lambda: open(os.path.join(p["other"], "secret.txt")).read())
    attempt(report, "list other", lambda: " ".join(os.listdir(p["other"])))
    attempt(report, "list run", lambda: " ".join(os.listdir(p["run"])))
    for name in ("env", "keys"):
        attempt(report, "write " + name, lambda: write(p[name]))
    for name in ("other", "run", "pristine", "outside"):
        attempt(report, "write " + name, lambda: write(os.path.join(p[name], "evil")))
    report.append("env own: " + ("yes" if os.environ.get("GREETING") == "a" else "no"))
    attempt(report, "write own", lambda: write("own-" + who))
    with open("report-" + who, "w") as f:
        f.write("\n".join(report) + "\n")

if __name__ == "__main__":
    attack(sys.argv[1])
PY
	# The app leaves a child behind it (sleep 77PORT): stopping the app ends it too.
	sed -i '1a import evil, subprocess; evil.attack("run"); subprocess.Popen(["sleep", "77" + sys.argv[1]])' work/argo/app.py
	touch work/argo/ATTACK
	git -C work add -A && git -C work commit -qm "argo, evil"
}

# The checksums of what nothing on the host may change.
host_sums() {
	(cd "$SRV/host-a" && sha256sum argo.env other.env home/.ssh/authorized_keys srv/other/secret.txt)
}

# No secret in the push's output, the deploy logs, history.jsonl: returns
# 1 when one is found.
no_secret_here() {
	! grep -rqF -e "$ARGO_SECRET" -e "$OTHER_SECRET" -e "$(cut -d' ' -f2 "$SRV/deploy_key.pub")" \
		"$OUT" server.git/gitgate/logs server.git/gitgate/history.jsonl
}

t_the_app_on_a_host_reaches_no_admin_file_there() {
	evil_host auto || return
	local before
	before=$(host_sums)
	push
	contains "$OUT" "gate 11/11  health-after  argo              passed"
	lacks "$OUT" "not sandboxed"
	[ "$(answer 127.0.0.1 "$P1" greeting)" = a ] || fail "the app does not serve with its env file's GREETING"
	local rel=("$SRV/host-a/srv/it's argo-releases/"*) who line
	for who in run migrate; do
		[ -s "$rel/report-$who" ] || { fail "no report from the $who"; continue; }
		for line in "read env" "read other_env" "read keys" "read other" "write env" "write keys" \
			"write other" "write run" "write pristine"; do
			grep -qE "^$line: (ENOENT|EACCES|EROFS)$" "$rel/report-$who" ||
				fail "$who: $(grep "^$line:" "$rel/report-$who")"
		done
		grep -qE "^list other: (ok|ENOENT)$" "$rel/report-$who" || fail "$who: $(grep "^list other:" "$rel/report-$who")"
		grep -qE "^list run: (ok|ENOENT)$" "$rel/report-$who" || fail "$who: $(grep "^list run:" "$rel/report-$who")"
		contains "$rel/report-$who" "env own: yes"
		contains "$rel/report-$who" "write own: ok"
	done
	[ "$(host_sums)" = "$before" ] || fail "a file on the host changed: $(diff <(echo "$before") <(host_sums))"
	[ -z "$(find "$SRV" -name '*evil' -newer "$rel/report-run")" ] ||
		fail "a file named evil was written: $(find "$SRV" -name '*evil' -newer "$rel/report-run")"
	[ "$(ls "$SRV/host-a/srv/it's argo-run")" = "$(printf 'blue.log\nblue.pid')" ] || fail "the run folder holds: $(ls "$SRV/host-a/srv/it's argo-run")"
	no_secret_here || fail "a secret shows in an output or record"
	last_record 'assert r["sandbox_hosts"] == {sys.argv[1]: "bubblewrap"}, r' "$HOST_a"
	(cd server.git && "$G" doctor argo) >doctor.txt 2>&1 || { fail "doctor failed:"; cat doctor.txt; }
	contains doctor.txt "argo production on $HOST_a: reachable; bwrap $(command -v bwrap); sandboxed (bubblewrap)"
	contains doctor.txt "every env file, the other targets' roots"
	(cd server.git && "$G" history argo production --format json) | grep -q "on $HOST_a: sandboxed (bubblewrap)" ||
		fail "gate 1's detail does not say the host is sandboxed"
	# The app was started in its sandbox, and is stopped with its children:
	# the next revision fails its check in the green slot, which is stopped.
	ps -eo args | grep -qx "sleep 77$P1" || fail "the blue app's child is not running"
	commit "second"
	touch "$SRV/host-a/srv/it's argo-BROKEN-$(git -C work rev-parse HEAD)"
	push
	contains "$OUT" "step        slot          argo              failed"
	ps -eo args | grep -q "^bwrap.* 77$P2\$" && fail "the green app's sandbox outlived its stop"
	ps -eo args | grep -qx "sleep 77$P2" && fail "the green app's child outlived its stop"
	[ ! -e "$SRV/host-a/srv/it's argo-run/green.pid" ] || fail "the green slot's pid file is still there"
	[ -n "$(answer 127.0.0.1 "$P1" revision)" ] || fail "the blue slot does not serve any more"
	ps -eo args | grep -qx "sleep 77$P1" || fail "the blue app's child was stopped too"
}

t_without_the_sandbox_the_same_push_reaches_them_on_the_host() {
	evil_host no || return
	local before
	before=$(host_sums)
	push
	contains "$OUT" "warning: gitgate: on $HOST_a: not sandboxed: sandbox = no in rules.ini (the pushed code runs there as the ssh user)"
	local rel=("$SRV/host-a/srv/it's argo-releases/"*)
	contains "$rel/report-run" "read env: ok"
	contains "$rel/report-run" "read other: ok"
	contains "$rel/report-migrate" "read keys: ok"
	contains "$rel/report-migrate" "write other: ok"
	contains "$rel/report-run" "write pristine: ok"
	[ "$(host_sums)" != "$before" ] || fail "the host's files did not change: the check above cannot fail"
	no_secret_here && fail "no secret showed: the check above cannot fail"
	last_record 'assert r["sandbox_hosts"] == {sys.argv[1]: "none: sandbox = no in rules.ini"}, r' "$HOST_a"
}

t_a_host_without_bubblewrap_runs_bare_with_auto_and_refuses_with_yes() {
	one_host || return
	touch "$SRV/host-a/no-bwrap"
	kill -TERM "$(cat "$SRV/host-a/daemon.pid")" && sleep 0.2
	start_sshd a || return
	sed -i "s|^\\[deploy\\]|[deploy]\\nsandbox = yes|" server.git/gitgate/rules.ini
	push "first"
	contains "$OUT" "gate  1/11  identify"
	contains "$OUT" "on $HOST_a: not sandboxed: no bwrap on the login PATH there"
	contains "$OUT" "(sandbox = yes: no deploy)"
	lacks "$OUT" "gate  3/11"
	[ ! -e "$SRV/host-a/srv/it's argo-blue" ] || fail "a slot was made on a host without a sandbox"
	(cd server.git && "$G" rules) >rules.txt 2>&1
	contains rules.txt "sandbox   bubblewrap on the host when it works there"
	# gitgate doctor asks the host now, as a deploy would.
	(cd server.git && "$G" doctor argo production) >doctor.txt 2>&1 && fail "doctor passed a host a deploy refuses"
	contains doctor.txt "argo production on $HOST_a: reachable; bwrap (none); not sandboxed: no bwrap on the login PATH there"
	contains doctor.txt "not isolated, so no deploy (sandbox = yes)"
	sed -i "s|^sandbox = yes|sandbox = auto|" server.git/gitgate/rules.ini
	(cd server.git && "$G" doctor) >doctor.txt 2>&1 || { fail "doctor failed with auto:"; cat doctor.txt; }
	contains doctor.txt "this machine (gates 3-5, the apps of targets here): sandboxed (bubblewrap)"
	contains doctor.txt "not isolated: the pushed code's commands run as the ssh user, with all its rights"
	OUT=$(mktemp)
	(cd server.git && GITGATE_USER=alice "$G" deploy argo production) >"$OUT" 2>&1 || { fail "the auto deploy failed:"; cat "$OUT"; }
	contains "$OUT" "warning: gitgate: on $HOST_a: not sandboxed: no bwrap on the login PATH there"
	lacks "$OUT" "warning: gitgate: not sandboxed"
	[ "$(answer 127.0.0.1 "$P1" greeting)" = a ] || fail "the app does not serve"
	last_record 'assert r["sandbox"] == "bubblewrap" and r["sandbox_hosts"][sys.argv[1]].startswith("none: no bwrap on the login PATH there"), r' "$HOST_a"
}

run_tests
