#!/bin/sh
# Integration test program for --image runs: write a file, sync it to the
# disk, then crash the kernel. The host must classify a panic in this test
# and still pull the file out of the overlay.
echo "written before the panic" > "$KTA_OUT/before-panic.txt" || exit 1
sync
echo "panicking the kernel"
echo c > /proc/sysrq-trigger
