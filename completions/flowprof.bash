# bash completion for flowprof(1)                          -*- shell-script -*-
# SPDX-License-Identifier: MIT
#
# Installed by `make install` to share/bash-completion/completions/flowprof.
# Plain bash (compgen): it does not need the bash-completion package's
# helpers. tests/e2e/test_cli_help.py checks that every option of every
# command's --help is offered here.

_flowprof_commands="record report check merge sweep export top serve"

# Long and short options of each command.
_flowprof_options() {
	case $1 in
	record) echo "-f --flows -p --pid -d --duration --unprobed -i --interval -o --output --json
		--listen --allow-remote --tls-cert --tls-key --token-file --min-interval
		--user -v --verbose --mode --exits --entry --no-oncpu --max-instances --help --usage" ;;
	report) echo "--json --no-model --html --dot --target --scale --instances --workers
		--util-limit --users --think --prometheus --job --window --at
		-v --verbose --help --usage" ;;
	check) echo "-f --flows -m --measure -p --pid -v --verbose --help --usage" ;;
	merge) echo "-o --output -v --verbose --help --usage" ;;
	sweep) echo "-f --flows -p --pid -d --duration --load --users --rate --settle --think
		-o --output --json --user -v --verbose --mode --exits --entry --no-oncpu --max-instances --help --usage" ;;
	top) echo "-f --flows -p --pid -i --interval -o --output -n --iterations -b --batch
		-v --verbose --mode --exits --entry --no-oncpu --max-instances --help --usage" ;;
	serve) echo "-f --flows -p --pid --listen --allow-remote --tls-cert --tls-key --token-file
		--min-interval -d --duration -o --output -v --verbose
		--mode --exits --entry --no-oncpu --max-instances --help --usage" ;;
	export) echo "--jmt --users --think --target --scale --instances --workers -v --verbose
		--help --usage" ;;
	esac
}

# Files ending in one of the given extensions, and directories to walk into.
_flowprof_files() {
	local cur=$1 ext
	shift
	local IFS=$'\n'
	COMPREPLY=($(compgen -d -- "$cur"))
	for ext in "$@"; do
		COMPREPLY+=($(compgen -f -X "!*.$ext" -- "$cur"))
	done
	[[ ${#COMPREPLY[@]} -gt 0 ]] && compopt -o filenames 2>/dev/null
}

_flowprof_pids() {
	local IFS=$'\n' list=${1%,*} last=${1##*,}
	if [[ $1 == *,* ]]; then
		COMPREPLY=($(compgen -P "$list," -W "$(command ls /proc | grep -E '^[0-9]+$')" -- "$last"))
	else
		COMPREPLY=($(compgen -W "$(command ls /proc | grep -E '^[0-9]+$')" -- "$1"))
	fi
}

# Completes the value of option $1 given $2 so far; returns 1 when $1 takes
# no value.
_flowprof_value() {
	local opt=$1 cur=$2
	case $opt in
	-f | --flows) _flowprof_files "$cur" yaml yml ;;
	-o | --output) _flowprof_files "$cur" json ;;
	--html) _flowprof_files "$cur" html htm ;;
	--jmt) _flowprof_files "$cur" jmva ;;
	--dot) _flowprof_files "$cur" dot gv ;;
	--tls-cert | --tls-key) _flowprof_files "$cur" pem crt key ;;
	--token-file) COMPREPLY=($(compgen -f -- "$cur")) && compopt -o filenames 2>/dev/null ;;
	-p | --pid) _flowprof_pids "$cur" ;;
	--mode) COMPREPLY=($(compgen -W "auto session multi single" -- "$cur")) ;;
	--exits) COMPREPLY=($(compgen -W "auto sites uretprobe" -- "$cur")) ;;
	--entry) COMPREPLY=($(compgen -W "auto first" -- "$cur")) ;;
	--listen) COMPREPLY=($(compgen -W "127.0.0.1:9464 [::1]:9464 :9464" -- "$cur")) ;;
	--load) COMPREPLY=($(compgen -c -- "$cur")) ;;
	--user)
		if [[ $cur == *:* ]]; then
			COMPREPLY=($(compgen -P "${cur%%:*}:" -g -- "${cur#*:}"))
		else
			COMPREPLY=($(compgen -u -- "$cur"))
		fi ;;
	-d | --duration | --unprobed | -i | --interval | -n | --iterations | --settle | --think | --users | \
		--rate | --target | --scale | --instances | --workers | --util-limit | \
		--max-instances | --min-interval | --prometheus | --job | --window | --at)
		COMPREPLY=() ;; # a number, a name, a URL or NAME=VALUE: nothing to offer
	*) return 1 ;;
	esac
	return 0
}

_flowprof() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd="" i

	COMPREPLY=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*)
			cmd=${COMP_WORDS[i]}
			break
			;;
		esac
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$_flowprof_commands --help --version" -- "$cur"))
		return
	fi
	# record ... -- COMMAND ARGS: complete the command, then leave it alone.
	for ((i = i + 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			if ((i + 1 == COMP_CWORD)); then
				COMPREPLY=($(compgen -c -- "$cur"))
			else
				COMPREPLY=($(compgen -f -- "$cur"))
			fi
			return
		fi
	done
	# --option=value
	if [[ $cur == --*=* ]]; then
		_flowprof_value "${cur%%=*}" "${cur#*=}" && return
	fi
	# bash splits "--opt=value" at '=' (COMP_WORDBREAKS): then prev is '='.
	if [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
		_flowprof_value "${COMP_WORDS[COMP_CWORD - 2]}" "$cur" && return
	fi
	if [[ $prev == -* ]] && _flowprof_value "$prev" "$cur"; then
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_flowprof_options "$cmd")" -- "$cur"))
		return
	fi
	case $cmd in
	report | merge | export) _flowprof_files "$cur" json ;;
	esac
}

complete -F _flowprof flowprof
