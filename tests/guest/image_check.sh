#!/bin/sh
# Integration test program for --image runs: the test runs in the image's
# userspace (its /etc/os-release, its /bin/sh) and leaves a file in $KTA_OUT
# for the host to pull out of the overlay after the run.
[ -n "${KTA_OUT:-}" ] || { echo "KTA_OUT is not set: not an --image run"; exit 1; }
. /etc/os-release || exit 1
echo "running in: $PRETTY_NAME, kernel $(uname -r)"
echo "written in $ID by kernel $(uname -r)" > "$KTA_OUT/check.txt" || exit 1
