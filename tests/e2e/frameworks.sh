#!/usr/bin/env bash
# End-to-end: gitgate through client hook managers, by real `git commit` and
# `git push` into a real bare repository: the pre-commit framework (Debian's
# pre-commit, with this repository's .pre-commit-hooks.yaml) and lefthook
# (from the npm registry), each configured with the file the README shows.
# Neither needs the network: pre-commit clones a local repository into a
# PRE_COMMIT_HOME of the test's own and makes no environment (language:
# system); where the test may make a network namespace of its own, every
# git command runs in one, without any network.
. "$(dirname "$0")/lib.sh"

# Only gitgate on the PATH from the build: the build folder also holds a
# hook binary named pre-commit, which would stand for the framework.
TOOLS=$(mktemp -d)
ln -s "$GITGATE_BIN/gitgate" "$TOOLS/gitgate"
export PATH=$TOOLS:$PATH
export PRE_COMMIT_HOME=$HOME/pre-commit-cache
trap 'rm -rf "$TOOLS"' EXIT

# offline COMMAND...: COMMAND in a network namespace of its own (no network
# at all) where one can be made, else as it is.
if unshare --net --map-root-user true 2>/dev/null; then
	offline() { unshare --net --map-root-user "$@"; }
else
	offline() { "$@"; }
fi

# readme_file NAME: the README's example of the file NAME (its fenced block
# that starts with "# NAME").
readme_file() {
	awk -v name="# $1" '
		/^```/ { if (inside) exit; started = 0; inside = 0; fence = 1; next }
		fence && $0 == name { inside = 1 }
		{ fence = 0 }
		inside { print }
	' "$GITGATE_SOURCE/README.md"
}

need() { # need TOOL: present, or the test fails saying how to get it
	command -v "$1" >/dev/null && return 0
	fail "$1 is missing (./install.sh --test installs it)"
	return 1
}

# A monorepo with a bare remote that has its first commit, the client's own
# hooks taken out: only the hook manager runs gitgate.
managed_repo() {
	git init -q --bare server.git
	new_repo work
	rm .git/hooks/pre-commit
	git remote add origin ../server.git
	git push -q origin main
}

pre_commit_setup() {
	need pre-commit || return 1
	# gitgate's repository as pre-commit fetches it: a commit that holds
	# .pre-commit-hooks.yaml, named by its id.
	git init -q gitgate-hooks
	cp "$GITGATE_SOURCE/.pre-commit-hooks.yaml" gitgate-hooks/
	git -C gitgate-hooks add -A && git -C gitgate-hooks commit -qm hooks
	local rev
	rev=$(git -C gitgate-hooks rev-parse HEAD)
	managed_repo
	readme_file .pre-commit-config.yaml |
		sed "s|repo: https://git.example.com/tools/gitgate|repo: $PWD/../gitgate-hooks|; s|rev: v0.1.0|rev: $rev|" \
			>.pre-commit-config.yaml
	grep -q "rev: $rev" .pre-commit-config.yaml || fail "the README has no .pre-commit-config.yaml to use"
	git add .pre-commit-config.yaml && git -c core.hooksPath=/dev/null commit -qm "pre-commit config"
	offline pre-commit install >install.txt 2>&1 || { fail "pre-commit install failed:"; cat install.txt; }
	[ -x .git/hooks/pre-commit ] && [ -x .git/hooks/pre-push ] || fail "pre-commit installed no hooks"
}

lefthook_setup() {
	need lefthook || return 1
	managed_repo
	readme_file lefthook.yml >lefthook.yml
	grep -q "gitgate hook pre-push" lefthook.yml || fail "the README has no lefthook.yml to use"
	git add lefthook.yml && git -c core.hooksPath=/dev/null commit -qm "lefthook config"
	lefthook install >install.txt 2>&1 || { fail "lefthook install failed:"; cat install.txt; }
	[ -x .git/hooks/pre-commit ] && [ -x .git/hooks/pre-push ] || fail "lefthook installed no hooks"
}

# The same scenarios for each manager.
commits_and_pushes() {
	local commits
	echo 'print("more")' >>argo/app.py
	git add -A
	expect 0 "a clean commit" offline git commit -qm clean
	contains "$OUT" "gitgate"
	commits=$(git rev-list --count HEAD)
	# One commit changing argo and alpine.
	echo 'x = 2' >>argo/app.py
	echo 'export const b = 2;' >>alpine-backend/api.js
	git add -A
	expect 1 "a mixed commit" offline git commit -qm mixed
	contains "$OUT" "isolation: one commit changes"
	git restore --staged alpine-backend && git checkout -q -- alpine-backend
	expect 0 "argo alone" offline git commit -qm "argo alone"
	# The amend that would make that commit change alpine too.
	echo 'export const c = 3;' >>alpine-backend/api.js
	git add -A
	expect 1 "an amend that mixes" offline git commit -q --amend --no-edit
	contains "$OUT" "isolation: one commit changes 'alpine-analytics' (1 file, e.g. alpine-backend/api.js) and 'argo'"
	[ "$(git log -1 --format=%s)" = "argo alone" ] && [ "$(git show --stat --format= HEAD | grep -c alpine)" = 0 ] ||
		fail "the amend was made"
	git reset -q --hard
	printf 'const a = 1;\n  console.log("debug", a);\n' >>alpine-frontend/app.tsx
	git add -A
	expect 1 "debug code" offline git commit -qm debug
	contains "$OUT" "alpine-frontend/app.tsx:3:3: debug-code: debug code in an added line"
	[ "$(git rev-list --count HEAD)" = $((commits + 1)) ] || fail "a refused commit was made"
	# Pushes: the clean commits go; one made past the hook does not.
	expect 0 "a clean push" offline git push -q origin main
	git -c core.hooksPath=/dev/null commit -qm "debug, past the hook"
	expect 1 "a push of debug code" offline git push -q origin main
	contains "$OUT" "debug-code"
	contains "$OUT" "push refused"
	[ "$(git -C ../server.git rev-parse main)" = "$(git rev-parse HEAD~1)" ] || fail "the bad commit reached the server"
	# A new branch: its own commits only, the bad one among them.
	git checkout -qb feature
	expect 1 "a new branch with debug code" offline git push -q origin feature
	contains "$OUT" "debug, past the hook"
	git reset -q --hard HEAD~1
	expect 0 "the new branch without it" offline git push -q origin feature
}

t_pre_commit_framework() {
	pre_commit_setup || return 0
	commits_and_pushes
}

t_pre_commit_framework_first_push_to_an_empty_remote() {
	# pre-commit names no FROM/TO when all the history is new: the whole
	# history is checked.
	pre_commit_setup || return 0
	git init -q --bare ../empty.git
	git remote add empty ../empty.git
	git -c core.hooksPath=/dev/null commit -q --allow-empty -m "TODO later"
	echo 'console.log(1);' >>alpine-backend/api.js
	git add -A && git -c core.hooksPath=/dev/null commit -qm "debug, past the hook"
	expect 1 "a first push with debug code" offline git push -q empty main
	contains "$OUT" "debug, past the hook"
	[ -z "$(git -C ../empty.git for-each-ref)" ] || fail "the empty remote got the push"
	git reset -q --hard HEAD~1
	expect 0 "a clean first push" offline git push -q empty main
}

t_pre_commit_framework_refuses_what_is_not_an_id() {
	# gitgate hook pre-push reads pre-commit's variables as git's line:
	# anything but an id refuses, never passes.
	pre_commit_setup || return 0
	PRE_COMMIT_REMOTE_NAME=origin PRE_COMMIT_REMOTE_URL=../server.git \
		PRE_COMMIT_LOCAL_BRANCH=refs/heads/main PRE_COMMIT_REMOTE_BRANCH=refs/heads/main \
		PRE_COMMIT_FROM_REF=HEAD~1 PRE_COMMIT_TO_REF=HEAD gitgate hook pre-push >out.txt 2>&1 </dev/null
	[ $? = 3 ] || { fail "names instead of ids should refuse (exit 3):"; cat out.txt; }
	contains out.txt "the push could not be checked, so it is refused"
	gitgate hook pre-push </dev/null >out.txt 2>&1
	[ $? = 2 ] || fail "without git's arguments or pre-commit's variables: a usage error"
}

t_lefthook() {
	lefthook_setup || return 0
	commits_and_pushes
}

run_tests
