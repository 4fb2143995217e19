// Package testseed gives the randomised tests of every package of the
// module one -seed flag and one way to report the seed they use, so that any
// failure can be replayed. Only tests import it.
package testseed

import (
	"flag"
	"testing"
	"time"
)

var seed = flag.Uint64("seed", 0, "seed of the randomised tests (0: a new one, logged)")

// Seed returns the seed a randomised test uses, -seed if it was given and a
// new one otherwise, and logs it, so that a failure can be replayed with
// -seed.
func Seed(t testing.TB) uint64 {
	t.Helper()
	s := *seed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed %d)", s, s)
	return s
}
