#!/usr/bin/env bash
# ETS itself against ets on this machine: runs ets_bench.escript (Erlang's
# ETS, 1e6 integer keys, 2 processes on 2 schedulers) and the matching Go
# benchmarks of the bench module at -cpu 2, and prints both in one table
# with ratios. Installs Debian's erlang-base with apt-get when escript is
# missing; when Erlang cannot be installed it says so and exits 0.
#
#   ets/run.sh                       COUNT (default 3), BENCHTIME (200ms),
#                                    KEYS (1000000), OPS per process (1000000)
#
# A row prints n/a on the Go side when its Go benchmark did not run. The
# 100-key walk has two rows against the same ets:next walk: ets's 100 Next
# calls (the same algorithm), and one Range over 100 keys (what a Go caller
# would write; Erlang's ets:next is the way to walk from a key there).
set -uo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-3}
BENCHTIME=${BENCHTIME:-200ms}
KEYS=${KEYS:-1000000}
OPS=${OPS:-1000000}

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

echo "== Erlang ETS: escript ets/ets_bench.escript $KEYS $OPS" >&2
escript ets/ets_bench.escript "$KEYS" "$OPS" | tee "$tmp/erl.txt" >&2 || skip "escript failed"

echo "== Go ets: go test -bench ... -cpu 2 -count $COUNT -benchtime $BENCHTIME" >&2
bench='^Benchmark(Read100|Write100|OrderedLookup|OrderedWalk100|OrderedRange100)$/^impl=ets$/^key=int$/^size=1e6$'
go test -run '^$' -bench "$bench" -cpu 2 -count "$COUNT" -benchtime "$BENCHTIME" . >"$tmp/go.txt" 2>&1 ||
	{ cat "$tmp/go.txt" >&2; exit 1; }
grep '^Benchmark' "$tmp/go.txt" >&2

# median NAME COLUMN-UNIT: median of the value before UNIT over the runs.
median() {
	awk -v name="$1" -v unit="$2" '$1 ~ "^Benchmark"name"/" {
		for (i = 2; i <= NF; i++) if ($i == unit) print $(i-1) }' "$tmp/go.txt" |
		sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2] + v[NR/2+1]) / 2 }'
}

echo
echo "ETS (OTP $(erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().' 2>/dev/null)) vs ets, $KEYS int keys, 2 schedulers / -cpu 2; ratio = ETS / ets (target: >= 5x)"
printf '%-22s %12s %12s %8s %7s   %14s %14s %8s\n' operation "ETS ns/op" "ets ns/op" ratio "5x?" "ETS cpu-ns/op" "ets cpu-ns/op" ratio
while read -r erl gobench label; do
	read -r _ ens _ ecpu < <(grep "^$erl " "$tmp/erl.txt")
	gns=$(median "$gobench" ns/op)
	gcpu=$(median "$gobench" cpu-ns/op)
	awk -v op="${label:-$erl}" -v ens="$ens" -v gns="$gns" -v ecpu="$ecpu" -v gcpu="$gcpu" 'BEGIN {
		r = (gns == "n/a" || gns == 0) ? "n/a" : sprintf("%.1fx", ens / gns)
		rc = (gcpu == "n/a" || gcpu == 0) ? "n/a" : sprintf("%.1fx", ecpu / gcpu)
		met = (r == "n/a") ? "n/a" : (ens / gns >= 5 ? "met" : "missed")
		printf "%-22s %12s %12s %8s %7s   %14s %14s %8s\n", op, ens, gns, r, met, ecpu, gcpu, rc }'
done <<'MAP'
set_lookup Read100
set_insert Write100
ordered_set_lookup OrderedLookup
ordered_set_walk100 OrderedWalk100 ordered_set_walk100
ordered_set_walk100 OrderedRange100 walk100_as_Range
MAP
