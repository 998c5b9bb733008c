#!/usr/bin/env bash
# `make vm-test`: boot a kernel (KERNEL=path, KERNEL=source for the minimal
# patched kernel built from Debian's linux-source, else Debian's prebuilt
# KVERSION, default 7.3) and run the guest suites in it: SUITE=asan, SUITE=sockmap, ... or all
# of them (the default); ITERATIONS=N for the sockmap measurements. Exit
# status is kta's (0: all passed).
set -u
O=${O:-build}
ARCH=${ARCH:-x86_64}
KVERSION=${KVERSION:-}
SUITE=${SUITE:-all}
# The sockmap suite's repeat count: 10,000 gives the recv-loop fix a
# meaningful "0 failures" (95% upper bound 0.04%).
ITERATIONS=${ITERATIONS:-10000}
# ARCH=all or a list (arm64,s390x): kta's matrix, suites by name.
first=${ARCH%%,*}
[ "$first" = all ] && first=x86_64
dir=$O/$first/suites
args=()
if [ "$SUITE" = all ]; then
	for m in "$dir"/*/suite.txt; do args+=(--suite "$(basename "$(dirname "$m")")"); done
else
	for s in ${SUITE//,/ }; do
		[ -f "$dir/$s/suite.txt" ] || {
			echo "vm-test: no suite '$s' (have: $(ls "$dir" | tr '\n' ' '))" >&2
			exit 2
		}
		args+=(--suite "$s")
	done
fi
# Default: 7.3, or the arch's newest where Debian has no 7.3 yet (kta says).
kernel=()
[ -n "$KVERSION" ] && kernel=(--kernel-version "$KVERSION")
case "$ARCH:${KERNEL:-}" in
all:?* | *,*:?*)
	echo "vm-test: KERNEL= boots one kernel, on one ARCH; the matrix uses Debian's kernels" >&2
	exit 2 ;;
esac
if [ "${KERNEL:-}" = source ]; then
	# The minimal kernel from Debian's linux-source with patches/ applied,
	# built once and cached (scripts/kernel-source.sh, docs/kernel-build.md).
	img=$(scripts/kernel-source.sh) || exit $?
	kernel=(--kernel "$img")
elif [ -n "${KERNEL:-}" ]; then
	kernel=(--kernel "$KERNEL")
fi
mkdir -p kta-out
out=(--json kta-out/vm-test.json --junit kta-out/vm-test.junit.xml)
case "$ARCH" in all | *,*) out=() ;; esac
# shellcheck disable=SC2086
exec "$O/kta" run --arch "$ARCH" "${kernel[@]}" "${out[@]}" --iterations "$ITERATIONS" \
	${KTA_ARGS:-} "${args[@]}"
