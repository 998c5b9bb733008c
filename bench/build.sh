#!/usr/bin/env bash
# Kernel build benchmark (`make bench-build`):
#   1. full build of the minimal patched 7.3 kernel at -j$JOBS (default 2),
#      from an empty build directory, without ccache (goal <= 12 min);
#   2. incremental rebuild + boot after changing one .c file (goal <= 60 s):
#      `kta kernel build` (snapshot check, config, make, cache) and `kta run`
#      with one trivial test, wall time of both;
#   3. boot to the first result with this kernel and with Debian's 7.3
#      cloud kernel (median of RUNS runs, one trivial test, 1 vCPU).
# The tree is a hard-link copy of the cached Debian tree under a private
# KTA_CACHE in a scratch directory, so the user's cache and workspace are
# not touched; all of it is removed at the end. Results also go to
# kta-out/bench-build.txt.
#
# Variables: JOBS (2), RUNS (3), FILE (the .c file to change;
# net/core/skmsg.c), CCACHE=1 (use ccache in step 1 too), KTA_RUN_ARGS
# (more `kta run` options, e.g. --agent PATH), BENCH_DIR (keep the scratch
# tree, cache and workspace there instead of a temporary directory) with
# FULL=0 (skip step 1 and reuse BENCH_DIR's workspace: steps 2 and 3 only).
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
ARCH=${ARCH:-x86_64}
JOBS=${JOBS:-2}
RUNS=${RUNS:-3}
FILE=${FILE:-net/core/skmsg.c}
KTA=$(realpath "$O/kta")
FULL=${FULL:-1}
if [ -n "${BENCH_DIR:-}" ]; then
	work=$(mkdir -p "$BENCH_DIR" && realpath "$BENCH_DIR")
else
	work=$(mktemp -d /tmp/kta-bench-build.XXXXXX)
	trap 'rm -rf "$work"' EXIT
fi
run_args=(${KTA_RUN_ARGS:-})
out=kta-out/bench-build.txt
mkdir -p kta-out

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs() { awk -v ms="$1" 'BEGIN { printf "%d:%04.1f", ms / 60000, (ms % 60000) / 1000 }'; }

tree=$("$KTA" kernel source --version 7.3 2>/dev/null | tail -n1)
rm -rf "$work/linux" "$work/full" "$work/incr" "$work"/warm "$work"/incr-run "$work"/[md][0-9]*
cp -al "$tree" "$work/linux" 2>/dev/null || cp -a "$tree" "$work/linux"
export KTA_CACHE=$work/cache
ccache=(--no-ccache)
[ "${CCACHE:-0}" = 1 ] && ccache=()
build() { "$KTA" kernel build --arch "$ARCH" --tree "$work/linux" --patches patches/series -j "$JOBS" "$@"; }

# 1. Full build (FULL=0: bring BENCH_DIR's workspace up to date, untimed).
t0=$(now_ms)
if [ "$FULL" = 1 ]; then
	img=$(build --clean --force "${ccache[@]}" --artifacts "$work/full" 2>"$work/full.err") ||
		{ tail -30 "$work/full.err"; echo "bench: full build failed" >&2; exit 1; }
else
	img=$(build "${ccache[@]}" --artifacts "$work/full" 2>"$work/full.err") ||
		{ tail -30 "$work/full.err"; echo "bench: build failed" >&2; exit 1; }
fi
full=$(($(now_ms) - t0))
objs=$(grep -cE '^  (CC|AS) ' "$work/full/build.log" 2>/dev/null || echo "?")
opts=$(grep -c '^CONFIG_' "$(dirname "$img")/config")
size=$(stat -c %s "$img")

# The boot needs the accelerator decided once (the KVM probe is cached).
"$KTA" run --arch "$ARCH" --kernel "$img" --smp 1 --artifacts "$work/warm" "${run_args[@]}" \
	--test "$O/$ARCH/testdata/pass" >/dev/null 2>&1 || { echo "bench: the built kernel does not boot" >&2; exit 1; }
accel=$(sed -n 's/.*"accel": "\([a-z]*\)".*/\1/p' "$work/warm/results.json")

# 2. Change one .c file (a new inode: the cached tree keeps the old one),
# rebuild, boot.
cp --remove-destination "$tree/$FILE" "$work/linux/$FILE"
echo "/* kta bench-build: $(date +%s) */" >>"$work/linux/$FILE"
t0=$(now_ms)
img2=$(build "${ccache[@]}" --artifacts "$work/incr" 2>"$work/incr.err") ||
	{ tail -30 "$work/incr.err"; echo "bench: incremental build failed" >&2; exit 1; }
t1=$(now_ms)
"$KTA" run --arch "$ARCH" --kernel "$img2" --accel "$accel" --smp 1 --artifacts "$work/incr-run" "${run_args[@]}" \
	--test "$O/$ARCH/testdata/pass" >/dev/null 2>&1 || { echo "bench: the rebuilt kernel does not boot" >&2; exit 1; }
t2=$(now_ms)
incr_objs=$(grep -cE '^  (CC|AS) ' "$work/incr/build.log" || true)

# 3. Boot to first result: this kernel and Debian's (from the user's cache).
first() { sed -n 's/.*"first_result": \([0-9]*\).*/\1/p' "$1/results.json"; }
mine=() deb=()
for i in $(seq 1 "$RUNS"); do
	"$KTA" run --arch "$ARCH" --kernel "$img2" --accel "$accel" --smp 1 --artifacts "$work/m$i" "${run_args[@]}" \
		--test "$O/$ARCH/testdata/pass" >/dev/null 2>&1
	mine+=("$(first "$work/m$i")")
	KTA_CACHE= "$KTA" run --arch "$ARCH" --kernel-version "${KVERSION:-7.3}" --accel "$accel" --smp 1 "${run_args[@]}" \
		--artifacts "$work/d$i" --test "$O/$ARCH/testdata/pass" >/dev/null 2>&1
	deb+=("$(first "$work/d$i")")
done
m=$(printf '%s\n' "${mine[@]}" | median)
d=$(printf '%s\n' "${deb[@]}" | median)
debk=$(sed -n 's/^version=//p' "$work/d1/kernel.txt" 2>/dev/null | head -1)

{
	echo "kta kernel build benchmark: $ARCH, minimal 7.3.4 + patches/series, -j$JOBS on $(nproc) CPUs, accel $accel"
	if [ "$FULL" = 1 ]; then
		echo "  full build (empty build dir, ${ccache[*]:-with ccache}):  $(secs "$full")   goal 12:00   ($objs objects, $opts options, bzImage $size bytes)"
	else
		echo "  (FULL=0: no full build; $opts options, bzImage $size bytes)"
	fi
	[ -n "${KTA_RUN_ARGS:-}" ] && echo "  kta run options: $KTA_RUN_ARGS"
	echo "  incremental: change $FILE, rebuild:    $(secs $((t1 - t0)))   ($incr_objs objects recompiled)"
	echo "  incremental rebuild + boot + 1 test:           $(secs $((t2 - t0)))   goal 1:00"
	echo "  boot to first result, this kernel:            $m ms   (median of $RUNS: ${mine[*]})"
	echo "  boot to first result, Debian ${debk:-7.3}:  $d ms   (median of $RUNS: ${deb[*]})"
} | tee "$out"
