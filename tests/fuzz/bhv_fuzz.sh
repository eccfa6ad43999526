#!/bin/sh
# Builds and runs bhv's libFuzzer harnesses (tests/fuzz/bhv_*.c) with
# Debian's clang (-fsanitize=fuzzer,address,undefined).
#
#   BH_OUTPUT=O tests/fuzz/bhv_fuzz.sh [SECONDS] [HARNESS...]
#
# O is a configured build folder (for the generated headers and the host
# yyjson: `make O=... host-yyjson`). Each harness runs SECONDS (default 60)
# from its seed corpus tests/fuzz/corpus/<harness>/; new inputs go to a
# scratch copy, crashes to O/fuzz/<harness>/. Exit status 1 if any crashed.
# bhv_net needs CAP_NET_ADMIN (it creates a tap).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${BH_OUTPUT:?set BH_OUTPUT to a configured O folder}
secs=${1:-60}
[ $# -gt 0 ] && shift
names=${*:-bhv_virtq bhv_blk bhv_rng bhv_console bhv_net bhv_mmio bhv_config bhv_kernel}
yyjson=$(make -s --no-print-directory -C "$top" O="$out" printvars VARS=HOST_YYJSON_PREFIX | cut -d= -f2-)
make -s --no-print-directory -C "$top" O="$out" host-yyjson "$out/build/include/bulkhead/autoconf.h" \
	"$out/build/include/bulkhead/version.h" >/dev/null
bhv=$top/firmware/bhv
srcs="$top/firmware/lib/error.c $bhv/config.c $bhv/config_json.c $bhv/guest_mem.c $bhv/virtq.c
	$bhv/virtio_mmio.c $bhv/virtio_blk.c $bhv/virtio_net.c $bhv/virtio_rng.c $bhv/virtio_console.c
	$bhv/kernel_probe.c $bhv/kernel_load.c"
work=$out/fuzz
status=0
for n in $names; do
	mkdir -p "$work/$n/corpus"
	echo "== $n: building"
	# shellcheck disable=SC2086
	clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -I"$bhv" -I"$top/include" -I"$out/build/include" \
		-I"$yyjson/include" -o "$work/$n/$n" "$top/tests/fuzz/$n.c" $srcs "$yyjson/lib/libyyjson.a"
	echo "== $n: fuzzing for ${secs}s"
	if ! (cd "$work/$n" && "./$n" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$work/$n/" corpus "$top/tests/fuzz/corpus/$n" 2>"$work/$n/log"); then
		echo "== $n: CRASHED, see $work/$n/log and $work/$n/crash-*"
		tail -30 "$work/$n/log"
		status=1
	else
		grep -E "stat::number_of_executed_units|cov:" "$work/$n/log" | tail -2
	fi
done
exit $status
