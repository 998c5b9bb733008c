#!/usr/bin/env bash
# The fast parts of `kta kernel build` and `kta patches` on real trees:
# Debian's linux-source-7.3 (fetched once into the kta cache), hard-link
# copies of it, and small git repositories made here. No kernel is compiled
# (that is `make acceptance`); the config steps run the tree's own Kconfig.
# Prints TAP.
#
#   tests/integration/kbuild.sh
set -u
cd "$(dirname "$0")/../.."
O=${O:-build}
KTA=${KTA:-$O/kta-san}
KTA=$(realpath "$KTA")
SERIES=$(realpath patches/series)
work=$(mktemp -d /tmp/kta-kbuild-test.XXXXXX)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
n=0
mounted=

cleanup() {
	[ -n "$mounted" ] && umount "$mounted" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { # check DESC CMD...
	local d=$1; shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
has() { grep -qE -- "$2" "$1" || { echo "#   no /$2/ in $1:"; tail -5 "$1" | sed 's/^/#   /'; false; }; }
# kta_do NAME ARGS...: run kta, outputs and exit code into $work/NAME.*
kta_do() {
	local name=$1; shift
	"$KTA" "$@" >"$work/$name.out" 2>"$work/$name.err"
	echo $? >"$work/$name.rc"
	echo "# kta $*: exit $(cat "$work/$name.rc")"
}
rc_is() { [ "$(cat "$work/$1.rc")" = "$2" ] || { echo "#   $1: exit $(cat "$work/$1.rc"), want $2"; tail -5 "$work/$1.err" | sed 's/^/#   /'; false; }; }
no_sanitizer_report() { ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$work/$1.err"; }
# status_of NAME N: the status column of patch N in a `kta patches` table.
status_of() { awk -v n="$2" '$1 == n { print $3 }' "$work/$1.out"; }
all_status() { # all_status NAME STATUS
	local i
	for i in 1 2 3 4; do [ "$(status_of "$1" $i)" = "$2" ] || { echo "#   patch $i: $(status_of "$1" $i), want $2"; return 1; }; done
}

# The Debian 7.3 tree: fetched into the user's kta cache on the first run
# (167 MB), then cached.
USER_CACHE=${KTA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kta}
kta_do source kernel source --version 7.3
check "kernel source: exit 0" rc_is source 0
T73=$(tail -n1 "$work/source.out")
check "kernel source: a 7.3 kernel tree" test -f "$T73/Makefile" -a -f "$T73/.kta-source"
if ! [ -f "$T73/Makefile" ]; then
	echo "Bail out! no 7.3 tree"
	exit 1
fi
tok=tools/testing/selftests/bpf/prog_tests/token.c
sum0=$(sha256sum "$T73/$tok" | cut -d' ' -f1)

# --- Configuration: fragments, survival, bad fragments ---------------------
# Builds from --tree get their workspace in a private cache: the tests never
# touch the user's workspaces (whose incremental state a different config
# would throw away).
export KTA_CACHE=$work/cache
kta_do config kernel build --tree "$T73" --config-only --artifacts "$work/config.art"
check "config: exit 0" rc_is config 0
cfg=$(tail -n1 "$work/config.out")
check "config: the merged .config is printed" test -s "$cfg"
for o in BPF_SYSCALL=y DEBUG_INFO_BTF=y NET_SOCK_MSG=y USER_NS=y VIRTIO_PCI=y VIRTIO_CONSOLE=y \
	SERIAL_8250_CONSOLE=y BLK_DEV_INITRD=y DEVTMPFS=y MAGIC_SYSRQ=y 64BIT=y; do
	check "config: CONFIG_$o" has "$cfg" "^CONFIG_$o\$"
done
check "config: no modules" has "$cfg" '^# CONFIG_MODULES is not set$'
check "config: more than 500 options" [ "$(grep -c '^CONFIG_' "$cfg")" -gt 500 ]
check "config: the merge log is kept" test -s "$work/config.art/config.log"
check "config: no sanitizer report" no_sanitizer_report config

printf '# needs BLOCK, which tinyconfig leaves out\nCONFIG_EXT4_FS=y\n' >"$work/dropped.config"
kta_do dropped kernel build --tree "$T73" --config-only --fragments "base,$work/dropped.config" --artifacts "$work/dropped.art"
check "dropped option: exit 128" rc_is dropped 128
check "dropped option: named with its fragment line" has "$work/dropped.err" "CONFIG_EXT4_FS=y \\($work/dropped.config:2\\)"
check "dropped option: the Kconfig dependency that dropped it" has "$work/dropped.err" 'fs/ext4/Kconfig:[0-9]+: depends on BLOCK'
check "dropped option: the unmet symbol" has "$work/dropped.err" 'unmet: BLOCK  \(BLOCK is not set\)'
check "dropped option: no kernel in the cache for it" [ -z "$(cat "$work/dropped.out")" ]

printf 'CONFIG_KTA_NO_SUCH_OPTION=y\n# renamed to SYSCTL in 7.3\nCONFIG_PROC_SYSCTL=y\n' >"$work/unknown.config"
kta_do unknown kernel build --tree "$T73" --config-only --fragments "base,$work/unknown.config"
check "unknown option: exit 128" rc_is unknown 128
check "unknown option: each named" has "$work/unknown.err" 'CONFIG_KTA_NO_SUCH_OPTION .*no such option'
check "unknown option: a renamed one too" has "$work/unknown.err" "CONFIG_PROC_SYSCTL \\($work/unknown.config:3\\): no such option"

kta_do nofrag kernel build --tree "$T73" --config-only --fragments base,no_such_fragment
check "unknown fragment: exit 128" rc_is nofrag 128
check "unknown fragment: the known ones listed" has "$work/nofrag.err" 'unknown kernel config fragment `no_such_fragment`.*known: .*base'

printf 'CONFIG_A=y\nthis is not kconfig\n' >"$work/garbage.config"
kta_do garbage kernel build --tree "$T73" --config-only --fragments "$work/garbage.config"
check "malformed fragment: exit 128, line named" bash -c "[ \$(cat $work/garbage.rc) = 128 ] && grep -q 'garbage.config:2: not a Kconfig line' $work/garbage.err"

mkdir -p "$work/notatree"
echo 'all:' >"$work/notatree/Makefile"
kta_do notatree kernel build --tree "$work/notatree" --config-only
check "not a kernel tree: exit 128" rc_is notatree 128
check "not a kernel tree: says why" has "$work/notatree.err" 'is not a kernel tree: it has no `Kconfig`'

echo 'this is not a patch' >"$work/junk.patch"
kta_do junk kernel build --tree "$T73" --config-only --patches "$work/junk.patch"
check "not a patch: exit 128" rc_is junk 128
check "not a patch: says so" has "$work/junk.err" 'junk.patch` is not a patch'
printf '0001-missing.patch\n' >"$work/series-missing"
kta_do missing patches apply --tree "$work/notatree" --series "$work/series-missing"
check "series naming a missing file: exit 128" rc_is missing 128
check "series naming a missing file: names it" has "$work/missing.err" '0001-missing.patch.*No such file'

# --- Patch status on real trees ---------------------------------------------
cp -al "$T73" "$work/t73"
kta_do apply1 patches apply --tree "$work/t73" --artifacts "$work/apply1.art"
check "7.3: exit 0" rc_is apply1 0
check "7.3: all four applied" all_status apply1 applied
check "7.3: the copy is patched" grep -q '_exit(-err);' "$work/t73/$tok"
check "7.3: the cached tree is not (hard links broken by git apply)" \
	[ "$(sha256sum "$T73/$tok" | cut -d' ' -f1)" = "$sum0" ]
kta_do apply2 patches apply --tree "$work/t73"
check "7.3 again: exit 0" rc_is apply2 0
check "7.3 again: all four already-applied" all_status apply2 already-applied
sed -n '1,/^#.*status$/!p' "$work/apply1.out" | sed 's/^/#   /' | head -5
kta_do relative patches check --tree "$work/t73" --series patches/series
check "a relative --series path works (git apply runs in the tree)" all_status relative already-applied

cp -al "$T73" "$work/t73nomc"
f=tools/testing/selftests/bpf/prog_tests/sockmap_basic.c
# The tree without the multi-channel test (as in 6.12): drop both functions
# the patch changes and their callers.
awk '/^static (int wait_for_fionread|void test_sockmap_multi_channels)\(/ { skip = 1 }
     skip && /^}$/ { skip = 0; next }
     !skip && !/test_sockmap_multi_channels\(|wait_for_fionread\(/' \
	"$T73/$f" >"$work/nomc.c" && rm "$work/t73nomc/$f" && cp "$work/nomc.c" "$work/t73nomc/$f"
kta_do conflict patches apply --tree "$work/t73nomc" --artifacts "$work/conflict.art"
check "no multi-channel test: exit 1" rc_is conflict 1
check "no multi-channel test: 0001 applied" [ "$(status_of conflict 1)" = applied ]
check "no multi-channel test: 0003 is a conflict" [ "$(status_of conflict 3)" = conflict ]
check "no multi-channel test: stops there (0004 not tried)" [ "$(status_of conflict 4)" = not-tried ]
check "no multi-channel test: the file and hunks" has "$work/conflict.out" "$f: 4 of 4 hunks rejected"
check "no multi-channel test: says the functions do not exist" \
	has "$work/conflict.out" 'not in this tree.*test_sockmap_multi_channels\(\).*do not exist here'
check "no multi-channel test: rejected hunks saved" \
	test -s "$work/conflict.art/0003-selftests-bpf-Fix-timeouts-in-sockmap-multi-channels.patch.rej"
kta_do conflict2 patches check --tree "$work/t73nomc" --allow-conflicts --artifacts "$work/conflict2.art"
check "--allow-conflicts: 0004 tried too" [ "$(status_of conflict2 4)" = applies ]

T612=$(ls -d "${USER_CACHE}"/sources/linux-source-6.12-* 2>/dev/null | tail -n1)
if [ -n "$T612" ]; then
	kta_do t612 patches check --tree "$T612" --allow-conflicts --artifacts "$work/t612.art"
	check "6.12: 0003 conflicts, its functions do not exist" \
		bash -c "[ \"\$(awk '\$1 == 3 { print \$3 }' $work/t612.out)\" = conflict ] && grep -q 'test_sockmap_multi_channels().*do not exist' $work/t612.out"
else
	skip "6.12: 0003 conflicts" "no linux-source-6.12 in the cache (kta kernel source --version 6.12)"
fi

# A git repository made here, and a tree inside another repository (where
# a bare `git apply` silently applies nothing).
mkdir -p "$work/repo/tools/testing/selftests/bpf/prog_tests" "$work/outer/tree/tools/testing/selftests/bpf/prog_tests"
for t in token.c test_bpffs.c; do
	cp "$T73/tools/testing/selftests/bpf/prog_tests/$t" "$work/repo/tools/testing/selftests/bpf/prog_tests/"
	cp "$T73/tools/testing/selftests/bpf/prog_tests/$t" "$work/outer/tree/tools/testing/selftests/bpf/prog_tests/"
done
head -2 "$SERIES" | sed "s|^|$(dirname "$SERIES")/|" >"$work/series2"
g() { git -C "$1" -c user.name=t -c user.email=t@t "${@:2}" >/dev/null 2>&1; }
g "$work/repo" init -q && g "$work/repo" add -A && g "$work/repo" commit -qm base
kta_do git1 patches apply --tree "$work/repo" --series "$work/series2"
check "git repo: both applied" bash -c "[ \"\$(awk '\$1 ~ /^[12]\$/ { print \$3 }' $work/git1.out | sort -u)\" = applied ]"
check "git repo: the work tree changed" bash -c "git -C $work/repo diff --stat | grep -q '2 files changed'"
g "$work/repo" commit -qam fixed
kta_do git2 patches apply --tree "$work/repo" --series "$work/series2"
check "git repo, committed: both already-applied" \
	bash -c "[ \"\$(awk '\$1 ~ /^[12]\$/ { print \$3 }' $work/git2.out | sort -u)\" = already-applied ]"
g "$work/outer" init -q
kta_do outer patches apply --tree "$work/outer/tree" --series "$work/series2"
check "tree inside another git repo: applied" bash -c "[ \"\$(awk '\$1 ~ /^[12]\$/ { print \$3 }' $work/outer.out | sort -u)\" = applied ]"
check "tree inside another git repo: really changed" grep -q '_exit(-err);' "$work/outer/tree/$tok"

# --- The build's own use of the series -------------------------------------
kta_do pconfig kernel build --tree "$T73" --config-only --patches "$SERIES" --artifacts "$work/pconfig.art"
check "build with the series: exit 0" rc_is pconfig 0
check "build with the series: each patch applied to the snapshot" \
	bash -c "[ \$(grep -c 'patch [1-4]/4 applied' $work/pconfig.err) = 4 ]"
check "build with the series: the cached tree is untouched" [ "$(sha256sum "$T73/$tok" | cut -d' ' -f1)" = "$sum0" ]
check "build with the series: same config as without" cmp -s "$cfg" "$(tail -n1 "$work/pconfig.out")"
sums() { find "$1/tools/testing/selftests/bpf/prog_tests" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum; }
before=$(sums "$work/t73nomc")
kta_do pconflict kernel build --tree "$work/t73nomc" --config-only --patches "$SERIES" --artifacts "$work/pconflict.art"
check "build with a series that does not apply: exit 125 (bisect skip)" rc_is pconflict 125
check "build with a series that does not apply: says which" has "$work/pconflict.err" 'conflict.*0003-selftests'
check "build: the user's tree was never written to" [ "$(sums "$work/t73nomc")" = "$before" ]

# Trees given with --tree get their workspace in a private cache here.
kta_do reuse1 kernel build --tree "$work/t73" --config-only --artifacts "$work/reuse1.art"
kta_do reuse2 kernel build --tree "$work/t73" --config-only --artifacts "$work/reuse2.art"
check "config again, same inputs: Kconfig is not run again" \
	bash -c "! grep -q reusing $work/reuse1.err && grep -q 'inputs are unchanged: reusing' $work/reuse2.err"
check "config again: the same config" cmp -s "$work/reuse1.art/config" "$work/reuse2.art/config"

# --- Interrupted, and a full disk: nothing half-written in the cache --------
builds=$work/cache/builds
cp -al "$T73" "$work/t73int"
"$KTA" kernel build --tree "$work/t73int" --config-only --artifacts "$work/int.art" \
	>"$work/int.out" 2>"$work/int.err" &
pid=$!
for _ in $(seq 1 100); do grep -q configuring "$work/int.err" && break; sleep 0.1; done
sleep 1
kill -INT $pid
wait $pid
echo $? >"$work/int.rc"
check "SIGINT during the config: exit 130" rc_is int 130
check "SIGINT: no make left running" bash -c "! pgrep -f 'O=$work/cache/kbuil[d]/' >/dev/null"
check "SIGINT: no half entry in the cache" bash -c "! ls -d $builds/.tmp-* 2>/dev/null | grep -q ."

if [ "$(id -u)" = 0 ] && mkdir -p "$work/small" && mount -t tmpfs -o size=64m tmpfs "$work/small" 2>/dev/null; then
	mounted=$work/small
	KTA_CACHE=$work/small kta_do full kernel build --tree "$T73" --config-only
	check "full disk: exit 200" rc_is full 200
	check "full disk: says so" has "$work/full.err" 'not enough free disk for a kernel build'
	check "full disk: nothing in the cache's builds" bash -c "! ls $work/small/builds 2>/dev/null | grep -q ."
else
	skip "full disk" "needs root to mount a small tmpfs"
fi

echo "1..$n"
