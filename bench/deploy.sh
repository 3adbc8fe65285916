#!/usr/bin/env bash
# Deploy benchmark: gitgate's own time per deploy of a 2,000-file monorepo,
# the median of 10 deploys, against git's export of the same revision
# (git archive | tar -x) in the same run.
#
# Each deploy is `gitgate deploy argo bench` on a server's bare repository,
# one new commit later (10 files of argo changed): every gate, the export of
# the whole revision, .deployignore and [deploy] exclude, the slot (the old
# app in it stopped, the new one started and checked), the switch (a
# symlink), gate 11, the state, the history record and pruning releases to
# keep_releases. What is not gitgate's is made as small as it can be, and
# measured apart, in the same run:
#   - test, lint and build are `true`;
#   - the app is bench/tiny_app.c, which listens at once; the health level is
#     2 (an HTTP GET) with no wait between tries: the slot check's only wait
#     is the app's start, measured alone (spawned, then connected to);
# gitgate's own time = the deploy's wall time - the app's start - three runs
# of `true` (both medians of the run). The deploys run sandboxed where
# bubblewrap works ([deploy] sandbox = auto); the sandbox's own cost per
# command is then measured through gitgate's run path: RUNS more deploys
# with sandbox = no, gate 4 (which only runs lint = `true`) compared with
# the sandboxed ones. The rules are the default checks of
# rules.ini (gate 8 runs them over the new commit) and the default exclusions.
# git's export is timed twice: as it is, and followed by `sync -f` (syncfs,
# which gitgate calls once an export is written, before any slot may point
# at it).
#
# usage: bench/deploy.sh [BUILD_DIR]
# environment: RUNS (10), FILES (2000), TMPDIR (where the repositories, the
# releases and git's exports go: TMPDIR=/dev/shm measures without the disk)
set -euo pipefail
SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$SOURCE/build}" && pwd)
RUNS=${RUNS:-10}
FILES=${FILES:-2000}
[ -x "$BUILD/gitgate" ] || { echo "bench: build first (no $BUILD/gitgate)" >&2; exit 2; }

WORK=$(mktemp -d)
STATE=$WORK/server.git/gitgate
# The apps the deploys started (the warm slot's and the live one), by the
# pid files gitgate keeps: each leads its own process group.
cleanup() {
	local f pid start
	for f in "$STATE"/targets/*/*.pid; do
		[ -e "$f" ] || continue
		read -r pid start <"$f"
		[ "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" = "$start" ] &&
			kill -TERM -- "-$pid" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$WORK NO_COLOR=1 GITGATE_USER=bench
git config --global user.email bench@example.com
git config --global user.name bench
git config --global init.defaultBranch main

# The app is outside the release: the sandbox gets its folder.
mkdir -p "$WORK/bin"
cc -O2 -o "$WORK/bin/tiny-app" "$SOURCE/bench/tiny_app.c"
ln -s bin/tiny-app "$WORK/tiny-app"

# The monorepo: make_history.py's import (FILES files of 30-400 lines laid
# out as the team's), then tests and docs the exclusions remove.
git init -q "$WORK/work"
python3 "$SOURCE/bench/make_history.py" 1 "$FILES" 400 | git -C "$WORK/work" fast-import --quiet
git -C "$WORK/work" checkout -q main
(
	cd "$WORK/work"
	mkdir -p argo/tests
	for n in $(seq 20); do printf 'def test_%d():\n    assert True\n' "$n" >"argo/tests/test_$n.py"; done
	for p in argo alpine-backend alpine-frontend; do echo "# $p" >"$p/README.md"; done
	printf '*.md\n' >.deployignore
	git add -A && git commit -qm "tests, docs, .deployignore"
)
git clone -q --bare "$WORK/work" "$WORK/server.git"
git -C "$WORK/work" remote add origin "$WORK/server.git"
# Adopted as install.sh --server does: the history so far is accepted.
git -C "$WORK/server.git" config gitgate.baseline "$(git -C "$WORK/work" rev-parse HEAD)"
# Two free ports below the ephemeral range (no connection can be given one).
read -r P1 P2 < <(python3 -c '
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
ports = []
while len(ports) < 2:
    port = random.randrange(max(1024, low - 12000), low)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        ports.append(port) if port not in ports else None
    except OSError:
        pass
    s.close()
print(*ports)')
mkdir -p "$STATE" "$WORK/srv"
{
	sed '/^; ---- Deploy time/,$d' "$SOURCE/rules.ini"
	echo '[deploy]'
	sed -n '/^; ---- Deploy time/,$ { /^exclude = /p }' "$SOURCE/rules.ini"
	cat <<EOF
keep_releases = 5
sandbox = auto
sandbox_writable = $WORK/bin

[environment bench]
auto = yes
freeze = no
health_level = 2

[target argo bench]
root = $WORK/srv/argo
ports = $P1 $P2
test = true
lint = true
build = true
run = $WORK/bin/tiny-app \$PORT
switch = link $WORK/srv/argo-live
health_url = http://127.0.0.1:\$PORT/health
health_retries = 1000
health_interval_ms = 0
health_successes = 1
health_deadline_seconds = 30
EOF
} >"$STATE/rules.ini"

BENCH_DIR="$SOURCE/bench" python3 - "$BUILD/gitgate" "$WORK" "$RUNS" "$FILES" "$(findmnt -n -o FSTYPE -T "$WORK" | head -n 1)" <<'PY'
import json, os, shutil, socket, statistics, subprocess, sys, time

gitgate, work, runs, files, fs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
sys.path.insert(0, os.environ['BENCH_DIR'])
from deploy_timing import app_start, commit_change, three_trues
server, clone = os.path.join(work, "server.git"), os.path.join(work, "work")
load_before = os.getloadavg()

def ms(seconds):
    return seconds * 1000.0

def deploy():
    t0 = time.monotonic()
    r = subprocess.run([gitgate, "deploy", "argo", "bench"], cwd=server, capture_output=True,
                       text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("bench: the deploy failed:\n" + r.stdout + r.stderr)
    return wall

def last_record():
    r = subprocess.run([gitgate, "history", "argo", "bench", "--format", "json"], cwd=server,
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)[-1]

def git_export(rev, sync=False):
    """git's export of the revision; with sync, then flushed to disk as
    gitgate flushes a release before a slot may point at it (syncfs)."""
    target = os.path.join(work, "git-export")
    shutil.rmtree(target, ignore_errors=True)
    os.mkdir(target)
    t0 = time.monotonic()
    subprocess.run("git -C '%s' archive %s | tar -x -C '%s'%s" %
                   (server, rev, target, " && sync -f '%s'" % target if sync else ""),
                   shell=True, check=True)
    return time.monotonic() - t0

# Two deploys before the timed ones: the first (nothing live) and one
# into the second slot, so every timed deploy stops an app and prunes.
for n in range(2):
    commit_change(clone, n)
    deploy()
# Each timed deploy is followed by the measurements it is compared with, so
# that both see the same machine (a busy disk, another process).
walls, steps, apps, trues, exports, synced, outside = [], {}, [], [], [], [], []
jailed = []  # gate 4's seconds, for the sandbox's cost below
def lint_gate(record):
    return next(g["seconds"] for g in record["gates"] if g["number"] == 4)
for n in range(2, 2 + runs):
    commit_change(clone, n)
    walls.append(deploy())
    record = last_record()
    assert record["outcome"] == "deployed", record
    for g in record["gates"]:
        key = ("gate %2d " % g["number"] if g["number"] else "step    ") + g["name"]
        steps.setdefault(key, []).append(g["seconds"])
    outside.append(walls[-1] - sum(g["seconds"] for g in record["gates"]))
    jailed.append(lint_gate(record))
    apps.append(app_start(work))
    trues.append(three_trues())
    exports.append(git_export(record["to"]))
    synced.append(git_export(record["to"], sync=True))
app, true3 = statistics.median(apps), statistics.median(trues)
own = sorted(w - app - true3 for w in walls)
med = statistics.median
git = med(exports)
files_in_release = sum(len(f) for _, _, f in os.walk(os.path.join(work, "srv", "argo-live/")))
print(f"deploy of argo, {files} files ({files_in_release} in the release after the exclusions), "
      f"median of {runs} deploys")
print(f"  in {os.path.dirname(work)} ({fs}); load average before {load_before[0]:.2f}, after "
      f"{os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
print(f"  gitgate deploy, wall        {ms(med(walls)):8.1f} ms   (min {ms(min(walls)):.1f}, "
      f"max {ms(max(walls)):.1f})")
print(f"  - the app's start, alone    {ms(app):8.1f} ms")
print(f"  - test, lint, build (true)  {ms(true3):8.1f} ms")
print(f"  = gitgate's own             {ms(med(own)):8.1f} ms   (min {ms(own[0]):.1f}, "
      f"max {ms(own[-1]):.1f}; target < 1000 ms)")
print(f"  git archive | tar -x        {ms(git):8.1f} ms   (the same revision; min "
      f"{ms(min(exports)):.1f}, max {ms(max(exports)):.1f})")
print(f"  ... && sync -f (syncfs)     {ms(med(synced)):8.1f} ms   (min {ms(min(synced)):.1f}, "
      f"max {ms(max(synced)):.1f})")
print(f"  ratio own / git export      {med(own) / git:8.2f}   (/ the synced export "
      f"{med(own) / med(synced):.2f})")
print("  each gate and step, median (history.jsonl's seconds):")
for key, values in steps.items():
    print(f"    {key:24s} {ms(med(values)):8.1f} ms")
print(f"    {'the rest':24s} {ms(med(outside)):8.1f} ms   (start, lock, state, the record, "
      f"pruning releases)")

# The sandbox's cost per command: gate 4 runs lint = `true` and nothing
# else, in bwrap in the deploys above; the same deploys again with sandbox =
# no. (Gates 3 and 5 also export and prune: their times vary by more.)
sandboxed = last_record().get("sandbox") == "bubblewrap"
if not sandboxed:
    print(f"  sandbox: {last_record().get('sandbox')}: its cost is not measured here")
    sys.exit(0)
rules = os.path.join(server, "gitgate", "rules.ini")
with open(rules) as f:
    text = f.read()
with open(rules, "w") as f:
    f.write(text.replace("sandbox = auto", "sandbox = no"))
bare = []
for n in range(2 + runs, 2 + 2 * runs):
    commit_change(clone, n)
    deploy()
    record = last_record()
    assert record["sandbox"].startswith("none"), record["sandbox"]
    bare.append(lint_gate(record))
per_jailed, per_bare = med(jailed), med(bare)
print(f"  sandbox, per command (gate 4 runs `true`, median of {runs} deploys each way):")
print(f"    in bubblewrap             {ms(per_jailed):8.1f} ms")
print(f"    bare (sandbox = no)       {ms(per_bare):8.1f} ms")
print(f"    the sandbox's cost        {ms(per_jailed - per_bare):8.1f} ms   (ratio "
      f"{per_jailed / per_bare:.1f}; target < 20 ms)")
PY

# The same deploy to a remote host over SSH, next to this machine's (an sshd
# of the bench's own on 127.0.0.2, in a mount namespace): bench/remote.sh.
if [ -x /usr/sbin/sshd ] && unshare --mount --propagation private true 2>/dev/null; then
	echo
	RUNS=$RUNS FILES=$FILES bash "$SOURCE/bench/remote.sh" "$BUILD"
else
	echo "remote deploys: not measured here (bench/remote.sh needs sshd and mount namespaces)"
fi
