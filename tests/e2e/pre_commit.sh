#!/usr/bin/env bash
# End-to-end: the pre-commit hook under real `git commit`.
. "$(dirname "$0")/lib.sh"

t_clean_change_is_accepted() {
	new_repo
	echo 'print("more")' >>argo/app.py
	git add -A
	commit_expect 0 clean
	if [ -s "$OUT" ]; then fail "a clean commit printed: $(cat "$OUT")"; fi
}

t_argo_and_alpine_in_one_commit_is_refused() {
	new_repo
	echo 'x = 2' >>argo/app.py
	echo 'export const b = 2;' >>alpine-backend/api.js
	git add -A
	commit_expect 1 mixed
	contains "$OUT" "isolation: one commit changes"
	contains "$OUT" "'argo'"
	contains "$OUT" "'alpine-analytics'"
	[ "$(git rev-list --count HEAD)" = 1 ] || fail "a commit was made"
}

t_coupled_alpine_projects_commit_together() {
	new_repo
	echo 'export const b = 2;' >>alpine-backend/api.js
	echo 'export const c = 2;' >>alpine-frontend/app.tsx
	echo 'notes' >>README.md
	git add -A
	commit_expect 0 coupled
}

t_debug_code_in_added_lines_is_refused() {
	new_repo
	printf 'const a = 1;\n  console.log("debug", a);\n' >>alpine-frontend/app.tsx
	git add -A
	commit_expect 1 debug
	contains "$OUT" "error: alpine-frontend/app.tsx:3:3: debug-code: debug code in an added line"
	contains "$OUT" "| console.log("
	printf 'def f():\n    breakpoint()\n' >argo/dbg.py
	git checkout -q -- alpine-frontend/app.tsx
	git add -A
	commit_expect 1 python-debug
	contains "$OUT" "argo/dbg.py:2:5: debug-code"
	git rm -q --cached argo/dbg.py && rm argo/dbg.py
	echo 'if (x) { debugger; }' >>alpine-backend/api.js
	git add -A
	commit_expect 1 debugger
	contains "$OUT" "alpine-backend/api.js:2:10: debug-code"
}

t_only_added_lines_count_and_docs_are_not_scanned() {
	new_repo
	echo '// TODO old' >>alpine-backend/api.js
	git add -A
	git -c core.hooksPath=/dev/null commit -qm "an old TODO (before gitgate)"
	echo 'export const more = 3;' >>alpine-backend/api.js
	echo 'TODO: write the docs' >>README.md
	git add -A
	commit_expect 0 "untouched old TODO, TODO in docs"
}

t_allow_marker_exempts_a_line() {
	new_repo
	echo 'console.log("startup banner"); // gitgate:allow' >>alpine-backend/api.js
	git add -A
	commit_expect 0 allowed
}

t_never_committed_files_are_refused() {
	new_repo
	echo 'SECRET=1' >alpine-backend/.env.local
	mkdir -p alpine-frontend/node_modules/x && echo 'x' >alpine-frontend/node_modules/x/i.js
	echo '{}' >argo/config.json
	git add -A
	commit_expect 1 forbidden
	contains "$OUT" "error: alpine-backend/.env.local: forbidden-path"
	contains "$OUT" "alpine-frontend/node_modules/x/i.js: forbidden-path"
	contains "$OUT" "argo/config.json: forbidden-path"
}

t_shared_package_without_version_bump_warns() {
	new_repo
	echo 'export const Link = 2;' >>packages/ui/button.js
	git add -A
	commit_expect 0 "package change, no bump"
	contains "$OUT" "warning: packages/ui/package.json: version-bump: package 'ui' changed"
	echo 'export const Tab = 3;' >>packages/ui/button.js
	echo '{"name": "ui", "version": "1.1.0"}' >packages/ui/package.json
	git add -A
	commit_expect 0 "package change with bump"
	lacks "$OUT" "version-bump"
	sed -i 's/^version_bump = warn/version_bump = error/' rules.ini
	echo 'export const Nav = 4;' >>packages/ui/button.js
	git add packages
	commit_expect 1 "no bump, severity error"
	contains "$OUT" "error: packages/ui/package.json: version-bump"
	echo '{"name": "ui", "version": ' >packages/ui/package.json
	git add packages
	commit_expect 1 "malformed package.json"
	contains "$OUT" "package.json is not valid JSON"
}

t_commit_all_reads_the_temporary_index() {
	new_repo
	echo 'console.log("x");' >>alpine-backend/api.js
	commit_expect 1 "commit -a" -a
	contains "$OUT" "alpine-backend/api.js:2:1: debug-code"
}

t_commit_path_checks_only_that_path() {
	new_repo
	echo 'console.log("staged but not committed");' >>alpine-backend/api.js
	git add alpine-backend/api.js
	echo 'export const fine = 1;' >>alpine-frontend/app.tsx
	commit_expect 0 "commit PATH" -- alpine-frontend/app.tsx
	git diff --cached --name-only | grep -q alpine-backend/api.js || fail "the staged file was lost"
	echo 'x = 1 # TODO' >>argo/app.py
	commit_expect 1 "commit PATH with debug code" -- argo/app.py
	contains "$OUT" "argo/app.py:2:"
}

t_first_commit_has_no_head() {
	git init -q repo && cd repo
	cp "$GITGATE_SOURCE/rules.ini" .
	ln -s "$GITGATE_BIN/pre-commit" .git/hooks/pre-commit
	mkdir argo && echo 'breakpoint()' >argo/a.py
	git add -A
	commit_expect 1 "bad first commit"
	contains "$OUT" "argo/a.py:1:1: debug-code"
	echo 'print(1)' >argo/a.py
	git add -A
	commit_expect 0 "good first commit"
}

t_worktree_commits_are_checked() {
	new_repo
	git worktree add -q ../wt -b feature
	cd ../wt
	echo 'console.log(1);' >>alpine-backend/api.js
	git add -A
	commit_expect 1 "worktree commit"
	contains "$OUT" "alpine-backend/api.js:2:1"
	git reset -q --hard
	echo 'export const ok = 1;' >>alpine-backend/api.js
	git add -A
	commit_expect 0 "clean worktree commit"
}

t_renames_count_for_both_projects_and_moves_add_no_lines() {
	new_repo
	printf '# TODO: legacy\nx = 1\n' >argo/legacy.py
	git add -A
	git -c core.hooksPath=/dev/null commit -qm "legacy file with a TODO"
	git mv argo/legacy.py argo/moved.py
	commit_expect 0 "move unchanged within argo"
	lacks "$OUT" "debug-code"
	git mv argo/moved.py alpine-backend/moved.py
	commit_expect 1 "move across projects"
	contains "$OUT" "isolation"
	lacks "$OUT" "debug-code"
}

t_odd_file_names_are_handled_and_never_executed() {
	new_repo
	local names=('argo/with space.py' 'argo/quote"d.py' "argo/single'q.py" 'argo/$(touch pwned).py'
		'argo/-leading.py' $'argo/new\nline.py' $'argo/caf\xe9-latin1.py' 'argo/back\slash.py'
		$'argo/tab\there.py' $'argo/x\u202egpj.py')
	for n in "${names[@]}"; do printf 'x = 1\nbreakpoint()\n' >"$n"; done
	git add -A
	commit_expect 1 "odd names"
	if [ -e pwned ] || [ -e argo/pwned ]; then fail "a file name was executed"; fi
	contains "$OUT" "argo/with space.py:2:1: debug-code"
	contains "$OUT" 'argo/quote"d.py:2:1'
	contains "$OUT" 'argo/$(touch pwned).py:2:1'
	contains "$OUT" 'argo/-leading.py:2:1'
	contains "$OUT" 'argo/new\nline.py:2:1'
	contains "$OUT" 'argo/caf\xe9-latin1.py:2:1'
	contains "$OUT" 'argo/back\\slash.py:2:1'
	contains "$OUT" 'argo/tab\there.py:2:1'
	contains "$OUT" 'argo/x\u{202e}gpj.py:2:1'
	[ "$(grep -c 'debug-code' "$OUT")" = 10 ] || fail "expected 10 findings"
}

t_binary_files_symlinks_have_no_lines() {
	new_repo
	printf 'console.log(\0\1\2 TODO\n' >alpine-backend/blob.js
	ln -s 'TODO console.log(' alpine-backend/link.js
	git add -A
	commit_expect 0 "binary and symlink"
}

t_attributes_and_config_cannot_make_text_look_binary() {
	new_repo
	local how
	for how in '*.js -diff' '*.js binary' '*.js diff=opaque'; do
		printf '%s\n' "$how" >.gitattributes
		git config diff.opaque.binary true
		git add .gitattributes && git -c core.hooksPath=/dev/null commit -qm "attributes: $how"
		echo 'console.log("hidden");' >>alpine-backend/api.js
		git add alpine-backend
		commit_expect 1 "console.log under '$how'"
		contains "$OUT" "alpine-backend/api.js:2:1: debug-code"
		git reset -q --hard
	done
	git rm -q .gitattributes && git -c core.hooksPath=/dev/null commit -qm "no attributes"
	echo 'console.log("big");' >>alpine-backend/api.js
	git add alpine-backend
	expect 1 "console.log with core.bigFileThreshold=1" git -c core.bigFileThreshold=1 commit -qm big
	contains "$OUT" "alpine-backend/api.js:2:1: debug-code"
	git reset -q --hard
	# A line the file already had is not new when git calls the file binary.
	printf 'export const api = 1;\nexport const b = 2;\n' >alpine-backend/api.js
	git add alpine-backend
	expect 0 "a clean change to a file git calls binary" git -c core.bigFileThreshold=1 commit -qm clean
	printf 'a\n\nb\n\nc\n' >alpine-backend/gaps.js
	git add -A && git -c core.hooksPath=/dev/null commit -qm gaps
	printf 'a1\n\nb\n\nc1 // TODO\n' >alpine-backend/gaps.js
	git add -A
	expect 1 "hunks joined over an empty line" git -c diff.interHunkContext=5 \
		-c diff.suppressBlankEmpty=true commit -qm joined
	contains "$OUT" "alpine-backend/gaps.js:5:7: debug-code"
	lacks "$OUT" "could not be checked"
}

t_utf16_text_is_scanned() {
	new_repo
	printf '\xff\xfeh\0i\0\n\0' >alpine-backend/wide.js
	git add -A && git -c core.hooksPath=/dev/null commit -qm "utf-16 file"
	printf '\xff\xfeh\0i\0\n\0d\0e\0b\0u\0g\0g\0e\0r\0;\0\n\0' >alpine-backend/wide.js
	git add -A
	commit_expect 1 "debugger in a UTF-16 file"
	contains "$OUT" "alpine-backend/wide.js:2:1: debug-code"
	printf '\xfe\xff\0T\0O\0D\0O\0\n' >alpine-backend/be.js
	git checkout -q alpine-backend/wide.js && git add -A
	commit_expect 1 "TODO in a new UTF-16BE file"
	contains "$OUT" "alpine-backend/be.js:1:1: debug-code"
}

t_submodules_count_for_isolation_whatever_the_config() {
	new_repo
	git init -q ../lib && git -C ../lib commit -q --allow-empty -m lib
	git -c protocol.file.allow=always submodule add -q ../lib argo/lib >/dev/null 2>&1 ||
		fail "cannot add a submodule"
	echo 'export const y = 2;' >>alpine-backend/api.js
	git add -A
	expect 1 "a submodule in argo/ with alpine-backend/" git -c diff.ignoreSubmodules=all commit -qm sub
	contains "$OUT" "isolation"
	git config -f .gitmodules submodule.argo/lib.ignore all
	git add .gitmodules
	commit_expect 1 "with ignore = all in .gitmodules"
	contains "$OUT" "isolation"
}

t_amending_is_judged_as_the_commit_that_will_exist() {
	new_repo
	echo 'x = 2' >>argo/app.py && git add argo
	commit_expect 0 "argo change"
	echo 'export const y = 2;' >>alpine-backend/api.js && git add alpine-backend
	expect 1 "amending an argo commit with alpine" git commit -q --amend --no-edit
	contains "$OUT" "isolation"
	expect 1 "the same through an abbreviation" git commit -q --amen --no-edit
	expect 0 "--no-amend after --amend is a new commit" git commit -q --amend --no-amend -m alone
	git reset -q --hard HEAD^
	[ "$(git log -1 --format=%s)" = "argo change" ] || fail "expected to be back on the argo commit"
	# Through a wrapper, as install.sh chains hooks.
	rm .git/hooks/pre-commit
	printf '#!/bin/sh\nexec "%s" "$@"\n' "$GITGATE_BIN/pre-commit" >.git/hooks/pre-commit
	chmod +x .git/hooks/pre-commit
	echo 'export const z = 3;' >>alpine-backend/api.js && git add alpine-backend
	expect 1 "amending through a wrapper hook" git commit -q --amend --no-edit
	contains "$OUT" "isolation"
	git reset -q --hard
	echo 'x = 3' >>argo/app.py && git add argo
	expect 0 "amending within one unit" git commit -q --amend --no-edit
	"$GITGATE_BIN/gitgate" check --staged --amend >/dev/null 2>&1 || fail "check --amend on a clean amend"
}

t_a_commit_that_outlasts_its_deadline_is_refused() {
	new_repo
	printf '[commit]\ndeadline_seconds = 1\n[scan slow]\nfiles = *.txt\npattern = (a+)+$\n' >>rules.ini
	git add rules.ini && git -c core.hooksPath=/dev/null commit -qm "slow rules"
	python3 -c 'print(("a" * 4000 + "b\n") * 8000, end="")' >slow.txt
	git add slow.txt
	local started=$SECONDS
	commit_expect 1 "a change whose scan outlasts deadline_seconds"
	contains "$OUT" "took longer to check than [commit] deadline_seconds (1s) allows"
	contains "$OUT" "fail closed"
	[ $((SECONDS - started)) -lt 10 ] || fail "the deadline did not stop the scan early"
}

t_crlf_no_final_newline_and_long_lines() {
	new_repo
	printf 'a = 1\r\nb = 2 # FIXME\r\nc = 3 # TODO' >argo/crlf.py
	head -c 300000 /dev/zero | tr '\0' 'x' >argo/long.py
	printf ' # TODO\n' >>argo/long.py
	git add -A
	commit_expect 1 "crlf and long line"
	contains "$OUT" "argo/crlf.py:2:9: debug-code"
	contains "$OUT" "argo/crlf.py:3:9: debug-code"
	contains "$OUT" "argo/long.py:1:300004: debug-code"
}

t_partially_staged_file_checks_only_the_staged_part() {
	new_repo
	echo 'export const staged = 1;' >>alpine-backend/api.js
	git add alpine-backend/api.js
	echo 'console.log("not staged");' >>alpine-backend/api.js
	local before_tree
	before_tree=$(git diff | git hash-object --stdin)
	commit_expect 0 "partial staging"
	[ "$(git diff | git hash-object --stdin)" = "$before_tree" ] || fail "the work tree changed"
	git show HEAD:alpine-backend/api.js | grep -q staged || fail "the staged part was not committed"
	grep -q 'not staged' alpine-backend/api.js || fail "the unstaged part was lost"
	[ -z "$(git stash list)" ] || fail "a stash was left behind"
}

t_gitgate_skip_names_what_it_skips() {
	new_repo
	echo 'console.log(1);' >>alpine-backend/api.js
	git add -A
	GITGATE_SKIP=debug-code commit_expect 0 "skipped"
	contains "$OUT" "GITGATE_SKIP is set: not enforcing debug-code (1 finding skipped)"
}

t_broken_rules_block_with_file_and_line() {
	new_repo
	printf '[scan broken]\nfiles = *\npattern = (oops\n' >>rules.ini
	echo 'x = 1' >>argo/app.py
	git add argo
	commit_expect 1 "broken rules"
	contains "$OUT" "rules.ini:"
	contains "$OUT" "bad pattern '(oops': missing closing parenthesis at offset 5"
}

t_rules_from_git_config_and_missing_rules() {
	new_repo
	mv rules.ini ../team-rules.ini
	echo 'x = 1' >>argo/app.py
	git add argo
	commit_expect 1 "no rules anywhere"
	contains "$OUT" "no rules: there is no"
	git config gitgate.rules ../team-rules.ini
	commit_expect 0 "rules from git config"
}

t_rules_that_are_a_directory_empty_or_checkless_block() {
	new_repo
	echo 'console.log("x");' >>alpine-backend/api.js
	git add alpine-backend
	mkdir ../rules-dir
	git config gitgate.rules ../rules-dir
	commit_expect 1 "rules path is a directory"
	contains "$OUT" "rules-dir: cannot read rules: it is a directory"
	git config gitgate.rules ""
	commit_expect 1 "rules path is empty"
	contains "$OUT" "gitgate.rules is set but empty"
	git config --unset gitgate.rules
	printf '; cut short\n' >rules.ini
	commit_expect 1 "rules with no check"
	contains "$OUT" "rules.ini: defines no check"
	"$GITGATE_BIN/gitgate" check --staged >/dev/null 2>&1
	[ $? = 2 ] || fail "gitgate check should exit 2 on rules that define no check"
}

t_each_binary_loads_only_the_libraries_it_needs() {
	# Loading libgit2 and its dependencies costs more than git's whole diff of
	# a small commit; the commit-time path reads git's own output instead.
	# Hooks never deploy, so none of them loads libcurl.
	local binary lib
	for binary in pre-commit pre-push pre-receive post-receive; do
		for lib in libcurl $( [ $binary = pre-commit ] && echo libgit2); do
			ldd "$GITGATE_BIN/$binary" | grep -q "$lib" && fail "$binary links $lib"
		done
	done
	ldd "$GITGATE_BIN/pre-receive" | grep -q libgit2 || fail "the check itself is broken"
}

t_internal_fault_fails_closed() {
	new_repo
	echo 'x = 1' >>argo/app.py
	git add argo
	OUT=$(mktemp)
	PATH=/nonexistent "$GITGATE_BIN/pre-commit" >"$OUT" 2>&1
	[ $? = 3 ] || fail "expected exit 3 without git"
	contains "$OUT" "cannot run git"
	contains "$OUT" "fail closed"
}

t_check_reports_json_and_sarif() {
	new_repo
	echo 'console.log(1);' >>alpine-backend/api.js
	echo 'x = 1' >>argo/app.py
	git add -A
	"$GITGATE_BIN/gitgate" check --staged --format json >out.json
	[ $? = 1 ] || fail "expected exit 1"
	python3 - out.json <<'PY' || fail "json does not follow the contract"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["version"] == 1 and doc["passed"] is False
rules = sorted(f["rule"] for f in doc["findings"])
assert rules == ["debug-code", "isolation"], rules
f = [f for f in doc["findings"] if f["rule"] == "debug-code"][0]
assert (f["path"], f["line"], f["column"], f["match"]) == ("alpine-backend/api.js", 2, 1, "console.log("), f
assert f["commit"] is None and f["severity"] == "error"
assert doc["summary"] == {"errors": 2, "warnings": 0, "commits": 0, "files": 2}, doc["summary"]
PY
	"$GITGATE_BIN/gitgate" check --staged --format sarif >out.sarif
	python3 - out.sarif <<'PY' || fail "sarif is not valid"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["version"] == "2.1.0"
run = doc["runs"][0]
assert run["tool"]["driver"]["name"] == "gitgate"
ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
assert all(r["ruleId"] in ids for r in run["results"])
loc = [r for r in run["results"] if r["ruleId"] == "debug-code"][0]["locations"][0]["physicalLocation"]
assert loc["artifactLocation"]["uri"] == "alpine-backend/api.js" and loc["region"]["startLine"] == 2
PY
	"$GITGATE_BIN/gitgate" check --format yaml >/dev/null 2>&1
	[ $? = 2 ] || fail "an unknown format must exit 2"
}

t_split_and_sparse_indexes_work() {
	new_repo
	git update-index --split-index
	echo 'console.log("split");' >>alpine-backend/api.js
	git add -A
	commit_expect 1 "split index"
	contains "$OUT" "alpine-backend/api.js:2:1: debug-code"
	git reset -q --hard
	git update-index --no-split-index
	git sparse-checkout init --cone --sparse-index 2>/dev/null || git sparse-checkout init --cone
	git sparse-checkout set argo
	[ -e alpine-backend/api.js ] && fail "sparse checkout did not apply"
	echo 'x = 2 # FIXME' >>argo/app.py
	git add argo
	commit_expect 1 "sparse index"
	contains "$OUT" "argo/app.py:2:9: debug-code"
	echo 'x = 2' >argo/app.py
	git add argo
	commit_expect 0 "clean change in a sparse checkout"
}

t_concluding_a_merge_scans_only_what_the_resolution_wrote() {
	new_repo
	git checkout -q -b feature
	echo 'x = 1  # TODO from before gitgate' >>argo/app.py
	echo 'export const api = "feature";' >alpine-backend/api.js
	git -c core.hooksPath=/dev/null commit -qam "feature: argo and alpine (before gitgate)"
	git checkout -q main
	echo 'export const api = "main";' >alpine-backend/api.js
	git commit -qam "main: alpine"
	git merge -q feature >/dev/null 2>&1 && fail "expected a conflict"
	echo 'export const api = "both";' >alpine-backend/api.js
	git add -A
	commit_expect 0 "merge with a clean resolution"
	lacks "$OUT" "debug-code"
	lacks "$OUT" "isolation"
	git checkout -q -b other HEAD~1
	echo 'export const api = "other";' >alpine-backend/api.js
	git commit -qam "other: alpine"
	git checkout -q main
	git merge -q other >/dev/null 2>&1 && fail "expected a conflict"
	echo 'export const api = "all"; // TODO pick one' >alpine-backend/api.js
	git add -A
	commit_expect 1 "merge whose resolution adds a TODO"
	contains "$OUT" "alpine-backend/api.js:1:30: debug-code"
	[ "$(grep -c debug-code "$OUT")" = 1 ] || fail "only the resolution's line should be flagged"
}

t_a_merge_is_held_to_isolation_over_what_it_writes() {
	new_repo
	git checkout -q -b feature
	echo 'x = 2' >>argo/app.py && git add -A && git commit -qm "feature: argo"
	git checkout -q main
	echo 'export const y = 2;' >>alpine-backend/api.js && git add -A && git commit -qm "main: alpine"
	expect 0 "a clean merge of two units' work" git merge -q --no-edit feature
	# An evil merge: it brings argo's change and slips in an alpine one.
	git checkout -q -b evil-base HEAD~1
	echo 'x = 3' >>argo/app.py && git add -A && git commit -qm "argo again"
	git checkout -q main
	git merge -q --no-commit evil-base >/dev/null 2>&1
	echo 'export const slipped = 1;' >>alpine-frontend/app.tsx
	git add -A
	commit_expect 1 "a merge that writes alpine while bringing argo"
	contains "$OUT" "isolation"
	git merge --abort
	# A planted MERGE_HEAD naming HEAD: git writes a one-parent commit.
	echo 'x = 4' >>argo/app.py
	echo 'export const z = 4;' >>alpine-backend/api.js
	git add -A
	git rev-parse HEAD >.git/MERGE_HEAD
	commit_expect 1 "argo and alpine under a planted MERGE_HEAD"
	contains "$OUT" "isolation"
}

run_tests
