#!/usr/bin/env bash
# Commit-time benchmark: the pre-commit hook against git itself, same
# machine, same run. For each repository size it builds a monorepo laid out
# as the team's (argo/, alpine-backend/, alpine-frontend/, packages/), stages
# 10 changed files and prints the median wall time of
#   hook      - the installed pre-commit hook, run as git runs it
#   quiet     - git diff --cached --quiet            (the floor: git's own diff)
#   pipeline  - git diff --cached -U0 | grep -cE ... (the shell one-liner)
# and the ratio hook / pipeline. Timing is hyperfine's (shell start-up
# subtracted). Usage: bench/run.sh [BUILD_DIR] [SIZES...]  (default 2000 100000)
set -euo pipefail
SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$SOURCE/build}" && pwd)
shift || true
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(2000 100000)
RUNS=${BENCH_RUNS:-30}

if ! command -v hyperfine >/dev/null; then
	[ "$(id -u)" = 0 ] || { echo "bench: needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
	apt-get install -y -qq hyperfine >/dev/null
fi
[ -x "$BUILD/pre-commit" ] || { echo "bench: build first (no $BUILD/pre-commit)" >&2; exit 2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$WORK NO_COLOR=1
git config --global user.email bench@example.com
git config --global user.name bench

PATTERN='console\.log\s*\(|debugger|TODO|FIXME|breakpoint\(|pdb\.set_trace'

make_repo() { # make_repo DIR FILES
	python3 - "$1" "$2" <<'PY'
import os, sys
root, total = sys.argv[1], int(sys.argv[2])
layout = [("argo", "py"), ("alpine-backend", "js"), ("alpine-frontend", "tsx"), ("packages/ui", "js")]
for i in range(total):
    project, ext = layout[i % len(layout)]
    d = os.path.join(root, project, "src", "m%03d" % (i // 400))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%06d.%s" % (i, ext)), "w") as f:
        f.write("".join("line %d of file %d\n" % (n, i) for n in range(20)))
PY
	cp "$SOURCE/rules.ini" "$1/rules.ini"
	(cd "$1" && git init -q && git add -A && git commit -qm import &&
		ln -s "$BUILD/pre-commit" .git/hooks/pre-commit)
	# 10 staged changes in one unit, one of them with a debug line.
	local n=0
	for f in $(cd "$1" && git ls-files 'alpine-backend/*.js' | head -10); do
		echo "export const added$n = $n;" >>"$1/$f"
		n=$((n + 1))
	done
	echo 'console.log("bench");' >>"$1/$f"
	(cd "$1" && git add -A)
}

median() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join("%.2f" % (x["median"]*1000) for x in r))' "$1"; }

printf '%-9s %10s %10s %12s %8s\n' files "hook ms" "quiet ms" "pipeline ms" ratio
for size in "${SIZES[@]}"; do
	repo=$WORK/repo-$size
	make_repo "$repo" "$size"
	(cd "$repo" &&
		hyperfine -w 5 -r "$RUNS" -i --export-json "$WORK/$size.json" --style none \
			'.git/hooks/pre-commit' \
			'git diff --cached --quiet' \
			"git diff --cached -U0 | grep -cE '$PATTERN'" >/dev/null)
	read -r hook quiet pipeline <<<"$(median "$WORK/$size.json")"
	ratio=$(python3 -c "print('%.2f' % ($hook / $pipeline))")
	printf '%-9s %10s %10s %12s %8s\n' "$size" "$hook" "$quiet" "$pipeline" "$ratio"
done
