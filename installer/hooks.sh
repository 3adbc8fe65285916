# gitgate's installers share these (sourced by install.sh and by
# installer/server.sh): saying, refusing, and linking gitgate's hooks into a
# hooks folder with the hook that was there kept and run first. PREFIX is
# where gitgate is installed (its hooks in PREFIX/libexec/gitgate).
# shellcheck shell=bash

MARK="gitgate hook wrapper"
SAVED_SUFFIX=".gitgate-saved"

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 2; }

hooks_dir() {
	# git's own answer honours core.hooksPath and a worktree's common dir.
	local top=$1 dir
	dir=$(git -C "$top" rev-parse --git-path hooks)
	case $dir in /*) ;; *) dir="$top/$dir" ;; esac
	echo "$dir"
}

is_ours() {
	local file=$1 hook=$2
	[ -L "$file" ] && [ "$(readlink "$file")" = "$PREFIX/libexec/gitgate/$hook" ] && return 0
	[ -f "$file" ] && grep -q "$MARK" "$file" 2>/dev/null
}

write_wrapper() {
	local file=$1 hook=$2
	cat >"$file" <<WRAPPER
#!/bin/sh
# $MARK (install.sh). The hook that was here before is kept as
# $hook$SAVED_SUFFIX and runs first, with the same arguments and input
# (when it is executable: git runs it only then).
saved="\$0$SAVED_SUFFIX"
input=\$(mktemp) || exit 3
cat >"\$input"
# git ignores a hook that is not executable; so does this chain.
status=0
if [ -x "\$saved" ]; then
	"\$saved" "\$@" <"\$input"
	status=\$?
fi
if [ \$status -eq 0 ]; then
	"$PREFIX/libexec/gitgate/$hook" "\$@" <"\$input"
	status=\$?
fi
rm -f "\$input"
exit \$status
WRAPPER
	chmod 755 "$file"
}

link_hooks() { # link_hooks DIR HOOK...
	local dir=$1
	shift
	mkdir -p "$dir"
	for hook in "$@"; do
		local file="$dir/$hook"
		if is_ours "$file" "$hook"; then
			say "$file: already installed"
			continue
		fi
		if [ -e "$file" ] || [ -L "$file" ]; then
			mv "$file" "$file$SAVED_SUFFIX"
			write_wrapper "$file" "$hook"
			say "$file: installed; the existing hook runs first ($hook$SAVED_SUFFIX)"
		else
			ln -s "$PREFIX/libexec/gitgate/$hook" "$file"
			say "$file: installed"
		fi
	done
}

unlink_hooks() { # unlink_hooks DIR HOOK...
	local dir=$1
	shift
	for hook in "$@"; do
		local file="$dir/$hook"
		if ! is_ours "$file" "$hook"; then
			say "$file: not a gitgate hook, left alone"
			continue
		fi
		rm -f "$file"
		if [ -e "$file$SAVED_SUFFIX" ] || [ -L "$file$SAVED_SUFFIX" ]; then
			mv "$file$SAVED_SUFFIX" "$file"
			say "$file: restored the hook that was there before"
		else
			say "$file: removed"
		fi
	done
}

drop_empty_sections() { # drop_empty_sections REPO SECTION...: what --unset leaves behind
	local repo=$1
	shift
	for section in "$@"; do
		git -C "$repo" config --get-regexp "^$section\\." >/dev/null ||
			git -C "$repo" config --remove-section "$section" 2>/dev/null || true
	done
}

