#!/usr/bin/env bash
# `make acceptance`: the mission end to end, from a clean clone.
#  1. For x86_64 and arm64 (SOURCE_ARCHES: any of the five): builds (or
#     reuses from the kta cache) the
#     minimal kernel from Debian's linux-source-7.3 with patches/series
#     applied (scripts/kernel-source.sh), boots it and runs the smoke, ASAN
#     and sockmap suites with 1000 iterations; every test must end as its
#     manifest expects (kta exits 0).
#  2. A tree that does not compile exits 125 (x86_64).
#  3. The matrix: all five architectures (x86_64, arm64, riscv64, s390x,
#     ppc64le) on Debian's prebuilt kernels, the same three suites, one
#     table; riscv64's ASAN tests must skip with the profile's reason.
#  4. The kernel's own BPF selftests (SELFTESTS_ARCHES, default "x86_64
#     arm64"): the toolchain root, kta's selftests kernel of the patched
#     7.3.4 tree, test_progs with ASAN=1; token, test_bpffs and
#     sockmap_basic must pass on it. On x86_64 also: without and with the
#     series side by side (SELFTESTS_RUNS, default 3), Debian's 7.3.4 cloud
#     kernel (what its config cannot run is skipped with the reason), and a
#     series that does not apply (exit 125).
#  5. kta bisect: over Debian's released kernels (x86_64 from 6.12.43,
#     arm64 from 6.18.15, to 7.3.4: where the sockmap TCP stall went away),
#     and over commits of a real 7.3.4 history (scripts/bisect-history.sh:
#     the commit that reverts the UDP FIONREAD fix).
#  6. --image (docs/image.md): Debian 12 made by `make image`, Debian's
#     7.3.4 kernel: the smoke and asan suites and a test that runs the
#     image's python3, bpftool and ip pass, and a panicking test's file is
#     pulled, on x86_64 and arm64 (IMAGE_ARCHES; arm64's Debian image needs
#     qemu-user-static and binfmt_misc, else its busybox image is used); the
#     image's sha256 is unchanged.
# Prints TAP, the patch status table and the figures (build time, options,
# image size, boot). A cold run takes two full kernel builds (~20 min each
# on 2 cores).
#
# Variables: ITERATIONS (1000), MATRIX_ITERATIONS (200), SOURCE_ARCHES
# ("x86_64 arm64"), SELFTESTS_ARCHES ("x86_64 arm64"), SELFTESTS_RUNS (3),
# KSOURCE/KTREE/PATCHES/JOBS as for scripts/kernel-source.sh, KTA_ARGS
# (more `kta run` options). A cold run also builds the toolchain root (a
# minute), a selftests kernel per arch (~30 min each on 2 cores) and
# test_progs (~5 min each).
set -u
cd "$(dirname "$0")/.."
O=${O:-build}
N=${ITERATIONS:-1000}
NM=${MATRIX_ITERATIONS:-200}
art=kta-out/acceptance-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$art"
n=0 nfail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); nfail=$((nfail + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
# passed T FILE: KTAP says test T passed: "ok N T", with no directive
# ("ok N T # SKIP ..." is a skip, "# XFAIL" a known failure: neither passed).
passed() { grep -E "^ok [0-9]+ $1( |\$)" "$2" | grep -qvE " # (SKIP|XFAIL)"; }
done_tap() { echo "1..$n"; echo "# artifacts: $art"; [ "$nfail" -eq 0 ]; exit $?; }

# source_kernel ARCH: build the patched minimal kernel for ARCH, boot it and
# run the three suites.
source_kernel() {
	local ARCH=$1 t0 t1 rc img dir suites
	echo "# $ARCH: building (or reusing) the minimal patched kernel: scripts/kernel-source.sh"
	t0=$(date +%s)
	ARCH=$ARCH scripts/kernel-source.sh --artifacts "$art/$ARCH-kbuild" >"$art/$ARCH-kbuild.out" 2>"$art/$ARCH-kbuild.err"
	rc=$?
	t1=$(date +%s)
	sed 's/^/#   /' "$art/$ARCH-kbuild.err" | grep -v '^#   *$' | tail -20
	img=$(tail -n1 "$art/$ARCH-kbuild.out")
	check "$ARCH kernel build: exit 0 (got $rc)" [ "$rc" = 0 ]
	if [ "$rc" != 0 ] || [ ! -f "$img" ]; then
		echo "# the kernel did not build; see $art/$ARCH-kbuild.err and $art/$ARCH-kbuild/build.log"
		return
	fi
	dir=$(dirname "$img")
	check "$ARCH kernel build: image and config in the cache entry" test -s "$img" -a -s "$dir/config"
	check "$ARCH kernel build: no modules" grep -q '^# CONFIG_MODULES is not set$' "$dir/config"
	for o in VIRTIO_PCI VIRTIO_CONSOLE BPF_SYSCALL NET_SOCK_MSG USER_NS DEBUG_INFO_BTF BPF_EVENTS; do
		check "$ARCH kernel build: CONFIG_$o=y" grep -q "^CONFIG_$o=y\$" "$dir/config"
	done
	if grep -q 'patch [0-9]*/[0-9]*' "$art/$ARCH-kbuild.err"; then
		check "$ARCH kernel build: every patch applied" bash -c "! grep 'patch [0-9]*/[0-9]*' '$art/$ARCH-kbuild.err' | grep -qv ' applied '"
	else
		echo "# (cache hit: the series was applied when this kernel was built; see $dir/build.info)"
	fi
	ARCH=$ARCH scripts/kernel-source.sh >"$art/$ARCH-kbuild2.out" 2>"$art/$ARCH-kbuild2.err"
	check "$ARCH kernel build again: a cache hit that says so, same image" \
		bash -c "grep -q 'cache hit' '$art/$ARCH-kbuild2.err' && [ \"\$(tail -n1 '$art/$ARCH-kbuild2.out')\" = '$img' ]"
	echo "# $ARCH kernel: $img"
	echo "#   $(grep -c '^CONFIG_' "$dir/config") options, image $(stat -c %s "$img") bytes, $(sed -n 's/^build_ms=//p' "$dir/build.info") ms of make when built; this step $((t1 - t0)) s"

	echo "# $ARCH: booting it: smoke, asan and sockmap suites, $N iterations"
	suites=()
	for s in smoke asan sockmap; do suites+=(--suite "$O/$ARCH/suites/$s/suite.txt"); done
	# shellcheck disable=SC2086
	"$O/kta" run --arch "$ARCH" --kernel "$img" "${suites[@]}" --iterations "$N" \
		--json "$art/$ARCH-results.json" --junit "$art/$ARCH-results.junit.xml" --artifacts "$art/$ARCH-run" \
		${KTA_ARGS:-} >"$art/$ARCH-run.out" 2>"$art/$ARCH-run.err"
	rc=$?
	grep -E '^(ok|not ok|# (tests|run|kernel|time|arch):)' "$art/$ARCH-run.out" | sed 's/^/#   /'
	check "$ARCH kta run: exit 0, every test as its manifest expects (got $rc)" [ "$rc" = 0 ]
	check "$ARCH kta run: the guest ran the built kernel" grep -q "guest says 7\.3" "$art/$ARCH-run.out"
	for t in bpf_map btf_vmlinux bpffs sockmap_tcp_loop sockmap_udp_loop; do
		check "$ARCH kta run: $t passed" passed "$t" "$art/$ARCH-run.out"
	done
	# Where the arch's row says ASAN cannot run, its tests skip with that reason.
	if "$O/kta" arch show "$ARCH" | grep -qE '^asan +yes($|,)'; then
		for t in token__exit bpffs__exit; do
			check "$ARCH kta run: $t passed" passed "$t" "$art/$ARCH-run.out"
		done
		for t in token_exit bpffs_exit; do
			check "$ARCH kta run: $t fails the known way (sanitizer-exit-override)" grep -qE "^ok [0-9]+ $t # XFAIL" "$art/$ARCH-run.out"
		done
	else
		check "$ARCH kta run: the ASAN tests skip with the arch's reason" \
			[ "$(grep -cE "^ok [0-9]+ (token|bpffs)_+exit # SKIP $ARCH: " "$art/$ARCH-run.out")" = 4 ]
	fi
}

# The matrix: every architecture on Debian's prebuilt kernels.
matrix() {
	local out=$art/matrix.out rc a
	echo "# the matrix: all architectures on Debian's kernels, $NM iterations"
	# shellcheck disable=SC2086
	"$O/kta" run --arch all --suite smoke --suite asan --suite sockmap --iterations "$NM" \
		--artifacts "$art/matrix" ${KTA_ARGS:-} >"$out" 2>"$art/matrix.err"
	rc=$?
	sed 's/^/#   /' "$out"
	check "matrix: exit 0, every test on every arch as expected (got $rc)" [ "$rc" = 0 ]
	for a in x86_64 arm64 riscv64 s390x ppc64le; do
		check "matrix $a: smoke 3/0/0" grep -qE "^$a +[^ ]+ +3/0/0 " "$out"
		check "matrix $a: sockmap 6/0/0" grep -qE "^$a +.* 6/0/0 " "$out"
		check "matrix $a: recv loop 0 failures (UDP)" \
			grep -q "^# sockmap_udp_loop: failure rate 0/$NM " "$art/matrix/$a/output.log"
	done
	for a in x86_64 arm64 s390x ppc64le; do
		check "matrix $a: asan 2+2x/0/0 (the exit() variants fail the known way)" \
			grep -qE "^$a +[^ ]+ +[^ ]+ [^ ]+ +2\+2x/0/0 " "$out"
	done
	check "matrix riscv64: asan skipped, 0/0/4" grep -qE "^riscv64 +[^ ]+ +[^ ]+ [^ ]+ +0/0/4 " "$out"
	check "matrix riscv64: with the profile's reason" \
		grep -q "^ok 4 token_exit # SKIP riscv64: GCC 12 instruments riscv64 code" "$art/matrix/riscv64/output.log"
}

for a in ${SOURCE_ARCHES:-x86_64 arm64}; do
	source_kernel "$a"
done

# A tree that does not compile: exit 125 (git bisect run: skip), the
# compiler's error shown, nothing cached. Fast once the kernel above is in
# ccache: only the broken file misses. Its own KTA_CACHE, removed after.
echo "# a tree that does not build"
tree=$("$O/kta" kernel source 2>/dev/null | tail -n1)
broken=$art/broken-tree
cp -al "$tree" "$broken"
cp --remove-destination "$tree/init/main.c" "$broken/init/main.c"
printf '#error kta acceptance: this tree does not build\n' >>"$broken/init/main.c"
KTA_CACHE=$art/broken-cache KTREE=$broken scripts/kernel-source.sh --artifacts "$art/broken" \
	>"$art/broken.out" 2>"$art/broken.err"
rc=$?
check "broken tree: exit 125 (got $rc)" [ "$rc" = 125 ]
check "broken tree: the compiler's error is shown" grep -q 'init/main.c:.*error: #error kta acceptance' "$art/broken.err"
check "broken tree: nothing on stdout, nothing cached" \
	bash -c "[ ! -s '$art/broken.out' ] && ! ls '$art/broken-cache/builds' 2>/dev/null | grep -qv requests"
grep -A3 'the compiler said' "$art/broken.err" | sed 's/^/#   /'
rm -rf "$broken" "$art/broken-cache"

# The kernel's own BPF selftests, built from the patched tree, on kta's
# kernel of that tree.
selftests() {
	local A=$1 out=$art/$1-selftests rc
	echo "# $A: the BPF selftests (token, test_bpffs, sockmap_basic) with ASAN on kta's kernel of the patched tree"
	"$O/kta" run --arch "$A" --selftests token,test_bpffs,sockmap_basic --asan --patches patches/series \
		--json "$out.json" --artifacts "$out" >"$out.out" 2>"$out.err"
	rc=$?
	grep -E '^(# (tests|subtests|time|run|kernel):|not ok)|^    not ok' "$out.out" | sed 's/^/#   /'
	grep -E 'toolchain root|built (kernel|selftests)|payload:' "$out.err" | sed 's/^/#   /'
	check "$A selftests: exit 0, every subtest passed (got $rc)" [ "$rc" = 0 ]
	check "$A selftests: all 13 token subtests passed" [ "$(grep -E '^    ok [0-9]+ token/' "$out.out" | grep -cv ' # SKIP')" = 13 ]
	check "$A selftests: test_bpffs passed" grep -qE '^    ok [0-9]+ test_bpffs$' "$out.out"
	check "$A selftests: both multi-channel subtests passed" \
		[ "$(grep -cE '^    ok [0-9]+ sockmap_basic/sockmap (tcp|udp) multi channels$' "$out.out")" = 2 ]
	check "$A selftests: the guest ran kta's kernel" grep -q "guest says 7\.3\.4" "$out.out"
	check "$A selftests: from the ext4 payload" grep -q 'payload on ext4/virtio-blk' "$out.out"
}

compare() {
	local out=$art/x86_64-compare rc runs=${SELFTESTS_RUNS:-3}
	echo "# x86_64: the seed subtests without and with the series, $runs runs each, interleaved"
	"$O/kta" run --selftests 'token,test_bpffs,sockmap_basic/sockmap*multi*' --asan --patches patches/series \
		--compare-patches --runs "$runs" --artifacts "$out" >"$out.out" 2>"$out.err"
	rc=$?
	sed -n '/^# ---- selftests/,$p' "$out.out" | sed 's/^/#   /'
	check "compare: exit 0 or 1 (got $rc)" [ "$rc" = 0 -o "$rc" = 1 ]
	check "compare: a row per seed subtest with both builds" \
		grep -qE '^# token/map_token +[0-9]+/'"$runs"' .* [0-9]+/'"$runs"' ' "$out.out"
	check "compare: the patched build passes everything" \
		bash -c "! grep -E '^not ok [0-9]+ patched' '$out.out'"
}

debian_kernel() {
	local out=$art/x86_64-debian rc
	echo "# x86_64: the BPF selftests on Debian's 7.3.4 cloud kernel"
	"$O/kta" run --kernel-version 7.3 --selftests token,test_bpffs --asan --patches patches/series \
		--artifacts "$out" >"$out.out" 2>"$out.err"
	rc=$?
	grep -E '^    (not )?ok .*SKIP|^# subtests' "$out.out" | sed 's/^/#   /'
	check "debian kernel: exit 0: what it cannot run is skipped (got $rc)" [ "$rc" = 0 ]
	check "debian kernel: test_bpffs skipped for CONFIG_BPF_PRELOAD" \
		grep -qE '^    ok [0-9]+ test_bpffs # SKIP the kernel.s config lacks CONFIG_BPF_PRELOAD' "$out.out"
	check "debian kernel: three token subtests skipped for unprivileged BPF" \
		[ "$(grep -cE '^    ok [0-9]+ token/obj_priv_(btf_success|implicit_token|implicit_token_envvar) # SKIP the kernel.s config sets CONFIG_BPF_UNPRIV_DEFAULT_OFF' "$out.out")" = 3 ]
	check "debian kernel: the other ten token subtests passed" \
		[ "$(grep -cE '^    ok [0-9]+ token/[a-z_]+$' "$out.out")" = 10 ]
	"$O/kta" selftests build --patches tests/fixtures/selftests-conflict >"$art/conflict.out" 2>"$art/conflict.err"
	rc=$?
	check "selftests: a series that does not apply to the tree exits 125 (got $rc)" [ "$rc" = 125 ]
}

# Release bisect over Debian's kernels: the sockmap TCP check phase
# ("data stalled") fails on 6.12 to 7.2.6 and passes from 7.2.9 on.
bisect_release() {
	local a=$1 good=$2 max=$3 out=$art/bisect-$1 rc
	echo "# $a: kta bisect --fix over Debian's kernels from $good to 7.3.4"
	"$O/kta" bisect --fix --arch "$a" --good "$good" --bad 7.3.4 --suite sockmap:sockmap_tcp_single \
		--iterations 10 --first 3 --out "$out" >"$out.out" 2>"$out.err"
	rc=$?
	sed 's/^/#   /' "$out.out"
	check "bisect $a: exit 0 (got $rc)" [ "$rc" = 0 ]
	check "bisect $a: the TCP stall went away in 7.2.9" grep -q '^# first version where it passes: 7\.2\.9+deb13' "$out.out"
	check "bisect $a: at most $max boots" [ "$(sed -n 's/^# \([0-9]*\) boots,.*/\1/p' "$out.out")" -le "$max" ]
}

# Commit bisect on a real history (scripts/bisect-history.sh): the
# commit that reverts the UDP FIONREAD fix, found with incremental builds.
bisect_commits() {
	local out=$art/bisect-commits tree rc
	echo "# x86_64: kta bisect --tree over Debian's 7.3.4 with six commits on top"
	tree=$(scripts/bisect-history.sh "$art/bisect-history") || { nok "bisect history: made"; return; }
	"$O/kta" bisect --tree "$tree" --good v7.3.4-debian --bad main --suite 'sockmap:sockmap_udp_*' \
		--iterations 10 --out "$out" >"$out.out" 2>"$out.err"
	rc=$?
	sed 's/^/#   /' "$out.out"
	check "commit bisect: exit 0 (got $rc)" [ "$rc" = 0 ]
	check "commit bisect: names the revert" \
		grep -q '^# first bad commit: [0-9a-f]* Revert the UDP part of "bpf, sockmap: Fix FIONREAD for sockmap"' "$out.out"
	check "commit bisect: the tree is back on main" [ "$(git -C "$tree" symbolic-ref --short HEAD)" = main ]
	rm -rf "$tree"
}

# image_run ARCH: the Debian image (or, for a foreign arch mmdebstrap
# cannot build here, the small busybox image) on Debian's 7.3.4 kernel.
image_run() {
	local a=$1 out=$art/image-$1 img kind=debian h0 rc suites=(--suite smoke)
	local T=$O/$a/testdata
	img=$(scripts/image.sh debian "$a" 2>"$out.image.err") || {
		echo "# $a: no Debian image (needs qemu-user-static and binfmt_misc?): the small one"
		sed 's/^/#   /' "$out.image.err" | tail -3
		kind=small
		img=$(scripts/image.sh small "$a" 2>>"$out.image.err") || { nok "$a image: made"; return; }
	}
	grep 'image.sh:' "$out.image.err" | sed 's/^/# /'
	h0=$(sha256sum "$img" | cut -d' ' -f1)
	[ "$kind" = debian ] && suites+=(--suite asan --test "$T/image_userspace")
	"$O/kta" run --arch "$a" --kernel-version 7.3.4 --image "$img" --artifacts "$out" ${KTA_ARGS:-} \
		"${suites[@]}" --test "$T/image_check" --test "$T/image_panic" >"$out.out" 2>"$out.err"
	rc=$?
	grep -E '^# (image|time|tests):' "$out.out"
	grep -E 'inspected in|pulled in' "$out.err" | sed 's/^/# /'
	check "$a image ($kind): exit 1, the panic" [ "$rc" = 1 ]
	check "$a image: image_panic is the panic" grep -q '^not ok [0-9]* image_panic # PANIC' "$out.out"
	check "$a image: every test before it as expected" \
		[ "$(grep -cE '^ok [0-9]+ ' "$out.out")" = "$(($(grep -cE '^(ok|not ok) ' "$out.out") - 1))" ]
	check "$a image: the test ran in the image" grep -q 'running in:' "$out/tests/"*-image_check.log
	[ "$kind" = debian ] && check "$a image: python3, bpftool and ip of the image ran" \
		passed image_userspace "$out.out"
	check "$a image: report names the OS" grep -q "^# image: .*$kind" "$out.out"
	check "$a image: file written before the panic pulled" \
		test -s "$out/image-files/var/lib/kta/out/before-panic.txt"
	check "$a image: unchanged (sha256)" [ "$(sha256sum "$img" | cut -d' ' -f1)" = "$h0" ]
}

for a in ${IMAGE_ARCHES:-x86_64 arm64}; do
	image_run "$a"
done
bisect_release x86_64 6.12.43 8
bisect_release arm64 6.18.15 7
bisect_commits

for a in ${SELFTESTS_ARCHES:-x86_64 arm64}; do
	selftests "$a"
done
case " ${SELFTESTS_ARCHES:-x86_64 arm64} " in
*" x86_64 "*) compare; debian_kernel ;;
esac

matrix
done_tap
