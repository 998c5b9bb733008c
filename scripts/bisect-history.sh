#!/usr/bin/env bash
# A real history to bisect: Debian's linux-source-7.3 (7.3.4) as a git
# repository in DEST (default /var/tmp/kta-bisect-history), tagged
# v7.3.4-debian, with six commits on top; the fourth reverts the UDP half
# of the sockmap FIONREAD fix (examples/revert-udp-fionread), which the
# sockmap suite's UDP tests see. The others change a comment or
# whitespace in files the minimal kernel builds (skmsg.c, syscall.c,
# tcp.c, string.c) or not at all (Documentation), so each step rebuilds a
# little. Prints DEST. Used by `make acceptance` and docs/bisect.md.
set -eu
cd "$(dirname "$0")/.."
O=${O:-build}
dest=${1:-/var/tmp/kta-bisect-history}
src=$("$O/kta" kernel source --version 7.3)
rm -rf "$dest"
cp -a "$src/." "$dest"
rm -f "$dest/.kta-source"
g() { git -C "$dest" "$@"; }
g init -q -b main
g config user.email kta@example.invalid
g config user.name kta
# Debian's top-level .gitignore ignores everything (its packaging repo
# holds only debian/): -f adds the tree itself.
g add -A -f .
g commit -q -m "Debian linux-source-7.3 7.3.4"
g tag v7.3.4-debian
comment() { # FILE SUBJECT: a comment line before the file's first comment
	sed -i '0,/^\/\*/s//\/* kta bisect history: a comment. *\/\n\/*/' "$dest/$1"
	g commit -q -am "$2"
}
sed -i '1s/$/ /' "$dest/Documentation/bpf/map_sockmap.rst"
g commit -q -am "Documentation: bpf: sockmap page whitespace"
comment net/core/skmsg.c "net: skmsg: a comment"
comment kernel/bpf/syscall.c "bpf: syscall: a comment"
g apply "$PWD/examples/revert-udp-fionread/0001-Revert-the-UDP-part-of-bpf-sockmap-Fix-FIONREAD.patch"
g commit -q -am 'Revert the UDP part of "bpf, sockmap: Fix FIONREAD for sockmap"'
comment net/ipv4/tcp.c "tcp: a comment"
comment lib/string.c "lib: string: a comment"
echo "$dest"
