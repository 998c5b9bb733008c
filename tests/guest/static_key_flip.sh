#!/bin/sh
# Switch a static key with sites all over the scheduler (schedstats) on
# and off N times (KTA_ITERATIONS, default 300) while two busy loops keep
# the other vCPU scheduling: x86 patches each site live, through an int3
# (kta arch show: tcg threads). Exits 77 (skip) without the sysctl.
[ -w /proc/sys/kernel/sched_schedstats ] || { echo "no kernel.sched_schedstats"; exit 77; }
n=${KTA_ITERATIONS:-300}
(while :; do sleep 0; done) &
a=$!
(while :; do sleep 0; done) &
b=$!
i=0
while [ "$i" -lt "$n" ]; do
	echo 1 >/proc/sys/kernel/sched_schedstats
	echo 0 >/proc/sys/kernel/sched_schedstats
	i=$((i + 1))
done
kill "$a" "$b"
echo "switched schedstats on and off $i times"
