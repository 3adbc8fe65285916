# shellcheck shell=bash
# sshd_host_start DIR ADDRESS: a host for remote targets on this machine,
# an sshd of its own on ADDRESS (127.0.0.2, say) and a free port, for the
# demo and bench/remote.sh (tests/e2e/remote.sh keeps its hosts apart in
# mount namespaces of their own). Root logs in with DIR/deploy_key, whose
# host key DIR/known_hosts trusts. sshd runs in a mount namespace where
# root's ~/.bashrc is empty: a login shell that starts slowly (this
# machine's runs `pyenv init`, 0.2 s) would add to every remote command.
# Sets SSHD_PORT; DIR/sshd.pid holds its pid, DIR/sshd.log what it said.
# EXTRA, when given, is more of its config (SetEnv DOCKER_HOST=...).
# Returns 1 when it did not start.
sshd_host_start() { # sshd_host_start DIR ADDRESS [EXTRA]
	local dir=$1 address=$2 extra=${3:-}
	SSHD_PORT=$(python3 -c 'import socket, sys; s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$address") || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" &&
		ssh-keygen -q -t ed25519 -N '' -f "$dir/deploy_key" || return 1
	cp "$dir/deploy_key.pub" "$dir/authorized_keys"
	cat >"$dir/sshd_config" <<CONF
ListenAddress $address:$SSHD_PORT
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
LogLevel ERROR
$extra
CONF
	mkdir -p /run/sshd
	unshare --mount --propagation private sh -c '
		if [ -e /root/.bashrc ]; then mount --bind /dev/null /root/.bashrc || exit 1; fi
		exec /usr/sbin/sshd -D -e -f "$1"' sh "$dir/sshd_config" 2>"$dir/sshd.log" &
	echo $! >"$dir/sshd.pid"
	local tries
	for tries in $(seq 50); do
		ssh-keyscan -p "$SSHD_PORT" "$address" >"$dir/known_hosts" 2>/dev/null &&
			[ -s "$dir/known_hosts" ] && return 0
		sleep 0.1
	done
	return 1
}

# ssh_masters_stop DIR: stops the ssh masters gitgate keeps between deploys
# in DIR (a state folder's ssh/), each by its pid (ssh -O check names it),
# as the end of a test, the bench or the demo must: left alone, each would
# stay up to SSH_PERSIST_SECONDS.
ssh_masters_stop() { # ssh_masters_stop DIR
	local sock pid
	for sock in "$1"/h-*; do
		[ -S "$sock" ] || continue
		pid=$(ssh_master_pid "$sock")
		[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
	done
	return 0
}

# ssh_master_pid SOCKET: the pid of the master behind SOCKET, or nothing.
ssh_master_pid() {
	(cd "$(dirname "$1")" && ssh -S "./$(basename "$1")" -O check gitgate 2>&1) |
		sed -n 's/^Master running (pid=\([0-9]*\)).*/\1/p'
}

# host_copiers_stop DIR...: stops, by their pid files' process groups, the
# copiers gitgate leaves running on a host after a release (each target's
# ROOT-releases/.spare.pid under DIR), which end by themselves within
# seconds, as the end of a test or the bench must not wait for.
host_copiers_stop() {
	local f pid start
	for f in "$@"; do
		for f in "$f"/*-releases/.spare.pid; do
			[ -s "$f" ] && read -r pid start <"$f" && kill -KILL -- "-$pid" 2>/dev/null
		done
	done
	return 0
}
