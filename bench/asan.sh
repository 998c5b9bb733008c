#!/usr/bin/env bash
# ASAN benchmark: how long each ASAN test process takes in the guest, per
# architecture, against x86_64 measured in the same run (issue 14's goal:
# at most 3x x86_64 under TCG). Each arch boots once and runs the ASAN
# suite RUNS times (default 3, round by round: --runs); medians of the
# tests' own durations, as the agent timed them.
#
# Variables: ARCHES (default: x86_64 and every other arch whose ASAN suite
# is built and runs), RUNS, KVERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
RUNS=${RUNS:-3}
work=$(mktemp -d /tmp/kta-bench-asan.XXXXXX)
trap 'rm -rf "$work"' EXIT
GOAL=3.0

if [ -n "${ARCHES:-}" ]; then
	arches="x86_64 ${ARCHES//,/ }"
else
	arches=$("$O/kta" arch list | awk 'NR > 1 { print $1 }')
fi
kernel=()
[ -n "${KVERSION:-}" ] && kernel=(--kernel-version "$KVERSION")

# name -> median duration (ms) of its RUNS runs, from results.json.
medians() {
	python3 -c '
import json, sys, statistics, collections
d = collections.defaultdict(list)
for t in json.load(open(sys.argv[1]))["tests"]:
    if t["outcome"] in ("pass", "xfail"):
        d[t["name"].split("#")[0]].append(t["duration_ms"])
for n, v in d.items():
    print(n, int(statistics.median(v)), len(v))' "$1"
}

declare -A base worst
echo "ASAN benchmark: each ASAN test process's duration in the guest, median of $RUNS runs in one boot (TCG)"
printf '  %-8s %-14s %9s %9s  %s\n' ARCH TEST MS X86_64 RATIO
for A in $arches; do
	s=$O/$A/suites/asan/suite.txt
	if [ ! -f "$s" ]; then
		echo "  $A: no ASAN suite built (make ARCH=$A)" >&2
		continue
	fi
	"$O/kta" run --arch "$A" "${kernel[@]}" --suite "$s" --runs "$RUNS" --json "$work/$A.json" \
		--artifacts "$work/$A" >"$work/$A.out" 2>&1 || true
	if grep -q '# SKIP' "$work/$A.out" && ! grep -q '^ok [0-9]* token__exit' "$work/$A.out"; then
		echo "  $A: the ASAN suite does not run here ($(grep -m1 -o '# SKIP.*' "$work/$A.out"))"
		continue
	fi
	[ -s "$work/$A.json" ] || { echo "  $A: no results (see the run's output below)"; tail -5 "$work/$A.out"; continue; }
	while read -r name ms n; do
		if [ "$A" = x86_64 ]; then
			base[$name]=$ms
			printf '  %-8s %-14s %9d %9s  (%d runs)\n' "$A" "$name" "$ms" - "$n"
			continue
		fi
		b=${base[$name]:-}
		if [ -z "$b" ]; then
			printf '  %-8s %-14s %9d %9s  (%d runs)\n' "$A" "$name" "$ms" "?" "$n"
			continue
		fi
		r=$(awk -v a="$ms" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
		worst[$A]=$(awk -v a="$r" -v w="${worst[$A]:-0}" 'BEGIN { print (a > w) ? a : w }')
		printf '  %-8s %-14s %9d %9d  %sx (%d runs)\n' "$A" "$name" "$ms" "$b" "$r" "$n"
	done < <(medians "$work/$A.json" | sort)
done
# The goal is arm64's (the others are printed for what they show).
for A in "${!worst[@]}"; do
	awk -v a="$A" -v w="${worst[$A]}" -v g="$GOAL" 'BEGIN { printf "  %s: worst ratio to x86_64 %.2fx%s\n", a, w,
		a == "arm64" ? sprintf("; goal <= %.1fx: %s", g, (w <= g) ? "met" : "NOT met") : "" }'
done
