#!/usr/bin/env bash
# Runs the issue-8 benchmark suite and prints benchstat tables pivoted on the
# implementation (one row per workload, one column per implementation, with
# each peer's ratio to ets). Settings, all optional:
#
#   BENCH      benchmark regex                 (default: . = every workload)
#   COUNT      runs of each benchmark          (default: 6, benchstat's minimum for a CI),
#              made as COUNT rounds of the whole selection, one run of each
#              benchmark per round, so that the runs of the implementations
#              of a workload are seconds apart, not minutes (this VM's speed
#              changes by the minute); a table of 1e6 keys is built once a round
#   CPU        GOMAXPROCS values               (default: 1,2)
#   BENCHTIME  time per benchmark run          (default: 200ms)
#   TAGS       build tags                      (default: none)
#   OUT        output directory                (default: results)
#   ETS_BENCH_1E7=1 adds the 1e7-key tables    (slow: minutes per implementation)
#
# Output, in $OUT: machine.txt (BenchmarkPingPong before and after the suite:
# the round trip of a cache line between the two processors, a record of the
# machine's state; BenchmarkMemoryLatency before it, what a miss costs; and,
# where taskset is installed, DirectRead100 of 1e3 int keys pinned to each
# processor in turn, before and after: at times one of this VM's processors
# runs such loops 1.5x slower than the other, which makes -cpu 1 rounds
# bimodal),
# bench.txt (raw), benchstat.txt, benchstat.csv, ratios.md (Markdown tables
# with each peer's ratio to ets), plot.svg (ns/op by workload and
# implementation) and plot-cpu.svg (the same in cpu-ns/op).
set -euo pipefail
cd "$(dirname "$0")"

BENCH=${BENCH:-.}
COUNT=${COUNT:-6}
CPU=${CPU:-1,2}
BENCHTIME=${BENCHTIME:-200ms}
TAGS=${TAGS:-}
OUT=${OUT:-results}

export GOBIN="$PWD/.bin"
if [ ! -x "$GOBIN/benchstat" ]; then
	echo "installing benchstat into $GOBIN" >&2
	go install golang.org/x/perf/cmd/benchstat@latest
fi

mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test ${TAGS:+-tags "$TAGS"} -c -o "$tmp/bench.test" .
# machine BENCH CPU COUNT BENCHTIME WHEN: the machine benchmark BENCH, recorded in
# machine.txt with WHEN before each line.
machine() {
	ETS_BENCH_MACHINE=1 "$tmp/bench.test" -test.run '^$' -test.bench "$1" -test.cpu "$2" -test.count "$3" -test.benchtime "$4" |
		grep '^Benchmark' | sed "s/^/$5 /" | tee -a "$OUT"/machine.txt
}
: > "$OUT"/machine.txt
# percpu WHEN: ets's and xsync's DirectRead100 of 1e3 int keys on each
# processor in turn (taskset -c), recorded in machine.txt with WHEN and the
# processor before each line; nothing if taskset is missing.
percpu() {
	command -v taskset > /dev/null || return 0
	for c in $(seq 0 $(($(nproc) - 1))); do
		taskset -c "$c" "$tmp/bench.test" -test.run '^$' -test.bench '^BenchmarkDirectRead100$//key=int/size=1e3$' \
			-test.cpu 1 -test.count 2 -test.benchtime 100ms |
			grep '^Benchmark' | sed "s/^/$1 cpu$c /" | tee -a "$OUT"/machine.txt
	done
}
machine '^BenchmarkPingPong$' 2 3 100ms before
machine '^BenchmarkMemoryLatency$' 1 1 1000000x before
percpu before
: > "$OUT"/bench.txt
for round in $(seq "$COUNT"); do
	echo "round $round of $COUNT: go test -bench '$BENCH' -count 1 -cpu $CPU -benchtime $BENCHTIME ${TAGS:+-tags $TAGS}" >&2
	"$tmp/bench.test" -test.run '^$' -test.bench "$BENCH" -test.count 1 -test.cpu "$CPU" \
		-test.benchtime "$BENCHTIME" -test.timeout 0 | tee -a "$OUT"/bench.txt
done
machine '^BenchmarkPingPong$' 2 3 100ms after
percpu after

"$GOBIN/benchstat" -col /impl "$OUT"/bench.txt | tee "$OUT"/benchstat.txt
"$GOBIN/benchstat" -col /impl -format csv "$OUT"/bench.txt > "$OUT"/benchstat.csv 2>/dev/null
go run ./plot -in "$OUT"/benchstat.csv -out "$OUT"/plot.svg -table "$OUT"/ratios.md
go run ./plot -in "$OUT"/benchstat.csv -out "$OUT"/plot-cpu.svg -unit cpu-sec/op \
	-title "cpu-ns/op (process CPU time per op) by workload and implementation (log scale, lower is better)" 2>/dev/null || true
echo "wrote $OUT/machine.txt, bench.txt, benchstat.txt, benchstat.csv, ratios.md, plot.svg, plot-cpu.svg" >&2
