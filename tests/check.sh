#!/usr/bin/env bash
# `make check`: unit tests (plain and ASAN+UBSAN), fuzz-corpus replay, and
# integration tests that boot real kernels under QEMU. Prints one line per
# check and "N passed, N failed" last.
set -u
cd "$(dirname "$0")/.."
O=${O:-build}
log=$O/check.log
: >"$log"
passed=0 failed=0

tally() { # tally OUTPUT: count TAP lines
	local p f
	p=$(grep -c '^ok ' <<<"$1" || true)
	f=$(grep -c '^not ok ' <<<"$1" || true)
	passed=$((passed + p)); failed=$((failed + f))
}

run_unit() { # run_unit LABEL BINARIES...
	local label=$1; shift
	for t in "$@"; do
		out=$("$t" 2>&1); rc=$?
		echo "$out" >>"$log"
		tally "$out"
		if [ $rc -ne 0 ] && ! grep -q '^not ok ' <<<"$out"; then
			echo "not ok - $label $(basename "$t") exited $rc"; failed=$((failed + 1))
			tail -20 <<<"$out"
		else
			echo "$label $(basename "$t"): $(grep -c '^ok ' <<<"$out") ok, $(grep -c '^not ok ' <<<"$out") not ok"
			grep -A2 '^not ok ' <<<"$out" || true
		fi
	done
}

make -s --no-print-directory unit-bins unit-san-bins fuzz-bins || { echo "not ok - build"; echo "0 passed, 1 failed"; exit 1; }
run_unit unit "$O"/unit/test_*
run_unit unit-asan+ubsan "$O"/unit-san/test_*
for f in "$O"/fuzz/fuzz_*; do
	if out=$("$f" "fuzz/corpus/$(basename "$f")" 2>&1); then
		echo "ok - fuzz replay: $out"; passed=$((passed + 1))
	else
		echo "not ok - fuzz replay $(basename "$f")"; echo "$out" | tail -30; failed=$((failed + 1))
	fi
done

out=$(tests/integration/run.sh 2>&1 | tee -a "$log" | grep -E '^(ok|not ok|#)')
echo "$out"
tally "$out"
out=$(tests/integration/kbuild.sh 2>&1 | tee -a "$log" | grep -E '^(ok|not ok|#)')
echo "$out"
tally "$out"
out=$(tests/integration/selftests.sh 2>&1 | tee -a "$log" | grep -E '^(ok|not ok|#)')
echo "$out"
tally "$out"
out=$(tests/integration/validate.sh 2>&1 | tee -a "$log" | grep -E '^(ok|not ok|#)')
echo "$out"
tally "$out"
out=$(tests/integration/bisect.sh 2>&1 | tee -a "$log" | grep -E '^(ok|not ok|#)')
echo "$out"
tally "$out"
out=$(tests/integration/image.sh 2>&1 | tee -a "$log" | grep -E '^(ok|not ok|#)')
echo "$out"
tally "$out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
