#!/usr/bin/env bash
# Runs the issue-8 benchmark suite and prints benchstat tables pivoted on the
# implementation (one row per workload, one column per implementation, with
# each peer's ratio to ets). Settings, all optional:
#
#   BENCH      benchmark regex                 (default: . = every workload)
#   COUNT      runs of each benchmark          (default: 6, benchstat's minimum for a CI)
#   CPU        GOMAXPROCS values               (default: 1,2)
#   BENCHTIME  time per benchmark run          (default: 200ms)
#   TAGS       build tags, e.g. orderedset     (default: none)
#   ETS_BENCH_1E7=1 adds the 1e7-key tables    (slow: minutes per implementation)
#
# Output: results/bench.txt (raw), results/benchstat.txt, results/benchstat.csv
# results/ratios.md (Markdown tables with each peer's ratio to ets) and
# results/plot.svg (ns/op by workload and implementation).
set -euo pipefail
cd "$(dirname "$0")"

BENCH=${BENCH:-.}
COUNT=${COUNT:-6}
CPU=${CPU:-1,2}
BENCHTIME=${BENCHTIME:-200ms}
TAGS=${TAGS:-}

export GOBIN="$PWD/.bin"
if [ ! -x "$GOBIN/benchstat" ]; then
	echo "installing benchstat into $GOBIN" >&2
	go install golang.org/x/perf/cmd/benchstat@latest
fi

mkdir -p results
echo "go test -bench '$BENCH' -count $COUNT -cpu $CPU -benchtime $BENCHTIME ${TAGS:+-tags $TAGS}" >&2
go test ${TAGS:+-tags "$TAGS"} -run '^$' -bench "$BENCH" -count "$COUNT" -cpu "$CPU" \
	-benchtime "$BENCHTIME" -timeout 0 . | tee results/bench.txt

"$GOBIN/benchstat" -col /impl results/bench.txt | tee results/benchstat.txt
"$GOBIN/benchstat" -col /impl -format csv results/bench.txt > results/benchstat.csv 2>/dev/null
go run ./plot -in results/benchstat.csv -out results/plot.svg -table results/ratios.md
echo "wrote results/bench.txt, results/benchstat.txt, results/benchstat.csv, results/ratios.md, results/plot.svg" >&2
go run ./plot -in results/benchstat.csv -out results/plot-cpu.svg -unit cpu-sec/op \
	-title "cpu-ns/op (process CPU time per op) by workload and implementation (log scale, lower is better)" 2>/dev/null || true
