#!/usr/bin/env bash
# Sockmap benchmark: iterations per second of the multi-channel scenario
# inside one guest (TCP and UDP, recv-loop variant), with ITERATIONS
# (default 10000) iterations each. Goal under TCG: at least 500/s.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
ARCH=${ARCH:-x86_64}
N=${ITERATIONS:-10000}
work=$(mktemp -d /tmp/kta-bench-sockmap.XXXXXX)
trap 'rm -rf "$work"' EXIT
dir=$(realpath "$O/$ARCH/suites/sockmap")
grep -E '^sockmap_(tcp|udp)_loop ' "$dir/suite.txt" |
	sed "s|sockmap_multi|$dir/sockmap_multi|" >"$work/suite.txt"
kernel=(--kernel-version "${KVERSION:-7.3}")
[ -n "${KERNEL:-}" ] && kernel=(--kernel "$KERNEL")
t0=$(date +%s%3N)
"$O/kta" run --arch "$ARCH" "${kernel[@]}" --iterations "$N" --artifacts "$work/art" \
	--suite "$work/suite.txt" >"$work/out" 2>&1 || { cat "$work/out"; exit 1; }
t1=$(date +%s%3N)
echo "sockmap benchmark: $ARCH, $N iterations per test in one guest, $(grep -o 'accel: [a-z]*' "$work/out")"
for log in "$work"/art/tests/*.log; do
	name=$(basename "$log" .log); name=${name#*-}
	ips=$(sed -n 's/^kta-metric: iterations_per_sec=\([0-9.]*\).*/\1/p' "$log" | tail -1)
	rate=$(sed -n 's/^kta-rate: //p' "$log" | tail -1)
	awk -v n="$name" -v i="$ips" -v r="$rate" \
		'BEGIN { printf "  %-18s %8.0f iterations/s   ratio to the 500/s goal %.2f   (%s)\n", n, i, i / 500, r }'
done
echo "  whole run (boot + both tests): $((t1 - t0)) ms"
