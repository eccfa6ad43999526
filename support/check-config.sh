#!/bin/sh
# check-config.sh CONFIG FRAGMENT...: every line of every fragment must have
# survived into the final .config (kernel or BusyBox); list each one that did not.
set -eu
config=$1
shift
bad=0
for frag in "$@"; do
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF "$line" "$config" && continue
			sym=${line%%=*} ;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			grep -q "^$sym=" "$config" || continue ;;
		*) continue ;;
		esac
		have=$(grep -E "^$sym=|^# $sym is not set" "$config" || echo "absent: a dependency is missing")
		echo "check-config: $frag asks for '$line' but the configuration has '$have'" >&2
		bad=1
	done < "$frag"
done
exit $bad
