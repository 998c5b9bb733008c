#!/usr/bin/env bash
# Build a host bpftool from the kernel tree's tools/bpf/bpftool into OUT.
# Debian 12's bpftool (7.1, on libbpf 1.1) refuses BPF objects of the other
# byte order ("Endian mismatch"), so big-endian guests (s390x) need a newer
# one for their skeletons. The tree is Debian's linux-source (`kta kernel
# source`, shared and read-only): only the parts bpftool's build reads are
# copied out, and the build writes nowhere else.
#   scripts/bpftool.sh KTA OUT
set -euo pipefail
kta=$1
out=$2
src=$("$kta" kernel source | tail -n1)
[ -f "$src/tools/bpf/bpftool/Makefile" ] || { echo "bpftool.sh: no tools/bpf/bpftool in \`$src'" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out/src/kernel" "$out/src/scripts" "$out/src/include" "$out/build"
cp -a "$src/tools" "$out/src/"
cp -a "$src/kernel/bpf" "$out/src/kernel/"            # disasm.c
cp "$src/scripts/bpf_doc.py" "$out/src/scripts/"        # bpf_helper_defs.h
cp -a "$src/include/uapi" "$out/src/include/"
if ! make -C "$out/src/tools/bpf/bpftool" OUTPUT="$(cd "$out/build" && pwd)/" -j"$(nproc)" \
	>"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	echo "bpftool.sh: building bpftool from \`$src' failed (log: $out/build.log)" >&2
	exit 1
fi
"$out/build/bpftool" version >/dev/null
mv "$out/build/bpftool" "$out/bpftool"
rm -rf "$out/src"
