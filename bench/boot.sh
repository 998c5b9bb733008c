#!/usr/bin/env bash
# Boot benchmark: `kta run` with one trivial test against a bare QEMU boot of
# the same kernel and the same initramfs whose /init powers off at once.
# Medians of RUNS (default 5) runs each, measured in this run, and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
ARCH=${ARCH:-x86_64}
RUNS=${RUNS:-5}
KVERSION=${KVERSION:-7.3}
work=$(mktemp -d /tmp/kta-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

gcc -O2 -static -o "$work/init" bench/poweroff.c
kernel=(--kernel-version "$KVERSION")
[ -n "${KERNEL:-}" ] && kernel=(--kernel "$KERNEL")

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# One warm-up run resolves the kernel and the accelerator and fills the caches.
"$O/kta" run --arch "$ARCH" "${kernel[@]}" --smp 1 --artifacts "$work/warm" \
	--test "$O/$ARCH/testdata/pass" >/dev/null 2>&1 || { echo "bench: warm-up run failed" >&2; exit 1; }
img=$(sed -n 's/^image=//p' "$work/warm/kernel.txt")
initrd=$(sed -n 's/^initramfs=//p' "$work/warm/kernel.txt")
accel=$(sed -n 's/.*"accel": "\([a-z]*\)".*/\1/p' "$work/warm/results.json")

# Bare: the same archive with a second one appended whose /init replaces ours.
(cd "$work" && echo init | cpio -o -H newc --quiet >"$work/init.cpio")
cat "$initrd" "$work/init.cpio" >"$work/bare.cpio"
cpu=$(grep -o -- '-cpu [^ ]*' "$work/warm/qemu-cmdline.txt" | cut -d' ' -f2)
machine=$(grep -o -- ' -M [^ ]*' "$work/warm/qemu-cmdline.txt" | cut -d' ' -f3)
qemu=$(cut -d' ' -f1 "$work/warm/qemu-cmdline.txt")
console=$(grep -o 'console=[^ ]*' "$work/warm/qemu-cmdline.txt" | head -1)

kta_total=() kta_first=() bare=()
for i in $(seq 1 "$RUNS"); do
	t0=$(now_ms)
	"$O/kta" run --arch "$ARCH" --kernel "$img" --accel "$accel" --smp 1 \
		--artifacts "$work/run$i" --test "$O/$ARCH/testdata/pass" >/dev/null 2>&1
	t1=$(now_ms)
	kta_total+=($((t1 - t0)))
	kta_first+=("$(sed -n 's/.*"first_result": \([0-9]*\).*/\1/p' "$work/run$i/results.json")")
	t0=$(now_ms)
	timeout 120 "$qemu" -nodefaults -no-user-config -nographic -no-reboot -nic none \
		-M "$machine" -accel "$accel" -cpu "$cpu" -m 1024 -smp 1 -kernel "$img" \
		-initrd "$work/bare.cpio" -append "$console panic=-1 loglevel=5 rdinit=/init" \
		-serial "file:$work/bare$i.log" -device virtio-serial-pci,id=vser \
		-chardev null,id=res -device virtserialport,bus=vser.0,chardev=res,name=kta.results
	t1=$(now_ms)
	bare+=($((t1 - t0)))
done
kt=$(printf '%s\n' "${kta_total[@]}" | median)
kf=$(printf '%s\n' "${kta_first[@]}" | median)
bt=$(printf '%s\n' "${bare[@]}" | median)
echo "kta boot benchmark: $ARCH, kernel $(basename "$(dirname "$img")")/$(basename "$img"), accel $accel, $RUNS runs, medians"
printf '  bare QEMU boot to power-off (baseline):   %6d ms\n' "$bt"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
printf '  kta run, QEMU start to first result:      %6d ms   ratio %s\n' "$kf" "$(ratio "$kf" "$bt")"
printf '  kta run, total wall (1 trivial test):     %6d ms   ratio %s\n' "$kt" "$(ratio "$kt" "$bt")"
echo "  all runs (ms): kta total ${kta_total[*]}; kta first result ${kta_first[*]}; bare ${bare[*]}"
