package ordered

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

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

// TestPlan checks plan's o, place and word on chosen nodes: whole shared
// words (also at lengths 8 and 16 exactly), keys that are prefixes of the
// shared words, and bytes >= 0x80 (unsigned).
func TestPlan(t *testing.T) {
	w := func(s string) uint64 { return word(s, 0) }
	for _, c := range []struct {
		first, last, k string
		o, place       int
		wk             uint64
		byWord         bool
	}{
		{"session:00000001", "session:00000099", "session:00000050", 8, 0, w("00000050"), true},
		{"session:00000001", "session:00000099", "apple", 0, -1, 0, false},
		{"session:00000001", "session:00000099", "zzz", 0, 1, 0, false},
		{"session:00000001", "session:00000099", "session", 0, -1, 0, false},
		{"session:00000001", "session:00000099", "session:", 8, 0, 0, false},
		{"session:00000001", "session:00000099", "session:1", 8, 0, 0, false},
		{"session:abcdefgh1", "session:abcdefgh9", "session:", 8, -1, 0, false},
		{"session:abcdefgh1", "session:abcdefgh9", "session:abc", 8, -1, 0, false},
		{"session:abcdefgh1", "session:abcdefgh9", "session:b", 8, 1, 0, false},
		{"session:abcdefgh1", "session:abcdefgh9", "session:abcdefgh", 16, 0, 0, false},
		{"session:abcdefgh1", "session:abcdefgh9", "session:abcdefgi", 8, 1, 0, false},
		{"session:abcdefgh1", "session:abcdefgh9", "session:abcdefgg0", 8, -1, 0, false},
		{"session:00000001", "session:00000099", "session-00000001", 0, -1, 0, false},
		{"session:00000001", "session:00000099", "sessionA00000001", 0, 1, 0, false},
		{"abcdefgh", "abcdefgh", "abcdefgh", 8, 0, 0, false},
		{"abcdefgh", "abcdefghZZ", "abcdefgh", 8, 0, 0, false},
		{"0123456789abcdef", "0123456789abcdef", "0123456789abcdefX", 16, 0, 0, false},
		{"0123456789abcdef", "0123456789abcdef", "0123456789abcdefXYZ45678", 16, 0, w("XYZ45678"), true},
		{"0123456789abcdef", "0123456789abcdeg", "0123456789abcdef", 8, 0, w("89abcdef"), true},
		{"\x80aaaaaaa1", "\x80aaaaaaa9", "\x7fzzzzzzz", 0, -1, 0, false},
		{"\x80aaaaaaa1", "\x80aaaaaaa9", "\xff", 0, 1, 0, false},
		{"\x80aaaaaaa1", "\x80aaaaaaa9", "\x80aaaaaaa5", 8, 0, 0, false},
		{"", "abcdefgh", "abcdefgh", 0, 0, w("abcdefgh"), true},
		{"a", "b", "", 0, 0, 0, false},
	} {
		o, place, wk, byWord := plan(c.first, c.last, c.k)
		require.Equal(t, []any{c.o, c.place, c.wk, c.byWord}, []any{o, place, wk, byWord}, "plan(%q, %q, %q)", c.first, c.last, c.k)
	}
}

// poison is a string header that points nowhere: reading its bytes faults.
func poison(n int) string {
	h := struct {
		p *byte
		n int
	}{nil, n}
	return *(*string)(unsafe.Pointer(&h))
}

// TestStringSearch_PlacesWithoutProbing: a key below or above every shared
// word of a node is placed by first and last alone; the keys between
// (poisoned here) are not read.
func TestStringSearch_PlacesWithoutProbing(t *testing.T) {
	s := make([]Item[string, int], 9)
	for i := range s {
		s[i].Key = poison(16)
	}
	s[0].Key, s[8].Key = "session:abcdefgh1", "session:abcdefgh9"
	for k, want := range map[string]int{"apple": 0, "session:": 0, "session:abc": 0, "session:abcdefgg9": 0, "zzz": 9, "session:b": 9, "session:abcdefgi": 9, "\xff": 9} {
		i, f := stringSearch(s, Item[string, int]{Key: k})
		require.Equal(t, []any{want, false}, []any{i, f}, k)
	}
}

// TestStringSearchSeq_DiscardsKeysCopiedWhileWriting: a writer replaces
// the keys of a node but its first and last by headers that point nowhere
// while seq is odd. stringSearchSeq must check seq after each copy and
// before it reads the key's bytes (in its loop and at the end): a read of
// a poisoned key faults. Needs the loads ordered (optimisticReads), and
// races by design (not under -race).
func TestStringSearchSeq_DiscardsKeysCopiedWhileWriting(t *testing.T) {
	if !optimisticReads {
		t.Skip("loads may be reordered, or -race")
	}
	const n = 63
	keys := make([]string, n)
	s := make([]Item[string, int], n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%016d", i*7)
		s[i].Key = keys[i]
	}
	bad := poison(16)
	var seq atomic.Uint64
	stop := background(1, 0, func(int, *rand.Rand, int) {
		seq.Add(1)
		for i := 1; i < n-1; i++ {
			s[i].Key = bad
		}
		for i := 1; i < n-1; i++ {
			s[i].Key = keys[i]
		}
		seq.Add(1)
		for range 50 {
			_ = seq.Load()
		}
	})
	defer stop()
	deadline := time.Now().Add(500 * time.Millisecond)
	valid := 0
	for j := 0; time.Now().Before(deadline); j++ {
		start := seq.Load()
		if start&1 != 0 {
			continue
		}
		k := keys[1+j%(n-2)]
		i, f, ok := stringSearchSeq(s, Item[string, int]{Key: k}, &seq, start)
		if ok {
			valid++
			require.Equal(t, []any{1 + j%(n-2), true}, []any{i, f})
		}
	}
	t.Logf("%d valid searches", valid)
	require.Positive(t, valid, "some searches met no writer")
}
