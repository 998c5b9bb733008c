#!/bin/sh
# Integration test program: a test that skips (exit 4, kselftest's
# KSFT_SKIP) and gives its reason on a "SKIP:" line.
echo "SKIP: widget not present"
exit 4
