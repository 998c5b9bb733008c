#!/bin/sh
# Integration test program: crash the kernel on purpose, so the host must
# attribute the panic to this test and report the later tests as not run.
echo "panicking the kernel"
echo c > /proc/sysrq-trigger
