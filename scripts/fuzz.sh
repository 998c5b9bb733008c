#!/usr/bin/env bash
# Coverage-guided fuzzing of the host's parsers with libFuzzer (clang).
#   make fuzz                 each target for FUZZ_SECONDS (default 60)
# New crashers land in build/fuzz-crashes/; add interesting inputs to
# fuzz/corpus/<target>/ so `make check` replays them.
set -euo pipefail
O=${O:-build}
secs=${FUZZ_SECONDS:-60}
cc=$(command -v clang-19 || command -v clang || true)
if [ -z "$cc" ] || ! echo 'int LLVMFuzzerTestOneInput(const char*d,long n){return 0;}' |
	"$cc" -x c -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
	echo "fuzz: needs clang with libFuzzer: apt-get install clang libclang-rt-14-dev" >&2
	exit 1
fi
mkdir -p "$O/fuzz-lf" "$O/fuzz-crashes"
for src in "$@"; do
	t=$(basename "$src" .c)
	deps=$(sed -n 's/^#include "\(.*\)\.h"$/host\/\1.c/p' "$src" | while read -r f; do [ -f "$f" ] && echo "$f"; done)
	[ "$t" = fuzz_ktap ] && deps="host/ktap.c host/splat.c"
	[ "$t" = fuzz_vresult ] && deps="host/validate_result.c host/verdict.c host/stats.c host/util.c host/log.c"
	"$cc" -g -O1 -D_GNU_SOURCE -Ihost -fsanitize=fuzzer,address,undefined "$src" $deps -o "$O/fuzz-lf/$t" -lm -ljansson
	mkdir -p "$O/fuzz-lf/$t.corpus"
	echo "fuzz: $t for ${secs}s"
	"$O/fuzz-lf/$t" -max_total_time="$secs" -artifact_prefix="$O/fuzz-crashes/$t-" \
		"$O/fuzz-lf/$t.corpus" "fuzz/corpus/$t"
done
