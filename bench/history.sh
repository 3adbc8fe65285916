#!/usr/bin/env bash
# History benchmark: `gitgate check` over the last N commits against git
# itself on the same machine, in the same run:
#   git log -p -U0 -M100% --format=%H -N | grep -cP '<the same patterns>'
# (git with exact renames only, as gitgate pairs them). It prints the median
# wall times and their ratio, whether the per-commit counts of flagged added
# lines agree on non-merge commits, and gitgate's peak RSS, then the peak RSS
# over a long generated history.
#
# usage: bench/history.sh [BUILD_DIR] [REPO]
#   REPO: also measure an existing repository (a clone of a real project).
# environment: COMMITS (2000), RSS_COMMITS (50000; 0 skips), RUNS (10)
set -euo pipefail
SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$SOURCE/build}" && pwd)
REAL=${2:-}
COMMITS=${COMMITS:-2000}
RSS_COMMITS=${RSS_COMMITS:-50000}
RUNS=${RUNS:-10}
PATTERN='console\.log\s*\(|debugger|TODO|FIXME|breakpoint\(|pdb\.set_trace'

command -v hyperfine >/dev/null || {
	[ "$(id -u)" = 0 ] || { echo "bench: needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
	apt-get install -y -qq hyperfine >/dev/null
}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$WORK
RULES=$WORK/bench-rules.ini
cat >"$RULES" <<EOR
; The grep pattern as one scan over every file, nothing else enabled.
[isolation]
severity = off
[forbidden]
severity = off
[shared]
version_bump = off
[scan bench]
rule = debug-code
files = *
pattern = $PATTERN
EOR

generate() { # generate DIR COMMITS [FILES MAX_LINES]
	git init -q "$1"
	python3 "$SOURCE/bench/make_history.py" "$2" ${3:+"$3" "$4"} | git -C "$1" fast-import --quiet
	git -C "$1" repack -adfq
	git -C "$1" symbolic-ref HEAD refs/heads/main
}

compare() { # compare REPO: timing, agreement, RSS
	local repo=$1 name=$2
	(cd "$repo" && hyperfine -w 2 -r "$RUNS" -i --style none --export-json "$WORK/t.json" \
		"'$BUILD/gitgate' check -n $COMMITS HEAD --rules '$RULES' --format json >/dev/null" \
		"git log -p -U0 -M100% --format=%H -$COMMITS | grep -cP '$PATTERN'" >/dev/null 2>&1)
	(cd "$repo" && "$BUILD/gitgate" check -n "$COMMITS" HEAD --rules "$RULES" --format json >"$WORK/g.json" || true)
	(cd "$repo" && git log -p -U0 -M100% --format='commit %H %P' -"$COMMITS" |
		python3 "$SOURCE/tests/git_added_lines.py" "$PATTERN" >"$WORK/git.json")
	python3 - "$WORK/t.json" "$WORK/g.json" "$WORK/git.json" "$name" "$repo" "$BUILD/gitgate" "$COMMITS" "$RULES" <<'PY'
import json, os, sys
times, gg, reference, name, repo, gitgate, commits, rules = sys.argv[1:9]
r = json.load(open(times))["results"]
ours, theirs = r[0]["median"] * 1000, r[1]["median"] * 1000
git = json.load(open(reference))
mine = {}
for f in json.load(open(gg))["findings"]:
    if f["rule"] == "debug-code" and f["line"] is not None and f["match"] is not None:
        mine.setdefault(f["commit"], set()).add((f["path"], f["line"]))
plain = [c for c, v in git.items() if not v["merge"]]
differ = [c for c in plain if {tuple(x) for x in git[c]["lines"]} != mine.get(c, set())]
total_git = sum(len(git[c]["lines"]) for c in plain)
total_ours = sum(len(mine.get(c, ())) for c in plain)
pid = os.fork()
if pid == 0:
    os.chdir(repo)
    fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 1)
    os.execv(gitgate, [gitgate, "check", "-n", commits, "HEAD", "--rules", rules, "--format", "json"])
_, _, usage = os.wait4(pid, 0)
print(f"{name}: {len(git)} commits ({len(git) - len(plain)} merges)")
print(f"  gitgate check          {ours:8.1f} ms   (median of the run)")
print(f"  git log -p | grep -cP  {theirs:8.1f} ms")
print(f"  ratio                  {ours / theirs:8.2f}")
print(f"  flagged added lines on {len(plain)} non-merge commits: git {total_git}, gitgate {total_ours}; "
      f"per commit (path and line) {'identical' if not differ else 'DIFFERENT on ' + str(len(differ)) + ' commits, e.g. ' + differ[0]}")
print(f"  gitgate peak RSS       {usage.ru_maxrss / 1024:8.1f} MB")
PY
}

generate "$WORK/generated" $((COMMITS + 500))
compare "$WORK/generated" "generated monorepo history"
if [ -n "$REAL" ]; then
	compare "$(cd "$REAL" && pwd)" "$REAL"
fi
if [ "$RSS_COMMITS" -gt 0 ]; then
	generate "$WORK/long" "$RSS_COMMITS" 1000 80
	python3 - "$WORK/long" "$BUILD/gitgate" "$RSS_COMMITS" "$RULES" <<'PY'
import os, sys, time
repo, gitgate, n, rules = sys.argv[1:5]
start = time.monotonic()
pid = os.fork()
if pid == 0:
    os.chdir(repo)
    fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 1)
    os.execv(gitgate, [gitgate, "check", "-n", n, "HEAD", "--rules", rules, "--format", "json"])
anon = mapped = 0
while True:  # heap and mapped files apart: the pack and its index are mapped, not copied
    done, status, usage = os.wait4(pid, os.WNOHANG)
    if done:
        break
    try:
        fields = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
        anon = max(anon, int(fields["RssAnon"].split()[0]))
        mapped = max(mapped, int(fields["RssFile"].split()[0]))
    except (OSError, KeyError, ValueError):
        pass
    time.sleep(0.02)
print(f"long history: {n} commits checked in {time.monotonic() - start:.1f} s, "
      f"peak RSS {usage.ru_maxrss / 1024:.1f} MB (heap {anon / 1024:.0f} MB, mapped files "
      f"{mapped / 1024:.0f} MB; exit {os.waitstatus_to_exitcode(status)})")
PY
fi
