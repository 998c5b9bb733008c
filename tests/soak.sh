#!/usr/bin/env bash
# make soak: N guests at once for M rounds, each with a fault drawn at
# random, and every outcome checked against the fault injected: the
# agent's channel faults, QEMU killed, SIGINT and SIGTERM to kta, a
# panicking test, a hanging test, or none. After each round: no QEMU and no
# kta left, no cache entry half-written. Numbers at the end.
#
# Variables: SOAK_N (guests at once, default 8), SOAK_ROUNDS (default 3),
# SOAK_SEED (the draw; default: the time), KTA (default build/kta-san: the
# sanitizers watch kta too), ARCH (x86_64).
set -u
cd "$(dirname "$0")/.."
O=${O:-build}
KTA=${KTA:-$O/kta-san}
ARCH=${ARCH:-x86_64}
N=${SOAK_N:-8}
ROUNDS=${SOAK_ROUNDS:-3}
SEED=${SOAK_SEED:-$(date +%s)}
T=$O/$ARCH/testdata
export TMPDIR=${TMPDIR:-/tmp}
work=$(mktemp -d "$TMPDIR/kta-soak.XXXXXX")
RANDOM=$SEED
faults=(none garbage badcrc truncate noend dropline qemu-kill sigint sigterm panic hang)

now_ms() { date +%s%3N; }
kta_procs() { pgrep -f "^$KTA run .*--artifacts $work/" || true; }
qemus() { pgrep -f "^qemu-system.*$TMPDIR/kta-run-" || true; }

# The load: one guest alone, then the deadlines scaled to N at once.
t0=$(now_ms)
"$KTA" run --arch "$ARCH" --accel tcg --smp 1 --artifacts "$work/alone" --test "$T/pass" >"$work/alone.out" 2>&1 ||
	{ echo "soak: a lone run failed: see $work/alone.out"; exit 1; }
alone=$(($(now_ms) - t0))
cores=$(nproc)
scale=$(((N + cores - 1) / cores))
boot_timeout=$((alone * scale * 4 / 1000 + 60))
echo "# kta soak: $N guests at once on $cores cores, $ROUNDS rounds, seed $SEED, $KTA"
echo "# a lone run: $alone ms; boot timeout $boot_timeout s (4x the lone run times $scale, + 60 s)"

declare -A runs=() right=() wrong=() noboot=()
leftovers=0 corrupt=0 misjudged=() noboots=()

# What the fault must give: the exit code, and a line of the report.
expect() { # expect FAULT -> "CODE REGEX"
	case $1 in
	none) echo '0 ^# run: complete' ;;
	garbage | badcrc | truncate) echo '202 ^# run: channel-corrupted' ;;
	dropline) echo '202 out of step with the plan' ;;
	noend) echo '203 ^# run: guest-died-without-end-record' ;;
	qemu-kill) echo '203 killed by signal 9' ;;
	sigint) echo '130 ^# run: interrupted' ;;
	sigterm) echo '143 ^# run: interrupted' ;;
	panic) echo '1 ^# run: kernel-panic' ;;
	hang) echo '1 ^not ok 2 hang # TIMEOUT' ;;
	esac
}

start_one() { # start_one ROUND I FAULT: in this shell (its child), named in $started
	local name=r$1-$2-$3 args=()
	case $3 in
	garbage | badcrc | truncate | noend | dropline) args=(--fault "$3" --test "$T/pass" --test "$T/pass2" --test "$T/skip") ;;
	panic) args=(--test "$T/pass" --test "$T/panic" --test "$T/pass2") ;;
	hang) args=(--test "$T/pass" --test "$T/hang" --timeout 5) ;;
	*) args=(--test "$T/pass" --test "$T/hang" --test "$T/pass2" --timeout 600) ;;
	esac
	[ "$3" = none ] && args=(--test "$T/pass" --test "$T/pass2" --test "$T/skip")
	"$KTA" run --arch "$ARCH" --accel tcg --smp 1 --boot-timeout "$boot_timeout" \
		--artifacts "$work/$name" "${args[@]}" >"$work/$name.out" 2>"$work/$name.err" &
	echo $! >"$work/$name.pid"
	started=$name
}

# For the faults from outside: once test 2 (the hang) has begun.
strike() { # strike NAME FAULT
	local pid q
	pid=$(cat "$work/$1.pid")
	for _ in $(seq 1 $((boot_timeout * 10))); do
		grep -q "kta: begin 2 " "$work/$1/console.log" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || return
		sleep 0.1
	done
	case $2 in
	qemu-kill) q=$(pgrep -P "$pid" -f qemu-system) && kill -9 $q ;;
	sigint) kill -INT "$pid" ;;
	sigterm) kill -TERM "$pid" ;;
	esac
}

t_start=$(now_ms)
for round in $(seq 1 "$ROUNDS"); do
	names=() kinds=()
	for i in $(seq 1 "$N"); do
		f=${faults[$((RANDOM % ${#faults[@]}))]}
		start_one "$round" "$i" "$f"
		names+=("$started")
		kinds+=("$f")
	done
	for i in "${!names[@]}"; do
		case ${kinds[$i]} in qemu-kill | sigint | sigterm) strike "${names[$i]}" "${kinds[$i]}" & ;; esac
	done
	for i in "${!names[@]}"; do
		name=${names[$i]} f=${kinds[$i]}
		wait "$(cat "$work/$name.pid")"
		rc=$?
		read -r want re <<<"$(expect "$f")"
		runs[$f]=$((${runs[$f]:-0} + 1))
		if [ "$rc" = "$want" ] && grep -qE -- "$re" "$work/$name.out" "$work/$name.err" &&
			python3 -m json.tool "$work/$name/results.json" >/dev/null 2>&1 &&
			! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$work/$name.err"; then
			right[$f]=$((${right[$f]:-0} + 1))
		elif [ "$rc" = 125 ] && grep -q '^# run: kernel-failed-to-boot: .*kernel panic' "$work/$name.out"; then
			# The kernel died before the agent, so before any fault
			# could be injected: kta said so, which is right, but it
			# is not the fault's outcome. Counted apart.
			noboot[$f]=$((${noboot[$f]:-0} + 1))
			noboots+=("$name: $(grep -o 'Kernel panic - not syncing: [^!.]*' "$work/$name.out" | head -1)")
		else
			wrong[$f]=$((${wrong[$f]:-0} + 1))
			misjudged+=("$name: exit $rc (want $want, /$re/)")
		fi
	done
	wait
	sleep 1
	left=$( (kta_procs; qemus) | wc -l)
	leftovers=$((leftovers + left))
	# The cache: every archive a whole cpio, no half-written entry.
	for a in "${KTA_CACHE:-$HOME/.cache/kta}"/initramfs/*.cpio; do
		[ -e "$a" ] || continue
		cpio -t --quiet <"$a" >/dev/null 2>&1 || { corrupt=$((corrupt + 1)); echo "# corrupt: $a"; }
	done
	for d in "${KTA_CACHE:-$HOME/.cache/kta}"/kernels/*/*/; do
		[ -f "$d/kernel.info" ] && [ -f "$d/vmlinuz" ] || { corrupt=$((corrupt + 1)); echo "# half an entry: $d"; }
	done
	echo "# round $round: ${kinds[*]}; left behind: $left"
done
wall=$(($(now_ms) - t_start))

echo
printf '%-10s %6s %10s %10s %10s\n' FAULT RUNS CLASSIFIED WRONG NO-BOOT
total=0 ok=0 nb=0
for f in "${faults[@]}"; do
	[ -n "${runs[$f]:-}" ] || continue
	printf '%-10s %6d %10d %10d %10d\n' "$f" "${runs[$f]}" "${right[$f]:-0}" "${wrong[$f]:-0}" "${noboot[$f]:-0}"
	total=$((total + runs[$f])) ok=$((ok + ${right[$f]:-0})) nb=$((nb + ${noboot[$f]:-0}))
done
echo "# $total runs in $((wall / 1000)) s: $ok classified as injected, $((total - ok - nb)) wrongly;" \
	"$nb kernels died before the agent (before any fault; reported as such, exit 125);" \
	"$leftovers processes left behind; $corrupt cache entries corrupt"
for m in "${misjudged[@]}"; do echo "#   wrong: $m"; done
for m in "${noboots[@]}"; do echo "#   no boot: $m"; done
echo "# artifacts: $work"
[ $((ok + nb)) = "$total" ] && [ "$leftovers" = 0 ] && [ "$corrupt" = 0 ]
