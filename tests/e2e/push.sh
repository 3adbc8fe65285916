#!/usr/bin/env bash
# End-to-end: pre-receive on a real bare repository, pre-push, and
# `gitgate check` over ranges, all driven by real `git push`.
. "$(dirname "$0")/lib.sh"

# A bare server with gitgate's server hooks and its own rules, and a clone
# of it ("work") with the team's monorepo pushed to main.
new_server() {
	git init -q --bare server.git
	mkdir server.git/gitgate
	cp "$GITGATE_SOURCE/rules.ini" server.git/gitgate/rules.ini
	ln -s "$GITGATE_BIN/pre-receive" server.git/hooks/pre-receive
	ln -s "$GITGATE_BIN/post-receive" server.git/hooks/post-receive
	git -C server.git config receive.advertisePushOptions true
	new_repo work
	rm .git/hooks/pre-commit
	git remote add origin ../server.git
	git push -q origin main || fail "the initial push was refused"
}

server_ref() { git -C ../server.git rev-parse -q --verify "$1" 2>/dev/null; }

t_clean_push_is_accepted_and_recorded() {
	new_server
	echo 'x = 2' >>argo/app.py
	git commit -qam "argo: x"
	push_expect 0 origin main
	[ "$(server_ref main)" = "$(git rev-parse HEAD)" ] || fail "main did not move"
	grep -q "\"new\":\"$(git rev-parse HEAD)\"" ../server.git/gitgate/pushes.jsonl || fail "push not recorded"
}

t_each_rule_rejects_and_nothing_moves() {
	new_server
	local before
	before=$(server_ref main)
	echo 'x = 2' >>argo/app.py
	echo 'export const y = 2;' >>alpine-backend/api.js
	git commit -qam "mixed"
	push_expect 1 origin main
	contains "$OUT" "remote: error: commit $(git rev-parse --short=12 HEAD) (mixed): 1 error"
	contains "$OUT" "isolation"
	contains "$OUT" "pre-receive hook declined"
	[ "$(server_ref main)" = "$before" ] || fail "main moved"
	git reset -q --hard HEAD^
	echo 'console.log("x");' >>alpine-backend/api.js
	git commit -qam "debug"
	push_expect 1 origin HEAD:refs/heads/feature
	contains "$OUT" "alpine-backend/api.js:2:1: debug-code"
	server_ref refs/heads/feature && fail "the rejected branch was created"
	git reset -q --hard HEAD^
	echo 'K=1' >argo/.env.production
	git add -A && git commit -qm "env"
	push_expect 1 origin main
	contains "$OUT" "argo/.env.production: forbidden-path"
	return 0
}

t_version_bump_warns_or_rejects_by_server_rules() {
	new_server
	echo 'export const L = 1;' >>packages/ui/button.js
	git commit -qam "ui: no bump"
	push_expect 0 origin main
	contains "$OUT" "remote: warning:   packages/ui/package.json: version-bump"
	sed -i 's/^version_bump = warn/version_bump = error/' ../server.git/gitgate/rules.ini
	echo 'export const M = 1;' >>packages/ui/button.js
	git commit -qam "ui: again no bump"
	push_expect 1 origin main
	echo '{"name": "ui", "version": "1.1.0"}' >packages/ui/package.json
	git commit -qam "ui: bump in a later commit of the same push"
	push_expect 0 origin main
}

t_a_new_branch_on_an_old_bad_commit_is_not_reflagged() {
	new_server
	rm ../server.git/hooks/pre-receive
	echo 'console.log("legacy");' >>alpine-backend/api.js
	git commit -qam "legacy debug code, pushed before gitgate"
	push_expect 0 origin main
	ln -s "$GITGATE_BIN/pre-receive" ../server.git/hooks/pre-receive
	git checkout -q -b topic
	echo 'export const z = 1;' >>alpine-frontend/app.tsx
	git commit -qam "clean work on top"
	push_expect 0 origin topic
	lacks "$OUT" "legacy"
}

t_deletes_tags_and_non_commit_refs() {
	new_server
	git push -q origin main:refs/heads/old-topic
	push_expect 0 origin :refs/heads/old-topic
	server_ref refs/heads/old-topic && fail "the branch was not deleted"
	git tag -a v1 -m "release 1"
	push_expect 0 origin v1
	echo 'x = 1 # FIXME' >>argo/app.py
	git commit -qam "bad, tagged"
	git tag -a v2 -m "release 2"
	git reset -q --hard HEAD^
	push_expect 1 origin v2
	contains "$OUT" "argo/app.py:2:9: debug-code"
	local blob
	blob=$(echo 'TODO in a blob' | git hash-object -w --stdin)
	push_expect 1 origin "$blob:refs/tags/a-blob"
	contains "$OUT" "refs/tags/a-blob: non-commit-ref"
	git tag -a -m "a tree" tree-tag "$(git rev-parse 'HEAD^{tree}')"
	push_expect 1 origin tree-tag
	contains "$OUT" "refs/tags/tree-tag: non-commit-ref"
	printf '[push]\nnon_commit_refs = off\n' >>../server.git/gitgate/rules.ini
	push_expect 0 origin "$blob:refs/tags/a-blob"
	push_expect 0 origin "$(git rev-parse 'HEAD^{tree}'):refs/tags/a-tree"
	# Notes are commits: their content is checked like any commit's.
	git notes add -m 'note' HEAD
	push_expect 0 origin refs/notes/commits
}

t_merges_of_accepted_branches_pass_and_resolutions_are_scanned() {
	new_server
	git checkout -q -b argo-work
	echo 'a = 1' >>argo/app.py && git commit -qam "argo work"
	git checkout -q -b alpine-work main
	echo 'export const b = 1;' >>alpine-backend/api.js && git commit -qam "alpine work"
	push_expect 0 origin argo-work alpine-work
	git checkout -q main
	git merge -q --no-edit argo-work
	git merge -q --no-edit alpine-work
	push_expect 0 origin main
	git checkout -q -b left main
	echo 'export const v = "left";' >>alpine-frontend/app.tsx && git commit -qam left
	git checkout -q -b right main
	echo 'export const v = "right";' >>alpine-frontend/app.tsx && git commit -qam right
	git merge -q --no-edit left >/dev/null 2>&1
	printf 'export const ui = 1;\nexport const v = "both"; // TODO pick one\n' >alpine-frontend/app.tsx
	git add -A && git commit -qm "merge left into right"
	push_expect 1 origin right
	contains "$OUT" "(merge left into right)"
	contains "$OUT" "alpine-frontend/app.tsx:2:"
	[ "$(grep -c 'debug-code' "$OUT")" = 1 ] || fail "only the resolution should be flagged"
}

t_an_evil_merge_is_held_to_isolation() {
	new_server
	git checkout -q -b argo-work
	echo 'a = 1' >>argo/app.py && git commit -qam "argo work"
	git checkout -q main
	echo 'export const b = 1;' >>alpine-backend/api.js && git commit -qam "alpine work"
	push_expect 0 origin main argo-work
	local tree evil
	# A second parent that changes nothing, and a tree that touches both units.
	echo 'a = 2' >>argo/app.py
	echo 'export const c = 2;' >>alpine-backend/api.js
	git add -A
	tree=$(git write-tree)
	evil=$(git commit-tree "$tree" -p HEAD -p HEAD~1 -m "evil merge")
	push_expect 1 origin "$evil:refs/heads/main"
	contains "$OUT" "(evil merge)"
	contains "$OUT" "isolation"
	# A real merge that brings two units' separate commits passes.
	git reset -q --hard
	git checkout -q -b two argo-work
	echo 'export const d = 3;' >>alpine-frontend/app.tsx && git commit -qam "alpine on two"
	git checkout -q main
	echo 'notes' >>README.md && git commit -qam "readme"
	git merge -q --no-ff --no-edit two
	push_expect 0 origin main
	# So does a resolution that stays in one unit.
	git checkout -q -b left main
	echo 'export const v = "left";' >>alpine-frontend/app.tsx && git commit -qam left
	git checkout -q -b right main
	echo 'export const v = "right";' >>alpine-frontend/app.tsx && git commit -qam right
	git merge -q --no-edit left >/dev/null 2>&1
	printf 'export const ui = 1;\nexport const v = "both";\n' >alpine-frontend/app.tsx
	git add -A && git commit -qm "resolved in alpine"
	push_expect 0 origin right
}

t_force_push_and_delete_of_a_protected_branch_are_refused() {
	new_server
	echo 'x = 2' >>argo/app.py && git commit -qam one && git push -q origin main
	git reset -q --hard HEAD^
	echo 'x = 3' >>argo/app.py && git commit -qam rewritten
	push_expect 1 --force origin main
	contains "$OUT" "refs/heads/main: protected-branch: a force push"
	lacks "$OUT" "gitgate:allow"
	push_expect 1 origin :main
	contains "$OUT" "deleting a protected branch"
	lacks "$OUT" "gitgate:allow"
	push_expect 0 --force origin main:refs/heads/scratch
	git reset -q --hard HEAD^ && echo 'y = 1' >>argo/app.py && git commit -qam other
	push_expect 0 --force origin HEAD:refs/heads/scratch
}

t_a_pushed_rules_file_changes_nothing() {
	new_server
	printf '[isolation]\nseverity = off\n' >rules.ini
	sed -i 's/^severity = error/severity = off/' rules.ini
	echo 'x = 2' >>argo/app.py
	echo 'console.log(1);' >>alpine-backend/api.js
	git add -A && git commit -qm "relax the rules and break them"
	push_expect 1 origin main
	contains "$OUT" "isolation"
	contains "$OUT" "debug-code"
}

t_shell_metacharacters_in_names_are_never_executed() {
	new_server
	local branch='feat/$(touch${IFS}pwned);`id`|x'
	git checkout -q -b "$branch"
	printf 'breakpoint()\n' >'argo/$(touch pwned2);`id`.py'
	git add -A && git commit -qm "odd names"
	push_expect 1 origin "$branch"
	if [ -e pwned ] || [ -e ../pwned ] || [ -e ../server.git/pwned ] || [ -e ../server.git/pwned2 ]; then
		fail "a name was executed"
	fi
	contains "$OUT" 'argo/$(touch pwned2);`id`.py:1:1: debug-code'
}

t_bypass_push_option_is_honoured_only_for_listed_pushers() {
	new_server
	printf '[push]\nidentity = env:GITGATE_USER\nbypass_users = release-bot\n' >>../server.git/gitgate/rules.ini
	echo 'console.log("needed for the hotfix");' >>alpine-backend/api.js
	git commit -qam "hotfix"
	GITGATE_USER=mallory push_expect 1 -o "gitgate.bypass=debug-code:hotfix" origin main
	contains "$OUT" "'mallory' (env GITGATE_USER) may not bypass rules"
	GITGATE_USER=mallory push_expect 1 -o $'gitgate.bypass=\e[2Jclear' \
		-o $'gitgate.bypass=\e[31mred:x' origin main
	contains "$OUT" 'ignoring '"'"'gitgate.bypass=\e[2Jclear'"'"
	contains "$OUT" 'the \e[31mred rule still applies'
	grep -q $'\e' "$OUT" && fail "an escape sequence from a push option reached the terminal"
	[ -e ../server.git/gitgate/audit.jsonl ] && fail "a refused bypass was logged"
	local before
	before=$(server_ref main)
	GITGATE_USER=release-bot push_expect 0 -o "gitgate.bypass=debug-code:incident 42" origin main
	contains "$OUT" "release-bot bypasses the debug-code rule: incident 42"
	python3 - ../server.git/gitgate/audit.jsonl "$(git rev-parse HEAD)" "$before" <<'PY' || fail "audit entry is wrong"
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
assert len(entries) == 1, entries
e = entries[0]
assert (e["user"], e["rule"], e["reason"]) == ("release-bot", "debug-code", "incident 42"), e
assert sys.argv[2] in e["commits"], e
assert e["refs"][0]["ref"] == "refs/heads/main"
assert (e["refs"][0]["old"], e["refs"][0]["new"]) == (sys.argv[3], sys.argv[2]), e["refs"]
PY
	echo 'console.log(2);' >>alpine-backend/api.js && git commit -qam again
	GITGATE_SKIP=debug-code push_expect 1 origin main
}

t_bypass_and_ref_bytes_that_are_not_utf8_are_recorded_escaped() {
	new_server
	printf '[push]\nidentity = env:GITGATE_USER\nbypass_users = release-bot\n' >>../server.git/gitgate/rules.ini
	echo 'console.log("hotfix");' >>alpine-backend/api.js
	git commit -qam "hotfix"
	GITGATE_USER=release-bot push_expect 0 -o $'gitgate.bypass=debug-code:caf\xe9 \\ \x1b[31m' \
		origin $'HEAD:refs/heads/hotfix-caf\xe9'
	contains "$OUT" 'release-bot bypasses the debug-code rule: caf\xe9 \\ \e[31m (recorded)'
	lacks "$OUT" $'\x1b'
	python3 - ../server.git/gitgate "$(git rev-parse HEAD)" <<'PY' || fail "the records are wrong"
import json, sys
audit = [json.loads(l) for l in open(sys.argv[1] + "/audit.jsonl", encoding="utf-8")]
assert len(audit) == 1, audit
e = audit[0]
assert (e["rule"], e["reason"]) == ("debug-code", "caf\\xe9 \\\\ \\e[31m"), e
ref = e["refs"][0]
assert (ref["ref"], ref["old"], ref["new"]) == ("refs/heads/hotfix-caf\\xe9", "0" * 40, sys.argv[2]), ref
pushes = [json.loads(l) for l in open(sys.argv[1] + "/pushes.jsonl", encoding="utf-8")]
assert pushes[-1]["refs"][0]["ref"] == "refs/heads/hotfix-caf\\xe9", pushes[-1]
PY
}

t_records_that_cannot_be_written_are_reported() {
	new_server
	printf '[push]\nidentity = env:GITGATE_USER\nbypass_users = release-bot\n' >>../server.git/gitgate/rules.ini
	rm ../server.git/gitgate/pushes.jsonl
	mkdir ../server.git/gitgate/audit.jsonl ../server.git/gitgate/pushes.jsonl
	echo 'console.log("hotfix");' >>alpine-backend/api.js
	git commit -qam "hotfix"
	GITGATE_USER=release-bot push_expect 1 -o "gitgate.bypass=debug-code:incident 42" origin main
	contains "$OUT" "audit.jsonl: Is a directory"
	contains "$OUT" "refused (fail closed)"
	git reset -q --hard HEAD^
	echo 'x = 2' >>argo/app.py && git commit -qam clean
	GITGATE_USER=release-bot push_expect 0 origin main
	contains "$OUT" "the push was accepted but not recorded: cannot open"
}

# A pusher sets what they like in their own environment (a local push;
# ssh's AcceptEnv): only what [push] identity names counts.
t_a_name_a_pusher_sets_is_not_believed_unless_the_admin_names_it() {
	new_server
	printf '[push]\nbypass_users = release-bot\n' >>../server.git/gitgate/rules.ini
	echo 'console.log("hotfix");' >>alpine-backend/api.js
	git commit -qam "hotfix"
	local me
	me=$(id -un)
	GITGATE_USER=release-bot REMOTE_USER=release-bot \
		push_expect 1 -o "gitgate.bypass=debug-code:incident 42" origin main
	contains "$OUT" "'$me' (os) may not bypass rules"
	printf '[push]\nidentity = gitolite\n' >>../server.git/gitgate/rules.ini
	GITGATE_USER=release-bot push_expect 1 origin main
	contains "$OUT" "GL_USER is not set"
	contains "$OUT" "refused (fail closed)"
	GL_USER=release-bot push_expect 0 -o "gitgate.bypass=debug-code:incident 42" origin main
	python3 - ../server.git/gitgate <<'PY' || fail "the records do not say who, and from where"
import json, sys
for name in ("audit.jsonl", "pushes.jsonl"):
    e = [json.loads(l) for l in open(sys.argv[1] + "/" + name)][-1]
    assert (e["user"], e["user_source"]) == ("release-bot", "gitolite GL_USER"), (name, e)
PY
}

t_a_deploy_key_is_recorded_as_a_key_and_matches_no_user_list() {
	new_server
	printf '[push]\nidentity = gitlab\nbypass_users = release-bot key:12\n' \
		>>../server.git/gitgate/rules.ini
	echo 'console.log("hotfix");' >>alpine-backend/api.js
	git commit -qam "hotfix"
	GL_USERNAME=release-bot GL_ID=key-12 \
		push_expect 1 -o "gitgate.bypass=debug-code:incident 42" origin main
	contains "$OUT" "'key:12' (gitlab GL_ID) may not bypass rules"
	GL_USERNAME=release-bot GL_ID=user-3 \
		push_expect 0 -o "gitgate.bypass=debug-code:incident 42" origin main
	echo 'x = 3' >>argo/app.py && git commit -qam clean
	GITEA_PUSHER_NAME=owner GITEA_DEPLOY_KEY_ID=7 push_expect 1 origin main
	contains "$OUT" "GL_USERNAME is not set"
	sed -i 's/^identity = gitlab$/identity = auto/' ../server.git/gitgate/rules.ini
	GITEA_PUSHER_NAME=owner GITEA_DEPLOY_KEY_ID=7 push_expect 0 origin main
	GL_USER=alice GITEA_PUSHER_NAME=owner push_expect 1 origin HEAD:refs/heads/other
	contains "$OUT" "both gitolite's and gitea's variables are set"
	python3 - ../server.git/gitgate/pushes.jsonl <<'PY' || fail "the push log is wrong"
import json, sys
e = [json.loads(l) for l in open(sys.argv[1])][-1]
assert (e["user"], e["user_source"]) == ("key:7", "gitea GITEA_DEPLOY_KEY_ID"), e
PY
}

t_rules_warns_when_user_lists_cannot_tell_pushers_apart() {
	new_server
	local me said
	me=$(id -un)
	said=$(mktemp)
	printf '[push]\nbypass_users = release-bot %s\n' "$me" >>../server.git/gitgate/rules.ini
	(cd ../server.git && "$GITGATE_BIN/gitgate" rules) >"$said" 2>&1 || fail "gitgate rules failed"
	contains "$said" "identity: auto"
	contains "$said" "warning: gitgate: [push] bypass_users names $me, the OS user the hooks run as"
	contains "$said" "warning: gitgate: [push] identity is auto"
	sed -i "s/^bypass_users = .*/identity = gitolite\nbypass_users = release-bot/" ../server.git/gitgate/rules.ini
	(cd ../server.git && "$GITGATE_BIN/gitgate" rules) >"$said" 2>&1 || fail "gitgate rules failed"
	contains "$said" "identity: gitolite"
	lacks "$said" "warning"
}

t_pre_push_takes_a_ref_name_longer_than_1100_bytes() {
	new_server
	ln -s "$GITGATE_BIN/pre-push" .git/hooks/pre-push
	local part name
	part=$(printf '%0200d' 0)
	name="long/$part/$part/$part/$part/$part/$part"
	[ ${#name} -gt 1100 ] || fail "the name is only ${#name} bytes"
	git checkout -q -b "$name"
	echo 'x = 2' >>argo/app.py && git commit -qam "on a long branch"
	push_expect 0 origin "$name"
	[ "$(server_ref "refs/heads/$name")" = "$(git rev-parse HEAD)" ] || fail "the branch did not arrive"
	grep -qF "\"ref\":\"refs/heads/$name\"" ../server.git/gitgate/pushes.jsonl || fail "the push was not recorded"
	echo 'console.log(1);' >>alpine-backend/api.js && git commit -qam "debug on a long branch"
	push_expect 1 origin "$name"
	lacks "$OUT" "remote:"
	contains "$OUT" "(debug on a long branch)"
}

t_pre_push_blocks_before_anything_is_sent() {
	new_server
	ln -s "$GITGATE_BIN/pre-push" .git/hooks/pre-push
	echo 'x = 2' >>argo/app.py && git commit -qam clean
	push_expect 0 origin main
	echo 'x = 3 # TODO' >>argo/app.py && git commit -qam dirty
	local before
	before=$(server_ref main)
	push_expect 1 origin main
	lacks "$OUT" "remote:"
	contains "$OUT" "error: commit $(git rev-parse --short=12 HEAD) (dirty)"
	contains "$OUT" "git push --no-verify"
	[ "$(server_ref main)" = "$before" ] || fail "the server moved"
	git checkout -q -b new-branch
	push_expect 1 origin new-branch
	contains "$OUT" "(dirty)"
	lacks "$OUT" "(clean)"
}

t_check_over_ranges_with_json_and_sarif() {
	new_server
	git checkout -q -b feature
	echo 'x = 2' >>argo/app.py && git commit -qam "clean argo"
	echo 'console.log(1);' >>alpine-backend/api.js && git commit -qam "debug alpine"
	"$GITGATE_BIN/gitgate" check origin/main..HEAD --format json >range.json
	[ $? = 1 ] || fail "expected exit 1 for a bad range"
	python3 - range.json "$(git rev-parse HEAD)" <<'PY' || fail "range JSON is wrong"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["passed"] is False
assert doc["summary"]["commits"] == 2, doc["summary"]
f = doc["findings"][0]
assert (f["rule"], f["commit"], f["path"], f["line"]) == ("debug-code", sys.argv[2], "alpine-backend/api.js", 2), f
PY
	"$GITGATE_BIN/gitgate" check HEAD~1 --format json >one.json
	[ $? = 0 ] || fail "the clean commit alone should pass"
	python3 -c 'import json,sys; d=json.load(open("one.json")); assert d["summary"]["commits"] == 1, d' || fail "single revision is not one commit"
	"$GITGATE_BIN/gitgate" check main...feature --format sarif >range.sarif
	python3 - range.sarif "$(git rev-parse HEAD)" <<'PY' || fail "SARIF is wrong"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["version"] == "2.1.0"
r = doc["runs"][0]["results"][0]
assert r["ruleId"] == "debug-code" and r["properties"]["commit"] == sys.argv[2], r
PY
	"$GITGATE_BIN/gitgate" check no-such-rev >/dev/null 2>&1
	[ $? = 2 ] || fail "a bad revision is a usage error"
	git config gitgate.baseline HEAD
	"$GITGATE_BIN/gitgate" check origin/main..HEAD >/dev/null || fail "the baseline should accept the range"
}

t_check_n_takes_the_newest_commits_when_times_tie() {
	git init -q tie && cd tie
	cp "$GITGATE_SOURCE/rules.ini" rules.ini
	mkdir argo
	export GIT_COMMITTER_DATE='1700000000 +0000' GIT_AUTHOR_DATE='1700000000 +0000'
	echo 'x = 1' >argo/app.py && git add -A && git -c core.hooksPath=/dev/null commit -qm base
	echo '# TODO old' >>argo/app.py && git -c core.hooksPath=/dev/null commit -qam "old todo"
	local n
	for n in 1 2 3 4 5 6; do
		echo "y$n = 1" >>argo/app.py && git -c core.hooksPath=/dev/null commit -qam "clean $n"
	done
	unset GIT_COMMITTER_DATE GIT_AUTHOR_DATE
	OUT=$(mktemp)
	"$GITGATE_BIN/gitgate" check -n 6 HEAD >"$OUT" 2>&1 || fail "the 6 newest commits are clean"
	"$GITGATE_BIN/gitgate" check -n 7 HEAD >"$OUT" 2>&1 && fail "the 7th newest holds a TODO"
	contains "$OUT" "old todo"
}

t_a_shallow_clone_gets_a_hint_not_a_verdict() {
	new_server
	for n in 1 2 3; do echo "x = $n" >>argo/app.py && git commit -qam "c$n"; done
	git push -q origin main
	cd ..
	git clone -q --depth 2 "file://$PWD/server.git" shallow
	cd shallow
	OUT=$(mktemp)
	# Full stacks, so that lsan.supp can name libgit2's own leak on this path.
	ASAN_OPTIONS=fast_unwind_on_malloc=0 "$GITGATE_BIN/gitgate" check -n 10 HEAD >"$OUT" 2>&1
	[ $? = 3 ] || fail "expected exit 3 (the history is missing)"
	contains "$OUT" "shallow clone"
	contains "$OUT" "git fetch --unshallow"
}

t_a_shallow_clone_pushes_and_checks_its_own_commits() {
	new_server
	for n in 1 2 3; do echo "x = $n" >>argo/app.py && git commit -qam "c$n"; done
	git push -q origin main
	cd ..
	git clone -q --depth 1 "file://$PWD/server.git" shallow
	cd shallow
	ln -s "$GITGATE_BIN/pre-push" .git/hooks/pre-push
	echo 'x = 9' >>argo/app.py && git commit -qam "shallow work"
	OUT=$(mktemp)
	"$GITGATE_BIN/gitgate" check origin/main..HEAD >"$OUT" 2>&1 || fail "check over the new commit failed"
	push_expect 0 origin main
	echo 'x = 10 # TODO' >>argo/app.py && git commit -qam "shallow todo"
	push_expect 1 origin main
	contains "$OUT" "(shallow todo)"
	lacks "$OUT" "shallow clone"
}

t_a_push_to_a_url_checks_only_what_the_server_lacks() {
	new_server
	# History the server took before gitgate: a TODO that is accepted there.
	rm ../server.git/hooks/pre-receive
	echo 'y = 1  # TODO from long ago' >>argo/app.py && git commit -qam "old todo"
	git push -q origin main
	ln -s "$GITGATE_BIN/pre-receive" ../server.git/hooks/pre-receive
	ln -s "$GITGATE_BIN/pre-push" .git/hooks/pre-push
	git checkout -q -b feat
	echo 'z = 1' >>argo/app.py && git commit -qam "new work"
	# The URL of a configured remote: its tracking refs count.
	push_expect 0 "$(git config remote.origin.url)" feat:x
	# A URL no remote here has: what the server advertises counts.
	push_expect 0 "file://$(cd ../server.git && pwd)" feat:y
	lacks "$OUT" "old todo"
	echo 'w = 1 # FIXME' >>argo/app.py && git commit -qam "new fixme"
	push_expect 1 "file://$(cd ../server.git && pwd)" feat:z
	contains "$OUT" "(new fixme)"
	lacks "$OUT" "old todo"
}

t_sha256_ids_and_garbage_input_are_refused_clearly() {
	new_server
	cd ../server.git
	OUT=$(mktemp)
	printf '%064d %064d refs/heads/main\n' 0 1 | "$GITGATE_BIN/pre-receive" >"$OUT" 2>&1
	[ $? = 3 ] || fail "expected exit 3"
	contains "$OUT" "SHA-256"
	printf 'nonsense\n' | "$GITGATE_BIN/pre-receive" >"$OUT" 2>&1
	[ $? = 3 ] || fail "expected exit 3 for garbage"
	contains "$OUT" "unexpected input from git on line 1: expected <old-id> <new-id> <ref>: 'nonsense'"
	contains "$OUT" "the push could not be checked, so it is refused"
}

t_unreadable_pushed_objects_are_a_fault_not_a_pass() {
	new_server
	local before tree
	before=$(server_ref main)
	echo 'console.log("x");' >>alpine-backend/api.js
	git add -A
	tree=$(git write-tree)
	git reset -q && git checkout -q -- .
	# A commit object without an author: git stores it, libgit2 cannot parse it.
	local bad
	bad=$(printf 'tree %s\nparent %s\ncommitter a <a@b> 1700000000 +0000\n\nm\n' "$tree" "$before" |
		git hash-object -t commit -w --literally --stdin)
	push_expect 1 origin "$bad:refs/heads/main"
	contains "$OUT" "cannot read object $bad"
	contains "$OUT" "fail closed"
	[ "$(server_ref main)" = "$before" ] || fail "main moved to an unparsable commit"
	# The same commit behind an annotated tag.
	git tag -a -m t badtag "$bad"
	push_expect 1 origin refs/tags/badtag
	server_ref refs/tags/badtag && fail "a tag to an unparsable commit was accepted"
	# An id the repository does not have, straight on pre-receive's stdin.
	cd ../server.git
	OUT=$(mktemp)
	printf '%s %s refs/heads/main\n' "$before" 1234567890123456789012345678901234567890 |
		"$GITGATE_BIN/pre-receive" >"$OUT" 2>&1
	[ $? = 3 ] || fail "an unknown new id should be a fault (exit 3)"
	contains "$OUT" "cannot read object 1234567890123456789012345678901234567890"
	# The server still takes a clean push afterwards.
	cd ../work
	echo 'x = 2' >>argo/app.py && git commit -qam clean
	push_expect 0 origin main
}

t_utf16_and_binary_turned_text_are_scanned_at_push_time() {
	new_server
	printf '\xff\xfeh\0i\0\n\0' >alpine-backend/wide.js
	printf 'bin\0ary\n' >alpine-backend/was-binary.js
	git add -A && git commit -qm "a utf-16 file and a binary one" && git push -q origin main
	printf '\xff\xfeh\0i\0\n\0d\0e\0b\0u\0g\0g\0e\0r\0;\0\n\0' >alpine-backend/wide.js
	git commit -qam "debugger in utf-16"
	push_expect 1 origin main
	contains "$OUT" "alpine-backend/wide.js:2:1: debug-code"
	git reset -q --hard HEAD^
	printf 'ok\nconsole.log(1);\n' >alpine-backend/was-binary.js
	git commit -qam "binary becomes text"
	push_expect 1 origin main
	contains "$OUT" "alpine-backend/was-binary.js:2:1: debug-code"
}

t_broken_server_rules_fail_closed() {
	new_server
	echo '[nonsense' >>../server.git/gitgate/rules.ini
	echo 'x = 2' >>argo/app.py && git commit -qam clean
	push_expect 1 origin main
	contains "$OUT" "rules.ini:"
}

t_server_rules_that_are_a_directory_or_empty_fail_closed() {
	new_server
	echo 'console.log("x");' >>alpine-backend/api.js && git commit -qam debug
	rm ../server.git/gitgate/rules.ini
	mkdir ../server.git/gitgate/rules.ini
	push_expect 1 origin main
	contains "$OUT" "rules.ini: cannot read rules: it is a directory"
	rmdir ../server.git/gitgate/rules.ini
	: >../server.git/gitgate/rules.ini
	push_expect 1 origin main
	contains "$OUT" "defines no check"
	git -C ../server.git config gitgate.rules ""
	push_expect 1 origin main
	contains "$OUT" "empty"
}

t_a_push_that_outlasts_the_deadline_is_refused() {
	new_server
	printf '[push]\ndeadline_seconds = 1\n' >>../server.git/gitgate/rules.ini
	git init -q ../big
	python3 "$GITGATE_SOURCE/bench/make_history.py" 10000 100 25 | git -C ../big fast-import --quiet
	git fetch -q ../big main:refs/heads/big
	local started=$SECONDS
	push_expect 1 origin big
	contains "$OUT" "took longer to check than deadline_seconds allows"
	contains "$OUT" "refused (fail closed)"
	[ $((SECONDS - started)) -lt 60 ] || fail "the deadline did not stop the check early"
	server_ref refs/heads/big && fail "the branch was created"
	return 0
}

t_a_slow_scan_inside_one_file_meets_the_deadline() {
	new_server
	printf '[push]\ndeadline_seconds = 1\n[scan slow]\nfiles = *.txt\npattern = (a+)+$\n' \
		>>../server.git/gitgate/rules.ini
	python3 -c 'print(("a" * 4000 + "b\n") * 8000, end="")' >slow.txt
	git add slow.txt && git commit -qm "slow to scan"
	local started=$SECONDS
	push_expect 1 origin main
	contains "$OUT" "took longer to check than deadline_seconds allows"
	[ $((SECONDS - started)) -lt 10 ] || fail "the deadline was checked only between files"
}

t_history_scan_reports_exactly_gits_added_lines() {
	git init -q hist && cd hist
	local pattern='console\.log\s*\(|debugger|TODO|FIXME'
	printf '[scan all]\nrule = debug-code\nfiles = *\npattern = %s\n[isolation]\nseverity = off\n' \
		"$pattern" >../rules.ini
	c() { git add -A && git -c core.hooksPath=/dev/null commit -qm "$1"; }
	printf 'a\nTODO x\nb\n' >dup.js && c "base"
	printf 'a\nTODO x\nTODO x\nb\n' >dup.js && c "a duplicated TODO line"
	printf 'function f() {\n  x();\n}\n\nfunction g() {\n  y();\n}\n' >slide.js && c "functions"
	printf 'function f() {\n  x();\n}\n\nfunction h() {\n  // TODO h\n}\n\nfunction g() {\n  y();\n}\n' >slide.js
	c "a block the indent heuristic slides"
	printf 'one\r\ntwo\r\n' >crlf.js && c "crlf"
	printf 'one\r\nconsole.log(2)\r\ntwo\r\n' >crlf.js && c "crlf debug"
	printf 'x\nFIXME' >tail.js && c "no final newline"
	printf 'x\nFIXME\ny' >tail.js && c "line after a last line without newline"
	printf 'k\n// TODO moved\nl\nm\n' >move.js && c "to move"
	printf 'l\nm\nk\n// TODO moved\n' >move.js && c "lines moved within a file"
	git mv dup.js renamed.js && c "an exact rename"
	git mv move.js moved.js && printf 'debugger;\n' >>moved.js && c "a rename with a change"
	printf 'bin\0ary TODO\n' >blob.bin && c "binary"
	printf 'TODO in a name that is not UTF-8\n' >$'caf\xe9.js' && c "odd name"
	git log -p -U0 -M100% --format='commit %H %P' | python3 "$GITGATE_SOURCE/tests/git_added_lines.py" "$pattern" >git.json
	"$GITGATE_BIN/gitgate" check -n 100 HEAD --rules ../rules.ini --format json >ours.json
	python3 - git.json ours.json <<'PY' || fail "gitgate's added lines differ from git's"
import json, sys
git = json.load(open(sys.argv[1]))
ours = {}
for f in json.load(open(sys.argv[2]))["findings"]:
    if f["line"] is not None:
        ours.setdefault(f["commit"], set()).add((f["path"].replace("\\xe9", "\ufffd"), f["line"]))
total = 0
for commit, v in git.items():
    want = {(p, l) for p, l in v["lines"]}
    total += len(want)
    got = ours.get(commit, set())
    assert want == got, (commit, sorted(want), sorted(got))
assert total == 11, total
PY
}

run_tests
