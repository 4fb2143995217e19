package ordered

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/etsgo/ets/internal/testseed"
	"github.com/stretchr/testify/require"
)

// stringShapes makes keys of the shapes stringSearch tells apart: first
// eight bytes that differ, that all keys share, keys shorter than eight
// bytes, and a mixture of all, with bytes 0 and 0xff and keys that are
// prefixes of others.
var stringShapes = map[string]func(r *rand.Rand) string{
	"hex":     func(r *rand.Rand) string { return fmt.Sprintf("%016x", r.Uint64()) },
	"shared":  func(r *rand.Rand) string { return fmt.Sprintf("session:%08d", r.IntN(1e8)) },
	"user":    func(r *rand.Rand) string { return fmt.Sprintf("user:%d", r.IntN(1e6)) },
	"short":   func(r *rand.Rand) string { return fmt.Sprintf("%d", r.IntN(1e4)) },
	"bytes":   randomBytes,
	"prefix8": func(r *rand.Rand) string { return "abcdefgh"[:r.IntN(9)] + "\x00a\xff"[r.IntN(3):][:r.IntN(2)] },
}

// randomBytes is a string of 0 to 12 bytes, each of three values.
func randomBytes(r *rand.Rand) string {
	b := make([]byte, r.IntN(13))
	for i := range b {
		b[i] = []byte{0, 'a', 0xff}[r.IntN(3)]
	}
	return string(b)
}

// TestStringSearch_AgreesWithNaturalSearch checks stringSearch and
// stringSearchSeq (the counter unmoved) against naturalSearch on sorted
// nodes of 0 to 70 keys of every shape, and of two shapes mixed, for every
// key of the node and for keys of neither; and that stringSearchSeq gives
// up on a node of one key or more once the counter has moved.
func TestStringSearch_AgreesWithNaturalSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(testseed.Seed(t), 0))
	names := make([]string, 0, len(stringShapes))
	for name := range stringShapes {
		names = append(names, name)
	}
	slices.Sort(names)
	var seq atomic.Uint64
	for _, a := range names {
		for _, b := range names {
			for n := range 71 {
				s := stringNode(r, stringShapes[a], stringShapes[b], n)
				queries := make([]string, 0, 2*n+20)
				for _, it := range s {
					queries = append(queries, it.Key, it.Key+"\x00", it.Key[:len(it.Key)/2])
				}
				for range 20 {
					queries = append(queries, stringShapes[a](r), stringShapes[b](r))
				}
				for _, q := range queries {
					item := Item[string, int]{Key: q}
					wi, wf := naturalSearch(s, item)
					i, f := stringSearch(s, item)
					require.Equal(t, []any{wi, wf}, []any{i, f}, "stringSearch %q in %q", q, s)
					i, f, ok := stringSearchSeq(s, item, &seq, 0)
					require.Equal(t, []any{wi, wf, true}, []any{i, f, ok}, "stringSearchSeq %q in %q", q, s)
					if n > 0 {
						_, _, ok = stringSearchSeq(s, item, &seq, 2)
						require.False(t, ok, "stringSearchSeq %q in %q, counter moved", q, s)
					}
				}
			}
		}
	}
}

// stringNode returns a sorted node of n distinct keys, each of shape a or b.
func stringNode(r *rand.Rand, a, b func(*rand.Rand) string, n int) []Item[string, int] {
	seen := map[string]bool{}
	s := make([]Item[string, int], 0, n)
	for tries := 0; len(s) < n && tries < 100*n; tries++ {
		k := a(r)
		if r.IntN(2) == 0 {
			k = b(r)
		}
		if !seen[k] {
			seen[k] = true
			s = append(s, Item[string, int]{Key: k})
		}
	}
	slices.SortFunc(s, func(x, y Item[string, int]) int {
		return strings.Compare(x.Key, y.Key)
	})
	return s
}

// TestSearchOf_StringKeys checks that keys of every type whose underlying
// type is string, and only those, are taken for strings (searchOf), and
// that a tree of a named string type finds its keys.
func TestSearchOf_StringKeys(t *testing.T) {
	type name string
	require.True(t, stringKeys[string]())
	require.True(t, stringKeys[name]())
	require.False(t, stringKeys[int]())
	require.False(t, stringKeys[float64]())
	tr := NewOrdered[name, int](false)
	for i := range 300 {
		tr.Put(name(fmt.Sprintf("%08x.%d", uint32(i)*2654435761, i)), i, nil)
	}
	for i := range 300 {
		v, ok := tr.Get(name(fmt.Sprintf("%08x.%d", uint32(i)*2654435761, i)))
		require.True(t, ok)
		require.Equal(t, i, v)
	}
}
