#!/usr/bin/env bash
# End-to-end: gitgate behind gitolite, as a team runs it. Debian's gitolite3
# as an OS user of the test's own (home and repositories in the test's temp
# dir), an sshd of the test's own on 127.0.0.1 that only that user logs into
# (gitolite's forced command in authorized_keys), and two people, alice and
# bob, each with an ssh key. gitgate's pre-receive and post-receive are
# gitolite's repo-specific hooks (LOCAL_CODE/hooks/repo-specific, `option
# hook.pre-receive` in gitolite.conf), so gitolite's own update hook still
# runs; there is no wrapper. [push] identity = gitolite: GL_USER, which
# gitolite sets from the key, tells alice and bob apart for bypass_users,
# emergency_users and [environment] users, and every record names them.
# Needs root (useradd, sshd); sshd, the apps and the worker are stopped by
# their pids, and the user removed, when the test ends, passed or failed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy_lib.sh"

skip() {
	echo "SKIPPED: $*"
	exit 0
}
[ "$(id -u)" = 0 ] || skip "not root: the test adds an OS user and starts sshd"
command -v gitolite >/dev/null 2>&1 || skip "no gitolite (Debian's gitolite3)"
[ -x /usr/sbin/sshd ] || skip "no sshd (openssh-server)"

GLU=ggl$$ # gitolite's OS user, this run's own
SSHD_PID=

gitolite_stop() {
	stop_apps
	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null
	getent passwd "$GLU" >/dev/null && userdel "$GLU"
}

as_gitolite() { # as_gitolite COMMAND...: as gitolite's user, in its home
	(cd "$SRV/home" && runuser -u "$GLU" -- env -i HOME="$SRV/home" PATH=/usr/bin:/bin "$@")
}

# An sshd on 127.0.0.1 and a free port whose only login is gitolite's user,
# with the keys gitolite writes. Sets SSHD_PORT, SSHD_PID.
sshd_start() {
	local dir=$SRV/sshd
	mkdir -p "$dir" /run/sshd
	SSHD_PORT=$(free_ports 1)
	ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" || return 1
	cat >"$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1:$SSHD_PORT
HostKey $dir/host_key
AuthorizedKeysFile $SRV/home/.ssh/authorized_keys
AllowUsers $GLU
StrictModes no
UsePAM no
PasswordAuthentication no
LogLevel ERROR
CONF
	/usr/sbin/sshd -D -e -f "$dir/sshd_config" 2>"$dir/sshd.log" &
	SSHD_PID=$!
	for _ in $(seq 50); do
		ssh-keyscan -p "$SSHD_PORT" 127.0.0.1 >"$SRV/known_hosts" 2>/dev/null &&
			[ -s "$SRV/known_hosts" ] && return 0
		sleep 0.1
	done
	return 1
}

# as WHO GIT-ARGS...: git, with WHO's key for ssh.
as() {
	local who=$1
	shift
	GIT_SSH_COMMAND="ssh -F /dev/null -i $SRV/keys/$who -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=$SRV/known_hosts" \
		git "$@"
}

# push_as WHO STATUS GIT-PUSH-ARGS...: from the work clone; output in $OUT.
push_as() {
	local who=$1 want=$2
	shift 2
	OUT=$(mktemp)
	as "$who" -C "$SRV/work" push "$@" >"$OUT" 2>&1
	local got=$?
	[ "$got" = "$want" ] || { fail "$who's push $* exited $got, not $want:"; sed 's/^/      /' "$OUT"; }
}

# gitolite set up with admin's key, server.git among its repositories
# (GL_REPO_BASE is the test's repos/), alice and bob given RW+ on it,
# gitgate's hooks as its repo-specific hooks.
gitolite_setup() {
	useradd -M -d "$SRV/home" -s /bin/sh -p '*' "$GLU" || return 1
	mkdir -p "$SRV/home/local/hooks/repo-specific" "$SRV/home/.gitolite/logs" "$SRV/keys" "$SRV/repos"
	# Copies the gitolite user can run: the build may lie below a folder
	# only root may enter (a clone in mktemp -d). post-receive finds the
	# gitgate beside it for its worker.
	mkdir -p "$SRV/bin"
	cp "$GITGATE_BIN/pre-receive" "$GITGATE_BIN/post-receive" "$GITGATE_BIN/gitgate" "$SRV/bin/"
	chmod 755 "$SRV/bin" "$SRV/bin/"*
	ln -s "$SRV/bin/pre-receive" "$SRV/home/local/hooks/repo-specific/gitgate-pre-receive"
	ln -s "$SRV/bin/post-receive" "$SRV/home/local/hooks/repo-specific/gitgate-post-receive"
	local who
	for who in admin alice bob; do
		ssh-keygen -q -t ed25519 -N '' -C "$who" -f "$SRV/keys/$who" || return 1
	done
	cp "$SRV/keys/admin.pub" "$SRV/home/admin.pub"
	mv "$SRV/server.git" "$SRV/repos/server.git"
	ln -s repos/server.git "$SRV/server.git" # where stop_apps looks
	chown -R "$GLU" "$SRV/home" "$SRV/repos" "$SRV/srv"
	chmod 755 "$SRV" "$(dirname "$SRV")"
	as_gitolite gitolite print-default-rc >"$SRV/rc" || return 1
	sed -e "s|^%RC = (|%RC = (\n    GL_REPO_BASE => '$SRV/repos',\n    LOCAL_CODE => '$SRV/home/local',|" \
		-e "s|# 'repo-specific-hooks',|'repo-specific-hooks',|" "$SRV/rc" >"$SRV/home/.gitolite.rc"
	chown "$GLU" "$SRV/home/.gitolite.rc"
	as_gitolite gitolite setup -pk admin.pub >"$SRV/setup.log" 2>&1 || { cat "$SRV/setup.log"; return 1; }
	sshd_start || { fail "sshd did not start:"; cat "$SRV/sshd/sshd.log"; return 1; }
	as admin clone -q "ssh://$GLU@127.0.0.1:$SSHD_PORT/gitolite-admin" "$SRV/admin" || return 1
	cp "$SRV/keys/alice.pub" "$SRV/keys/bob.pub" "$SRV/admin/keydir/"
	cat >>"$SRV/admin/conf/gitolite.conf" <<'CONF'

repo server
    RW+     =   alice bob
    option hook.pre-receive = gitgate-pre-receive
    option hook.post-receive = gitgate-post-receive
CONF
	git -C "$SRV/admin" add -A && git -C "$SRV/admin" commit -qm "server: alice and bob" || return 1
	if ! as admin -C "$SRV/admin" push -q origin master 2>"$SRV/admin.log"; then
		cat "$SRV/admin.log"
		return 1
	fi
	# The repository was there before gitolite knew it: its update hook too.
	as_gitolite gitolite setup --hooks-only >>"$SRV/setup.log" 2>&1 || return 1
	as_gitolite git -C "$SRV/repos/server.git" config receive.advertisePushOptions true
	git -C "$SRV/work" remote set-url origin "ssh://$GLU@127.0.0.1:$SSHD_PORT/server"
}

# The records' (user, user_source) pairs, and what each says.
records() { # records FILE PYTHON-EXPRESSION-OF-r
	python3 - "$SRV/server.git/gitgate/$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(eval(sys.argv[2]))
PY
}

t_gitolite_tells_alice_and_bob_apart() {
	FREEZE_DAY=$(date -u +%a | tr 'A-Z' 'a-z') new_deploy_server
	cd "$SRV" || return 1
	trap gitolite_stop EXIT
	gitolite_setup || { fail "gitolite could not be set up"; return; }
	[ -L repos/server.git/hooks/pre-receive.h00-gitgate-pre-receive ] ||
		fail "gitolite did not chain gitgate's pre-receive"
	[ -e repos/server.git/hooks/update ] || fail "gitolite's update hook is missing"
	# Who may: staging anyone of the two, production (frozen today) alice.
	sed -i -e 's/^identity = env:GITGATE_USER$/identity = gitolite\nbypass_users = alice/' \
		-e 's/^\[environment staging\]$/[environment staging]\nusers = alice bob/' \
		-e 's/^\[environment production\]$/[environment production]\nusers = alice/' \
		server.git/gitgate/rules.ini
	unset GITGATE_USER
	local phrase="confirm=$PHRASE"
	# bob: staging deploys, production is not his.
	(cd work && echo "# bob" >>argo/app.py && git commit -qam "bob's change")
	push_as bob 0 -o "$phrase" origin main
	contains "$OUT" "bob may not deploy to production ([environment production] users)"
	# bob may not bypass a rule; alice may, and declare an emergency.
	(cd work && echo "x = 1  # TODO later" >>argo/app.py && git commit -qam "a TODO")
	push_as bob 1 -o "gitgate.bypass=debug:hotfix" origin HEAD:refs/heads/hotfix
	contains "$OUT" "'bob' (gitolite GL_USER) may not bypass rules"
	push_as alice 0 -o "gitgate.bypass=debug:hotfix" origin HEAD:refs/heads/hotfix
	contains "$OUT" "alice bypasses the debug rule: hotfix (recorded)"
	# (A deploy checks every commit again, gate 8: the TODO stays off main.)
	(cd work && git reset -q --hard HEAD^ && echo "# alice" >>argo/app.py && git commit -qam "alice's change")
	push_as alice 0 -o "$phrase" -o "emergency=outage 7" origin main
	[ "$(answers "$P1")" = "$(git -C work rev-parse main)" ] ||
		fail "alice's emergency did not deploy production"
	# bob may not declare an emergency.
	(cd work && echo "# bob again" >>argo/app.py && git commit -qam "bob again")
	push_as bob 0 -o "emergency=me too" origin main
	contains "$OUT" "bob may not declare an emergency ([deploy] emergency_users)"
	records audit.jsonl '(r["user"], r["user_source"], r["rule"])' >audit.txt
	[ "$(cat audit.txt)" = "('alice', 'gitolite GL_USER', 'debug')" ] ||
		{ fail "audit.jsonl:"; cat audit.txt; }
	records pushes.jsonl '(r["user"], r["user_source"])' >pushes.txt
	[ "$(sort -u pushes.txt | tr '\n' ' ')" = "('alice', 'gitolite GL_USER') ('bob', 'gitolite GL_USER') " ] ||
		{ fail "pushes.jsonl:"; cat pushes.txt; }
	records history.jsonl '(r["user"], r["user_source"], r["environment"], r["outcome"])' >history.txt
	cat >want.txt <<'EOF'
('bob', 'gitolite GL_USER', 'staging', 'deployed')
('bob', 'gitolite GL_USER', 'production', 'refused')
('alice', 'gitolite GL_USER', 'staging', 'deployed')
('alice', 'gitolite GL_USER', 'production', 'deployed')
('bob', 'gitolite GL_USER', 'staging', 'refused')
EOF
	diff want.txt history.txt >/dev/null || { fail "history.jsonl:"; diff want.txt history.txt; }
	records history.jsonl 'r.get("emergency")' | grep -qx "outage 7" || fail "alice's emergency was not recorded"
	# gitgate history names them, run on the server by its user.
	(cd repos/server.git && runuser -u "$GLU" -- "$SRV/bin/gitgate" history) >history-text.txt 2>&1
	contains history-text.txt "alice (gitolite GL_USER)"
	contains history-text.txt "bob (gitolite GL_USER)"
}

run_tests
