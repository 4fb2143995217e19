#!/usr/bin/env bash
# ETS itself against ets on this machine: runs ets_bench.escript (Erlang's
# ETS, 1e6 integer keys, 2 processes on 2 schedulers) and the bench module's
# BenchmarkErlang, the same operations on the same keys read the same way
# (from a sample of random keys per process, in order), at -cpu 2, and
# prints both in one table with ratios. Installs Debian's erlang-base with apt-get when escript is
# missing; when Erlang cannot be installed it says so and exits 0.
#
#   ets/run.sh                       ROUNDS (default 3), BENCHTIME (200ms),
#                                    KEYS (1000000), OPS per process (1000000),
#                                    SAMPLE keys per process (1048576)
#
# The two sides run in turns, ROUNDS times: Erlang, then one run of each Go
# benchmark, and so on. This VM's speed changes by the minute, so a ratio
# is taken within a round, from runs a few seconds apart, and the table
# gives each side's median, the median of the rounds' ratios and their
# range. A row prints n/a on the Go side when its Go benchmark did not run.
# The 100-key walk has two rows against the same ets:next walk: ets's 100
# Next calls (the same algorithm), and one Ascend loop over 100 keys (what a Go
# caller would write; Erlang's ets:next is the way to walk from a key
# there).
set -uo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-${COUNT:-3}} # COUNT: the name before rounds
BENCHTIME=${BENCHTIME:-200ms}
KEYS=${KEYS:-1000000}
OPS=${OPS:-1000000}
SAMPLE=${SAMPLE:-1048576}
case $SAMPLE in
'' | *[!0-9]*) echo "ets: SAMPLE=$SAMPLE: want a power of two" >&2; exit 2 ;;
esac
if [ "$SAMPLE" -le 0 ] || [ $((SAMPLE & (SAMPLE - 1))) -ne 0 ]; then
	echo "ets: SAMPLE=$SAMPLE: want a power of two" >&2
	exit 2
fi
export ETS_BENCH_ERLANG=1 ETS_ERLANG_KEYS=$KEYS ETS_ERLANG_SAMPLE=$SAMPLE

skip() {
	echo "ets: SKIPPED: $*" >&2
	exit 0
}

if ! command -v escript >/dev/null; then
	echo "ets: escript not found; installing Debian's erlang-base" >&2
	command -v apt-get >/dev/null || skip "no escript and no apt-get to install Erlang"
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO="sudo"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq erlang-base >/dev/null 2>&1 ||
		{ $SUDO apt-get update -qq >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq erlang-base >/dev/null 2>&1; } ||
		skip "apt-get install erlang-base failed: Erlang/OTP is not available here"
	command -v escript >/dev/null || skip "escript still not on PATH after installing erlang-base"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bench='^BenchmarkErlang$'
go test -c -o "$tmp/bench.test" . >"$tmp/build.txt" 2>&1 || { cat "$tmp/build.txt" >&2; exit 1; }
for round in $(seq "$ROUNDS"); do
	echo "== round $round of $ROUNDS: escript ets/ets_bench.escript $KEYS $OPS $SAMPLE" >&2
	escript ets/ets_bench.escript "$KEYS" "$OPS" "$SAMPLE" | tee "$tmp/erl.$round.txt" >&2 || skip "escript failed"
	echo "== round $round of $ROUNDS: go test -bench ... -cpu 2 -count 1 -benchtime $BENCHTIME" >&2
	"$tmp/bench.test" -test.run '^$' -test.bench "$bench" -test.cpu 2 -test.count 1 -test.benchtime "$BENCHTIME" >"$tmp/go.$round.txt" 2>&1 ||
		{ cat "$tmp/go.$round.txt" >&2; exit 1; }
	grep '^Benchmark' "$tmp/go.$round.txt" >&2
done

# value FILE NAME UNIT: the value before UNIT on the line of Go benchmark
# NAME in FILE, or n/a.
value() {
	awk -v name="$2" -v unit="$3" 'BEGIN { v = "n/a" } $1 ~ "^Benchmark"name"/" {
		for (i = 2; i <= NF; i++) if ($i == unit) v = $(i-1) } END { print v }' "$1"
}

echo
echo "ETS (OTP $(erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().' 2>/dev/null)) vs ets, $KEYS int keys, samples of $SAMPLE, 2 schedulers / -cpu 2, $ROUNDS rounds; ratio = ETS / ets, median of the rounds' (target: >= 5x)"
printf '%-22s %12s %12s %8s %13s %7s   %14s %14s %8s\n' operation "ETS ns/op" "ets ns/op" ratio "rounds" "5x?" "ETS cpu-ns/op" "ets cpu-ns/op" ratio
while read -r erl gobench label; do
	for round in $(seq "$ROUNDS"); do
		read -r _ ens _ ecpu < <(grep "^$erl " "$tmp/erl.$round.txt")
		echo "$ens $ecpu $(value "$tmp/go.$round.txt" "$gobench" ns/op) $(value "$tmp/go.$round.txt" "$gobench" cpu-ns/op)"
	done | awk -v op="${label:-$erl}" '
		function median(a, n,   i, j, t) { # sorts a[1..n] in place
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
			return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
		}
		{ n++; ens[n] = $1; ecpu[n] = $2; gns[n] = $3; gcpu[n] = $4
		  if ($3 == "n/a" || $3 == 0) na = 1; else { r[n] = $1 / $3; rc[n] = $2 / $4 } }
		END {
			me = median(ens, n); mc = median(ecpu, n)
			if (na) { printf "%-22s %12s %12s %8s %13s %7s   %14s %14s %8s\n", op, me, "n/a", "n/a", "", "n/a", mc, "n/a", "n/a"; exit }
			mg = median(gns, n); mgc = median(gcpu, n); mr = median(r, n); mrc = median(rc, n)
			printf "%-22s %12.1f %12.1f %7.1fx %13s %7s   %14.1f %14.1f %7.1fx\n", op, me, mg, mr,
				sprintf("%.1f-%.1fx", r[1], r[n]), (op == "empty_loop" ? "-" : mr >= 5 ? "met" : "missed"), mc, mgc, mrc }'
done <<'MAP'
set_lookup Erlang/op=set_lookup
set_insert Erlang/op=set_insert
ordered_set_lookup Erlang/op=ordered_set_lookup
ordered_set_walk100 Erlang/op=ordered_set_walk100 ordered_set_walk100
ordered_set_walk100 Erlang/op=ordered_set_ascend100 walk100_as_Ascend
empty_loop Erlang/op=empty_loop
MAP
