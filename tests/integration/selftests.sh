#!/usr/bin/env bash
# `kta selftests` and `kta run --selftests` on a miniature tree
# (tests/fixtures/selftests-tree: a test_progs stand-in built with the
# host's compilers, so no toolchain root is needed), booting Debian's 7.3
# cloud kernel with the ASAN+UBSAN build of kta. The real 7.3.4 selftests,
# with the toolchain root and kta's kernels, are `make acceptance`. TAP.
set -u
cd "$(dirname "$0")/../.."
O=${O:-build}
KTA=${KTA:-$O/kta-san}
F=tests/fixtures/selftests-tree
SERIES=tests/fixtures/selftests-series
work=$(mktemp -d /tmp/kta-stest.XXXXXX)
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
trap 'rm -rf "$work"' EXIT
. tests/integration/tap.sh
common=(--tree "$F" --selftests-toolchain host --asan --kernel-version 7.3)

# Build, then the same request again: a cache hit.
kta build selftests build --tree "$F" --toolchain host --asan --kernel-version 7.3 --artifacts "$work/b.art"
check "build: exit 0, the entry's directory on stdout" rc_is build 0
check "build: an ext4 payload in the entry" test -s "$(cat "$work/build.out")/payload.ext4"
check "build: the test list" has "$(cat "$work/build.out")/tests.txt" '^leaky$'
kta build2 selftests build --tree "$F" --toolchain host --asan --kernel-version 7.3 --artifacts "$work/b2.art"
check "build again: a cache hit" has "$work/build2.err" 'cache hit'
check "build: no sanitizer report from kta" no_sanitizer_report build

# Bad input: nothing boots, nothing is half-written.
mkdir -p "$work/noself" && cp -r "$F/Makefile" "$F/Kconfig" "$F/scripts" "$F/arch" "$work/noself/"
kta noself selftests build --tree "$work/noself" --toolchain host --kernel-version 7.3 --artifacts "$work/ns.art"
check "a tree without selftests: exit 128" rc_is noself 128
check "a tree without selftests: says so" has "$work/noself.err" 'has no BPF selftests'
kta conflict selftests build --tree "$F" --toolchain host --kernel-version 7.3 \
	--patches tests/fixtures/selftests-conflict --artifacts "$work/c.art"
check "a series that does not apply: exit 125 (git bisect: skip)" rc_is conflict 125
check "a series that does not apply: the patch is named" has "$work/conflict.err" 'conflict .*0001-fixture-does-not-apply'
kta unknown run --accel tcg "${common[@]}" --selftests alpha,leakky --artifacts "$work/u.art"
check "an unknown test: exit 128 before any boot" rc_is unknown 128
check "an unknown test: named, with what is similar" has "$work/unknown.err" 'unknown selftest `leakky`.*similar: leaky'
check "an unknown test: no guest was started" lacks "$work/unknown.err" 'booting'
kta nopatch run --accel tcg "${common[@]}" --selftests alpha --compare-patches --artifacts "$work/np.art"
check "--compare-patches without --patches: exit 128" rc_is nopatch 128

# Without and with the series, 4 runs each in one boot, interleaved.
kta cmp run --accel tcg "${common[@]}" --selftests alpha,leaky,flaky,skipper,test_bpffs \
	--patches "$SERIES" --compare-patches --runs 4 --json "$work/cmp.json" --junit "$work/cmp.xml" \
	--artifacts "$work/cmp.art"
check "compare: exit 1 (flaky fails in both)" rc_is cmp 1
check "compare: each subtest reported as it ends" has "$work/cmp.err" '\[1/8\] leaky/exit: fail'
check "compare: subtests as KTAP subtests" has "$work/cmp.out" '^    ok 1 alpha/one$'
check "compare: the leaking child's exit() is the LeakSanitizer override" \
	has "$work/cmp.out" 'not ok 3 leaky/exit # SANITIZER-EXIT-OVERRIDE forked child [0-9]+ ended through LeakSanitizer'
check "compare: leaky/exit fails 4/4 without the series, 0/4 with, significant" \
	has "$work/cmp.out" '^# leaky/exit +4/4 \(51-100%\) +0/4 \(0-49%\) +fewer failures with the series, significant \(p=0.0143'
check "compare: flaky fails every other run in both builds, no difference" \
	has "$work/cmp.out" '^# flaky +2/4 .* 2/4 .* not significant'
check "compare: the tree's DENYLIST is applied (alpha/denied never runs)" lacks "$work/cmp.out" 'alpha/denied'
check "compare: test_bpffs skipped for the kernel's config, with the reason" \
	has "$work/cmp.out" 'ok [0-9]+ test_bpffs # SKIP the kernel.s config lacks CONFIG_BPF_PRELOAD'
check "compare: a skip keeps its reason" has "$work/cmp.out" 'skipper/needs_thing # SKIP skipper: no thing here'
check "compare: results.json has the subtests" has "$work/cmp.json" '"subtests": \[\{"num": 1, "name": "alpha/one"'
check "compare: selftests.json has the counts and Fisher's test" \
	has "$work/cmp.art/selftests.json" '"name": "leaky/exit", "unpatched": \{"failures": 4, "runs": 4'
check "compare: selftests.json is JSON (python3 -m json.tool), Fisher's p below 0.05" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
row = [r for r in d["subtests"] if r["name"] == "leaky/exit"][0]
sys.exit(not (row["fisher"]["fewer"] < 0.05 and row["patched"]["failures"] == 0))' "$work/cmp.art/selftests.json"
check "compare: JUnit has a case per subtest" has "$work/cmp.xml" 'classname="kta.x86_64.patched#2" name="leaky/exit"'
check "compare: test_progs' own -J summary kept" test -s "$work/cmp.art/tests/001-unpatched_1.test_progs.json"
check "compare: no sanitizer report from kta" no_sanitizer_report cmp

# A subtest that never ends: its own deadline, the kernel stacks, the kill.
kta hang run --accel tcg "${common[@]}" --selftests hang,alpha --subtimeout 5 --artifacts "$work/h.art"
check "hang: exit 1" rc_is hang 1
check "hang: the subtest times out, placed by test_progs' numbers" has "$work/hang.out" "not ok 3 unnamed subtest after test_progs' 1/2 # TIMEOUT no result within its 5 s subtest timeout"
check "hang: its tasks' kernel stacks are in the report" has "$work/h.art/tests/001-selftests.log" 'kta-agent: task [0-9]+/[0-9]+ \(test_progs\)'
check "hang: the run is a timeout of that subtest" has "$work/hang.out" 'not ok 1 selftests # TIMEOUT killed: a subtest had no result within its 5 s subtest timeout'
check "hang: no QEMU left" bash -c "! pgrep -f '^qemu-system.*$TMPDIR' >/dev/null"

# A kernel warning on the console during one subtest fails that subtest.
kta warn run --accel tcg "${common[@]}" --selftests warn --artifacts "$work/w.art"
check "splat: exit 1" rc_is warn 1
check "splat: the subtest it came in fails with the kernel's line" \
	has "$work/warn.out" '^    not ok 2 warn/splat # KERNEL kernel WARNING during the subtest: WARNING: CPU: 0 PID: [0-9]+ at kta-fixture'
check "splat: the subtests before and after it pass" \
	bash -c "grep -q '^    ok 1 warn/quiet\$' '$work/warn.out' && grep -q '^    ok 3 warn/after\$' '$work/warn.out'"
check "splat: in the JSON, with its subtest" has "$work/w.art/results.json" '"test": 1, "subtest": 2, "kind": "WARNING"'

# Stress knobs are recorded; the tests still pass under them.
kta stress run --accel tcg "${common[@]}" --selftests alpha --stress hogs=2,nice=19,mem=64,preempt=full \
	--json "$work/stress.json" --artifacts "$work/s.art"
check "stress: exit 0" rc_is stress 0
check "stress: recorded in the summary" has "$work/stress.out" '^# guest: 2 vCPUs on one TCG thread, [0-9]+ MB; stress: hogs=2,nice=19,mem=64,preempt=full$'
check "stress: the kernel got preempt=full" has "$work/s.art/qemu-cmdline.txt" 'preempt=full'
check "stress: recorded in the JSON" has "$work/stress.json" '"stress": "hogs=2,nice=19,mem=64,preempt=full"'
kta badstress run --accel tcg "${common[@]}" --selftests alpha --stress hogs=lots --artifacts "$work/bs.art"
check "a bad --stress: exit 128" rc_is badstress 128

# A toolchain root that cannot be made: what failed, mmdebstrap's own
# words, nothing half-made left (its own cache: nothing else is touched).
KTA_CACHE=$work/cache KTA_TOOLCHAIN_SUITE=kta-no-such-suite kta badroot toolchain root
check "a root that cannot be made: exit 200" rc_is badroot 200
check "a root that cannot be made: says what failed, with mmdebstrap's output" \
	has "$work/badroot.err" 'cannot make the toolchain root kta-no-such-suite-.*: mmdebstrap failed'
check "a root that cannot be made: its whole output is kept" \
	bash -c "ls '$work'/cache/toolchains/kta-no-such-suite-*.failed.log >/dev/null"
check "a root that cannot be made: nothing half-made" \
	bash -c "! ls -d '$work'/cache/toolchains/kta-no-such-suite-*/ '$work'/cache/toolchains/.tmp-* 2>/dev/null | grep -q ."

# BPF CI's way (no -v): subtests come when their test ends, the override
# is still found among the test's logs.
kta ci run --accel tcg "${common[@]}" --selftests leaky --selftests-ci --artifacts "$work/ci.art"
check "ci output: exit 1" rc_is ci 1
check "ci output: test_progs ran without -v" has "$work/ci.art/plan.txt" '^test [0-9]+ selftests /selftests/test_progs -J [^ ]+ -a leaky'
check "the default: test_progs -v" has "$work/cmp.art/plan.txt" '^test [0-9]+ unpatched#1 /selftests/test_progs -J [^ ]+ -v -a alpha'
check "ci output: the leaking child's exit() is still the override" \
	has "$work/ci.out" 'not ok 1 leaky/exit # SANITIZER-EXIT-OVERRIDE'
check "ci output: said in the table" has "$work/ci.out" 'test_progs as BPF CI runs it \(no -v\)'

echo "1..$n"
[ "$nfail" -eq 0 ]
