# TAP helpers for the integration scripts (sourced; they set $work and
# $KTA first). Every check prints "ok N - desc" or "not ok N - desc" and
# says why in "#" lines.
n=0 nfail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); nfail=$((nfail + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
# A failing `has` shows the file's end: CI keeps nothing else.
has() { grep -qE -- "$2" "$1" || { echo "#   $1 lacks: $2"; tail -8 "$1" 2>&1 | sed 's/^/#     /'; false; }; }
lacks() { ! grep -qE -- "$2" "$1" || { echo "#   $1 has: $2"; false; }; }
rc_is() { [ "$(cat "$work/$1.rc")" = "$2" ] || { echo "#   $1: exit $(cat "$work/$1.rc"), want $2"; tail -8 "$work/$1.err" | sed 's/^/#   /'; false; }; }
kta() { # kta NAME ARGS...: stdout, stderr and exit code into $work/NAME.*
	local name=$1; shift
	"$KTA" "$@" >"$work/$name.out" 2>"$work/$name.err"
	echo $? >"$work/$name.rc"
	echo "# $name: exit $(cat "$work/$name.rc")"
}
no_sanitizer_report() { ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$work/$1.err"; }
