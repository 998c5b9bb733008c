#!/usr/bin/env bash
# Build (or reuse, from the kta cache) the minimal kernel the suites need,
# with kta's patch series applied, and print its image's path on stdout:
#
#   img=$(scripts/kernel-source.sh) || exit $?    # 125: does not build/apply
#   build/kta run --kernel "$img" --suite ...
#
# `make vm-test KERNEL=source` is meant to use it (see docs/kernel-build.md).
# Variables: KSOURCE (debian:7.3), KTREE (a kernel tree instead of KSOURCE),
# KFRAGMENTS (base,bpf,sockmap,asan), PATCHES (patches/series; "none" for
# none), JOBS (make -j; default: the number of CPUs), KBUILD_ARGS (more
# `kta kernel build` options). Extra arguments go to `kta kernel build` too.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
ARCH=${ARCH:-x86_64}
src=(--source "${KSOURCE:-debian:7.3}")
[ -n "${KTREE:-}" ] && src=(--tree "$KTREE")
patches=(--patches "${PATCHES:-patches/series}")
[ "${PATCHES:-}" = none ] && patches=()
jobs=()
[ -n "${JOBS:-}" ] && jobs=(-j "$JOBS")
# shellcheck disable=SC2086
exec "$O/kta" kernel build --arch "$ARCH" "${src[@]}" --fragments "${KFRAGMENTS:-base,bpf,sockmap,asan}" \
	"${patches[@]}" "${jobs[@]}" ${KBUILD_ARGS:-} "$@"
