#!/usr/bin/env bash
# End-to-end: gitgate behind gitolite, as a team runs it. Debian's gitolite3
# as an OS user of the test's own (home and repositories in the test's temp
# dir), an sshd of the test's own on 127.0.0.1 that only that user logs into
# (gitolite's forced command in authorized_keys), and three people, alice,
# bob and carol, each with an ssh key (carol may read nothing). install.sh
# --server, run as root, does the repository's part as gitolite's user:
# gitgate's pre-receive and post-receive become gitolite's repo-specific
# hooks (LOCAL_CODE/hooks/repo-specific, `option hook.pre-receive` in
# gitolite.conf, next to a team's own), so gitolite's driver and update hook
# still run, and they survive `gitolite setup`; gitolite's `gitgate`
# command answers status, logs and history over ssh. [push] identity =
# gitolite: GL_USER, which gitolite sets from the key, tells alice and bob
# apart for bypass_users, emergency_users and [environment] users, and every
# record names them. Needs root (useradd, sshd); sshd, the apps and the
# worker are stopped by their pids, and the user removed, when the test
# ends, passed or failed.
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
# (GL_REPO_BASE is the test's repos/), alice and bob given RW+ on it, a
# team's own repo-specific hook before gitgate's, and other.git for alice;
# gitolite's rc as Debian's gitolite prints it (no LOCAL_CODE, no
# repo-specific hooks: install.sh turns them on).
gitolite_setup() {
	useradd -M -d "$SRV/home" -s /bin/sh -p '*' "$GLU" || return 1
	mkdir -p "$SRV/home/local/hooks/repo-specific" "$SRV/home/.gitolite/logs" "$SRV/keys" "$SRV/repos"
	printf '#!/bin/sh\ncat >/dev/null\necho "team-check: $GL_USER" >>"$HOME/team.log"\n' \
		>"$SRV/home/local/hooks/repo-specific/team-check"
	chmod 755 "$SRV/home/local/hooks/repo-specific/team-check"
	local who
	for who in admin alice bob carol; do
		ssh-keygen -q -t ed25519 -N '' -C "$who" -f "$SRV/keys/$who" || return 1
	done
	cp "$SRV/keys/admin.pub" "$SRV/home/admin.pub"
	mv "$SRV/server.git" "$SRV/repos/server.git"
	ln -s repos/server.git "$SRV/server.git" # where stop_apps looks
	chown -R "$GLU" "$SRV/home" "$SRV/repos" "$SRV/srv"
	chmod 755 "$SRV" "$(dirname "$SRV")"
	as_gitolite gitolite print-default-rc >"$SRV/rc" || return 1
	sed -e "s|^%RC = (|%RC = (\n    GL_REPO_BASE => '$SRV/repos',|" "$SRV/rc" >"$SRV/home/.gitolite.rc"
	chown "$GLU" "$SRV/home/.gitolite.rc"
	as_gitolite gitolite setup -pk admin.pub >"$SRV/setup.log" 2>&1 || { cat "$SRV/setup.log"; return 1; }
	sshd_start || { fail "sshd did not start:"; cat "$SRV/sshd/sshd.log"; return 1; }
	as admin clone -q "ssh://$GLU@127.0.0.1:$SSHD_PORT/gitolite-admin" "$SRV/admin" || return 1
	cp "$SRV/keys/alice.pub" "$SRV/keys/bob.pub" "$SRV/keys/carol.pub" "$SRV/admin/keydir/"
	cat >>"$SRV/admin/conf/gitolite.conf" <<'CONF'

repo server
    RW+     =   alice bob
    option hook.pre-receive = team-check gitgate-pre-receive
    option hook.post-receive = gitgate-post-receive

repo other
    RW+     =   alice
CONF
	git -C "$SRV/admin" add -A && git -C "$SRV/admin" commit -qm "server: alice and bob" || return 1
	if ! as admin -C "$SRV/admin" push -q origin master 2>"$SRV/admin.log"; then
		cat "$SRV/admin.log"
		return 1
	fi
	# The repository was there before gitolite knew it: its update hook too.
	as_gitolite gitolite setup --hooks-only >>"$SRV/setup.log" 2>&1 || return 1
	git -C "$SRV/work" remote set-url origin "ssh://$GLU@127.0.0.1:$SSHD_PORT/server"
}

# INSTALL ARGS...: install.sh as root, into a prefix gitolite's user can
# read (the build may lie below a folder only root may enter: a clone in
# mktemp -d); post-receive finds the gitgate beside it for its worker.
INSTALL() {
	GITGATE_PREFIX=$SRV/prefix GITGATE_BUILD_DIR=$GITGATE_BIN bash "$GITGATE_SOURCE/install.sh" "$@"
}

# Installed as root: the repository's part done as gitolite's user, into
# gitolite's own places; gitolite's driver and update hook left alone.
install_as_root() {
	# Someone else is told whose the repository is and what to run, and
	# nothing changes (a copy of install.sh that user can read).
	mkdir -p "$SRV/src" && cp -r "$GITGATE_SOURCE/install.sh" "$GITGATE_SOURCE/installer" "$SRV/src/"
	chmod -R a+rX "$SRV/src"
	cp repos/server.git/config config.before
	runuser -u nobody -- bash "$SRV/src/install.sh" --server "$SRV/repos/server.git" >refused.log 2>&1 &&
		fail "install.sh ran for a user who does not own the repository"
	contains refused.log "belongs to $GLU, and git runs its hooks as $GLU"
	contains refused.log "sudo -u $GLU $SRV/src/install.sh --server $SRV/repos/server.git"
	lacks refused.log "not a bare repository"
	cmp -s config.before repos/server.git/config || fail "the refused install changed the config"
	# A plain install would move gitolite's driver aside: refused.
	INSTALL --server --plain repos/server.git >plain.log 2>&1 && fail "a plain install into gitolite's repository ran"
	contains plain.log "gitolite's: use --gitolite"
	INSTALL --server repos/server.git >install.log 2>&1 || { fail "install.sh --server failed:"; cat install.log; return 1; }
	contains install.log "a gitolite repository"
	contains install.log "gitolite runs gitgate's hooks"
	[ "$(readlink repos/server.git/hooks/pre-receive)" = "$SRV/home/local/hooks/multi-hook-driver" ] ||
		fail "gitolite's hook driver is not pre-receive any more"
	[ -L repos/server.git/hooks/pre-receive.h00-team-check ] && [ -L repos/server.git/hooks/pre-receive.h01-gitgate-pre-receive ] ||
		{ fail "gitolite does not chain the team's hook and gitgate's:"; ls -l repos/server.git/hooks; }
	[ -e repos/server.git/hooks/update ] || fail "gitolite's update hook is missing"
	local f
	for f in repos/server.git/config repos/server.git/gitgate repos/server.git/gitgate/rules.ini \
		home/.gitolite.rc home/local/commands/gitgate; do
		[ "$(stat -c %U "$f")" = "$GLU" ] || fail "$f is $(stat -c %U "$f")'s, not $GLU's"
	done
	[ "$(as_gitolite git -C "$SRV/repos/server.git" config receive.advertisePushOptions)" = true ] || fail "push options are not advertised"
	# gitolite's next compile keeps every repo-specific hook.
	as_gitolite gitolite setup >>setup.log 2>&1 || fail "gitolite setup failed"
	[ -L repos/server.git/hooks/pre-receive.h01-gitgate-pre-receive ] || fail "gitolite setup dropped gitgate's hook"
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

# ssh_as WHO STATUS COMMAND...: gitolite's command over ssh, as WHO; the
# output in $OUT.
ssh_as() {
	local who=$1 want=$2
	shift 2
	OUT=$(mktemp)
	ssh -F /dev/null -i "$SRV/keys/$who" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o UserKnownHostsFile="$SRV/known_hosts" -p "$SSHD_PORT" "$GLU@127.0.0.1" "$@" >"$OUT" 2>&1
	local got=$?
	[ "$got" = "$want" ] || { fail "$who's ssh $* exited $got, not $want:"; sed 's/^/      /' "$OUT"; }
}

t_gitolite_tells_alice_and_bob_apart() {
	FREEZE_DAY=$(date -u +%a | tr 'A-Z' 'a-z') new_deploy_server
	cd "$SRV" || return 1
	trap gitolite_stop EXIT
	gitolite_setup || { fail "gitolite could not be set up"; return; }
	install_as_root || return
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
	# The hints name gitolite's command: bob has no shell there.
	local id
	id=$(sed -n 's/^remote: deploy \([0-9a-f-]*\): argo to staging at .*: deployed/\1/p' "$OUT")
	[ -n "$id" ] || fail "no staging deploy in bob's push"
	contains "$OUT" "log:      ssh -p $SSHD_PORT $GLU@127.0.0.1 gitgate logs server $id"
	lacks "$OUT" "log:      gitgate logs"
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
	# The team's hook ran for every push to server, before gitgate's.
	[ "$(grep -c 'team-check: ' home/team.log)" = 5 ] || { fail "the team's hook did not run for each push:"; cat home/team.log; }
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
	# Without a shell: gitolite's gitgate command, for who may read server.
	ssh_as bob 0 gitgate logs server "$id"
	contains "$OUT" "gate 11/11  health-after  argo"
	ssh_as alice 0 gitgate status server argo production
	contains "$OUT" "argo               production  live"
	ssh_as bob 0 gitgate history server argo production
	contains "$OUT" "alice (gitolite GL_USER)"
	contains "$OUT" "bob (gitolite GL_USER)"
	ssh_as carol 1 gitgate status server
	contains "$OUT" "carol may not read server"
	ssh_as alice 2 gitgate history server --rules /etc/shadow
	contains "$OUT" "'--rules' is not an option of history here"
	ssh_as alice 2 gitgate doctor server
	# Installed as gitolite's user itself (what install.sh runs as the
	# owner): the repository's part for other.git, whose conf names no
	# gitgate hook yet, so it is told what to add.
	as_gitolite env GITGATE_PREFIX="$SRV/prefix" "$SRV/prefix/share/gitgate/server.sh" install auto "$SRV/repos/other.git" \
		>other.log 2>&1 || { fail "the install as $GLU failed:"; cat other.log; }
	contains other.log "a gitolite repository"
	contains other.log "option hook.pre-receive = gitgate-pre-receive"
	[ "$(stat -c %U repos/other.git/gitgate/rules.ini)" = "$GLU" ] || fail "other.git's rules are not $GLU's"
}

run_tests
