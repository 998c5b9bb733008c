#!/usr/bin/env bash
# Integration tests of `kta run --image` (docs/image.md): a small image
# (busybox and an os-release, made by libguestfs once and cached) booted
# with Debian's 7.3.4 kernel under TCG. Checks the guest runs the tests in
# the image, a panicking test is classified and its file pulled from the
# overlay, bad images are refused before any boot, and the image's bytes
# never change (runs, a panic, Ctrl-C). Prints TAP.
set -u
cd "$(dirname "$0")/../.."
O=${O:-build}
KTA=${KTA:-$O/kta-san}
T=$O/x86_64/testdata
KVER=${KVER:-7.3.4}
work=$(mktemp -d /tmp/kta-image.XXXXXX)
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR" "$work/ro"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
n=0 nfail=0 locker=

cleanup() {
	[ -n "$locker" ] && kill "$locker" 2>/dev/null && wait "$locker" 2>/dev/null
	mountpoint -q "$work/ro" && umount "$work/ro"
	rm -rf "$work"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); nfail=$((nfail + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
has() { grep -qE -- "$2" "$1" || { echo "#   $1 lacks /$2/"; tail -3 "$1" | sed 's/^/#   /'; false; }; }
kta_run() { # kta_run NAME ARGS...: output, errors, exit code under $work/NAME.*
	local name=$1; shift
	"$KTA" run --accel tcg --kernel-version "$KVER" --artifacts "$work/$name.art" "$@" \
		>"$work/$name.out" 2>"$work/$name.err"
	echo $? >"$work/$name.rc"
	echo "# $name: exit $(cat "$work/$name.rc")"
}
rc_is() { [ "$(cat "$work/$1.rc")" = "$2" ] || { echo "#   $1: exit $(cat "$work/$1.rc"), want $2"; tail -5 "$work/$1.err" | sed 's/^/#   /'; false; }; }
no_boot() { [ ! -e "$work/$1.art/console.log" ] && ! grep -q '^kta: booting' "$work/$1.err"; }
no_qemu() { ! pgrep -f "^qemu-system.*$TMPDIR/kta-run-" >/dev/null; }
hash_of() { sha256sum "$1" | cut -d' ' -f1; }

t0=$(date +%s)
img=$(scripts/image.sh small x86_64 2>"$work/image.err")
check "small image made (or cached): $img" test -f "$img"
[ -f "$img" ] || { cat "$work/image.err" | sed 's/^/#   /'; echo "1..$n"; exit 1; }
echo "# image ready after $(($(date +%s) - t0)) s"
h0=$(hash_of "$img")

# The image through a read-only bind mount: kta never needs to write it.
cp "$img" "$work/small.qcow2"
if mount --bind "$work" "$work/ro" && mount -o remount,bind,ro "$work/ro"; then
	ro=$work/ro/small.qcow2
else
	echo "# no read-only bind mount here: the image is used read-write"
	ro=$work/small.qcow2
fi

kta_run run --image "$ro" --pull /etc/hostname --json "$work/run.json" \
	--test "$T/image_check" --test "$T/pass" --test "$T/image_panic" --test "$T/pass2"
check "image run: exit 1 (a panic)" rc_is run 1
[ "$ro" = "$work/small.qcow2" ] || check "image run: read-only image accepted" has "$work/run.err" 'read-only: fine'
check "image run: test ran in the image's userspace" has "$work/run.art/tests/001-image_check.log" 'running in: kta small image 1.0'
check "image run: panic in image_panic, later test not run" \
	has "$work/run.out" 'not ok 3 image_panic # PANIC'
check "image run: report names the image's OS (libguestfs)" has "$work/run.out" '^# image: .*kta small image 1.0'
check "image run: results.json has the image" has "$work/run.json" '"product": "kta small image 1.0"'
check "image run: file written before the panic pulled" \
	has "$work/run.art/image-files/var/lib/kta/out/before-panic.txt" 'written before the panic'
check "image run: KTA_OUT file pulled" has "$work/run.art/image-files/var/lib/kta/out/check.txt" 'written in kta-small'
check "image run: --pull path pulled" has "$work/run.art/image-files/etc/hostname" 'kta-small'
check "image run: overlay removed" [ ! -e "$work/run.art/overlay.qcow2" ]
check "image run: image unchanged (sha256)" [ "$(hash_of "$work/small.qcow2")" = "$h0" ]

# A guest kta gives up on: the whole-run limit passes while a test hangs
# with no deadline of its own; kta kills QEMU, then pulls what the test
# before it wrote.
kta_run hung --image "$work/small.qcow2" --run-timeout 15 --timeout 0 \
	--test "$T/image_check" --test "$T/hang"
check "hung guest killed: classified guest-hung" has "$work/hung.out" '^# run: guest-hung'
check "hung guest killed: file pulled from the overlay" \
	has "$work/hung.art/image-files/var/lib/kta/out/check.txt" 'written in kta-small'
check "hung guest killed: image unchanged (sha256)" [ "$(hash_of "$work/small.qcow2")" = "$h0" ]

# Ctrl-C while a test hangs: no pull, overlay kept on request, image unchanged.
# Debian's cloud kernels sometimes panic during boot under TCG ("Fatal
# exception in interrupt", before the agent starts: the boot flake of
# docs/bisect.md, met here once in fresh-machine); such a boot is retried
# once, and said. A boot that got to the test is never retried.
interrupt_run() {
	rm -rf "$work/int.art"
	"$KTA" run --accel tcg --kernel-version "$KVER" --artifacts "$work/int.art" --keep-overlay \
		--image "$work/small.qcow2" --test "$T/hang" >"$work/int.out" 2>"$work/int.err" &
	pid=$!
	for _ in $(seq 1 600); do
		grep -q 'kta: begin 1' "$work/int.art/console.log" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	sleep 1
	kill -INT "$pid" 2>/dev/null
	wait "$pid"; echo $? >"$work/int.rc"
}
interrupt_run
if grep -q 'kernel-failed-to-boot' "$work/int.err"; then
	echo "# Ctrl-C: the kernel did not boot ($(grep -o 'kernel panic: .*' "$work/int.err" | head -1)); once more"
	interrupt_run
fi
check "Ctrl-C: exit 130" rc_is int 130
check "Ctrl-C: nothing pulled" has "$work/int.err" 'interrupted: nothing pulled'
check "Ctrl-C: overlay kept (--keep-overlay)" [ -s "$work/int.art/overlay.qcow2" ]
check "Ctrl-C: image unchanged (sha256)" [ "$(hash_of "$work/small.qcow2")" = "$h0" ]
check "Ctrl-C: no QEMU left" no_qemu

# Bad images: each refused before any boot, nothing written.
kta_run missing --image "$work/nonexistent.qcow2" --test "$T/pass"
check "missing image: usage error, no boot" rc_is missing 128
check "missing image: says so" has "$work/missing.err" 'nonexistent.qcow2.*No such file'
check "missing image: no boot" no_boot missing
printf 'not a disk\n' >"$work/text.img"
kta_run text --image "$work/text.img" --test "$T/pass"
check "non-image file: usage error" rc_is text 128
check "non-image file: says so" has "$work/text.err" 'is not a disk image'
check "non-image file: no boot, file unchanged" sh -c "[ \"\$(cat '$work/text.img')\" = 'not a disk' ]"
check "non-image file: no boot" no_boot text
cp "$img" "$work/corrupt.qcow2"
truncate -s 1M "$work/corrupt.qcow2"
hc=$(hash_of "$work/corrupt.qcow2")
kta_run corrupt --image "$work/corrupt.qcow2" --test "$T/pass"
check "corrupt image (truncated qcow2): usage error" rc_is corrupt 128
check "corrupt image: says so" has "$work/corrupt.err" 'is corrupt \(qemu-img check'
check "corrupt image: no boot, file unchanged" sh -c "[ '$(hash_of "$work/corrupt.qcow2")' = '$hc' ] && [ ! -e '$work/corrupt.art/console.log' ]"
mke2fs -q -t ext4 "$work/empty.raw" 16M >/dev/null 2>&1
he=$(hash_of "$work/empty.raw")
kta_run empty --image "$work/empty.raw" --test "$T/pass"
check "image without an OS: usage error" rc_is empty 128
check "image without an OS: says so, naming its filesystems" has "$work/empty.err" 'its filesystems: /dev/sda \(ext4\)'
check "image without an OS: no boot, image unchanged" sh -c "[ '$(hash_of "$work/empty.raw")' = '$he' ]"
check "image without an OS: no boot" no_boot empty
# The copy another QEMU holds open read-write (and may write).
cp "$img" "$work/locked.qcow2"
qemu-system-x86_64 -M pc -display none -S -nodefaults \
	-drive file="$work/locked.qcow2",if=virtio,format=qcow2 >"$work/locker.out" 2>&1 &
locker=$!
for _ in $(seq 1 50); do qemu-img info "$work/locked.qcow2" >/dev/null 2>&1 || break; sleep 0.1; done
kta_run locked --image "$work/locked.qcow2" --test "$T/pass"
check "image in use by another QEMU: usage error" rc_is locked 128
check "image in use by another QEMU: says so" has "$work/locked.err" 'in use by another process'
check "image in use by another QEMU: no boot" no_boot locked
kill "$locker"; wait "$locker" 2>/dev/null; locker=
check "image unchanged after all runs (sha256)" [ "$(hash_of "$work/small.qcow2")" = "$h0" ]
check "cached image unchanged (sha256)" [ "$(hash_of "$img")" = "$h0" ]
check "no QEMU left" no_qemu
echo "# image tests: $(($(date +%s) - t0)) s"
echo "1..$n"
[ "$nfail" -eq 0 ]
