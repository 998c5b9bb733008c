#!/usr/bin/env bash
# Run unit-test binaries (TAP) and print one line per binary.
set -u
fail=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	n=$(grep -c '^ok ' <<<"$out"); f=$(grep -c '^not ok ' <<<"$out")
	if [ $rc -ne 0 ] || [ "$f" -ne 0 ]; then
		echo "FAIL $t ($n ok, $f not ok, exit $rc)"; grep -A3 '^not ok\|ERROR\|runtime error' <<<"$out" | head -40
		fail=1
	else
		echo "ok   $t ($n checks)"
	fi
done
exit $fail
