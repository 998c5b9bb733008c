#!/usr/bin/env bash
# The BPF selftests' payload: an ext4 image on virtio-blk against the same
# files in the initramfs, on a kernel that can mount both (kta's selftests
# kernel). Alternating runs of one small selection, medians of RUNS each,
# measured in this run: QEMU start to the agent's hello, to the first
# subtest's result, and the whole run; the ratio initramfs/ext4. Also the
# time per subtest of the selection on the faster payload.
#
# Needs the selftests built (once: `kta selftests build`, or it builds
# them). Variables: RUNS (3), SELECT (test_bpffs,token), ARCH (x86_64),
# PATCHES (patches/series), KTA_ARGS (more `kta run` options).
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
RUNS=${RUNS:-3}
SELECT=${SELECT:-test_bpffs,token}
ARCH=${ARCH:-x86_64}
PATCHES=${PATCHES:-patches/series}
work=$(mktemp -d /tmp/kta-bench-st.XXXXXX)
trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
field() { # field FILE KEY: a value of results.json's times_ms
	sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p" "$1" | head -1
}

echo "bench: selftests payload, $ARCH, selection $SELECT, $RUNS runs each, alternating" >&2
"$O/kta" selftests build --arch "$ARCH" --asan --patches "$PATCHES" >"$work/entry" 2>"$work/build.err" ||
	{ cat "$work/build.err" >&2; exit 1; }
entry=$(tail -n1 "$work/entry")
echo "bench: payload $(du -sh "$entry/root" | cut -f1) in $entry (image $(du -h "$entry/payload.ext4" | cut -f1))" >&2
declare -A hello first total
for i in $(seq 1 "$RUNS"); do
	for mode in ext4 initramfs; do
		# shellcheck disable=SC2086
		"$O/kta" run --arch "$ARCH" --selftests "$SELECT" --asan --patches "$PATCHES" --payload "$mode" \
			--json "$work/$mode-$i.json" --artifacts "$work/$mode-$i" ${KTA_ARGS:-} \
			>"$work/$mode-$i.out" 2>"$work/$mode-$i.err" || true
		hello[$mode]+="$(field "$work/$mode-$i.json" agent_hello) "
		first[$mode]+="$(field "$work/$mode-$i.json" first_result) "
		total[$mode]+="$(field "$work/$mode-$i.json" qemu_exit) "
		echo "bench: $mode run $i: hello $(field "$work/$mode-$i.json" agent_hello) ms, first subtest" \
		     "$(field "$work/$mode-$i.json" first_result) ms, total $(field "$work/$mode-$i.json" qemu_exit) ms" >&2
	done
done
printf '%-10s %12s %18s %12s\n' payload "hello (ms)" "first subtest (ms)" "total (ms)"
for mode in ext4 initramfs; do
	printf '%-10s %12s %18s %12s\n' "$mode" \
		"$(tr ' ' '\n' <<<"${hello[$mode]}" | grep . | median)" \
		"$(tr ' ' '\n' <<<"${first[$mode]}" | grep . | median)" \
		"$(tr ' ' '\n' <<<"${total[$mode]}" | grep . | median)"
done
fe=$(tr ' ' '\n' <<<"${first[ext4]}" | grep . | median)
fi_=$(tr ' ' '\n' <<<"${first[initramfs]}" | grep . | median)
echo "first subtest, initramfs/ext4: $(ratio "$fi_" "$fe")"
echo "time per subtest (ext4, run 1):"
grep -oE '\[[0-9]+/[0-9]+\] [^:]+: [a-z-]+[^(]*\([0-9.]+ s\)' "$work/ext4-1.err" | sed 's/^/  /'
