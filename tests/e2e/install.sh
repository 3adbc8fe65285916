#!/usr/bin/env bash
# End-to-end: install.sh putting hooks into repositories and taking them out.
. "$(dirname "$0")/lib.sh"

INSTALL() {
	GITGATE_PREFIX=$PREFIX GITGATE_BUILD_DIR=$GITGATE_BIN bash "$GITGATE_SOURCE/install.sh" "$@"
}

setup() {
	PREFIX=$PWD/prefix
	new_repo
	rm .git/hooks/pre-commit
}

t_install_into_a_fresh_repo_blocks_bad_commits() {
	setup
	INSTALL . >install.log 2>&1 || { fail "install failed"; cat install.log; }
	[ -x "$PREFIX/bin/gitgate" ] || fail "gitgate is not installed"
	# The manual page where man finds it, the completion where bash and zsh do.
	MANWIDTH=80 man -M "$PREFIX/share/man" gitgate >man.txt 2>&1 || { fail "man gitgate failed:"; cat man.txt; }
	contains man.txt "gitgate hook pre-commit"
	cmp -s "$PREFIX/share/bash-completion/completions/gitgate" "$GITGATE_SOURCE/completion/gitgate.bash" ||
		fail "the bash completion is not installed"
	cmp -s "$PREFIX/share/zsh/site-functions/_gitgate" "$GITGATE_SOURCE/completion/_gitgate" ||
		fail "the zsh completion is not installed"
	XDG_DATA_DIRS=$PREFIX/share PATH=$PREFIX/bin:$PATH bash --norc -c '
		. "$XDG_DATA_DIRS/bash-completion/completions/gitgate" && complete -p gitgate' >complete.txt 2>&1 ||
		{ fail "the installed completion does not load:"; cat complete.txt; }
	echo 'console.log(1);' >>alpine-backend/api.js
	git add -A
	commit_expect 1 "bad commit after install"
	contains "$OUT" "debug-code"
}

t_existing_hook_runs_first_and_uninstall_restores_it() {
	setup
	printf '#!/bin/sh\necho "team hook ran" >>"$(git rev-parse --git-dir)/team.log"\nexit 0\n' >.git/hooks/pre-commit
	chmod 755 .git/hooks/pre-commit
	cp .git/hooks/pre-commit ../original
	INSTALL . >/dev/null 2>&1 || fail "install failed"
	INSTALL . >second.log 2>&1 || fail "second install failed"
	contains second.log "already installed"
	cmp -s .git/hooks/pre-commit.gitgate-saved ../original || fail "the original hook was not kept"
	echo 'x = 1' >>argo/app.py
	git add argo
	commit_expect 0 "clean commit runs both hooks"
	[ "$(grep -c 'team hook ran' .git/team.log)" = 1 ] || fail "the existing hook did not run once"
	echo 'console.log(1);' >>alpine-backend/api.js
	git add -A
	commit_expect 1 "gitgate still blocks"
	INSTALL --uninstall . >/dev/null 2>&1 || fail "uninstall failed"
	cmp -s .git/hooks/pre-commit ../original || fail "uninstall did not restore the hook"
	[ -e .git/hooks/pre-commit.gitgate-saved ] && fail "the saved copy was left behind"
	commit_expect 0 "after uninstall only the team hook runs"
}

t_a_failing_existing_hook_still_blocks() {
	setup
	printf '#!/bin/sh\necho "team hook says no" >&2\nexit 1\n' >.git/hooks/pre-commit
	chmod 755 .git/hooks/pre-commit
	INSTALL . >/dev/null 2>&1 || fail "install failed"
	echo 'x = 1' >>argo/app.py
	git add argo
	commit_expect 1 "existing hook refuses"
	contains "$OUT" "team hook says no"
}

t_an_existing_hook_that_git_ignores_is_not_run() {
	setup
	printf '#!/bin/sh\necho "should not run"\nexit 1\n' >.git/hooks/pre-commit
	chmod 644 .git/hooks/pre-commit
	INSTALL . >/dev/null 2>&1 || fail "install failed"
	echo 'x = 1' >>argo/app.py && git add argo
	commit_expect 0 "a commit with a non-executable old hook"
	lacks "$OUT" "should not run"
}

t_a_global_hooks_path_is_not_taken_over() {
	setup
	# A HOME of this test's own, so the global setting stays here.
	mkdir home && cp "$HOME/.gitconfig" home/ && export HOME=$PWD/home
	mkdir shared-hooks
	printf '#!/bin/sh\necho team >>"$(git rev-parse --git-dir)/team.log"\n' >shared-hooks/commit-msg
	chmod 755 shared-hooks/commit-msg
	git config --global core.hooksPath "$PWD/shared-hooks"
	INSTALL . >install.log 2>&1 || fail "install failed"
	contains install.log "installing into"
	[ -e shared-hooks/pre-commit ] && fail "gitgate was installed into the shared folder"
	echo 'console.log(1);' >>alpine-backend/api.js && git add alpine-backend
	commit_expect 1 "this repository is guarded"
	git reset -q --hard
	echo 'x = 1' >>argo/app.py && git add argo
	commit_expect 0 "a clean commit"
	[ "$(cat .git/team.log)" = team ] || fail "the shared commit-msg hook no longer runs"
	git init -q ../other && cd ../other
	echo 'console.log(1);' >a.js && git add a.js
	commit_expect 0 "another repository using the shared folder"
	cd - >/dev/null
	INSTALL --uninstall . >/dev/null 2>&1 || fail "uninstall failed"
	git config --local --get core.hooksPath && fail "the local core.hooksPath was left"
	[ -e .git/hooks/commit-msg ] && fail "the link to the shared hook was left"
	INSTALL --shared-hooks . >/dev/null 2>&1 || fail "install --shared-hooks failed"
	[ -L shared-hooks/pre-commit ] || fail "--shared-hooks did not install into the shared folder"
}

t_core_hooks_path_is_honoured() {
	setup
	git config core.hooksPath .githooks
	INSTALL . >/dev/null 2>&1 || fail "install failed"
	[ -L .githooks/pre-commit ] || fail "not installed in core.hooksPath"
	[ -e .git/hooks/pre-commit ] && fail "installed in .git/hooks despite core.hooksPath"
	echo 'console.log(1);' >>alpine-backend/api.js
	git add alpine-backend
	commit_expect 1 "hooksPath commit"
	INSTALL --uninstall . >/dev/null 2>&1
	[ -e .githooks/pre-commit ] && fail "uninstall left the hook"
	return 0
}

t_install_from_a_worktree_uses_the_common_hooks() {
	setup
	git worktree add -q ../wt -b feature
	(cd ../wt && INSTALL . >/dev/null 2>&1) || fail "install failed"
	[ -L .git/hooks/pre-commit ] || fail "not installed in the common hooks dir"
	cd ../wt
	echo 'console.log(1);' >>alpine-backend/api.js
	git add alpine-backend
	commit_expect 1 "worktree commit after install"
}

t_default_rules_are_used_when_the_repo_has_none() {
	setup
	git rm -q --cached rules.ini && rm rules.ini
	git -c core.hooksPath=/dev/null commit -qm "no rules in tree"
	INSTALL . >/dev/null 2>&1 || fail "install failed"
	[ "$(git config gitgate.rules)" = "$PREFIX/share/gitgate/rules.ini" ] || fail "gitgate.rules not set"
	echo 'x = 1 # FIXME' >>argo/app.py
	git add argo
	commit_expect 1 "default rules apply"
	INSTALL --uninstall . >/dev/null 2>&1
	git config gitgate.rules >/dev/null && fail "uninstall left gitgate.rules"
	return 0
}

t_client_install_adds_pre_push() {
	setup
	git init -q --bare ../remote.git
	git remote add origin ../remote.git
	INSTALL . >/dev/null 2>&1 || fail "install failed"
	[ -L .git/hooks/pre-push ] || fail "pre-push is not installed"
	echo 'x = 1 # TODO' >>argo/app.py
	git -c core.hooksPath=/dev/null commit -qam "skipped pre-commit"
	OUT=$(mktemp)
	git push origin main >"$OUT" 2>&1 && fail "pre-push let a bad commit through"
	contains "$OUT" "argo/app.py:2:9: debug-code"
}

t_an_existing_pre_push_hook_gets_the_same_input() {
	setup
	git init -q --bare ../remote.git
	git remote add origin ../remote.git
	printf '#!/bin/sh\necho "args: $*" >"$(git rev-parse --git-dir)/team-pre-push.log"\ncat >>"$(git rev-parse --git-dir)/team-pre-push.log"\n' >.git/hooks/pre-push
	chmod 755 .git/hooks/pre-push
	INSTALL . >/dev/null 2>&1 || fail "install failed"
	echo 'x = 1 # FIXME' >>argo/app.py
	git -c core.hooksPath=/dev/null commit -qam "skipped pre-commit"
	OUT=$(mktemp)
	git push origin main >"$OUT" 2>&1 && fail "a bad push got through"
	contains "$OUT" "argo/app.py:2:9: debug-code"
	contains .git/team-pre-push.log "args: origin ../remote.git"
	contains .git/team-pre-push.log "refs/heads/main $(git rev-parse HEAD) refs/heads/main 0000000000000000000000000000000000000000"
}

t_server_install_chains_hooks_sets_a_baseline_and_uninstalls_cleanly() {
	setup
	git init -q --bare ../server.git
	git remote add origin ../server.git
	echo 'console.log("old");' >>alpine-backend/api.js
	git commit -qam "history from before gitgate"
	git push -q origin main
	printf '#!/bin/sh\necho "team pre-receive ran" >&2\ncat >/dev/null\n' >../server.git/hooks/pre-receive
	chmod 755 ../server.git/hooks/pre-receive
	cp ../server.git/hooks/pre-receive ../original-hook
	cp ../server.git/config ../original-config
	INSTALL --server ../server.git >install.log 2>&1 || { fail "server install failed"; cat install.log; }
	INSTALL --server ../server.git >again.log 2>&1 || fail "second server install failed"
	contains again.log "already installed"
	contains again.log "kept as it is"
	[ -f ../server.git/gitgate/rules.ini ] || fail "no server rules"
	[ "$(git -C ../server.git config receive.advertisePushOptions)" = true ] || fail "push options not advertised"
	[ "$(git -C ../server.git config gitgate.baseline)" = "$(git rev-parse HEAD)" ] || fail "baseline is not the tip"
	git checkout -q -b topic HEAD~1
	echo 'export const ok = 1;' >>alpine-frontend/app.tsx && git commit -qam "clean topic"
	OUT=$(mktemp)
	git push origin topic >"$OUT" 2>&1 || { fail "a clean push was refused"; cat "$OUT"; }
	contains "$OUT" "team pre-receive ran"
	echo 'debugger;' >>alpine-frontend/app.tsx && git commit -qam "debugger"
	git push origin topic >"$OUT" 2>&1 && fail "a bad push was accepted"
	contains "$OUT" "alpine-frontend/app.tsx:3:1: debug-code"
	INSTALL --server --uninstall ../server.git >/dev/null 2>&1 || fail "uninstall failed"
	cmp -s ../server.git/hooks/pre-receive ../original-hook || fail "the team hook was not restored"
	[ -e ../server.git/hooks/post-receive ] && fail "post-receive left behind"
	diff ../original-config ../server.git/config || fail "the server config was not restored"
	return 0
}

t_server_install_refuses_a_work_tree() {
	setup
	INSTALL --server . >out.log 2>&1 && fail "installed server hooks into a non-bare repository"
	contains out.log "is not a bare repository"
}

run_tests
