# shellcheck shell=bash
# A Docker daemon of its own, for the Compose tests and the demo: Debian's
# dockerd with its data, exec root, pid file and socket under DIR, the vfs
# storage driver, no iptables and no bridge (the containers use the host's
# network), and an image FROM scratch with a static busybox and its
# applets (no registry is reached).
#
# dockerd_missing: why it cannot be had here (printed; status 0), or
# status 1 when it can be tried.
dockerd_missing() {
	if ! command -v dockerd >/dev/null 2>&1; then
		echo "dockerd is not installed (Debian's docker.io)"
	elif ! command -v docker-compose >/dev/null 2>&1 && ! docker compose version >/dev/null 2>&1; then
		echo "no Compose program (Debian's docker-compose)"
	elif ! file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then
		echo "no static busybox (Debian's busybox-static)"
	elif [ "$(id -u)" != 0 ]; then
		echo "dockerd needs root here"
	else
		return 1
	fi
}

# dockerd_start DIR IMAGE: the daemon started (DOCKERD_PID; DOCKER_HOST
# exported), answering within 30 s, and IMAGE built. Returns 1 when it
# did not (why in DIR/log, DIR/base.log), leaving it for dockerd_stop.
dockerd_start() {
	local dir=$1 image=$2 tries
	mkdir -p "$dir/base"
	dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/pid" \
		-H "unix://$dir/sock" --storage-driver=vfs --iptables=false --bridge=none \
		>"$dir/log" 2>&1 &
	DOCKERD_PID=$!
	export DOCKER_HOST=unix://$dir/sock
	for tries in $(seq 300); do
		docker info >/dev/null 2>&1 && break
		kill -0 "$DOCKERD_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	cp /bin/busybox "$dir/base/"
	printf '%s\n' 'FROM scratch' 'COPY busybox /bin/busybox' \
		'RUN ["/bin/busybox", "--install", "-s", "/bin"]' 'RUN mkdir -m 1777 /tmp' \
		>"$dir/base/Dockerfile"
	docker build -q -t "$image" "$dir/base" >"$dir/base.log" 2>&1
}

# dockerd_stop DIR PID: its containers removed, the daemon stopped by its
# pid (SIGKILL after 20 s), what it mounted under DIR unmounted. Returns 1
# when it is still running.
dockerd_stop() {
	local dir=$1 pid=$2 ids tries
	[ -n "$pid" ] || return 0
	ids=$(docker ps -aq 2>/dev/null)
	# shellcheck disable=SC2086 # the ids, a word each
	[ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
	kill -TERM "$pid" 2>/dev/null
	for tries in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	# Its network namespace, mounted under its exec root.
	awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	! kill -0 "$pid" 2>/dev/null
}
