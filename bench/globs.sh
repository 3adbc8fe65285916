#!/usr/bin/env bash
# Pattern-list benchmark: a long list of gitignore patterns over a commit of
# many files, gitgate against git itself on the same machine, in the same
# run. The list is what a .deployignore, [deploy] exclude or [forbidden]
# paths holds, written long: mostly names and paths without wildcards, name
# endings ("*.tmp"), and a few wildcard patterns; none of them matches, so
# every file is judged against the whole list (the worst case).
#   gitgate check --staged   with the list as [forbidden] paths (nothing else on)
#   git ls-files -c -i --exclude-from=LIST   (git matching the same list)
# It prints the median wall times (hyperfine) and their ratio, and checks
# that both find the same files once the list is given patterns that match.
#
# usage: bench/globs.sh [BUILD_DIR]
# environment: FILES (5000), PATTERNS (20000), RUNS (10)
set -euo pipefail
SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$SOURCE/build}" && pwd)
FILES=${FILES:-5000}
PATTERNS=${PATTERNS:-20000}
RUNS=${RUNS:-10}

command -v hyperfine >/dev/null || {
	[ "$(id -u)" = 0 ] || { echo "bench: needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
	apt-get install -y -qq hyperfine >/dev/null
}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$WORK

# The repository: FILES files in folders three deep, staged.
git init -q "$WORK/repo"
python3 - "$WORK/repo" "$FILES" <<'PY'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
exts = ["py", "js", "ts", "json", "md"]
for i in range(n):
    d = os.path.join(top, "argo" if i % 2 else "alpine-backend", f"mod{i % 50}", f"sub{i % 7}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"file{i}.{exts[i % len(exts)]}"), "w") as f:
        f.write(f"x = {i}\n")
PY
git -C "$WORK/repo" add -A

# The list: PATTERNS patterns that match none of the files.
python3 - "$PATTERNS" >"$WORK/list" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    k = i % 20
    if k < 12:
        print(f"cache_{i}.tmp")               # a name
    elif k < 16:
        print(f"/argo/mod{i % 50}/gen_{i}.py")  # a path
    elif k < 19:
        print(f"*.gen{i}")                    # a name's ending
    else:
        print(f"build_{i}_*/")                # a wildcard folder
PY
# The rules: the list as [forbidden] paths, every other check off.
rules() { # rules LIST
	printf '[isolation]\nseverity = off\n[shared]\nversion_bump = off\n[forbidden]\nseverity = error\n'
	sed 's/^/paths = /' "$1"
}
rules "$WORK/list" >"$WORK/rules.ini"

(cd "$WORK/repo" && hyperfine -w 2 -r "$RUNS" -i --style none --export-json "$WORK/t.json" \
	"'$BUILD/gitgate' check --staged --rules '$WORK/rules.ini' --format json >/dev/null" \
	"git ls-files -c -i --exclude-from='$WORK/list' >/dev/null" >/dev/null 2>&1)

# Agreement: with matching patterns added at the top and the bottom (a
# negation among them), both name the same files.
{
	echo '*.md'
	cat "$WORK/list"
	echo 'mod3/'
	echo '!argo/mod3/sub1/'
	echo '/alpine-backend/mod4/sub2/file4.py'
} >"$WORK/list2"
rules "$WORK/list2" >"$WORK/rules2.ini"
(cd "$WORK/repo" && "$BUILD/gitgate" check --staged --rules "$WORK/rules2.ini" --format json >"$WORK/g.json" || true)
(cd "$WORK/repo" && git ls-files -c -i --exclude-from="$WORK/list2" >"$WORK/git.txt")
python3 - "$WORK/t.json" "$WORK/g.json" "$WORK/git.txt" "$FILES" "$PATTERNS" <<'PY'
import json, sys
times, gg, gt, files, patterns = sys.argv[1:6]
r = json.load(open(times))["results"]
ours, theirs = r[0]["median"] * 1000, r[1]["median"] * 1000
mine = {f["path"] for f in json.load(open(gg))["findings"] if f["rule"] == "forbidden-path"}
git = {l.rstrip("\n") for l in open(gt) if l.strip()}
print(f"{patterns} patterns over {files} staged files (none matching)")
print(f"  gitgate check --staged          {ours:8.1f} ms   (median of the run)")
print(f"  git ls-files -c -i --exclude-from {theirs:6.1f} ms")
print(f"  ratio                           {ours / theirs:8.2f}")
print(f"  with matching patterns added: git names {len(git)} files, gitgate {len(mine)}: "
      f"{'the same' if mine == git else 'DIFFERENT: ' + str(sorted(mine ^ git)[:5])}")
PY
