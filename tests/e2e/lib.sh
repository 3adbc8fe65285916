# Helpers for the end-to-end tests: real git, real repositories in a temp dir.
# Each test is a function named t_*; run_tests runs them all, each in a fresh
# directory, and ends with the line "N passed, N failed".
set -u

: "${GITGATE_BIN:?set GITGATE_BIN to the build directory}"
: "${GITGATE_SOURCE:?set GITGATE_SOURCE to the source directory}"
export GIT_CONFIG_NOSYSTEM=1
export HOME=${E2E_HOME:-$(mktemp -d)}
export NO_COLOR=1
unset GITGATE_SKIP GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE
git config --global user.email dev@example.com
git config --global user.name Dev
git config --global init.defaultBranch main
git config --global advice.detachedHead false

FAILED=0 PASSED=0 CURRENT=
fail() {
	printf '  FAIL %s: %s\n' "$CURRENT" "$*"
	CURRENT_FAILED=1
}
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	"$@" >/dev/null 2>&1 || fail "$what"
}
contains() { # contains FILE TEXT
	grep -qF -- "$2" "$1" || { fail "expected '$2' in output:"; sed 's/^/      /' "$1"; }
}
lacks() {
	! grep -qF -- "$2" "$1" || { fail "did not expect '$2' in output:"; sed 's/^/      /' "$1"; }
}

# A monorepo laid out as the team's rules describe, with the hook installed as a
# symlink to the built binary and one accepted commit.
new_repo() {
	local dir=${1:-repo}
	git init -q "$dir"
	cd "$dir" || return 1
	cp "$GITGATE_SOURCE/rules.ini" rules.ini
	mkdir -p argo alpine-backend alpine-frontend packages/ui
	echo 'print("argo")' >argo/app.py
	echo 'export const api = 1;' >alpine-backend/api.js
	echo 'export const ui = 1;' >alpine-frontend/app.tsx
	echo '{"name": "ui", "version": "1.0.0"}' >packages/ui/package.json
	echo 'export const Button = 1;' >packages/ui/button.js
	echo '# monorepo' >README.md
	git add -A
	git -c core.hooksPath=/dev/null commit -qm initial
	ln -s "$GITGATE_BIN/pre-commit" .git/hooks/pre-commit
}

# expect 0|1 WHAT COMMAND...: runs a git command that should succeed (0) or
# be refused (1); its output is in $OUT.
expect() {
	local want=$1 what=$2
	shift 2
	OUT=$(mktemp)
	"$@" >"$OUT" 2>&1
	local got=$?
	if [ "$want" = 0 ] && [ $got != 0 ]; then
		fail "$what was refused:"
		sed 's/^/      /' "$OUT"
	elif [ "$want" != 0 ] && [ $got = 0 ]; then
		fail "$what was accepted"
		sed 's/^/      /' "$OUT"
	fi
}

# commit_expect 0|1 MESSAGE [git commit args...]
commit_expect() {
	local want=$1 msg=$2
	shift 2
	expect "$want" "commit '$msg'" git commit -q -m "$msg" "$@"
}

# push_expect 0|1 [git push args...]
push_expect() {
	local want=$1
	shift
	expect "$want" "push $*" git push "$@"
}

. "$(dirname "${BASH_SOURCE[0]}")/../nginx_own.sh"

run_tests() {
	local root
	root=$(mktemp -d)
	# E2E_ONLY=REGEX runs only the tests whose names match.
	for t in $(declare -F | awk '{print $3}' | grep '^t_' | grep -E -- "${E2E_ONLY:-.}"); do
		CURRENT=$t CURRENT_FAILED=0
		mkdir "$root/$t"
		(cd "$root/$t" && "$t") >"$root/$t.log" 2>&1
		local rc=$?
		if grep -q '  FAIL ' "$root/$t.log" || [ $rc != 0 ]; then
			FAILED=$((FAILED + 1))
			printf 'FAIL %s\n' "$t"
			sed 's/^/  /' "$root/$t.log"
		else
			PASSED=$((PASSED + 1))
			printf 'ok   %s\n' "$t"
		fi
	done
	rm -rf "$root"
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	[ "$FAILED" = 0 ]
}
