# bash completion for gitgate(1): commands, options and their values, units,
# projects, environments and deploy ids. Everything is asked of gitgate
# itself: the commands, their options and words from its help table
# (`gitgate help --complete`), the names from the rules it would read here
# (`gitgate rules --list`), the ids from the deploy history (`gitgate history
# --ids`), so this script lists nothing of its own.
# Installed as PREFIX/share/bash-completion/completions/gitgate; bash-completion
# loads it on the first TAB after `gitgate` (or: source it).

# _gitgate_names KIND: the candidates for one kind of word.
_gitgate_names() {
	case $1 in
	*'|'*) # the words it may be; an upper-case one (RELEASE|REV) only names it
		local word
		for word in ${1//|/ }; do
			[[ $word == *[a-z0-9]* ]] && echo "$word"
		done
		;;
	unit) gitgate rules --list units 2>/dev/null; gitgate rules --list projects 2>/dev/null ;;
	unit-all) echo all; _gitgate_names unit ;;
	bare-unit) compgen -d -- "$2"; _gitgate_names unit ;;
	env) gitgate rules --list environments 2>/dev/null ;;
	deploy-id) gitgate history --ids -n 100 2>/dev/null ;;
	command) gitgate help --complete 2>/dev/null | cut -f2 ;;
	rev | REV) git for-each-ref --format='%(refname:short)' refs/heads refs/tags refs/remotes 2>/dev/null ;;
	FILE) compgen -f -- "$2" ;;
	esac
}

# _gitgate_reply CUR NAME...: COMPREPLY from the names that start with CUR,
# each once (a unit and its project may share a name).
_gitgate_reply() {
	local cur=$1 name
	local -A seen=()
	shift
	for name in "$@"; do
		[[ $name == "$cur"* && -z ${seen[$name]:-} ]] && COMPREPLY+=("$name")
		seen[$name]=1
	done
}

_gitgate() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local -a kinds=() opts=() values=() names=()
	local kind name value i j k=0 skip=0 w
	COMPREPLY=()
	if ((COMP_CWORD == 1)); then
		mapfile -t names < <(_gitgate_names command)
		_gitgate_reply "$cur" "${names[@]}"
		return 0
	fi
	while IFS=$'\t' read -r kind name value _; do
		case $kind in
		option) opts+=("$name") values+=("$value") ;;
		word) kinds+=("$name") ;;
		esac
	done < <(gitgate help --complete "${COMP_WORDS[1]}" 2>/dev/null)
	# The value of an option that takes one.
	for i in "${!opts[@]}"; do
		if [[ $prev == "${opts[i]}" && ${values[i]} != - ]]; then
			[[ ${values[i]} == FILE ]] && compopt -o filenames 2>/dev/null
			mapfile -t names < <(_gitgate_names "${values[i]}" "$cur")
			_gitgate_reply "$cur" "${names[@]}"
			return 0
		fi
	done
	if [[ $cur == -* ]]; then
		_gitgate_reply "$cur" "${opts[@]}"
		return 0
	fi
	# Which word this is: the words before it, past the options and their
	# values; a "?WORD" kind is taken when WORD stands there, else passed.
	for ((j = 2; j < COMP_CWORD; j++)); do
		w=${COMP_WORDS[j]}
		if ((skip)); then
			skip=0
			continue
		fi
		if [[ $w == -* ]]; then
			for i in "${!opts[@]}"; do
				[[ $w == "${opts[i]}" && ${values[i]} != - ]] && skip=1
			done
			continue
		fi
		while [[ ${kinds[k]:-} == '?'* && $w != "${kinds[k]#\?}" ]]; do ((k++)); done
		((k++))
	done
	names=()
	while [[ ${kinds[k]:-} == '?'* ]]; do
		names+=("${kinds[k]#\?}")
		((k++))
	done
	if [[ -n ${kinds[k]:-} ]]; then
		[[ ${kinds[k]} == bare-unit ]] && compopt -o filenames 2>/dev/null
		mapfile -t -O ${#names[@]} names < <(_gitgate_names "${kinds[k]}" "$cur")
	fi
	_gitgate_reply "$cur" "${names[@]}"
	return 0
}

complete -F _gitgate gitgate
