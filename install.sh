#!/usr/bin/env bash
# gitgate installer: dependencies, build, and hooks.
#
#   ./install.sh [REPO]              install the client hooks (pre-commit, pre-push) into
#                                    REPO (default: the repository of the current directory)
#   ./install.sh --uninstall [REPO]  put back what was there before
#   ./install.sh --shared-hooks [REPO]  with a core.hooksPath set in ~/.gitconfig or
#                                    /etc/gitconfig: install into that shared folder
#                                    (by default REPO gets a hooks folder of its own)
#   ./install.sh --server [MODE] [--home DIR] BARE_REPO
#                                    install pre-receive and post-receive for a bare
#                                    repository, as its owner (as root: done as that user);
#                                    MODE is where the platform runs its hooks: --plain,
#                                    --gitolite, --gitea, --gitlab (default: found out)
#   ./install.sh --server --gitlab-hooks-dir DIR [--home DIR]
#                                    GitLab's custom_hooks_dir: every repository's
#   ./install.sh --server --uninstall [MODE] BARE_REPO|--gitlab-hooks-dir DIR
#   ./install.sh --demo              show gitgate at work in a throwaway monorepo
#   ./install.sh --test              run every test: a build with ASan and UBSan, the
#                                    hooks under valgrind from a build without PCRE2 JIT,
#                                    then each fuzzer of tests/fuzz for a minute (clang)
#
# Environment: GITGATE_PREFIX (default /usr/local as root, else ~/.local),
# GITGATE_BUILD_DIR (default ./build), GITGATE_SANITIZE=1 to build with ASan/UBSan.
set -euo pipefail

SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLIENT_HOOKS=(pre-commit pre-push)
SERVER_HOOKS=(pre-receive post-receive)
# lefthook, for the tests of hook managers (e2e_frameworks): from the npm
# registry, at this exact version.
LEFTHOOK_VERSION=2.2.2
# shellcheck source=installer/hooks.sh
. "$SOURCE/installer/hooks.sh"

default_prefix() {
	if [ "$(id -u)" = 0 ]; then echo /usr/local; else echo "$HOME/.local"; fi
}
PREFIX=${GITGATE_PREFIX:-$(default_prefix)}
BUILD_DIR=${GITGATE_BUILD_DIR:-$SOURCE/build}

# ---- dependencies -------------------------------------------------------------
# Can clang link a libFuzzer binary? Debian ships the runtime apart from clang.
fuzzer_links() {
	local out status=0
	out=$(mktemp)
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' |
		clang -fsanitize=fuzzer -x c - -o "$out" >/dev/null 2>&1 || status=1
	rm -f "$out"
	return $status
}

# libcurl's OpenSSL flavour: Debian's default libcurl4, the one the curl tool
# uses, so https health URLs are checked as `curl` checks them. Any flavour
# already installed satisfies pkg-config and none is added (the -dev
# packages conflict with each other).
missing_packages() { # missing_packages [test|demo]: test adds nginx, what tests/fuzz
	# needs and gitolite3; demo adds nginx, curl, libfaketime (its Friday) and sshd;
	# both add Docker, Compose and a static busybox
	local -A need=()
	local cmd pkg module
	for pair in cmake:cmake cc:gcc make:make pkg-config:pkg-config git:git python3:python3 \
		valgrind:valgrind; do
		cmd=${pair%%:*} pkg=${pair#*:}
		command -v "$cmd" >/dev/null 2>&1 || need[$pkg]=1
	done
	if command -v pkg-config >/dev/null 2>&1; then
		for pair in libgit2:libgit2-dev libpcre2-8:libpcre2-dev inih:libinih-dev \
			jansson:libjansson-dev criterion:libcriterion-dev libcurl:libcurl4-openssl-dev; do
			module=${pair%%:*} pkg=${pair#*:}
			pkg-config --exists "$module" || need[$pkg]=1
		done
	else
		for pkg in libgit2-dev libpcre2-dev libinih-dev libjansson-dev libcriterion-dev \
			libcurl4-openssl-dev; do
			need[$pkg]=1
		done
	fi
	# The switch tests run an nginx of their own. Debian's `nginx` is the
	# server itself (nginx-light is that plus an echo module on bookworm,
	# and the flavours are gone after it); /usr/sbin is not on every PATH.
	if [ -n "${1:-}" ] && ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
		need[nginx]=1
	fi
	# Remote targets are reached with OpenSSH's client; the remote tests
	# start sshd daemons of their own, on 127.0.0.2 and 127.0.0.3, and the
	# demo one on 127.0.0.2 (its other machine).
	command -v ssh >/dev/null 2>&1 || need[openssh-client]=1
	if [ -n "${1:-}" ] && [ ! -x /usr/sbin/sshd ]; then
		need[openssh-server]=1
	fi
	# The deploy gates run the pushed code in bubblewrap ([deploy] sandbox);
	# the tests check it jails, and the demo deploys in it.
	if [ -n "${1:-}" ] && [ ! -x /usr/bin/bwrap ]; then
		need[bubblewrap]=1
	fi
	# Compose targets: the tests and the demo start a dockerd of their own
	# (Debian's docker.io; its service is never started, as nginx's) and
	# build their images FROM scratch with a static busybox.
	if [ -n "${1:-}" ]; then
		command -v dockerd >/dev/null 2>&1 || need[docker.io]=1
		command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 ||
			need[docker-compose]=1
		file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || need[busybox-static]=1
		command -v file >/dev/null 2>&1 || need[file]=1
	fi
	if [ "${1:-}" = demo ]; then
		command -v curl >/dev/null 2>&1 || need[curl]=1
		ls /usr/lib/*/faketime/libfaketimeMT.so.1 >/dev/null 2>&1 || need[libfaketime]=1
	fi
	if [ "${1:-}" = test ]; then
		# e2e_gitolite pushes through gitolite (Debian's gitolite3, set up
		# by the test as a user of its own: debconf's questions go
		# unanswered, noninteractive, and the package sets nothing up).
		command -v gitolite >/dev/null 2>&1 || need[gitolite3]=1
		# e2e_frameworks commits through the pre-commit framework
		# (Debian's) and lefthook (npm's: ensure_lefthook); e2e_cli
		# renders the man page and completes in bash and zsh.
		command -v pre-commit >/dev/null 2>&1 || need[pre-commit]=1
		command -v npm >/dev/null 2>&1 || need[npm]=1
		command -v zsh >/dev/null 2>&1 || need[zsh]=1
		command -v man >/dev/null 2>&1 || need[man-db]=1
		command -v groff >/dev/null 2>&1 || need[groff-base]=1
		# The health confirmation report's HTML is opened in a headless
		# browser, and its screenshot checked (e2e_confirm).
		command -v chromium >/dev/null 2>&1 || need[chromium]=1
		if ! command -v clang >/dev/null 2>&1; then
			need[clang]=1 need[libclang-rt-dev]=1
		elif ! fuzzer_links; then
			need[libclang-rt-dev]=1
		fi
	fi
	echo "${!need[@]}"
}

ensure_dependencies() { # ensure_dependencies [test|demo]
	local missing status=0 deny=
	missing=$(missing_packages "${1:-}")
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		die "missing packages: $missing (run: sudo apt-get install $missing)"
	fi
	say "installing $missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# nginx, sshd and dockerd are for the tests and the demo, which never use the
	# system's services: their packages must neither start them (policy-rc.d
	# says no for the install) nor leave them enabled at boot.
	if [[ " $missing " == *" nginx "* || " $missing " == *" openssh-server "* ||
		" $missing " == *" docker.io "* ]] &&
		[ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		deny=1
	fi
	# shellcheck disable=SC2086 # a list of package names
	apt-get install -y -qq --no-install-recommends $missing >/dev/null || status=$?
	[ -n "$deny" ] && rm -f /usr/sbin/policy-rc.d
	if [[ " $missing " == *" nginx "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --quiet nginx 2>/dev/null || true
	fi
	if [[ " $missing " == *" openssh-server "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --quiet ssh 2>/dev/null || true
	fi
	if [[ " $missing " == *" docker.io "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --quiet docker.service docker.socket 2>/dev/null || true
	fi
	[ "$status" = 0 ] || die "apt-get install $missing failed"
}

# lefthook at LEFTHOOK_VERSION, installed with npm where npm puts global
# commands (/usr/local/bin as root).
ensure_lefthook() {
	[ "$(lefthook version 2>/dev/null)" = "$LEFTHOOK_VERSION" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		die "lefthook $LEFTHOOK_VERSION is missing (run: sudo npm install -g --ignore-scripts lefthook@$LEFTHOOK_VERSION)"
	fi
	say "installing lefthook $LEFTHOOK_VERSION (npm)"
	# --ignore-scripts: its postinstall would run `lefthook install` in the
	# repository npm is started from.
	(cd / && npm install -g --ignore-scripts --no-fund --no-audit --loglevel=error \
		"lefthook@$LEFTHOOK_VERSION" >/dev/null) || die "npm install lefthook@$LEFTHOOK_VERSION failed"
	[ "$(lefthook version 2>/dev/null)" = "$LEFTHOOK_VERSION" ] ||
		die "lefthook $LEFTHOOK_VERSION was installed, but \`lefthook version\` says otherwise (an older one earlier on PATH?)"
}

build() {
	local sanitize=${1:-${GITGATE_SANITIZE:-0}}
	local type=Release
	[ "$sanitize" = 1 ] && type=Debug
	if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
		cmake -S "$SOURCE" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=$type \
			-DGITGATE_SANITIZE=$([ "$sanitize" = 1 ] && echo ON || echo OFF) >/dev/null
	fi
	cmake --build "$BUILD_DIR" -j"$(nproc)" >/dev/null
}

# The manual page and the completion scripts go where man, bash-completion
# and zsh look under PREFIX: /usr/local/share/... as root, ~/.local/share/...
# without (man finds that from PATH, bash-completion from XDG_DATA_HOME; zsh
# needs it on fpath, said below).
install_files() {
	local share=$PREFIX/share
	install -d "$PREFIX/bin" "$PREFIX/libexec/gitgate" "$share/gitgate" "$share/man/man1" \
		"$share/bash-completion/completions" "$share/zsh/site-functions"
	install -m 755 "$BUILD_DIR/gitgate" "$PREFIX/bin/gitgate"
	for hook in "${CLIENT_HOOKS[@]}" "${SERVER_HOOKS[@]}"; do
		install -m 755 "$BUILD_DIR/$hook" "$PREFIX/libexec/gitgate/$hook"
	done
	install -m 644 "$SOURCE/rules.ini" "$share/gitgate/rules.ini"
	# The server install's repository side, run as the repository's owner.
	install -m 644 "$SOURCE/installer/hooks.sh" "$SOURCE/installer/gitolite-command" "$share/gitgate/"
	install -m 755 "$SOURCE/installer/server.sh" "$share/gitgate/server.sh"
	install -m 644 "$BUILD_DIR/gitgate.1" "$share/man/man1/gitgate.1"
	install -m 644 "$SOURCE/completion/gitgate.bash" "$share/bash-completion/completions/gitgate"
	install -m 644 "$SOURCE/completion/_gitgate" "$share/zsh/site-functions/_gitgate"
	case $PREFIX in
	/usr | /usr/local) ;;
	*) say "zsh completion: add $share/zsh/site-functions to fpath (before compinit)" ;;
	esac
}

# ---- hooks ----------------------------------------------------------------------
work_tree_top() {
	git -C "$1" rev-parse --show-toplevel 2>/dev/null || die "$1 is not inside a git work tree"
}

# A core.hooksPath set outside the repository (~/.gitconfig, /etc/gitconfig)
# is a folder every repository shares: gitgate's hooks there would refuse
# commits in repositories that have no rules. Unless told to (--shared-hooks),
# the repository gets hooks of its own: its local core.hooksPath points at its
# own hooks folder, where links to the shared hooks keep them running.
shared_hooks_path() { # shared_hooks_path TOP: the shared folder, if any
	local top=$1 dir
	git -C "$top" config --local --get core.hooksPath >/dev/null && return 0
	dir=$(git -C "$top" config --path --get core.hooksPath) || return 0
	case $dir in /*) ;; *) dir="$top/$dir" ;; esac
	echo "$dir"
}

own_hooks_folder() { # own_hooks_folder TOP SHARED
	local top=$1 shared=$2 own file
	own=$(cd "$top" && cd "$(git rev-parse --git-common-dir)" && pwd)/hooks
	say "core.hooksPath is $shared for every repository: installing into $top alone" \
		"(./install.sh --shared-hooks installs into the shared folder)"
	mkdir -p "$own"
	for file in "$shared"/*; do
		[ -f "$file" ] && [ ! -e "$own/${file##*/}" ] && ln -s "$file" "$own/${file##*/}"
	done
	git -C "$top" config --local core.hooksPath "$own"
	git -C "$top" config --local gitgate.sharedHooksPath "$shared"
}

install_hooks() {
	local top shared
	top=$(work_tree_top "$1")
	shared=$(shared_hooks_path "$top")
	[ -n "$shared" ] && [ "${SHARED_HOOKS:-0}" != 1 ] && own_hooks_folder "$top" "$shared"
	link_hooks "$(hooks_dir "$top")" "${CLIENT_HOOKS[@]}"
	if [ ! -f "$top/rules.ini" ] && ! git -C "$top" config --get gitgate.rules >/dev/null; then
		git -C "$top" config gitgate.rules "$PREFIX/share/gitgate/rules.ini"
		say "no rules.ini at the top of $top: using $PREFIX/share/gitgate/rules.ini (git config gitgate.rules)"
	fi
}

uninstall_hooks() {
	local top shared dir link
	top=$(work_tree_top "$1")
	dir=$(hooks_dir "$top")
	unlink_hooks "$dir" "${CLIENT_HOOKS[@]}"
	if shared=$(git -C "$top" config --local --get gitgate.sharedHooksPath); then
		for link in "$dir"/*; do
			[ -L "$link" ] && [ "$(readlink "$link")" = "$shared/${link##*/}" ] && rm -f "$link"
		done
		git -C "$top" config --local --unset core.hooksPath
		git -C "$top" config --local --unset gitgate.sharedHooksPath
		say "$top uses the shared hooks in $shared again"
	fi
	if [ "$(git -C "$top" config --get gitgate.rules || true)" = "$PREFIX/share/gitgate/rules.ini" ]; then
		git -C "$top" config --unset gitgate.rules
		drop_empty_sections "$top" gitgate
	fi
}

# ---- the server -----------------------------------------------------------------
# git runs a push's hooks as the user that owns the bare repository: its
# config, hooks and gitgate's state must stay that user's. So the repository's
# side (installer/server.sh) runs as the owner: here when that is who runs
# this, through runuser as root, and anyone else is refused and told how.
server_target_owner() { # server_target_owner PATH: its owner's name
	local owner
	[ -e "$1" ] || die "$1: no such directory"
	owner=$(stat -c %U "$1")
	[ "$owner" != UNKNOWN ] || die "$1 belongs to uid $(stat -c %u "$1"), which has no name here"
	echo "$owner"
}

as_owner() { # as_owner OWNER COMMAND...: the command as OWNER, in OWNER's home
	local owner=$1 home
	shift
	if [ "$(id -un)" = "$owner" ]; then
		GITGATE_PREFIX=$PREFIX "$@"
		return
	fi
	home=$(getent passwd "$owner" | cut -d: -f6)
	(cd / && runuser -u "$owner" -- env HOME="$home" PATH="$PATH" GITGATE_PREFIX="$PREFIX" "$@")
}

server() { # server [--uninstall] [MODE] [--home DIR] BARE_REPO|--gitlab-hooks-dir DIR
	local action=install mode=auto home='' target='' owner given="$*"
	while [ $# -gt 0 ]; do
		case $1 in
		--uninstall) action=uninstall ;;
		--plain | --gitolite | --gitea | --gitlab) mode=${1#--} ;;
		--gitlab-hooks-dir) mode=gitlab-hooks-dir target=${2:?--gitlab-hooks-dir needs a folder} && shift ;;
		--home) home=${2:?--home needs a folder} && shift ;;
		-*) die "unknown option $1 (see ./install.sh --help)" ;;
		*) target=$1 ;;
		esac
		shift
	done
	[ -n "$target" ] || die "usage: ./install.sh --server [--uninstall] [MODE] [--home DIR] BARE_REPO"
	target=$(cd "$target" 2>/dev/null && pwd) || die "$target: no such directory"
	owner=$(server_target_owner "$target")
	if [ "$(id -un)" != "$owner" ] && [ "$(id -u)" != 0 ]; then
		die "$target belongs to $owner, and git runs its hooks as $owner: its config, hooks and gitgate's state must stay $owner's (and git will not open it for $(id -un): safe.directory). Run: sudo -u $owner $0 --server $given (or as root, which does the repository's part as $owner)"
	fi
	if [ "$action" = install ]; then
		ensure_dependencies
		build
		install_files
	fi
	[ -x "$PREFIX/share/gitgate/server.sh" ] || die "no gitgate at $PREFIX (GITGATE_PREFIX)"
	as_owner "$owner" "$PREFIX/share/gitgate/server.sh" "$action" "$mode" "$target" ${home:+"$home"}
}

# ---- demo and tests ---------------------------------------------------------------
run_tests() {
	# Tests run twice over: with ASan and UBSan, and the hooks under
	# valgrind from a second build without PCRE2 JIT (valgrind cannot follow
	# JIT code).
	local vg=${GITGATE_VALGRIND_DIR:-$SOURCE/build-valgrind}
	cmake -S "$SOURCE" -B "$vg" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGITGATE_JIT=OFF \
		-DGITGATE_TESTS=OFF >/dev/null
	cmake --build "$vg" -j"$(nproc)" >/dev/null
	BUILD_DIR=${GITGATE_BUILD_DIR:-$SOURCE/build-test}
	cmake -S "$SOURCE" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug -DGITGATE_SANITIZE=ON \
		-DGITGATE_VALGRIND_BUILD="$vg" >/dev/null
	cmake --build "$BUILD_DIR" -j"$(nproc)" >/dev/null
	cd "$BUILD_DIR"
	ctest --output-on-failure
	# The fuzzers' smoke: a minute each, one at a time, in build-fuzz.
	bash "$SOURCE/tests/fuzz/run.sh" 60
}

main() {
	case ${1:-} in
	--test)
		ensure_dependencies test
		ensure_lefthook
		run_tests
		;;
	--demo)
		ensure_dependencies demo
		build
		bash "$SOURCE/demo/run.sh" "$BUILD_DIR"
		;;
	--uninstall)
		uninstall_hooks "${2:-.}"
		;;
	--shared-hooks)
		SHARED_HOOKS=1
		ensure_dependencies
		build
		install_files
		install_hooks "${2:-.}"
		;;
	--server)
		shift
		server "$@"
		;;
	-h | --help)
		awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
		;;
	-*)
		die "unknown option $1 (see ./install.sh --help)"
		;;
	*)
		ensure_dependencies
		build
		install_files
		install_hooks "${1:-.}"
		say "gitgate is at $PREFIX/bin/gitgate$(case ":$PATH:" in *":$PREFIX/bin:"*) ;; *) printf ' (add %s to PATH)' "$PREFIX/bin" ;; esac)"
		;;
	esac
}

main "$@"
