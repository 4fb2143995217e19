package bench

import (
	"os"
	"runtime"
	"sync/atomic"
	"testing"
)

// BenchmarkPingPong measures the machine rather than a table: two goroutines
// take turns writing one cache line, so that an op is the line's round trip
// between the two processors, plus any time in which one of them was not
// running. run.sh records it before and after the suite, as a record of the
// machine's state during a run. (It measured 100 ns in one hour of
// 2026-11-22 and 400-800 ns in the next, while the write benchmarks at
// -cpu 2 did not change with it: it does not predict them.) It runs only
// when ETS_BENCH_MACHINE=1, so that the suite's -bench . leaves it out.
func BenchmarkPingPong(b *testing.B) {
	if os.Getenv("ETS_BENCH_MACHINE") != "1" {
		b.Skip("set ETS_BENCH_MACHINE=1")
	}
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs two processors")
	}
	var line struct {
		_ [64]byte
		n atomic.Int64
		_ [64]byte
	}
	done := make(chan struct{})
	go func() { // the responder: answers every odd value with the next even one
		defer close(done)
		for {
			switch v := line.n.Load(); {
			case v < 0:
				return
			case v&1 == 1:
				line.n.Store(v + 1)
			}
		}
	}()
	for i := range int64(b.N) {
		line.n.Store(2*i + 1)
		for line.n.Load() != 2*i+2 {
		}
	}
	line.n.Store(-1)
	<-done
}
