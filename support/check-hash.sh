#!/bin/sh
# check-hash.sh HASH_FILE FILE NAME: FILE's sha256 must be the one pinned for
# NAME in the Buildroot-style HASH_FILE (used for licence texts, so that a
# changed licence stops the build until someone has read it).
set -eu
want=$(awk -v n="$3" '$1 == "sha256" && $3 == n { print $2 }' "$1")
if [ -z "$want" ]; then
	echo "check-hash: $1 pins no sha256 for $3" >&2
	exit 1
fi
got=$(sha256sum "$2" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
	echo "check-hash: $2 changed: expected sha256 $want, got $got (pinned in $1)" >&2
	exit 1
fi
