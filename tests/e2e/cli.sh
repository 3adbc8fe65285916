#!/usr/bin/env bash
# End-to-end: the command line explaining itself (every command's --help,
# the man page gitgate(1) as man renders it, bash and zsh completion run in
# real shells over a real rules.ini and a real deploy history) and gitgate
# doctor on a real bare repository: passing when healthy, and finding each
# problem it names, with its fix.
. "$(dirname "$0")/lib.sh"

G=$GITGATE_BIN/gitgate

# Each command and the options its parser takes: what its help must say.
# (Written from the parsers in src/cli, not from the help table.)
COMMANDS=(
	"check --staged --amend --max-count -n --rules --format sarif"
	"rules --rules --list environments"
	"deploy --rev --confirm --emergency --detach --dry-run --reconcile"
	"rollback --to"
	"health --level --format"
	"status"
	"doctor BARE"
	"history -n --format --ids"
	"logs --follow"
	"hook pre-commit pre-push"
	"help --complete"
)

t_every_command_has_help() {
	local line cmd word
	for line in "${COMMANDS[@]}"; do
		read -r cmd _ <<<"$line"
		"$G" "$cmd" --help >help.txt 2>err.txt
		[ $? = 0 ] || fail "gitgate $cmd --help did not exit 0: $(cat err.txt)"
		if [ -s err.txt ]; then fail "gitgate $cmd --help wrote to stderr: $(cat err.txt)"; fi
		[ "$(head -c $((15 + ${#cmd})) help.txt)" = "usage: gitgate $cmd" ] ||
			fail "gitgate $cmd --help does not start with its usage: $(head -1 help.txt)"
		for word in $line; do
			contains help.txt "$word"
		done
		"$G" "$cmd" -h >h.txt 2>&1 || fail "gitgate $cmd -h did not exit 0"
		"$G" help "$cmd" >helpcmd.txt 2>&1 || fail "gitgate help $cmd did not exit 0"
		cmp -s help.txt h.txt || fail "gitgate $cmd -h differs from --help"
		cmp -s help.txt helpcmd.txt || fail "gitgate help $cmd differs from --help"
		"$G" help >all.txt || fail "gitgate help did not exit 0"
		contains all.txt "  $cmd "
	done
	# Help wherever it stands, before any "--"; nothing else runs.
	"$G" deploy argo to production --help >help.txt 2>&1 || fail "help after words did not exit 0"
	contains help.txt "usage: gitgate deploy UNIT|all [to] ENV"
	"$G" --help >help.txt || fail "gitgate --help did not exit 0"
	contains help.txt "commands:"
	"$G" nosuch --help >out.txt 2>&1
	[ $? = 2 ] || fail "an unknown command's --help should be a usage error"
	contains out.txt "'nosuch' is not a gitgate command"
	"$G" help nosuch >out.txt 2>&1
	[ $? = 2 ] || fail "gitgate help nosuch should be a usage error"
	# A usage error names the command's own usage, from the same table.
	"$G" history --bogus >out.txt 2>&1
	[ $? = 2 ] || fail "history --bogus should be a usage error"
	contains out.txt "usage: gitgate history [UNIT] [ENV] [-n N] [--format text|json] [--ids]"
}

t_the_man_page_renders_what_help_says() {
	local page=$GITGATE_BIN/gitgate.1
	[ -s "$page" ] || fail "the build wrote no gitgate.1"
	"$G" --man | cmp -s - "$page" || fail "gitgate.1 is not what gitgate --man prints"
	MANWIDTH=100 man --warnings -l "$page" >man.txt 2>warn.txt ||
		fail "man -l failed: $(cat warn.txt)"
	if [ -s warn.txt ]; then fail "man warns: $(cat warn.txt)"; fi
	groff -man -Tutf8 -ww -z "$page" 2>warn.txt
	if [ -s warn.txt ]; then fail "groff warns: $(cat warn.txt)"; fi
	contains man.txt "GITGATE(1)"
	contains man.txt "gitgate - deployment rules as git hooks"
	contains man.txt "EXIT STATUS"
	contains man.txt "gitgate deploy UNIT|all [to] ENV [--rev REV]"
	contains man.txt "--emergency REASON"
	contains man.txt "PRE_COMMIT_FROM_REF"
	local line cmd
	for line in "${COMMANDS[@]}"; do
		read -r cmd _ <<<"$line"
		grep -q "^   $cmd\$" man.txt || fail "the man page has no section for $cmd"
	done
	# Every option of the help is in the page, as typed (no U+2010 hyphen).
	"$G" help --complete deploy | grep '^option' | cut -f2 | while read -r opt; do
		grep -qF -- "$opt" man.txt || echo "$opt" >>missing.txt
	done
	if [ -s missing.txt ]; then fail "options of deploy missing from the page: $(cat missing.txt)"; fi
}

# A server's bare repository: the default rules with production called
# prod, one target of argo switched by an nginx of the test's own (nothing
# started: doctor runs nginx -t), whose tests fail, so that a deploy is
# recorded at once; hooks, push options and state as install.sh makes them.
new_server() {
	git init -q --bare server.git
	mkdir -p server.git/gitgate ng/up srv
	sed 's/production/prod/g' "$GITGATE_SOURCE/rules.ini" >server.git/gitgate/rules.ini
	python3 - server.git/gitgate/rules.ini "$PWD" <<'PY'
import re, sys
path, here = sys.argv[1], sys.argv[2]
text = open(path).read()
# Only argo's staging target stays: its own root, ports, nginx and a failing test.
text = re.sub(r"(?ms)^\[target (?!argo staging\]).*?(?=^\[|\Z)", "", text)
text = re.sub(r"(?ms)^(\[target argo staging\]\n)(.*?)(?=^\[|\Z)", lambda m: m.group(1) +
    "root = %s/srv/argo\nports = 18501 18502\ntest = false\n"
    "lint = true\nbuild = true\ninstall = true\nrun = true\nswitch = nginx %s/ng/up/argo.upstream\n"
    "health_url = http://127.0.0.1:$PORT/health\n\n" % (here, here), text)
# nginx is the test's own; no push deploys by itself (no worker), no day freezes.
for key, value in (("nginx", "nginx -p %s/ng -c %s/ng/nginx.conf -e %s/ng/error.log" % ((here,) * 3)),
                   ("nginx_pid_file", here + "/ng/nginx.pid"), ("freeze_days", "")):
    text, n = re.subn(r"(?m)^%s = .*$" % key, lambda m: "%s = %s" % (key, value), text)
    assert n == 1, key
text = re.sub(r"(?m)^auto = yes$", "auto = no", text)
open(path, "w").write(text)
PY
	nginx_config "$PWD/ng" 18500 "$PWD/ng/up/argo.upstream" >ng/nginx.conf
	echo 'server 127.0.0.1:18501;' >ng/up/argo.upstream
	ln -s "$GITGATE_BIN/pre-receive" server.git/hooks/pre-receive
	ln -s "$GITGATE_BIN/post-receive" server.git/hooks/post-receive
	git -C server.git config receive.advertisePushOptions true
	git clone -q server.git work 2>/dev/null
	mkdir -p work/argo && echo 'print("argo")' >work/argo/app.py
	cp server.git/gitgate/rules.ini work/rules.ini
	git -C work add -A && git -C work commit -qm argo && git -C work push -q origin main ||
		fail "the first push was refused"
}

# complete_bash DIR WORD...: what bash's completion offers in DIR for the
# command line WORD... (the last word being completed), one a line, in $OUT.
complete_bash() {
	local dir=$1
	shift
	OUT=$(mktemp)
	(cd "$dir" && PATH=$GITGATE_BIN:$PATH bash --norc --noprofile -c '
		source "$1/completion/gitgate.bash"
		complete -p gitgate | grep -q -- "-F _gitgate gitgate" || { echo "not registered"; exit 1; }
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*" COMP_POINT=${#COMP_LINE}
		_gitgate gitgate "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' bash "$GITGATE_SOURCE" "$@") >"$OUT" 2>&1 || { fail "bash completion failed:"; cat "$OUT"; }
}

# complete_zsh DIR WORD...: the same through zsh's completion function's
# candidates (words and CURRENT as zsh's completion system sets them).
complete_zsh() {
	local dir=$1
	shift
	OUT=$(mktemp)
	(cd "$dir" && PATH=$GITGATE_BIN:$PATH zsh -f -c '
		source "$1/completion/_gitgate"
		shift
		words=("$@")
		CURRENT=$#words
		_gitgate_candidates
		print -rl -- $reply ${gitgate_options%%:*}
	' zsh "$GITGATE_SOURCE" "$@") >"$OUT" 2>&1 || { fail "zsh completion failed:"; cat "$OUT"; }
}

# zsh_lists DIR LINE: what zsh's own completion system lists when LINE is
# typed in an interactive zsh (a pseudo-terminal, zpty) and ^D asks for the
# choices; in $OUT, one choice a line (a description on a line of its own).
zsh_lists() {
	OUT=$(mktemp)
	(cd "$1" && PATH=$GITGATE_BIN:$PATH timeout 20 zsh -f -c '
		zmodload zsh/zpty
		zpty z zsh -f -i
		zpty -w z "PS1=\"> \"; fpath=($1/completion \$fpath); autoload -Uz compinit; compinit -u -D; print RE\"ADY\""
		zpty -r -m z out "*READY*> *"   # the prompt: zle reads keys from here on
		zpty -w -n z "$2"$'"'"'\C-d\C-uprint DO\"NE\"\n'"'"'
		zpty -r -m z out "*DONE*"
		zpty -d z
		print -r -- "$out"
	' zsh "$GITGATE_SOURCE" "$2") | tr -d '\033' | sed -E 's/\[[0-9;?]*[a-zA-Z]//g; s/ {2,}/\n/g' | tr '\r' '\n' >"$OUT" 2>&1 ||
		{ fail "zsh's completion did not answer:"; cat "$OUT"; }
}

offers() { # offers WORD...: each is a line of $OUT
	local word
	for word in "$@"; do
		grep -qx -- "$word" "$OUT" || { fail "expected '$word' among:"; sed 's/^/      /' "$OUT"; }
	done
}

t_bash_completion_from_the_rules_and_history() {
	new_server
	complete_bash work gitgate de && offers deploy
	complete_bash work gitgate deploy "" && offers all argo alpine alpine-analytics alpine-backend
	complete_bash work gitgate deploy argo "" && offers to staging prod
	if grep -qx production "$OUT"; then fail "production was renamed prod in the rules"; fi
	complete_bash work gitgate deploy --rev HEAD argo to "" && offers staging prod
	complete_bash work gitgate deploy --d && offers --detach --dry-run
	complete_bash work gitgate check --format "" && offers text json sarif
	complete_bash work gitgate health "" && offers check all argo
	complete_bash work gitgate hook "" && offers pre-commit pre-push
	complete_bash work gitgate help "" && offers check doctor hook
	# The server: its own rules, and the ids of its deploys.
	(cd server.git && "$G" deploy argo staging) >deploy.txt 2>&1 && fail "a deploy whose tests fail passed"
	local id
	id=$(cd server.git && "$G" history --ids) || fail "history --ids failed"
	[ -n "$id" ] || { fail "no deploy id recorded:"; cat deploy.txt; }
	complete_bash server.git gitgate logs "" && offers "$id"
	complete_bash server.git gitgate status "" && offers argo alpine
	complete_bash server.git gitgate rollback argo "" && offers staging prod
	(cd server.git && "$G" logs "$id") >log.txt 2>&1 || fail "gitgate logs $id failed"
}

t_zsh_completion_from_the_rules_and_history() {
	command -v zsh >/dev/null || { fail "zsh is missing (./install.sh --test installs it)"; return; }
	zsh -n "$GITGATE_SOURCE/completion/_gitgate" || fail "_gitgate does not parse"
	new_server
	complete_zsh work gitgate deploy "" && offers all argo alpine alpine-backend
	complete_zsh work gitgate deploy argo "" && offers to staging prod
	complete_zsh work gitgate deploy argo to "" && offers staging prod
	complete_zsh work gitgate deploy -- && offers --rev --confirm --dry-run
	complete_zsh work gitgate history --format "" && offers text json
	(cd server.git && "$G" deploy argo staging) >deploy.txt 2>&1
	complete_zsh server.git gitgate logs "" && offers "$(cd server.git && "$G" history --ids)"
	# Through zsh's completion system itself, as typed at a prompt.
	zsh_lists work "gitgate deploy argo " && offers to staging prod
	zsh_lists work "gitgate d" && offers deploy doctor
	contains "$OUT" "-- check a server's repository, rules, sandbox, nginx and hosts"
}

# doctor_expect 0|1 [ARGS...]: gitgate doctor on server.git; output in $OUT.
doctor_expect() {
	local want=$1
	shift
	OUT=$(mktemp)
	"$G" doctor "$PWD/server.git" "$@" >"$OUT" 2>&1
	local got=$?
	[ "$got" = "$want" ] || { fail "doctor exited $got, not $want:"; sed 's/^/      /' "$OUT"; }
}

t_doctor_passes_a_healthy_repository() {
	new_server
	doctor_expect 0
	contains "$OUT" "ok: hooks: pre-receive is gitgate's and executable"
	contains "$OUT" "ok: receive.advertisePushOptions is true"
	contains "$OUT" "ok: rules: $PWD/server.git/gitgate/rules.ini is valid"
	contains "$OUT" "ok: state folder: $PWD/server.git/gitgate is root's to write"
	contains "$OUT" "ok: nginx: \`nginx -p $PWD/ng"
	contains "$OUT" "gitgate doctor: no problem found"
	lacks "$OUT" "error:"
	# In the repository, without naming it; and a unit and environment.
	(cd server.git && "$G" doctor argo staging) >here.txt 2>&1 || { fail "doctor here failed:"; cat here.txt; }
}

t_doctor_finds_the_hooks_problems() {
	new_server
	rm server.git/hooks/pre-receive
	doctor_expect 1
	contains "$OUT" "error: hooks: pre-receive is not installed in $PWD/server.git/hooks: no push is checked"
	contains "$OUT" "  fix: ./install.sh --server $PWD/server.git"
	cp "$GITGATE_BIN/pre-receive" server.git/hooks/pre-receive
	chmod a-x server.git/hooks/pre-receive
	doctor_expect 1
	contains "$OUT" "error: hooks: $PWD/server.git/hooks/pre-receive is not executable by root"
	contains "$OUT" "  fix: chmod a+rx $PWD/server.git/hooks/pre-receive"
	rm server.git/hooks/pre-receive && ln -s "$PWD/gone/pre-receive" server.git/hooks/pre-receive
	doctor_expect 1
	contains "$OUT" "points at nothing"
	rm server.git/hooks/pre-receive
	printf '#!/bin/sh\nexit 0\n' >server.git/hooks/pre-receive && chmod 755 server.git/hooks/pre-receive
	doctor_expect 1
	contains "$OUT" "error: hooks: $PWD/server.git/hooks/pre-receive is not gitgate's and runs none of gitgate's"
	# A driver that runs gitgate's beside it (gitolite's repo-specific hooks).
	ln -s "$GITGATE_BIN/pre-receive" server.git/hooks/pre-receive.h00-gitgate
	doctor_expect 0
	contains "$OUT" "ok: hooks: pre-receive is a hook driver's, which runs gitgate's"
	git -C server.git config --unset receive.advertisePushOptions
	doctor_expect 1
	contains "$OUT" "error: receive.advertisePushOptions is not set: git refuses every \`git push -o\`"
	contains "$OUT" "  fix: git -C $PWD/server.git config receive.advertisePushOptions true"
}

t_doctor_finds_the_rules_and_state_problems() {
	new_server
	cp server.git/gitgate/rules.ini good.ini
	printf '[push]\nno_such_key = 1\n' >>server.git/gitgate/rules.ini
	doctor_expect 1
	contains "$OUT" "error: rules: not valid, so every push and deploy is refused:"
	contains "$OUT" "no_such_key"
	contains "$OUT" "  fix: correct each line named in $PWD/server.git/gitgate/rules.ini"
	sed "s|^\\[deploy\\]|[deploy]\\nstate_dir = $PWD/state|" good.ini >server.git/gitgate/rules.ini
	doctor_expect 1
	contains "$OUT" "error: state folder: $PWD/state is not there: pushes are accepted but not recorded"
	contains "$OUT" "  fix: install -d -o root $PWD/state"
	mkdir state && touch state/history.jsonl && chown nobody state/history.jsonl
	doctor_expect 1
	contains "$OUT" "error: the state folder: 1 file is not root's"
	contains "$OUT" "$PWD/state/history.jsonl (nobody's)"
	contains "$OUT" "  fix: chown -R root: $PWD/state"
}

t_doctor_finds_the_deploy_problems() {
	new_server
	cp server.git/gitgate/rules.ini good.ini
	echo 'this is not nginx' >>ng/nginx.conf
	rm -r ng/up
	doctor_expect 1
	contains "$OUT" "error: nginx: $PWD/ng/up, where the switch of argo staging (and any other there) writes, is not there"
	contains "$OUT" "  fix: install -d -o root $PWD/ng/up"
	contains "$OUT" "error: nginx: \`nginx -p $PWD/ng -c $PWD/ng/nginx.conf -e $PWD/ng/error.log -t\` exited with 1"
	contains "$OUT" "  fix: correct what nginx names"
	sed -i "s|^sandbox = auto\$|sandbox = yes\\nsandbox_bwrap = $PWD/no/bwrap|" server.git/gitgate/rules.ini
	doctor_expect 1
	contains "$OUT" "error: this machine (gates 3-5, the apps of targets here): not sandboxed"
	contains "$OUT" "  fix: apt-get install bubblewrap"
	# A remote host nobody answers on: a port just closed.
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sed "s|^\\[target argo staging\\]|&\\nhost = deploy@127.0.0.1:$port|" good.ini >server.git/gitgate/rules.ini
	doctor_expect 1 argo
	contains "$OUT" "error: argo staging on deploy@127.0.0.1:$port: not reachable: "
	contains "$OUT" "  fix: ssh -o BatchMode=yes -p $port deploy@127.0.0.1 true  shows why"
}

t_doctor_judges_for_the_owner_not_the_caller() {
	new_server
	# The repository is nobody's (git's, on a server); root runs doctor.
	chown -R nobody: server.git
	doctor_expect 1
	contains "$OUT" "owned by nobody (git runs the hooks of a push as nobody)"
	contains "$OUT" "error: git refuses $PWD/server.git to this user"
	contains "$OUT" "  fix: run gitgate's commands as nobody (sudo -u nobody gitgate doctor $PWD/server.git), or trust it for this user: git config --global --add safe.directory $PWD/server.git"
	git config --global --add safe.directory "$PWD/server.git"
	# root rewrote the config (install.sh as root did, before), and the
	# state folder is not nobody's to write.
	chown root: server.git/config && chmod 600 server.git/config
	chown root: server.git/gitgate && chmod 755 server.git/gitgate
	doctor_expect 1
	contains "$OUT" "ok: git opens $PWD/server.git for this user (safe.directory)"
	contains "$OUT" "error: the repository: 1 file is not nobody's, which git and the hooks run as for a push"
	contains "$OUT" "$PWD/server.git/config (root's)"
	contains "$OUT" "  fix: chown -R nobody: $PWD/server.git"
	contains "$OUT" "error: state folder: nobody cannot write into $PWD/server.git/gitgate"
	chown -R nobody: server.git ng/up
	doctor_expect 0
}

run_tests
