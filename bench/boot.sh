#!/usr/bin/env bash
# Boot benchmark, per architecture: `kta run` with one trivial test against
# a bare QEMU boot of the same kernel, machine and CPU, with the same
# initramfs whose /init powers off at once (bench/poweroff.c, built for the
# arch by make). Medians of RUNS (default 5) runs each, measured in this
# run, and ratios; a goal per arch where the project has one.
#
# Each arch boots Debian's kernel and, when the kta cache already has it
# (make acceptance, make vm-test KERNEL=source), the minimal patched kernel
# built from source (scripts/kernel-source.sh --cached: never builds here).
#
# Variables: ARCHES (default: every arch built under $O), RUNS, SMP (1), KVERSION
# (default: kta's, 7.3 or the arch's newest), KERNEL (one image: then one
# ARCH).
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
RUNS=${RUNS:-5}
# kta's vCPUs (the bare boot's too); the plain boot has 2, as the issue defines it.
SMP=${SMP:-1}
work=$(mktemp -d /tmp/kta-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ -n "${ARCHES:-}" ]; then
	arches=${ARCHES//,/ }
elif [ -n "${KERNEL:-}" ]; then
	arches=${ARCH:-x86_64}
else
	arches=$("$O/kta" arch list | awk 'NR > 1 { print $1 }')
fi
kernel=()
[ -n "${KVERSION:-}" ] && kernel=(--kernel-version "$KVERSION")
[ -n "${KERNEL:-}" ] && kernel=(--kernel "$KERNEL")

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
# Issue 14's goals, as ratios measured in this run: the whole kta run at
# most 0.55x the plain boot (0.6x on the minimal kernel kta builds) on
# x86_64 and arm64, and on every arch the first result within 3% of the
# bare boot.
goal_plain() { case "$1" in x86_64 | arm64) [ "$2" = minimal ] && echo 0.60 || echo 0.55 ;; *) echo "" ;; esac; }
GOAL_BARE=1.03
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r <= g) ? "met" : "NOT met" }'; }
# The plain boot a user would write: the arch's usual machine and firmware,
# -cpu max, 2 vCPUs, the serial console, and an /init (busybox, taken from
# kta's own archive) that reboots at once (-no-reboot ends QEMU; reboot,
# since the minimal kernel has no ACPI to power off with).
plain_args() { # plain_args ARCH
	case $1 in
	x86_64) echo "-M pc -cpu max console=ttyS0" ;;
	arm64) echo "-M virt -cpu max console=ttyAMA0" ;;
	esac
}

summary=()
bench_arch() { # bench_arch ARCH [KERNEL-ARGS...]
	local A=$1 w=$work/$1-$# img initrd accel cpu machine qemu vser append kboot
	local kta_total=() kta_first=() bare=() plain=() t0 t1 kt kf bt pt gp v1 v2 kind=debian kargs=("${@:2}")
	local pm pc pcon
	if [ ! -x "$O/$A/bench/poweroff" ] || [ ! -x "$O/$A/testdata/pass" ]; then
		echo "bench: $A: no guest build; run make guests-all (or make all ARCH=$A)" >&2
		summary+=("$(printf '%-8s %s' "$A" "no guest build")")
		return
	fi
	mkdir -p "$w"
	# One warm-up run resolves the kernel and the accelerator and fills the caches.
	[ ${#kargs[@]} -gt 0 ] || kargs=("${kernel[@]}")
	if ! "$O/kta" run --arch "$A" "${kargs[@]}" --smp "$SMP" --artifacts "$w/warm" \
		--test "$O/$A/testdata/pass" >/dev/null 2>"$w/warm.err"; then
		echo "bench: $A: warm-up run failed:" >&2
		tail -5 "$w/warm.err" >&2
		summary+=("$(printf '%-8s %s' "$A" "warm-up run failed")")
		return
	fi
	img=$(sed -n 's/^image=//p' "$w/warm/kernel.txt")
	initrd=$(sed -n 's/^initramfs=//p' "$w/warm/kernel.txt")
	accel=$(sed -n 's/.*"accel": "\([a-z]*\)".*/\1/p' "$w/warm/results.json")
	# Bare: the same archive with a second one appended whose /init replaces ours.
	cp "$O/$A/bench/poweroff" "$w/init"
	(cd "$w" && echo init | cpio -o -H newc --quiet >"$w/init.cpio")
	cat "$initrd" "$w/init.cpio" >"$w/bare.cpio"
	read -r _ pm _ pc pcon <<<"$(plain_args "$A")"
	if [ -n "$pm" ]; then
		mkdir -p "$w/plain/bin"
		(cd "$w/plain" && cpio -i --quiet bin/busybox <"$initrd")
		printf '#!/bin/busybox sh\n/bin/busybox reboot -f\n' >"$w/plain/init"
		chmod +x "$w/plain/init"
		(cd "$w/plain" && printf 'init\nbin\nbin/busybox\n' | cpio -o -H newc --quiet >"$w/plain.cpio")
	fi
	# The machine, CPU and virtio transport kta used: the arch's row.
	cpu=$(grep -o -- '-cpu [^ ]*' "$w/warm/qemu-cmdline.txt" | cut -d' ' -f2)
	machine=$(grep -o -- ' -M [^ ]*' "$w/warm/qemu-cmdline.txt" | cut -d' ' -f3)
	qemu=$(cut -d' ' -f1 "$w/warm/qemu-cmdline.txt")
	vser=$(grep -o 'virtio-serial-[a-z]*' "$w/warm/qemu-cmdline.txt" | head -1)
	# The kernel's command line kta used, whole, and what it gave -kernel
	# (a PVH vmlinux on x86_64): the same kernel work.
	arg() { python3 -c 'import shlex, sys; a = shlex.split(open(sys.argv[1]).read()); print(a[a.index(sys.argv[2]) + 1])' \
		"$w/warm/qemu-cmdline.txt" "$1"; }
	append=$(arg -append)
	kboot=$(arg -kernel)
	# -accel as kta gave it (x86_64's vCPUs share one TCG thread).
	qaccel=$(arg -accel)
	for i in $(seq 1 "$RUNS"); do
		t0=$(now_ms)
		"$O/kta" run --arch "$A" --kernel "$img" --accel "$accel" --smp "$SMP" \
			--artifacts "$w/run$i" --test "$O/$A/testdata/pass" >/dev/null 2>&1
		t1=$(now_ms)
		kta_total+=($((t1 - t0)))
		kta_first+=("$(sed -n 's/.*"first_result": \([0-9]*\).*/\1/p' "$w/run$i/results.json")")
		t0=$(now_ms)
		timeout 120 "$qemu" -nodefaults -no-user-config -nographic -no-reboot -nic none \
			-M "$machine" -accel "$qaccel" -cpu "$cpu" -m 1024 -smp "$SMP" -kernel "$kboot" \
			-initrd "$w/bare.cpio" -append "$append" \
			-serial "file:$w/bare$i.log" -device "$vser,id=vser" \
			-chardev null,id=res -device virtserialport,bus=vser.0,chardev=res,name=kta.results ||
			echo "bench: $A: bare boot $i did not end by itself (exit $?); see $w/bare$i.log" >&2
		t1=$(now_ms)
		bare+=($((t1 - t0)))
		[ -n "$pm" ] || continue
		t0=$(now_ms)
		timeout 120 "$qemu" -nographic -no-reboot -M "$pm" -accel "$accel" -cpu "$pc" -smp 2 -m 1024 \
			-kernel "$img" -initrd "$w/plain.cpio" -append "$pcon" >"$w/plain$i.log" 2>&1 </dev/null ||
			echo "bench: $A: plain boot $i did not end by itself (exit $?); see $w/plain$i.log" >&2
		t1=$(now_ms)
		plain+=($((t1 - t0)))
	done
	kt=$(printf '%s\n' "${kta_total[@]}" | median)
	kf=$(printf '%s\n' "${kta_first[@]}" | median)
	bt=$(printf '%s\n' "${bare[@]}" | median)
	pt=$([ ${#plain[@]} -gt 0 ] && printf '%s\n' "${plain[@]}" | median || echo 0)
	label=$(sed -n 's/^version=//p' "$w/warm/kernel.txt")
	case "$img" in */builds/*) label="$label (minimal, from source)" kind=minimal ;; esac
	echo "kta boot benchmark: $A, kernel $label, accel $accel, -cpu $cpu, $SMP vCPU(s), $RUNS runs, medians"
	[ "$pt" -gt 0 ] && printf '  plain QEMU boot (%s, -cpu %s, 2 vCPUs):  %6d ms\n' "$pm" "$pc" "$pt"
	printf '  bare QEMU boot to power-off (baseline):   %6d ms\n' "$bt"
	printf '  kta run, QEMU start to first result:      %6d ms   ratio to bare %s\n' "$kf" "$(ratio "$kf" "$bt")"
	printf '  kta run, total wall (1 trivial test):     %6d ms   ratio to bare %s%s\n' "$kt" "$(ratio "$kt" "$bt")" \
		"$([ "$pt" -gt 0 ] && echo ", to plain $(ratio "$kt" "$pt")")"
	echo "  all runs (ms): kta total ${kta_total[*]}; kta first result ${kta_first[*]}; bare ${bare[*]}; plain ${plain[*]:-}"
	v1="first/bare <= $GOAL_BARE: $(verdict "$(ratio "$kf" "$bt")" "$GOAL_BARE")"
	gp=$(goal_plain "$A" "$kind")
	v2=""
	[ -n "$gp" ] && [ "$pt" -gt 0 ] && v2="; total/plain <= $gp: $(verdict "$(ratio "$kt" "$pt")" "$gp")"
	echo "  goals: $v1$v2"
	summary+=("$(printf '%-8s %-36s %6s %6d %6d %6s %6d %6s  %s' "$A" "$label" \
		"$([ "$pt" -gt 0 ] && echo "$pt" || echo -)" "$bt" "$kf" "$(ratio "$kf" "$bt")" "$kt" \
		"$([ "$pt" -gt 0 ] && ratio "$kt" "$pt" || echo -)" "$v1$v2")")
}

for a in $arches; do
	bench_arch "$a"
	if [ -z "${KERNEL:-}" ] && img=$(ARCH=$a scripts/kernel-source.sh --cached 2>/dev/null | tail -n1) &&
		[ -f "$img" ]; then
		bench_arch "$a" --kernel "$img"
	fi
done
echo
echo "per architecture and kernel (medians, ms, measured in this run, alternating): the plain boot a user"
echo "would write, the bare boot of kta's own machine and command line, kta's first result and whole run"
printf '%-8s %-36s %6s %6s %6s %6s %6s %6s  %s\n' ARCH KERNEL PLAIN BARE FIRST F/BARE TOTAL T/PLAIN GOALS
printf '%s\n' "${summary[@]}"
