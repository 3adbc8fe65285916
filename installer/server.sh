#!/usr/bin/env bash
# gitgate's server install, the repository's side. git runs a push's hooks
# as the user that owns the repository, so this runs as that user and
# everything it makes is theirs: install.sh --server runs it so (as root,
# through runuser), once gitgate is in PREFIX; PREFIX/share/gitgate/server.sh
# is this file.
#
#   server.sh install|uninstall MODE BARE_REPO [HOME]
#   server.sh install|uninstall gitlab-hooks-dir DIR [HOME]
#   server.sh detect BARE_REPO      the platform whose repository it is
#
# MODE is where the platform lets a repository's hooks run:
#   plain     the repository's hooks folder (an existing hook runs first)
#   gitolite  gitolite's repo-specific hooks (LOCAL_CODE/hooks/repo-specific),
#             leaving its hook driver alone; gitolite's `gitgate` command
#   gitea     hooks/pre-receive.d/gitgate, hooks/post-receive.d/gitgate
#   gitlab    a custom_hooks tarball for `gitaly hooks set`
#   auto      the platform detect finds
# gitlab-hooks-dir is GitLab's custom_hooks_dir: every repository's hooks.
# HOME (gitea, gitlab, gitlab-hooks-dir; default ~/gitgate) holds each
# repository's gitgate folder outside the repository, which the platform may
# move.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PREFIX=${GITGATE_PREFIX:?GITGATE_PREFIX names where gitgate is installed}
# shellcheck source=installer/hooks.sh
. "$HERE/hooks.sh"
SERVER_HOOKS=(pre-receive post-receive)
# What an older gitgate installed and this one does without.
OLD_HOOKS=(reference-transaction)

case $PREFIX in *\'* | *$'\n'*) die "PREFIX $PREFIX: a quote or a newline cannot be in it" ;; esac

bare_repo() { # bare_repo PATH: its absolute path, or why git will not open it
	local dir why
	dir=$(cd "$1" 2>/dev/null && pwd) || die "$1: no such directory"
	if ! why=$(git -C "$dir" rev-parse --is-bare-repository 2>&1); then
		case $why in
		*"dubious ownership"*)
			die "git refuses to open $dir for $(id -un), who does not own it (safe.directory): run this as its owner, $(stat -c %U "$dir")" ;;
		esac
		die "$1 is not a git repository: $why"
	fi
	[ "$why" = true ] || die "$1 is not a bare repository (the server side needs one: git init --bare)"
	echo "$dir"
}

detect() { # detect REPO: gitolite, gitea, gitlab or plain
	local repo=$1
	case $(readlink "$repo/hooks/update" 2>/dev/null || true) in
	*/hooks/common/update) echo gitolite ;;
	*)
		if [ -e "$repo/hooks/pre-receive.d/gitea" ]; then
			echo gitea
		elif git -C "$repo" config --get gitlab.fullpath >/dev/null ||
			[[ $repo == */@hashed/* || $repo == */@cluster/* ]]; then
			echo gitlab
		else
			echo plain
		fi
		;;
	esac
}

# The repository's folder: its rules, its records and (by default) its
# deploy state, made with the default rules unless they are there.
make_folder() { # make_folder REPO FOLDER
	local repo=$1 folder=$2
	mkdir -p "$folder"
	if [ -f "$folder/rules.ini" ]; then
		say "$folder/rules.ini: kept as it is"
	else
		install -m 644 "$PREFIX/share/gitgate/rules.ini" "$folder/rules.ini"
		say "$folder/rules.ini: the default rules (edit them there; pushes never change them)"
	fi
	if [ -z "$(git -C "$repo" config --get receive.advertisePushOptions || true)" ]; then
		git -C "$repo" config receive.advertisePushOptions true
		git -C "$repo" config gitgate.setAdvertisePushOptions true
	fi
	local tip
	if ! git -C "$repo" config --get gitgate.baseline >/dev/null &&
		tip=$(git -C "$repo" rev-parse -q --verify 'HEAD^{commit}' 2>/dev/null ||
			git -C "$repo" for-each-ref --count=1 --sort=-committerdate --format='%(objectname)' refs/heads); then
		if [ -n "$tip" ]; then
			git -C "$repo" config gitgate.baseline "$tip"
			git -C "$repo" config gitgate.setBaseline true
			say "existing history is accepted as it is: gitgate.baseline = $tip"
		fi
	fi
	# Without bubblewrap the pushed code's commands run as this user, with
	# rules.ini, the env files and the key in reach: said, never silent.
	[ -x /usr/bin/bwrap ] ||
		say "recommended: apt-get install bubblewrap (the deploy gates then run the pushed code in a sandbox; see [deploy] sandbox)"
}

# Pins the folder in the repository's own config (gitgate.dir): it moves
# with the repository, the folder stays where it is.
pin_folder() { # pin_folder REPO FOLDER
	git -C "$1" config gitgate.dir "$2"
	git -C "$1" config gitgate.setDir true
	say "$1: its gitgate folder is $2 (git config gitgate.dir)"
}

undo_config() { # undo_config REPO: what make_folder and pin_folder set
	local repo=$1 key
	for key in AdvertisePushOptions:receive.advertisePushOptions Baseline:gitgate.baseline Dir:gitgate.dir; do
		if [ "$(git -C "$repo" config --get "gitgate.set${key%%:*}" || true)" = true ]; then
			git -C "$repo" config --unset "${key#*:}"
			git -C "$repo" config --unset "gitgate.set${key%%:*}"
		fi
	done
	drop_empty_sections "$repo" gitgate receive
}

# gitgate's hooks in a folder of the repository's own, and nowhere a
# platform runs hooks otherwise: a plain install done before on a platform's
# repository (it would have moved the platform's driver aside) is undone.
unlink_ours() { # unlink_ours DIR HOOK...
	local dir=$1 hook
	shift
	for hook in "$@"; do
		is_ours "$dir/$hook" "$hook" && unlink_hooks "$dir" "$hook"
	done
	return 0
}

# A hook a platform runs from a folder of hooks: a script that runs
# gitgate's, with git config gitgate.home (HOME) added to what git reads,
# when given (GitLab's custom_hooks_dir serves every repository).
write_platform_hook() { # write_platform_hook FILE HOOK [HOME]
	local file=$1 hook=$2 home=${3:-}
	mkdir -p "$(dirname "$file")"
	{
		printf '#!/bin/sh\n# %s (install.sh): runs gitgate'"'"'s %s.\n' "$MARK" "$hook"
		if [ -n "$home" ]; then
			printf '# Each repository'"'"'s gitgate folder is HOME/NAME, NAME as GitLab names it.\n'
			printf 'n=${GIT_CONFIG_COUNT:-0}\n'
			printf 'export GIT_CONFIG_COUNT=$((n + 1)) "GIT_CONFIG_KEY_$n=gitgate.home" "GIT_CONFIG_VALUE_$n=%s"\n' "$home"
		fi
		printf "exec '%s/libexec/gitgate/%s'\n" "$PREFIX" "$hook"
	} >"$file"
	chmod 755 "$file"
}

# ---- plain ----------------------------------------------------------------------
install_plain() { # install_plain REPO
	local hooks
	hooks=$(hooks_dir "$1")
	link_hooks "$hooks" "${SERVER_HOOKS[@]}"
	unlink_ours "$hooks" "${OLD_HOOKS[@]}"
	make_folder "$1" "$1/gitgate"
}

uninstall_plain() {
	unlink_hooks "$(hooks_dir "$1")" "${SERVER_HOOKS[@]}" "${OLD_HOOKS[@]}"
	undo_config "$1"
	say "$1/gitgate (rules, logs) is kept; remove it by hand if you want"
}

# ---- gitolite -------------------------------------------------------------------
# The rc must name LOCAL_CODE, enable repo-specific hooks and the gitgate
# command: each is switched on where the rc has gitolite's own line for it
# (commented out), or asked for.
gitolite_rc() {
	local rc=$HOME/.gitolite.rc
	[ -f "$rc" ] || die "no $rc: $(id -un) is not gitolite's user (gitolite setup makes it)"
	[ -e "$rc$SAVED_SUFFIX" ] || cp -p "$rc" "$rc$SAVED_SUFFIX"
	if [ -z "$(gitolite query-rc LOCAL_CODE 2>/dev/null)" ]; then
		grep -qE '^[[:space:]]*#[[:space:]]*LOCAL_CODE[[:space:]]*=>[[:space:]]*"\$ENV\{HOME\}/local",' "$rc" ||
			die "$rc sets no LOCAL_CODE: add LOCAL_CODE => \"\$ENV{HOME}/local\", to it"
		sed -i -E '0,/^([[:space:]]*)#[[:space:]]*(LOCAL_CODE[[:space:]]*=>[[:space:]]*"\$ENV\{HOME\}\/local",)/s//\1\2/' "$rc"
		say "$rc: LOCAL_CODE is \$HOME/local"
	fi
	if ! gitolite query-rc POST_COMPILE | grep -q repo-specific-hooks; then
		grep -qE "^[[:space:]]*#[[:space:]]*'repo-specific-hooks'," "$rc" ||
			die "$rc does not enable repo-specific hooks: add 'repo-specific-hooks', to its ENABLE list"
		sed -i -E "s/^([[:space:]]*)#[[:space:]]*('repo-specific-hooks',)/\\1\\2/" "$rc"
		say "$rc: repo-specific hooks enabled"
	fi
	if ! gitolite query-rc -q COMMANDS gitgate; then
		[ "$(grep -cE '^[[:space:]]*ENABLE[[:space:]]*=>[[:space:]]*\[' "$rc")" = 1 ] ||
			die "$rc: no one ENABLE list to add 'gitgate', to: add it by hand"
		sed -i -E "s/^([[:space:]]*)ENABLE[[:space:]]*=>[[:space:]]*\\[.*/&\\n\\1    'gitgate',/" "$rc"
		say "$rc: the gitgate command enabled (ssh $(id -un)@HOST gitgate logs REPO ID)"
	fi
	gitolite query-rc -q COMMANDS gitgate || die "$rc: the gitgate command could not be enabled"
}

install_gitolite() { # install_gitolite REPO
	local repo=$1 local_code base name
	unlink_ours "$repo/hooks" "${SERVER_HOOKS[@]}" "${OLD_HOOKS[@]}"
	gitolite_rc
	local_code=$(gitolite query-rc LOCAL_CODE)
	mkdir -p "$local_code/hooks/repo-specific" "$local_code/commands"
	for hook in "${SERVER_HOOKS[@]}"; do
		ln -sfn "$PREFIX/libexec/gitgate/$hook" "$local_code/hooks/repo-specific/gitgate-$hook"
	done
	sed "s|@GITGATE@|'$PREFIX/bin/gitgate'|" "$HERE/gitolite-command" >"$local_code/commands/gitgate"
	chmod 755 "$local_code/commands/gitgate"
	say "$local_code: gitgate-pre-receive, gitgate-post-receive (repo-specific hooks), commands/gitgate"
	make_folder "$repo" "$repo/gitgate"
	base=$(gitolite query-rc GL_REPO_BASE)
	name=${repo#"$base"/}
	name=${name%.git}
	# gitolite links repo-specific hooks when it compiles its conf.
	gitolite setup >/dev/null 2>&1 || die "gitolite setup failed: run it as $(id -un) to see why"
	if compgen -G "$repo/hooks/pre-receive.h[0-9][0-9]-gitgate-pre-receive" >/dev/null; then
		say "$repo: gitolite runs gitgate's hooks"
	else
		say "to run them for $name, add to conf/gitolite.conf in gitolite-admin, and push it:"
		say "    repo $name"
		say "        option hook.pre-receive = gitgate-pre-receive"
		say "        option hook.post-receive = gitgate-post-receive"
	fi
	say "set [push] identity = gitolite in $repo/gitgate/rules.ini (GL_USER names the pusher)"
}

uninstall_gitolite() {
	local repo=$1 rc=$HOME/.gitolite.rc
	undo_config "$repo"
	say "remove the option hook.pre-receive/post-receive lines of gitgate from conf/gitolite.conf;"
	say "LOCAL_CODE's gitgate hooks and command stay for the other repositories ($rc$SAVED_SUFFIX is the rc as it was)"
}

# ---- Gitea, Forgejo -------------------------------------------------------------
gitea_name() { # OWNER/REPO from .../OWNER/REPO.git, as Gitea lays them out
	local repo=$1
	printf '%s/%s\n' "$(basename "$(dirname "$repo")")" "$(basename "$repo" .git)"
}

install_gitea() { # install_gitea REPO HOME
	local repo=$1 folder
	folder=$2/$(gitea_name "$repo")
	unlink_ours "$repo/hooks" "${SERVER_HOOKS[@]}" "${OLD_HOOKS[@]}"
	for hook in "${SERVER_HOOKS[@]}"; do
		mkdir -p "$repo/hooks/$hook.d"
		ln -sfn "$PREFIX/libexec/gitgate/$hook" "$repo/hooks/$hook.d/gitgate"
		say "$repo/hooks/$hook.d/gitgate: installed (Gitea's $hook runs it)"
	done
	pin_folder "$repo" "$folder"
	make_folder "$repo" "$folder"
	say "set [push] identity = gitea in $folder/rules.ini (GITEA_PUSHER_NAME names the pusher)"
}

uninstall_gitea() {
	local repo=$1 hook
	for hook in "${SERVER_HOOKS[@]}"; do
		if [ "$(readlink "$repo/hooks/$hook.d/gitgate" 2>/dev/null)" = "$PREFIX/libexec/gitgate/$hook" ]; then
			rm -f "$repo/hooks/$hook.d/gitgate"
			say "$repo/hooks/$hook.d/gitgate: removed"
		fi
	done
	undo_config "$repo"
}

# ---- GitLab ---------------------------------------------------------------------
install_gitlab() { # install_gitlab REPO HOME
	local repo=$1 name folder work relative
	name=$(git -C "$repo" config --get gitlab.fullpath || basename "$repo" .git)
	folder=$2/$name
	pin_folder "$repo" "$folder"
	make_folder "$repo" "$folder"
	work=$(mktemp -d)
	for hook in "${SERVER_HOOKS[@]}"; do
		write_platform_hook "$work/custom_hooks/$hook.d/gitgate" "$hook"
	done
	tar -cf "$folder/custom_hooks.tar" -C "$work" custom_hooks
	rm -rf "$work"
	relative=$repo
	case $repo in */@hashed/*) relative=@hashed/${repo#*/@hashed/} ;; */@cluster/*) relative=@cluster/${repo#*/@cluster/} ;; esac
	say "$folder/custom_hooks.tar: gitgate's server hooks for $name; give them to Gitaly:"
	say "    sudo -u $(id -un) -- /opt/gitlab/embedded/bin/gitaly hooks set --storage default --repository $relative --config /var/opt/gitlab/gitaly/config.toml <$folder/custom_hooks.tar"
	say "set [push] identity = gitlab in $folder/rules.ini (GL_USERNAME names the pusher)"
}

uninstall_gitlab() {
	undo_config "$1"
	say "gitaly hooks set with an empty tarball takes the repository's server hooks away"
}

# GitLab's custom_hooks_dir: every repository runs these; one is gitgate's
# once HOME/GROUP/PROJECT exists (else its hooks let it be).
install_hooks_dir() { # install_hooks_dir DIR HOME
	local dir=$1 home=$2
	mkdir -p "$home"
	for hook in "${SERVER_HOOKS[@]}"; do
		write_platform_hook "$dir/$hook.d/gitgate" "$hook" "$home"
		say "$dir/$hook.d/gitgate: installed for every repository"
	done
	git config --global gitgate.home "$home"
	say "git config --global gitgate.home $home (gitgate's commands here find each folder by GL_PROJECT_PATH)"
	say "a project is gitgate's once $home/GROUP/PROJECT/rules.ini is there:"
	say "    mkdir -p $home/GROUP/PROJECT && cp $PREFIX/share/gitgate/rules.ini $home/GROUP/PROJECT/"
}

uninstall_hooks_dir() {
	local dir=$1 hook
	for hook in "${SERVER_HOOKS[@]}"; do
		is_ours "$dir/$hook.d/gitgate" "$hook" && rm -f "$dir/$hook.d/gitgate" && say "$dir/$hook.d/gitgate: removed"
	done
	git config --global --unset gitgate.home || true
	return 0
}

main() {
	[ "${1:-}" = detect ] && [ $# = 2 ] && detect "$(bare_repo "$2")" && return
	[ $# -ge 3 ] || die "usage: server.sh install|uninstall MODE BARE_REPO|DIR [HOME]"
	local action=$1 mode=$2 target=$3 home=${4:-$HOME/gitgate}
	case $action in install | uninstall) ;; *) die "no action '$action' (install, uninstall, detect)" ;; esac
	if [ "$mode" = gitlab-hooks-dir ]; then
		target=$(cd "$target" 2>/dev/null && pwd) || die "$3: no such directory"
		if [ "$action" = install ]; then install_hooks_dir "$target" "$home"; else uninstall_hooks_dir "$target"; fi
		return
	fi
	local repo
	repo=$(bare_repo "$target")
	local found
	found=$(detect "$repo")
	if [ "$mode" = auto ]; then
		mode=$found
		say "$repo: a $mode repository"
	elif [ "$mode" = plain ] && [ "$found" != plain ] && [ "$action" = install ]; then
		# gitolite's driver would be moved aside (and its next compile
		# delete gitgate's hooks), Gitea rewrites the hooks, GitLab runs none.
		die "$repo is $found's: use --$found (its hooks folder is $found's to run)"
	fi
	case $mode in
	plain | gitolite | gitea | gitlab) "${action}_$mode" "$repo" "$home" ;;
	*) die "no server mode '$mode' (auto, plain, gitolite, gitea, gitlab)" ;;
	esac
}

main "$@"
