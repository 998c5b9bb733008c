#!/usr/bin/env bash
# What --image costs (docs/image.md): `kta run` of one trivial test with and
# without --image, alternating, RUNS (default 3) each, on Debian's kernel
# under TCG. Reports medians of the agent's first result and of the whole
# run, and ratios measured in this run. The image's inspection is cached
# (one warm-up run first), so each --image run has exactly one libguestfs
# launch: the pull after the run.
#
# Variables: IMAGE (default: `make image`'s Debian image), ARCH, RUNS, KVERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
ARCH=${ARCH:-x86_64}
RUNS=${RUNS:-3}
KVERSION=${KVERSION:-7.3.4}
work=$(mktemp -d /tmp/kta-bench-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
img=${IMAGE:-$(O=$O scripts/image.sh debian "$ARCH")}
t=$O/$ARCH/testdata/pass

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() { # run NAME [ARGS...]: appends "first_result_ms total_ms" to $work/NAME
	local name=$1 t0 t1 art; shift
	art=$work/art-$name-$RANDOM
	t0=$(now_ms)
	"$O/kta" run --arch "$ARCH" --accel tcg --kernel-version "$KVERSION" --artifacts "$art" \
		--test "$t" "$@" >"$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }
	t1=$(now_ms)
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["times_ms"]["first_result"], sys.argv[2])' \
		"$art/results.json" $((t1 - t0)) >>"$work/$name"
	rm -rf "$art"
}

run plain >/dev/null
run image --image "$img"
: >"$work/plain"; : >"$work/image"
for _ in $(seq 1 "$RUNS"); do
	run plain
	run image --image "$img"
done
pf=$(cut -d' ' -f1 "$work/plain" | median); pt=$(cut -d' ' -f2 "$work/plain" | median)
if_=$(cut -d' ' -f1 "$work/image" | median); it=$(cut -d' ' -f2 "$work/image" | median)
printf 'image bench (%s, %s, %s runs each, alternating; medians)\n' "$ARCH" "$KVERSION" "$RUNS"
printf '  first result: without --image %6d ms, with %6d ms, ratio %.2f\n' "$pf" "$if_" \
	"$(awk -v a="$if_" -v b="$pf" 'BEGIN { print a / b }')"
printf '  whole run:    without --image %6d ms, with %6d ms, ratio %.2f (the pull: one libguestfs launch)\n' \
	"$pt" "$it" "$(awk -v a="$it" -v b="$pt" 'BEGIN { print a / b }')"
