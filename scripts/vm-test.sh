#!/usr/bin/env bash
# `make vm-test`: boot a kernel (KERNEL=path, else Debian's KVERSION, default
# 7.3) and run the guest suites in it. Exit status is kta's (0: all passed).
set -u
O=${O:-build}
ARCH=${ARCH:-x86_64}
KVERSION=${KVERSION:-7.3}
tests=("$O/$ARCH"/tests/*)
kernel=(--kernel-version "$KVERSION")
[ -n "${KERNEL:-}" ] && kernel=(--kernel "$KERNEL")
mkdir -p kta-out
# shellcheck disable=SC2086
exec "$O/kta" run --arch "$ARCH" "${kernel[@]}" \
	--json kta-out/vm-test.json --junit kta-out/vm-test.junit.xml \
	${KTA_ARGS:-} "${tests[@]/#/--test=}"
