#!/usr/bin/env bash
# Coverage-guided fuzzing of the host's parsers with libFuzzer (clang).
#   make fuzz                 each target for FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_RUNS=N     each target for N executions instead (a campaign:
#                             10000000), its libFuzzer summary kept in
#                             build/fuzz-lf/<target>.log
# New crashers land in build/fuzz-crashes/; add interesting inputs to
# fuzz/corpus/<target>/ so `make check` replays them.
set -euo pipefail
O=${O:-build}
secs=${FUZZ_SECONDS:-60}
cc=$(command -v clang-19 || command -v clang || true)
if [ -z "$cc" ] || ! echo 'int LLVMFuzzerTestOneInput(const char*d,long n){return 0;}' |
	"$cc" -x c -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
	echo "fuzz: installing libFuzzer's runtime (libclang-rt-19-dev)" >&2
	scripts/deps.sh install libclang-rt-19-dev
	echo 'int LLVMFuzzerTestOneInput(const char*d,long n){return 0;}' |
		"$cc" -x c -fsanitize=fuzzer - -o /dev/null || { echo "fuzz: clang-19 cannot link libFuzzer" >&2; exit 1; }
fi
mkdir -p "$O/fuzz-lf/obj" "$O/fuzz-crashes"
# The host's code once, instrumented the same way, as a library each
# target links what it needs from (a parser's helpers: logging, buffers).
objs=()
for c in host/*/*.c; do
	case $c in host/guestfs/*) continue ;; esac
	o=$O/fuzz-lf/obj/$(basename "$c" .c).o
	if [ ! -e "$o" ] || [ "$c" -nt "$o" ] || [ -n "$(find host -name '*.h' -newer "$o" -print -quit)" ]; then
		"$cc" -g -O1 -D_GNU_SOURCE -Ihost -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -c "$c" -o "$o"
	fi
	objs+=("$o")
done
rm -f "$O/fuzz-lf/libhost.a"
ar rcs "$O/fuzz-lf/libhost.a" "${objs[@]}"
for src in "$@"; do
	t=$(basename "$src" .c)
	extra=()
	# The plan's reader is the agent's (rootfs/), built for the host.
	[ "$t" = fuzz_plan ] && extra=(-Irootfs rootfs/agent_plan.c)
	"$cc" -g -O1 -D_GNU_SOURCE -Ihost -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all "$src" "${extra[@]}" "$O/fuzz-lf/libhost.a" \
		-lm -ljansson -o "$O/fuzz-lf/$t"
	mkdir -p "$O/fuzz-lf/$t.corpus"
	if [ -n "${FUZZ_RUNS:-}" ]; then
		limit=(-runs="$FUZZ_RUNS")
		echo "fuzz: $t for $FUZZ_RUNS executions"
	else
		limit=(-max_total_time="$secs")
		echo "fuzz: $t for ${secs}s"
	fi
	start=$(date +%s)
	"$O/fuzz-lf/$t" "${limit[@]}" -artifact_prefix="$O/fuzz-crashes/$t-" \
		"$O/fuzz-lf/$t.corpus" "fuzz/corpus/$t" 2>"$O/fuzz-lf/$t.log" || { tail -40 "$O/fuzz-lf/$t.log"; exit 1; }
	echo "fuzz: $t: $(grep -E '^Done [0-9]+ runs' "$O/fuzz-lf/$t.log" || tail -1 "$O/fuzz-lf/$t.log")," \
		"$(($(date +%s) - start)) s wall, corpus $(ls "$O/fuzz-lf/$t.corpus" | wc -l) inputs"
done
