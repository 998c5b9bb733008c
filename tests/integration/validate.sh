#!/usr/bin/env bash
# `kta validate` on the miniature selftests tree (tests/fixtures): its
# series fixes a leaking child (leaky/exit fails every run without it),
# booting Debian's 7.3 cloud kernel on both sides (the series touches only
# tools/), with the ASAN+UBSAN build of kta. Checks the verdicts, the
# reports, --plan/--cell/--merge against a local run, --until-confident,
# a series that does not apply, Ctrl-C and a rerun, and bad input. The
# five-arch runs on real kernels are `make acceptance`. TAP.
set -u
cd "$(dirname "$0")/../.."
O=${O:-build}
KTA=${KTA:-$O/kta-san}
F=tests/fixtures/selftests-tree
SERIES=tests/fixtures/selftests-series
work=$(mktemp -d /tmp/kta-validate.XXXXXX)
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
. tests/integration/tap.sh
# The table's rows, without the paths of the report.
rows() { grep -E '^[a-z_]+/[a-z_]+ ' "$1" | sort; }
json_ok() { python3 -m json.tool "$1" >/dev/null || { echo "#   $1: not JSON"; false; }; }
xml_ok() { python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$1" || { echo "#   $1: not XML"; false; }; }
common=(--patches "$SERIES" --tree "$F" --selftests-toolchain host --asan --kernel-version 7.3)

# A fixed N, here: 3 shards of 6 runs per side.
kta local validate "${common[@]}" --selftests leaky,alpha,skipper --runs 6 --shards 3 --out "$work/local"
check "local: exit 0 (nothing regressed)" rc_is local 0
[ "$(cat "$work/local.rc")" = 0 ] ||
	for f in "$work"/local/cell-*/run.log; do echo "#   $f:"; tail -6 "$f" | sed 's/^/#     /'; done
check "local: leaky/exit 6/6 before, 0/6 after: fixed" \
	has "$work/local.out" '^leaky/exit +x86_64 +6/6 \(0\.61-1\.00\) +0/6 \(0\.00-0\.39\) +0\.001 +1\.000 +fixed'
check "local: a test that never failed: inconclusive, with the runs it needs" \
	has "$work/local.out" '^alpha/one +x86_64 +0/6 .* inconclusive, needs about 52 runs'
check "local: a subtest that skips is a skip, not a pass" \
	has "$work/local.out" '^skipper/needs_thing +x86_64 +skip x6 +skip x6 .* skipped'
check "local: the rule is printed" has "$work/local.out" 'Fisher.s exact test, one-sided each way, at 0.05'
check "local: both sides boot the same kernel (the series is in tools/ only)" \
	has "$work/local.err" 'changes only tools/: both sides boot the same kernel'
check "local: JSON report" json_ok "$work/local/validate.json"
check "local: JUnit is XML" xml_ok "$work/local/validate.xml"
check "local: the plot is SVG (XML)" xml_ok "$work/local/validate.svg"
check "local: the plot has a row per test" test "$(grep -c '<circle' "$work/local/validate.svg")" -ge 8
check "local: the report records the kernel, QEMU and series" \
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); c = d["cells"][1]
sys.exit(not (c["kernel_sha256"] and c["qemu"].startswith("QEMU") and c["series"].startswith("series ")))' \
	"$work/local/validate.json"
check "local: no sanitizer report from kta" no_sanitizer_report local

# The same plan as K separate processes in separate directories, in any
# order, then merged: the same table.
kta plan validate "${common[@]}" --selftests leaky,alpha,skipper --runs 6 --shards 3 --plan
check "plan: a GitHub Actions matrix of 6 cells" \
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(len(d["include"]) != 6)' "$work/plan.out"
kta k8s validate "${common[@]}" --selftests leaky,alpha,skipper --runs 6 --shards 3 --plan --format k8s
check "plan: a Kubernetes Indexed Job's completions" \
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(d["completions"] != 6)' "$work/k8s.out"
for i in 4 1 5 0 3 2; do
	kta "cell$i" validate "${common[@]}" --selftests leaky,alpha,skipper --runs 6 --shards 3 --cell "$i" \
		--out "$work/job$i"
done
check "cells: each exits 0 and names its result" \
	bash -c "for i in 0 1 2 3 4 5; do [ \$(cat $work/cell\$i.rc) = 0 ] && [ -s \"\$(cat $work/cell\$i.out)\" ] || exit 1; done"
kta merge validate --merge "$work"/job*/cell-*/result.json --out "$work/merged"
check "merge: exit 0" rc_is merge 0
check "merge: the same rows as the local run" diff <(rows "$work/local.out") <(rows "$work/merge.out")
kta missing validate --merge "$work"/job[0-4]/cell-*/result.json --out "$work/missing"
check "merge without one cell: exit 2" rc_is missing 2
check "merge without one cell: the cell is named" has "$work/missing.out" '^cell 5: no result'
kta dup validate --merge "$work"/job*/cell-*/result.json "$work/job3/cell-3/result.json" --out "$work/dup"
check "merge with a cell twice: named" has "$work/dup.out" 'cell 3 \(x86_64 after shard 1\) twice'
check "merge with a cell twice: counted once" diff <(rows "$work/local.out") <(rows "$work/dup.out")
echo '{"kta_validate_cell": 1, "plan": "x"}' >"$work/bad.json"
kta badmerge validate --merge "$work/bad.json"
check "merge of a file that is not a result: exit 128, says why" \
	bash -c "[ \$(cat $work/badmerge.rc) = 128 ] && grep -q 'plan: a 16-digit fingerprint' $work/badmerge.err"

# Adaptive: an always-failing test is decided at the first look.
kta adaptive validate "${common[@]}" --selftests leaky/exit,alpha/one --until-confident --first 5 --runs 20 \
	--out "$work/adaptive"
check "until-confident: exit 0" rc_is adaptive 0
check "until-confident: the stopping rule is printed" \
	has "$work/adaptive.out" 'looks after 5, 10, 20 runs per side; each look at 0.05/3'
check "until-confident: always failing before, never after: fixed at the first look (5 runs)" \
	has "$work/adaptive.out" '^leaky/exit +x86_64 +5/5 .* fixed \(at 5\)'
# 20 runs a side, unless a real kernel died in one of them (Debian's
# 7.3.4 does now and then under TCG): then the runs that finished, and
# the report names the cell (the kernel-death case is checked on its own
# below).
n_adaptive=20
if grep -qs '"kernel_died": true' "$work"/adaptive/cell-*/result.json; then
	echo "# adaptive: a kernel died during a run:"
	grep -h '"stopped"' "$work"/adaptive/cell-*/result.json | grep -v '""' | sed 's/^/#   /'
	n_adaptive='[0-9]+'
	check "until-confident: the cell whose kernel died is named" has "$work/adaptive.out" 'of [0-9]+ started: '
fi
check "until-confident: a test that never failed stays inconclusive within the budget" \
	has "$work/adaptive.out" "^alpha/one +x86_64 +0/$n_adaptive .* inconclusive, needs about"

# A kernel that dies in the middle of a cell (the fixture's crash test
# panics it in its 3rd run of a boot, on both sides): the runs that
# finished count, the rest never started and are said to be, and the
# deaths get their own row.
kta died validate "${common[@]}" --selftests alpha/one,crash --runs 5 --out "$work/died"
# Debian's kernel can also die for real under TCG, in any run ("Fatal
# exception in interrupt"; seen here in this scenario's first run): then
# once more, saying so. A cell stopped by anything but the fixture's
# sysrq crash is that.
if grep -h '"stopped"' "$work"/died/cell-*/result.json | grep -v '""' | grep -qv 'sysrq triggered crash'; then
	echo "# died: a kernel died on its own too:"
	grep -h '"stopped"' "$work"/died/cell-*/result.json | sed 's/^/#   /'
	rm -rf "$work/died"
	kta died validate "${common[@]}" --selftests alpha/one,crash --runs 5 --out "$work/died"
fi
check "kernel died mid-cell: exit 0 (the same on both sides)" rc_is died 0
# Runs 1 and 2 finished; run 3's alpha/one reaches the host or not
# before the panic does (the console and the results channel race).
check "kernel died mid-cell: the runs that finished count" has "$work/died.out" '^alpha/one +x86_64 +0/[23] .* 0/[23] '
check "kernel died mid-cell: a row of its own, 1 of 3 runs on each side" \
	has "$work/died.out" '^\(kernel panic/hang\) +x86_64 +1/3 .* 1/3 .* inconclusive'
check "kernel died mid-cell: each cell says how far it got, and why" \
	bash -c "grep -qE '^x86_64 before shard 0: 3 of 5 started: kernel-panic: .*sysrq triggered crash$' '$work/died.out' &&
		grep -qE '^x86_64 after shard 0: 3 of 5 started: kernel-panic: ' '$work/died.out'"
check "kernel died mid-cell: the result file records it" \
	python3 -c 'import json, sys; c = json.load(open(sys.argv[1]))
sys.exit(not (c["kernel_died"] and c["planned"] == 5 and c["started"] == 3 and c["stopped"].startswith("kernel-panic")))' \
	"$work/died/cell-0/result.json"
check "kernel died mid-cell: the JSON report carries it" \
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
sys.exit(not ("3 of 5 started" in d["stopped_early"] and any(r["test"] == "(kernel panic/hang)" for r in d["rows"])))' \
	"$work/died/validate.json"
check "kernel died mid-cell: JUnit is XML" xml_ok "$work/died/validate.xml"

# A series that does not apply: that side says so, the other still runs.
kta conflict validate --patches tests/fixtures/selftests-conflict --tree "$F" --selftests-toolchain host --asan \
	--kernel-version 7.3 --selftests leaky --runs 2 --out "$work/conflict"
check "conflict: exit 125 (applies nowhere)" rc_is conflict 125
check "conflict: the after side is not run, with the patch named" \
	has "$work/conflict.out" 'x86_64 after shard 0: not-run: .*0001-fixture-does-not-apply'
check "conflict: the before side ran" has "$work/conflict.out" '^leaky/exit +x86_64 +2/2 .* not run'
check "conflict: a series that does not apply is not booted twice" lacks "$work/conflict.err" 'once more'

# Ctrl-C after the first cell: exit 130, the cell kept; a rerun picks up.
"$KTA" validate "${common[@]}" --selftests leaky --runs 2 --jobs 1 --out "$work/int" >"$work/int.out" \
	2>"$work/int.err" &
pid=$!
for _ in $(seq 1 600); do [ -s "$work/int/cell-0/result.json" ] && break; sleep 0.1; done
sleep 0.5
kill -INT "$pid"
wait "$pid"
echo $? >"$work/int.rc"
check "Ctrl-C: exit 130" rc_is int 130
check "Ctrl-C: the finished cell is kept" test -s "$work/int/cell-0/result.json"
# ([q]: the pattern must not match the shell that runs pgrep.) The runs
# stop their guests and, built with ASAN, check for leaks as they exit:
# given up to 20 s.
left() { pgrep -f "[q]emu-system.*$work/" >/dev/null || pgrep -f "[k]ta-san run .*$work/int" >/dev/null; }
for _ in $(seq 1 200); do left || break; sleep 0.1; done
check "Ctrl-C: no QEMU or kta run left" bash -c "! { pgrep -f '[q]emu-system.*$work/' || pgrep -f '[k]ta-san run .*$work/int'; } >/dev/null"
kta rerun validate "${common[@]}" --selftests leaky --runs 2 --jobs 1 --out "$work/int"
check "rerun: exit 0" rc_is rerun 0
check "rerun: the finished cell is not run again" has "$work/rerun.err" 'cell 0 .*kept from an earlier run'
check "rerun: the table is whole" has "$work/rerun.out" '^leaky/exit +x86_64 +2/2 .* +0/2 '

# --replay: the report's command again, in a new directory.
kta replay validate --replay "$work/int/validate.json" --out "$work/replayed"
check "replay: exit 0" rc_is replay 0
check "replay: the same rows" diff <(rows "$work/rerun.out") <(rows "$work/replay.out")

# Suites and --test: kta run --runs on each side's kernel.
kta tests validate --patches "$SERIES" --kernel-version 7.3 --test "$O/x86_64/testdata/pass" \
	--test "$O/x86_64/testdata/fail" --runs 3 --out "$work/tests"
check "tests: exit 0" rc_is tests 0
check "tests: a failing test fails on both sides: inconclusive" \
	has "$work/tests.out" '^fail +x86_64 +3/3 .* 3/3 .* inconclusive'
check "tests: a passing test: 0/3 and 0/3" has "$work/tests.out" '^pass +x86_64 +0/3 .* 0/3 '

# A kernel that dies before the agent (Debian's 7.3.4 does, now and then,
# under TCG): the cell boots it once more and says so; a second failure is
# "not run". KTA_SELF puts a stand-in for `kta run` in front: cell 0's
# first boot fails, cell 1's every boot.
cat >"$work/flaky-boot" <<EOF
#!/bin/sh
json= prev=
for a; do [ "\$prev" = --json ] && json=\$a; prev=\$a; done
panic() { mkdir -p "\${json%/*}"; echo '{"status": "kernel-failed-to-boot"}' >"\$json"; echo "Kernel panic - not syncing: injected"; exit 125; }
if [ "\$1" = run ]; then
	case "\$*" in
	*/cell-1/*) echo cell-1 >>"$work/boots"; panic ;;
	*/cell-0/*) if [ ! -e "$work/boot-0" ]; then : >"$work/boot-0"; panic; fi ;;
	esac
fi
exec "$PWD/$KTA" "\$@"
EOF
chmod +x "$work/flaky-boot"
boot_scenario() {
	rm -rf "$work/boot" "$work/boot-0" "$work/boots"
	KTA_SELF=$work/flaky-boot kta boot validate --patches "$SERIES" --kernel-version 7.3 \
		--test "$O/x86_64/testdata/pass" --runs 2 --out "$work/boot"
}
boot_scenario
# Cell 0's second boot is a real one, and the real kernel can die on it
# too (the flake the retry is for): then the scenario shows nothing about
# the retry. Run it again, once, saying so; an injected failure on the
# retry (the stand-in or the retry broken) is no reason to.
if grep -q '"status": "boot-failed"' "$work/boot/cell-0/result.json" 2>/dev/null &&
	! grep -q '"reason": "[^"]*injected' "$work/boot/cell-0/result.json"; then
	echo "# boot: the real kernel died on cell 0's second boot too:"
	tail -12 "$work/boot/cell-0/run.log" | sed 's/^/#   /'
	boot_scenario
fi
check "boot retry: exit 2 (one side not run)" rc_is boot 2
check "boot retry: the cell whose first boot failed ran" has "$work/boot.out" '^pass +x86_64 +0/2 .* not run'
check "boot retry: the report says which cell was booted twice, and why" \
	has "$work/boot.out" '^x86_64 before shard 0: .*Kernel panic - not syncing: injected'
check "boot retry: its result file records it" has "$work/boot/cell-0/result.json" '"boot_retried": ".*injected'
check "boot retry: a cell that fails twice is not run" \
	has "$work/boot.out" '^x86_64 after shard 0: boot-failed: .*injected'
check "boot retry: booted twice, not more" test "$(grep -c cell-1 "$work/boots")" = 2

# A suite not built for an arch: said at once, before any kernel build.
kta nosuite validate --patches "$SERIES" --kernel-version 7.3 --suite nosuch --runs 1 --out "$work/nosuite"
check "a suite not built: each cell says so, nothing booted" \
	bash -c "grep -q 'the nosuch suite is not built for x86_64' '$work/nosuite.err' && ! ls '$work'/nosuite/cell-*/run >/dev/null 2>&1"

# Bad input: one clear error, nothing run.
kta nopatch validate --selftests leaky --kernel-version 7.3
check "no --patches: exit 128" rc_is nopatch 128
kta noselect validate --patches "$SERIES"
check "nothing to run: exit 128" rc_is noselect 128
kta badseries validate --patches "$work/none" --selftests leaky
check "a missing series: exit 128" rc_is badseries 128
kta badarch validate "${common[@]}" --selftests leaky --arch vax
check "an unknown arch: exit 128" rc_is badarch 128

echo "1..$n"
[ "$nfail" -eq 0 ]
