#!/usr/bin/env bash
# Disk images for `kta run --image` (docs/image.md), built once and cached
# in $KTA_CACHE/images (default ~/.cache/kta/images); prints the image's path.
#
#   image.sh debian [ARCH]   Debian 12 minbase + python3, bpftool, iproute2,
#                            libasan8 (the asan suite's runtime): mmdebstrap
#                            from the archive the system's apt sources name
#   image.sh small [ARCH]    busybox and an os-release: make check's image
#
# Both become a partitioned qcow2 (MBR, one ext4) through libguestfs
# (build/kta-guestfs mkimage). IMAGE_REBUILD=1 makes them again.
set -euo pipefail

kind=${1:?usage: image.sh debian|small [ARCH]}
arch=${2:-x86_64}
O=${O:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
kta=$here/$O/kta
helper=$here/$O/kta-guestfs
cache=${KTA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kta}/images
deb_arch=$("$kta" arch show "$arch" | awk '$1 == "debian" { sub(",", "", $2); print $2 }')
[ -n "$deb_arch" ] || { echo "image.sh: unknown arch $arch" >&2; exit 2; }
out=$cache/$kind-$deb_arch.qcow2
mkdir -p "$cache"
# libguestfs's appliance lives in kta's cache (as `kta run --image` keeps it).
export LIBGUESTFS_CACHEDIR=${cache%/images}/guestfs
mkdir -p "$LIBGUESTFS_CACHEDIR"
if [ -f "$out" ] && [ "${IMAGE_REBUILD:-0}" != 1 ]; then
	echo "$out"
	exit 0
fi
exec 9>"$cache/.lock-$kind-$deb_arch"
flock 9
[ -f "$out" ] && [ "${IMAGE_REBUILD:-0}" != 1 ] && { echo "$out"; exit 0; }

tmp=$(mktemp -d "$cache/.tmp-$kind-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s.%N)
case $kind in
debian)
	# mmdebstrap without a mirror argument uses the system's apt sources.
	# A foreign arch runs its maintainer scripts under qemu-user: that
	# needs binfmt_misc and qemu-user-static, which mmdebstrap checks.
	mmdebstrap --quiet --variant=minbase --architectures="$deb_arch" \
		--include=python3-minimal,bpftool,iproute2,libasan8 \
		--customize-hook='echo kta-debian > "$1/etc/hostname"' \
		bookworm "$tmp/root.tar" >&2
	size=1024
	;;
small)
	# The arch's static busybox: the host's for x86_64, else the one
	# in kta's sysroot of that arch's Debian packages.
	if [ "$deb_arch" = "$(dpkg --print-architecture)" ]; then
		bb=/bin/busybox
	else
		bb=$("$kta" arch sysroot "$arch")/bin/busybox
	fi
	r=$tmp/root
	mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,tmp,run,var/lib,usr/bin,usr/sbin}
	install -m 0755 "$bb" "$r/bin/busybox"
	for t in sh cat echo ls mkdir sync uname sleep; do ln -s busybox "$r/bin/$t"; done
	printf 'ID=kta-small\nNAME="kta small image"\nVERSION_ID=1.0\nPRETTY_NAME="kta small image 1.0"\n' \
		> "$r/etc/os-release"
	echo kta-small > "$r/etc/hostname"
	tar -C "$r" --numeric-owner --owner=0 --group=0 -cf "$tmp/root.tar" .
	size=64
	;;
*)
	echo "image.sh: unknown kind $kind (debian, small)" >&2
	exit 2
	;;
esac
t1=$(date +%s.%N)
"$helper" mkimage "$tmp/root.tar" "$tmp/image.qcow2" "$size" >&2
t2=$(date +%s.%N)
mv "$tmp/image.qcow2" "$out"
awk -v a="$t0" -v b="$t1" -v c="$t2" -v k="$kind" \
	'BEGIN { printf "image.sh: %s root %.1f s, qcow2 through libguestfs %.1f s\n", k, b - a, c - b }' >&2
echo "$out"
