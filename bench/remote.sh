#!/usr/bin/env bash
# Remote deploy benchmark: gitgate's time per deploy of one target on this
# machine, and of the same target on a remote host over SSH, same repository,
# same app, same run. The host is an sshd of the bench's own on 127.0.0.2
# (as the e2e tests make them: its own host key, the bench's key authorized),
# so what is measured is gitgate's own work and OpenSSH's, not a network.
# Root's shell there starts with an empty ~/.bashrc (see below).
#
# Each deploy is `gitgate deploy argo ENV` one new commit later (10 files
# changed), into the other slot: every gate (test, lint and build are
# `true`), the export, the slot (the old app in it stopped, the new one
# started and checked at health level 2 with no wait between tries), the
# switch (a symlink), gate 11, the record, pruning. The app is
# bench/tiny_app.c, as in bench/deploy.sh, and gitgate's own time is
# measured as there: the wall time less the app's start (timed alone) and
# three runs of `true`. Remote adds six commands there: the connection's
# check (the OpenSSH master kept from the deploy before), the env file
# read, the release (what changed, on the host's copy of the one before,
# worked out here from the end of gate 5; the slot's old app stopped and
# its link made in the same command), the app's start, the switch, and the
# prune (which goes on there while the watch begins here); and the
# health checks through port forwards (both slots' made in one ssh -O
# forward at gate 9, taken back in one at the end).
# Each deploy starts on a quiet machine: what the ones before left to do in
# the background (pruned releases' files, the host's spare copy) is waited
# for and the disk synced first, untimed: here the two machines share one
# disk. Printed: gitgate's own time each way (median of RUNS), the remote's
# extra time, and the median of each step that differs, from the deploy
# records.
# bench/deploy.sh runs it after its own figures.
#
# usage: bench/remote.sh [BUILD_DIR]
# environment: RUNS (7), FILES (2000)
set -euo pipefail
SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$SOURCE/build}" && pwd)
RUNS=${RUNS:-7}
FILES=${FILES:-2000}
[ -x "$BUILD/gitgate" ] || { echo "bench: build first (no $BUILD/gitgate)" >&2; exit 2; }
[ -x /usr/sbin/sshd ] || { echo "bench: needs sshd (./install.sh --test installs it)" >&2; exit 2; }

WORK=$(mktemp -d)
# The apps (by the pid files gitgate keeps here and on the host), gitgate's
# ssh master (kept between deploys) and copier on the host, then sshd.
cleanup() {
	local f pid start
	for f in "$WORK"/server.git/gitgate/targets/*/*.pid "$WORK"/host/srv/*-run/*.pid; do
		[ -e "$f" ] || continue
		read -r pid start <"$f"
		kill -TERM -- "-$pid" 2>/dev/null || true
	done
	declare -F ssh_masters_stop >/dev/null && ssh_masters_stop "$WORK/server.git/gitgate/ssh"
	declare -F host_copiers_stop >/dev/null && host_copiers_stop "$WORK/host/srv"
	[ -s "$WORK/sshd.pid" ] && kill -TERM "$(cat "$WORK/sshd.pid")" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$WORK NO_COLOR=1 GITGATE_USER=bench
git config --global user.email bench@example.com
git config --global user.name bench
git config --global init.defaultBranch main

# The host: sshd on 127.0.0.2, the bench's key authorized, its key trusted.
. "$SOURCE/tests/sshd_host.sh"
mkdir -p "$WORK/host/srv" "$WORK/here/srv"
sshd_host_start "$WORK" 127.0.0.2 || { echo "bench: sshd did not start" >&2; cat "$WORK/sshd.log" >&2; exit 1; }
SSH_PORT=$SSHD_PORT
echo "GREETING=hello" >"$WORK/host/argo.env"
echo "GREETING=hello" >"$WORK/here/argo.env"

# The monorepo: make_history.py's import, FILES files laid out as the team's.
git init -q "$WORK/work"
python3 "$SOURCE/bench/make_history.py" 1 "$FILES" 400 | git -C "$WORK/work" fast-import --quiet
git -C "$WORK/work" checkout -q main
cc -O2 -o "$WORK/tiny-app" "$SOURCE/bench/tiny_app.c"
git clone -q --bare "$WORK/work" "$WORK/server.git"
git -C "$WORK/work" remote add origin "$WORK/server.git"
git -C "$WORK/server.git" config gitgate.baseline "$(git -C "$WORK/work" rev-parse HEAD)"
read -r P1 P2 P3 P4 < <(python3 -c '
import socket
s = [socket.socket() for _ in range(4)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
target() { # target ENV WHERE PORT PORT [HOST-LINE]
	cat <<EOF
[target argo $1]
$5
root = $2/srv/argo
ports = $3 $4
env_file = $2/argo.env
env_required = GREETING
test = true
lint = true
build = true
run = $WORK/tiny-app \$PORT
switch = link $2/srv/argo-live
health_url = http://127.0.0.1:\$PORT/health
health_retries = 1000
health_interval_ms = 0
health_successes = 1
health_deadline_seconds = 30
EOF
}
mkdir -p "$WORK/server.git/gitgate"
{
	sed '/^; ---- Deploy time/,$d' "$SOURCE/rules.ini"
	cat <<EOF
[deploy]
keep_releases = 3
; A host's commands run unsandboxed: this machine's too, so that the two compare.
sandbox = no
ssh_known_hosts = $WORK/known_hosts
ssh_identity = $WORK/deploy_key
[environment local]
freeze = no
health_level = 2
[environment remote]
freeze = no
health_level = 2
EOF
	target local "$WORK/here" "$P1" "$P2" ""
	target remote "$WORK/host" "$P3" "$P4" "host = root@127.0.0.2:$SSH_PORT"
} >"$WORK/server.git/gitgate/rules.ini"

BENCH_DIR="$SOURCE/bench" SSH_PORT=$SSH_PORT python3 - "$BUILD/gitgate" "$WORK" "$RUNS" "$FILES" <<'PY'
import glob, json, os, socket, statistics, subprocess, sys, time

gitgate, work, runs, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, os.environ['BENCH_DIR'])
from deploy_timing import app_start, commit_change, three_trues
server, clone = os.path.join(work, "server.git"), os.path.join(work, "work")

def quiet():
    """What the deploys before left to do in the background done (a pruned release's files
    removed, here and on the host; the host's spare copy made), then the disk synced: each
    deploy is timed on its own, never with the other side's leftovers (here, the two
    machines share one disk)."""
    for _ in range(400):
        busy = glob.glob(os.path.join(work, "server.git/gitgate/releases/*/.pruned-*")) + \
            glob.glob(os.path.join(work, "host/srv/*-releases/.pruned-*"))
        for pidfile in glob.glob(os.path.join(work, "host/srv/*-releases/.spare.pid")):
            try:
                pid = open(pidfile).read().split()[0]
                state = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()[0]
                busy += [pidfile] if state != "Z" else []
            except (OSError, IndexError):
                pass
        if not busy:
            break
        time.sleep(0.025)
    os.sync()

def deploy(env):
    quiet()
    t0 = time.monotonic()
    r = subprocess.run([gitgate, "deploy", "argo", env], cwd=server, capture_output=True,
                       text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("bench: the deploy failed:\n" + r.stdout + r.stderr)
    rec = json.loads(subprocess.run([gitgate, "history", "argo", env, "--format", "json"],
                                    cwd=server, capture_output=True, text=True,
                                    check=True).stdout)[-1]
    assert rec["outcome"] == "deployed", rec
    return wall, {("gate %2d " % g["number"] if g["number"] else "step    ") + g["name"]:
                  g["seconds"] for g in rec["gates"]}

# Two deploys each way first (nothing live, then the second slot), so that
# every timed one stops an app and prunes.
for n in range(2):
    commit_change(clone, n)
    deploy("local")
    deploy("remote")
walls = {"local": [], "remote": []}
steps = {"local": {}, "remote": {}}
apps, trues = [], []
for n in range(2, 2 + runs):
    commit_change(clone, n)
    for env in ("local", "remote"):
        wall, s = deploy(env)
        walls[env].append(wall)
        for k, v in s.items():
            steps[env].setdefault(k, []).append(v)
    apps.append(app_start(work))
    trues.append(three_trues())
med = statistics.median
not_gitgate = med(apps) + med(trues)
# One command on the host through a master, as gitgate runs each: the
# host's login shell starting is in every one of them.
ctl = os.path.join(work, "bench-ctl")
ssh = ["ssh", "-T", "-oBatchMode=yes", "-oUserKnownHostsFile=" + os.path.join(work, "known_hosts"),
       "-i", os.path.join(work, "deploy_key"), "-oControlPath=" + ctl,
       "-p", os.environ["SSH_PORT"], "-l", "root", "127.0.0.2"]
subprocess.run(ssh[:1] + ["-M", "-N", "-f", "-oControlPersist=yes"] + ssh[1:], check=True)
trips = []
for _ in range(9):
    t0 = time.monotonic()
    subprocess.run(ssh + ["true"], check=True)
    trips.append(time.monotonic() - t0)
subprocess.run(ssh[:1] + ["-O", "exit"] + ssh[1:], capture_output=True)
loc = med(walls["local"]) - not_gitgate
rem = med(walls["remote"]) - not_gitgate
print(f"deploy of argo ({files}-file monorepo) here and on a host over SSH (127.0.0.2), "
      f"median of {runs} each, load {os.getloadavg()[0]:.1f}")
print(f"  gitgate's own, on this machine      {loc * 1000:7.0f} ms   (wall less the app's start "
      f"and three `true`: {not_gitgate * 1000:.0f} ms)")
print(f"  gitgate's own, on a host over SSH   {rem * 1000:7.0f} ms   (+{(rem - loc) * 1000:.0f} ms, "
      f"x{rem / loc:.2f})")
print(f"  one command on the host through the connection (ssh HOST true): "
      f"{med(trips) * 1000:.0f} ms; a deploy runs six, and two ssh -O (the forwards)")
print("  steps that differ (median ms, this machine / over SSH):")
for k in sorted(set(steps["local"]) | set(steps["remote"])):
    a = med(steps["local"][k]) * 1000 if k in steps["local"] else 0.0
    b = med(steps["remote"][k]) * 1000 if k in steps["remote"] else 0.0
    if abs(a - b) >= 5:
        print(f"    {k:22s} {a:7.0f} {b:7.0f}")
PY
