#!/usr/bin/env bash
# Install the Debian 12 packages kta needs, idempotently.
#   deps.sh install [PKG...]   install whatever is missing
#   deps.sh ensure [PKG...]    same, but cheap when nothing is missing (used by make)
# PKG: more packages, e.g. a guest architecture's QEMU and cross toolchain
# (make deps-arch takes them from host/base/arch.c's row: `kta arch show ARCH`).
# Only Debian's archive, through the system's own apt sources.
set -euo pipefail

# qemu-system-x86: the x86_64 guest; busybox-static: the guest's shell and
# tools; xz-utils/zstd/gzip: compressed kernel modules; cpio: the bench's
# baseline initramfs; procps: pgrep/pkill in the integration tests.
# The BPF toolchain (mk/bpf.mk, docs/toolchain.md): clang-19 compiles BPF
# programs, llvm-19 strips their DWARF (llvm-strip-19), bpftool generates
# skeletons; dpkg-dev unpacks libbpf's Debian source (dpkg-source), built
# static against libelf-dev and zlib1g-dev (their .a files serve the static
# guest programs; Debian 12's libelf needs no libzstd); pkg-config names
# libelf's own dependencies.
# Kernel builds (kta kernel build, docs/kernel-build.md): flex and bison for
# Kconfig, bc, libssl-dev and libelf-dev (objtool) for kbuild, dwarves for
# pahole (DEBUG_INFO_BTF), git for applying patch series (kta patches), tar
# for Debian's linux-source tarball, lz4 for the image (base.config's
# KERNEL_LZ4); ccache makes rebuilds fast (kta uses it when installed).
# The kernel's BPF selftests (docs/selftests.md): mmdebstrap makes the
# toolchain root (Debian sid, for clang 22), bubblewrap runs builds in it,
# e2fsprogs' mke2fs packs the payload image.
# libjansson-dev: kta reads and writes JSON reports (kta validate) with it.
pkgs=(build-essential make gcc libc6-dev xz-utils zstd gzip cpio procps busybox-static
      qemu-system-x86 ca-certificates debian-archive-keyring
      clang-19 llvm-19 bpftool dpkg-dev libelf-dev zlib1g-dev pkg-config
      flex bison bc libssl-dev dwarves git tar lz4 ccache
      mmdebstrap bubblewrap e2fsprogs libjansson-dev)
shift || true
pkgs+=("$@")

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[ "${st:0:2}" = ii ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "kta: installing missing packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
	sudo=(sudo -n)
else
	echo "kta: cannot install packages without root; run:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q >/dev/null
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "kta: installed ${missing[*]}" >&2
