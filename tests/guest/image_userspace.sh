#!/bin/sh
# Acceptance test program for --image runs on a Debian image: the image's
# own dynamically linked programs (python3, bpftool, ip) run on the kernel
# under test. bpftool and ip talk to that kernel, not the image's.
set -e
python3 -c 'import platform, sys; print("python", sys.version.split()[0], "libc", platform.libc_ver()[1])'
bpftool version
bpftool prog show >/dev/null
ip -br link show lo
python3 -c 'import os; open(os.environ["KTA_OUT"] + "/userspace.txt", "w").write("python3 ran\n")'
