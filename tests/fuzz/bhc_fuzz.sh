#!/bin/sh
# Builds and runs the libFuzzer harness of bhc's config.json parsing
# (tests/fuzz/bhc_config.c) with Debian's clang, ASan and UBSan, against the
# host builds of yyjson and libseccomp of a configured O folder.
#
#   tests/fuzz/bhc_fuzz.sh O [SECONDS]     default 60 s; FUZZ_TIME also works
#
# The seed corpus is tests/fuzz/corpus/bhc_config/ (never written to); new
# inputs go to O/fuzz/bhc_config/corpus, crashes to O/fuzz/bhc_config/.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(cd "${1:?usage: bhc_fuzz.sh O [SECONDS]}" && pwd)
secs=${2:-${FUZZ_TIME:-60}}
work=$out/fuzz/bhc_config
mkdir -p "$work/corpus"
make -s -C "$top" O="$out" host-yyjson host-libseccomp >/dev/null
vars=$(make -s --no-print-directory -C "$top" O="$out" printvars VARS="HOST_YYJSON_PREFIX HOST_LIBSECCOMP_PREFIX")
yy=$(echo "$vars" | sed -n 's/^HOST_YYJSON_PREFIX=//p')
sc=$(echo "$vars" | sed -n 's/^HOST_LIBSECCOMP_PREFIX=//p')
b=$top/firmware/bhc
clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$top/include" -I"$b" -I"$yy/include" -I"$sc/include" -I"$out/build/include" \
	-o "$work/bhc_config" "$top/tests/fuzz/bhc_config.c" \
	"$b/config.c" "$b/config_json.c" "$b/config_process.c" "$b/config_mounts.c" "$b/config_linux.c" \
	"$b/caps.c" "$b/rlimits.c" "$b/userns.c" "$b/cgroup.c" "$b/seccomp.c" "$b/seccomp_default.c" \
	"$b/fs.c" "$top/firmware/lib/error.c" "$yy/lib/libyyjson.a" "$sc/lib/libseccomp.a"
cd "$work"
exec ./bhc_config -max_total_time="$secs" -max_len=16384 -timeout=10 -print_final_stats=1 \
	corpus "$top/tests/fuzz/corpus/bhc_config"
