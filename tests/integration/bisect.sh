#!/usr/bin/env bash
# `kta bisect` over Debian's real 7.2.x kernels (fetched once, cached),
# with tests/fixtures/bisect/changes-at: a guest test whose behaviour
# changes at 7.2.9, always or at a random 20% rate. Checks that the
# bisect names 7.2.9 within log2(versions) + 2 boots, the flaky case with
# its confidence, --fix, --line, Ctrl-C, bad input; and that an image-only
# kernel (Debian's 7.1: no config, no modules in the archive) boots. With
# the ASAN+UBSAN build of kta. TAP.
set -u
cd "$(dirname "$0")/../.."
O=${O:-build}
KTA=${KTA:-$O/kta-san}
T=tests/fixtures/bisect/changes-at
work=$(mktemp -d /tmp/kta-bisect.XXXXXX)
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
. tests/integration/tap.sh
boots() { sed -n 's/^# \([0-9]*\) boots,.*/\1/p' "$work/$1.out"; }
first_new() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["first_new"])' "$work/$1/bisect.json"; }

# Always failing from 7.2.9 on: 6 versions from 7.2.6 to 7.3.4.
kta det bisect --good 7.2.6 --bad 7.3.4 --test "$T" --out "$work/det"
check "regression: exit 0" rc_is det 0
check "regression: names 7.2.9" has "$work/det.out" '^# first bad version: 7\.2\.9\+deb13 \(last as before: 7\.2\.6\+deb13\); posterior probability 0\.9'
check "regression: at most log2(6) + 2 = 5 boots" test "$(boots det)" -le 5
check "regression: bisect.json names it" test "$(first_new det)" = 7.2.9+deb13
check "regression: a step's log has the kta run command" has "$work/det/05-7.3.4+deb13-1/run.log" '^\$ .* run --arch x86_64 --kernel-version 7\.3\.4\+deb13 --runs 5 '
check "regression: no sanitizer report from kta" no_sanitizer_report det

# Failing in 20% of runs from 7.2.9 on. At alpha = beta = 0.001 a step
# is misjudged with a probability near 0.001 (Wald's bounds), so this
# check fails in well under 1% of runs.
kta flaky bisect --good 7.2.6 --bad 7.3.4 --test "$T" --env KTA_RATE=20 --alpha 0.001 --beta 0.001 \
	--first 20 --max-runs 400 --out "$work/flaky"
check "flaky: exit 0" rc_is flaky 0
check "flaky: names 7.2.9" test "$(first_new flaky)" = 7.2.9+deb13
check "flaky: the confidence is printed" has "$work/flaky.out" '^# first bad version: 7\.2\.9\+deb13 .*posterior probability (0\.99|1\.0000)'
check "flaky: the rates and the rule are printed" has "$work/flaky.out" "^# rates: 7\.2\.6\+deb13 0/[0-9]+, 7\.3\.4\+deb13 [0-9]+/[0-9]+; a step is judged by Wald's SPRT"
check "flaky: runs per step are shown" has "$work/flaky.out" '^1 +7\.2\.9\+deb13 +new +[0-9]+/[0-9]+ '

# --fix: the first version where a failure went away.
kta fix bisect --fix --good 7.2.6 --bad 7.3.4 --test "$T" --env KTA_SIDE=old --out "$work/fix"
check "fix: names 7.2.9" has "$work/fix.out" '^# first version where it passes: 7\.2\.9\+deb13'

# --line: only 7.2.x between 6.18.15 and 7.2.9.
kta line bisect --good 6.18.15 --bad 7.2.9 --line 7.2 --test "$T" --out "$work/line"
check "line: 3 versions (6.18.15, 7.2.6, 7.2.9)" has "$work/line.out" '^# kta bisect .*: 3 versions from 6\.18\.15\+deb13'
check "line: names 7.2.9" test "$(first_new line)" = 7.2.9+deb13

# Not monotonic: failing from 7.2.12 on, and at 7.2.9. The boundary's
# neighbours show it; no version is named.
kta nonmono bisect --good 7.2.6 --bad 7.3.4 --test "$T" --env KTA_FROM=7.2.12 --env KTA_EXCEPT=7.2.9 \
	--out "$work/nonmono"
check "not monotonic: exit 2" rc_is nonmono 2
check "not monotonic: said plainly, naming the version" \
	has "$work/nonmono.out" '^# NOT MONOTONIC in version order: 7\.2\.9\+deb13 behaves as the new end'
check "not monotonic: bisect.json names no version" test -z "$(first_new nonmono)"

# Nothing between the ends.
kta adj bisect --good 7.2.6 --bad 7.2.9 --test "$T" --out "$work/adj"
check "adjacent: said so, and named" bash -c "grep -q 'nothing lies between them' '$work/adj.out' && grep -q '^# first bad version: 7.2.9' '$work/adj.out'"

# A kernel that dies before the agent (as Debian's do, now and then, under
# TCG) is booted once more, and the step says so. KTA_SELF puts a stand-in
# in front of `kta run`: 7.2.9's first boot "panics".
cat >"$work/flaky-boot" <<EOF
#!/bin/sh
json= prev=
for a; do [ "\$prev" = --json ] && json=\$a; prev=\$a; done
case "\$*" in
*"--kernel-version 7.2.9+deb13 "*)
	if [ ! -e "$work/boot-once" ]; then
		: >"$work/boot-once"; mkdir -p "\${json%/*}"
		echo '{"status": "kernel-failed-to-boot"}' >"\$json"
		echo "Kernel panic - not syncing: injected"; exit 125
	fi ;;
esac
exec "$PWD/$KTA" "\$@"
EOF
chmod +x "$work/flaky-boot"
export KTA_SELF=$work/flaky-boot
kta retry bisect --good 7.2.6 --bad 7.2.9 --test "$T" --out "$work/retry"
unset KTA_SELF
check "boot retry: 7.2.9 still named" test "$(first_new retry)" = 7.2.9+deb13
check "boot retry: the step says it booted twice, and why" \
	has "$work/retry.out" 'booted twice: the first boot died before the agent \(Kernel panic - not syncing: injected\)'

# The behaviour the other way round: a fix bisected as a regression.
kta swapped bisect --good 7.2.6 --bad 7.3.4 --test "$T" --env KTA_SIDE=old --out "$work/swapped"
check "swapped behaviour: exit 128" rc_is swapped 128
check "swapped behaviour: says so, and what to use" has "$work/swapped.err" 'the ends are swapped for a regression; use --fix'

# A test that never fails: nothing to bisect.
kta same bisect --good 7.2.6 --bad 7.3.4 --test "$O/x86_64/testdata/pass" --max-runs 10 --out "$work/same"
check "no difference: exit 2" rc_is same 2
check "no difference: says so" has "$work/same.err" 'cannot be told apart within 10 runs each: nothing to bisect'

# Bad input: one clear error, nothing booted.
kta unknown bisect --good 7.2.7 --bad 7.3.4 --test "$T" --out "$work/unknown"
check "unknown version: exit 128, with what exists" bash -c "grep -q 'no amd64 kernel 7.2.7' '$work/unknown.err' && grep -q '^  7.2.6+deb13' '$work/unknown.err' && [ \"\$(cat '$work/unknown.rc')\" = 128 ]"
kta order bisect --good 7.3.4 --bad 7.2.6 --test "$T" --out "$work/order"
check "good newer than bad: exit 128, says so" bash -c "grep -q 'is newer than --bad' '$work/order.err' && [ \"\$(cat '$work/order.rc')\" = 128 ]"
kta nosel bisect --good 7.2.6 --bad 7.3.4
check "nothing to run: exit 128" rc_is nosel 128

# Ctrl-C in the middle: exit 130, the steps so far printed and kept.
"$KTA" bisect --good 7.2.6 --bad 7.3.4 --test "$T" --env KTA_RATE=20 --alpha 0.001 --beta 0.001 --first 20 \
	--max-runs 400 --out "$work/int" >"$work/int.out" 2>"$work/int.err" &
pid=$!
for _ in $(seq 1 900); do [ -e "$work/int/05-7.3.4+deb13-1/run.log" ] && break; sleep 0.1; done
sleep 2
kill -INT "$pid"
wait "$pid"
echo $? >"$work/int.rc"
check "Ctrl-C: exit 130" rc_is int 130
check "Ctrl-C: the steps so far are printed" has "$work/int.out" '^# interrupted; the steps so far:'
check "Ctrl-C: bisect.json is kept" test -s "$work/int/bisect.json"
for _ in $(seq 1 100); do pgrep -f "[q]emu-system.*$work/" >/dev/null || break; sleep 0.1; done
check "Ctrl-C: no QEMU left" bash -c "! pgrep -f '[q]emu-system.*$work/' >/dev/null"

# An image-only kernel (Debian kept only linux-binary for 7.1): it boots,
# and kta kernel list says so.
kta imgonly run --kernel-version 7.1.13 --test "$O/x86_64/testdata/pass" --artifacts "$work/imgonly"
check "image-only 7.1.13: boots and runs the test" rc_is imgonly 0
"$KTA" kernel list --version 7.1.13 >"$work/list.out" 2>&1
check "image-only 7.1.13: kta kernel list says it boots" has "$work/list.out" '^7\.1\.13\+deb13-cloud-amd64 .*image only: .*boots without modules'

echo "1..$n"
[ "$nfail" -eq 0 ]
