#!/usr/bin/env bash
# End-to-end under valgrind: the hooks and gitgate, built without PCRE2 JIT
# (GITGATE_VG_BIN), run by real git with every memory error and definite
# leak made fatal (exit 99).
. "$(dirname "$0")/lib.sh"
: "${GITGATE_VG_BIN:?set GITGATE_VG_BIN to a build made with -DGITGATE_JIT=OFF}"
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
	--child-silent-after-fork=yes)

# A hook file that runs the JIT-less binary under valgrind.
vg_hook() { # vg_hook HOOKS_DIR NAME
	printf '#!/bin/sh\nexec %s %s "$@"\n' "${VG[*]}" "$GITGATE_VG_BIN/$2" >"$1/$2"
	chmod 755 "$1/$2"
}

no_valgrind_errors() {
	if grep -q '==[0-9]*==' "$OUT"; then
		fail "valgrind reported errors:"
		sed 's/^/      /' "$OUT"
	fi
}

t_pre_commit_under_valgrind() {
	new_repo
	rm .git/hooks/pre-commit
	vg_hook .git/hooks pre-commit
	echo 'console.log(1);' >>alpine-backend/api.js
	printf 'x\0y' >argo/blob.bin
	git add -A
	commit_expect 1 "debug code"
	contains "$OUT" "debug-code"
	no_valgrind_errors
	git reset -q --hard
	echo 'export const ok = 1;' >>alpine-backend/api.js
	git add -A
	commit_expect 0 "clean"
	no_valgrind_errors
}

t_pre_receive_and_check_under_valgrind() {
	git init -q --bare server.git
	mkdir server.git/gitgate
	cp "$GITGATE_SOURCE/rules.ini" server.git/gitgate/rules.ini
	vg_hook server.git/hooks pre-receive
	vg_hook server.git/hooks post-receive
	new_repo work
	rm .git/hooks/pre-commit
	git remote add origin ../server.git
	git push -q origin main || fail "initial push refused"
	git checkout -q -b topic
	echo 'x = 1 # TODO' >>argo/app.py && git commit -qam "argo todo"
	git checkout -q main
	echo 'export const b = 1;' >>alpine-backend/api.js && git commit -qam "alpine"
	git merge -q --no-edit topic
	OUT=$(mktemp)
	git push origin main >"$OUT" 2>&1 && fail "a bad push was accepted"
	contains "$OUT" "argo/app.py:2:9: debug-code"
	no_valgrind_errors
	[ -s ../server.git/gitgate/tips/accepted.json ] || fail "pre-receive noted no tip"
	"${VG[@]}" "$GITGATE_VG_BIN/gitgate" check origin/main..main --format sarif >"$OUT" 2>&1
	[ $? = 1 ] || fail "check should exit 1"
	no_valgrind_errors
	"${VG[@]}" "$GITGATE_VG_BIN/gitgate" rules >"$OUT" 2>&1 || fail "rules failed"
	no_valgrind_errors
}

run_tests
