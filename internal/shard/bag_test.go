package shard

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// windowValue is object i of TestBagReadsUnderWriters: i in decimal and i%7
// x's, so that a torn string (one object's pointer, another's length) does
// not parse back.
func windowValue(i int) string { return strconv.Itoa(i) + strings.Repeat("x", i%7) }

func parseWindowValue(s string) (int, bool) {
	digits := strings.TrimRight(s, "x")
	i, err := strconv.Atoi(digits)
	return i, err == nil && len(s)-len(digits) == i%7
}

// Get and Count, which read without the lock, see a key's objects as some
// moment left them, while a writer slides the key's objects along as a
// window (insert the next, delete the oldest: the key always holds window
// consecutive objects, or window+1 between the two writes) and another
// writer churns the other keys of the shard, which rehashes its table. A
// small key's deletes shift its objects in place and an indexed key's leave
// tombstones and compact: a copy that a writer tore is caught by the check
// of the counter after the copy, or Get returns a run that skips, repeats
// or reorders objects, or a string that does not parse back; a churned key
// reads as nil or its one object. A key of more than bigObjects objects is
// copied without the lock once, then under it. The test means most without
// -race (with -race, readers take the lock).
func TestBagReadsUnderWriters(t *testing.T) {
	for _, dup := range []bool{false, true} {
		for _, window := range []int{3, 20, 1500} {
			for _, procs := range []int{1, 2} {
				t.Run(fmt.Sprintf("dup=%v/window=%d/procs=%d", dup, window, procs), func(t *testing.T) {
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
					bagReadsUnderWriters(t, dup, window)
				})
			}
		}
	}
}

func bagReadsUnderWriters(t *testing.T, dup bool, window int) {
	b := NewBag[int, string](Config{Shards: 1, MaxShards: 4, GrowAfter: 1}, dup)
	h := b.Hash(0)
	for i := range window {
		b.Insert(h, 0, windowValue(i), nil)
	}
	slides := 40_000
	if window > bigObjects {
		slides = 4_000
	}
	var done atomic.Bool
	var reads, copied atomic.Int64
	var wg sync.WaitGroup
	wg.Add(3)
	reading := make(chan struct{})
	go func() { // the window
		defer wg.Done()
		defer done.Store(true)
		<-reading
		for i := window; i < window+slides; i++ {
			if i%16 == 0 {
				runtime.Gosched()
			}
			b.Insert(h, 0, windowValue(i), nil)
			b.DeleteObject(h, 0, windowValue(i-window), nil)
		}
	}()
	go func() { // the other keys
		defer wg.Done()
		for i := 0; !done.Load(); i++ {
			if i%16 == 0 {
				runtime.Gosched()
			}
			k := 1 + i%3000
			if i/3000%2 == 0 {
				b.Insert(b.Hash(k), k, "other", nil)
			} else {
				b.Delete(b.Hash(k), k, nil)
			}
		}
	}()
	go func() { // the reader
		defer wg.Done()
		close(reading)
		for i := 0; i == 0 || !done.Load(); i++ {
			if i%8 == 0 {
				runtime.Gosched()
			}
			reads.Add(1)
			k := 1 + i%3000 // a key the other writer inserts and deletes
			if vs := b.Get(k, nil); vs != nil && !slices.Equal(vs, []string{"other"}) {
				t.Errorf("Get(%d) = %#v, want nil or [other]", k, vs)
				return
			}
			if n := b.Count(h, 0, nil); n != window && n != window+1 {
				t.Errorf("Count = %d, want %d or %d", n, window, window+1)
				return
			}
			vs := b.Get(0, nil)
			copied.Add(int64(len(vs)))
			if len(vs) != window && len(vs) != window+1 {
				t.Errorf("Get returned %d objects, want %d or %d", len(vs), window, window+1)
				return
			}
			first, ok := parseWindowValue(vs[0])
			for j, v := range vs {
				n, okj := parseWindowValue(v)
				if !ok || !okj || n != first+j {
					t.Errorf("Get returned %q, not %d consecutive objects", vs, len(vs))
					return
				}
			}
		}
	}()
	waitOrFail(t, &wg, 2*time.Minute)
	require.Positive(t, reads.Load())
	t.Logf("%d reads, %d objects copied, %d shards", reads.Load(), copied.Load(), b.Shards())
}

// While a grow has frozen its shards, Get and Count read them without
// waiting, as Map.Get does (TestGrowFreezesForWritersOnly).
func TestBagReadsDuringAGrow(t *testing.T) {
	if !optimisticReads {
		t.Skip("with -race, readers take the lock and wait for the grow")
	}
	defer watchdog(t, 20*time.Second)()
	b := NewBag[int, string](Config{Shards: 1, MaxShards: 64}, true)
	for k := range 1000 {
		for j := range 1 + k%3 {
			b.Insert(b.Hash(k), k, windowValue(j), nil)
		}
	}
	frozen, release := pauseFrozenGrow(t)
	grown := make(chan bool)
	go func() { grown <- b.m.Grow() }()
	<-frozen
	for k := range 1000 {
		h := b.Hash(k)
		want := []string{"0", "1x", "2xx"}[:1+k%3]
		require.Equal(t, want, b.Get(k, nil), "key %d", k)
		require.Equal(t, len(want), b.Count(h, k, nil), "key %d", k)
	}
	require.Nil(t, b.Get(-1, nil))
	close(release)
	require.True(t, <-grown)
	require.Equal(t, []string{"0", "1x"}, b.Get(4, nil))
}

// header, which Get and Count trust for the list's bounds and the count,
// refuses a slot that a writer changed after shard.peek found it: here an
// insert that outgrows the list's array (and indexes the key).
func TestBagHeaderChecksTheCounter(t *testing.T) {
	b := NewBag[int, string](Config{Shards: 1}, true)
	h := b.Hash(0)
	for i := range smallObjects {
		b.Insert(h, 0, windowValue(i), nil)
	}
	s := b.m.dir().at(h)
	sl, start, valid := s.peek(h, 0)
	require.True(t, valid)
	require.NotNil(t, sl)
	list, live, valid := header(s, sl, start)
	require.True(t, valid)
	require.Equal(t, smallObjects, live)
	require.Len(t, list, smallObjects)

	b.Insert(h, 0, windowValue(smallObjects), nil)
	_, _, valid = header(s, sl, start)
	require.False(t, valid, "a header read after a write passed the check")
}

// copyLive fills out with exactly len(out) live objects, and refuses a
// list of more or fewer (one a writer changed during the copy, as a rebuild
// that compacts in place and zeroes the tail, whose slots read as live)
// without writing past out; a list as long as out it copies whole.
func TestCopyLiveWritesNothingPastOut(t *testing.T) {
	// Five slots, four not tombstones (the zeroed tail of an in-place
	// rebuild reads as live).
	list := []obj[string]{{v: "a", seq: 1}, {seq: 2 | dead}, {v: "b", seq: 3}, {v: "c", seq: 4}, {}}
	arr := []string{"x", "", "", "y"}
	require.False(t, copyLive(arr[1:3], list), "4 live, 2 wanted")
	require.Equal(t, []string{"x", "a", "b", "y"}, arr, "nothing past out")
	require.False(t, copyLive(arr[1:3], list[1:5]), "3 live, 2 wanted")
	require.Equal(t, []string{"x", "b", "c", "y"}, arr, "nothing past out")
	require.False(t, copyLive(arr[1:4], list[:2]), "1 live, 3 wanted")
	require.True(t, copyLive(arr[1:3], list[:3]), "2 live, 2 wanted")
	require.Equal(t, []string{"x", "a", "b", "y"}, arr)
	require.True(t, copyLive(arr[:0], list[1:2]), "a tombstone alone is no object")

	// A list as long as out is copied whole: if its header was one list's
	// it has no tombstone, and if a writer changed it since, the caller's
	// check of the counter fails.
	require.True(t, copyLive(arr[1:4], list[:3]))
	require.Equal(t, []string{"x", "a", "", "b"}, arr)
}

// Append appends to the caller's slice and leaves nothing past what it
// returns, even when a copy it discarded was longer: a writer keeps adding
// and deleting a dozen objects under a key that keeps one. (With -race
// readers lock, and no copy is discarded.)
func TestBagAppendLeavesNoDiscardedCopy(t *testing.T) {
	if !optimisticReads {
		t.Skip("readers lock")
	}
	b := NewBag[int, string](Config{Shards: 1}, true)
	h := b.Hash(0)
	b.Insert(h, 0, "keep", nil)
	require.Equal(t, []string{"x", "keep"}, b.Append([]string{"x"}, 0, nil))
	require.Equal(t, []string{"x"}, b.Append([]string{"x"}, 1, nil))
	require.Nil(t, b.Get(1, nil))

	whileWriting(t, func() {
		for i := range 12 {
			b.Insert(h, 0, windowValue(i), nil)
		}
		for i := range 12 {
			b.DeleteObject(h, 0, windowValue(i), nil)
		}
	})
	// Buffers of every spare capacity up to the list's 13 slots: a copy
	// that overran the key's count would outgrow some of them (and leave
	// what it wrote in the caller's array).
	var bufs [14][]string
	for c := range bufs {
		bufs[c] = make([]string, 1, 1+c)
	}
	for i := range 200_000 {
		buf := bufs[i%len(bufs)]
		vs := b.Append(buf[:1], 0, nil)
		if len(vs) == 2 { // the writer is between rounds: the key holds "keep" alone
			for j, x := range vs[2:cap(vs)] {
				if x != "" {
					t.Fatalf("read %d: Append returned %q, and %q at %d past it", i, vs, x, j+2)
				}
			}
		}
		inBuf := 1 // how much of buf's array Append returned
		if &vs[0] == &buf[0] {
			inBuf = len(vs)
		}
		for j, x := range buf[inBuf:cap(buf)] {
			if x != "" {
				t.Fatalf("read %d: Append left %q in the caller's array at %d, past what it returned", i, x, inBuf+j)
			}
		}
		clear(buf[:cap(buf)])
	}
}

// Get of a key a writer keeps inserting and deleting returns nil or the
// key's one object, never an empty non-nil slice (the array an attempt
// that found the key grew, copied into and then discarded), and Append
// returns its dst. Append's attempts never change dst, so this holds by
// construction; the interleaving is too narrow for the test to be sure to
// hit it.
func TestBagGetOfAKeyComingAndGoing(t *testing.T) {
	if !optimisticReads {
		t.Skip("readers lock")
	}
	b := NewBag[int, string](Config{Shards: 1}, false)
	h := b.Hash(0)
	whileWriting(t, func() {
		b.Insert(h, 0, "v", nil)
		b.Delete(h, 0, nil)
	})
	for i := range 200_000 {
		if vs := b.Get(0, nil); vs != nil && !slices.Equal(vs, []string{"v"}) {
			t.Fatalf("read %d: Get = %#v, want nil or [v]", i, vs)
		}
		if vs := b.Append([]string{}, 0, nil); len(vs) != 0 && !slices.Equal(vs, []string{"v"}) {
			t.Fatalf("read %d: Append = %#v, want [] or [v]", i, vs)
		}
	}
}

// TestBagProbesWithSharedTags is TestProbesWithSharedTags for a bag's
// lookups: keys whose first group is group 0 and whose tags are one, so
// that Append's first-group path meets candidates that are other keys
// before it meets the key (or meets none that is, for absent keys of the
// tag), and keys that overflow the group into the next.
func TestBagProbesWithSharedTags(t *testing.T) {
	b := NewBag[int, int](Config{Shards: 1}, true)
	var keys []int // 0, 1, 2, ... whose first group is group 0 and whose tag is the first one's
	for k := 0; len(keys) < 12; k++ {
		if h := b.Hash(k); h>>7&1 == 0 && (keys == nil || tagOf(h) == tagOf(b.Hash(keys[0]))) {
			keys = append(keys, k)
		}
	}
	same, absent := keys[:9], keys[9:]
	present := map[int][]int{}
	check := func(stage string) {
		t.Helper()
		for k, vs := range present {
			require.Equal(t, vs, b.Append(nil, k, nil), "%s: Append(%d)", stage, k)
			require.Equal(t, append([]int{-1}, vs...), b.Append([]int{-1}, k, nil), "%s: Append(%d) after a value", stage, k)
		}
		for _, k := range append(slices.Clone(absent), same...) {
			if _, ok := present[k]; !ok {
				require.Empty(t, b.Append(nil, k, nil), "%s: Append(%d) of an absent key", stage, k)
			}
		}
	}
	for i, k := range same {
		for j := range i%3 + 1 {
			b.Insert(b.Hash(k), k, 100*k+j, nil)
			present[k] = append(present[k], 100*k+j)
		}
		check(fmt.Sprintf("%d keys of one tag", i+1))
	}
	b.Delete(b.Hash(same[1]), same[1], nil)
	delete(present, same[1])
	check("a tombstone among the shared tags")
}

// Bag walks racing writers that add and delete objects (keys of up to 24,
// indexed, with tombstones and compaction in place) and grow the Bag never
// hand on a torn object or one of a key that was never written, and give
// every key no writer touches exactly its objects, in insertion order. The
// walk's callback follows each key's list of objects, which a writer may
// change in place while it reads: the checks of the counter before and after
// keep what it read only if no writer ran.
func TestBagCollectUnderChurn(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		t.Run(fmt.Sprint("procs=", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			b := NewBag[int, wide](Config{Shards: 2, MaxShards: 256}, false)
			const keys, stable = 80, 64 // keys >= keys-stable are stable; 16 hot ones
			for k := keys - stable; k < keys; k++ {
				for j := range 1 + k%12 { // some indexed (more than smallObjects)
					b.Insert(b.Hash(k), k, wideOf(int64(k*100+j)), nil)
				}
			}
			var walks atomic.Int64
			churn(t, 400_000, func(w, i int) {
				if i%64 == 0 {
					runtime.Gosched()
				}
				k := (i*7 + w) % (keys - stable)
				h := b.Hash(k)
				switch v := wideOf(int64(k*100 + i/16%24)); i % 4 {
				case 0, 1:
					b.Insert(h, k, v, nil)
				case 2:
					b.DeleteObject(h, k, v, nil)
				case 3:
					if i%20_000 == 3 {
						b.m.Grow()
					} else if i%400 == 3 {
						b.Delete(h, k, nil)
					}
				}
			}, func() bool {
				got := map[int][]int64{}
				ks, vs := collectEntries(b.CollectInto)
				for i, k := range ks {
					if k < 0 || k >= keys || vs[i].torn() || vs[i][0]/100 != int64(k) {
						t.Errorf("walk handed on key %d with %v", k, vs[i])
						return false
					}
					got[k] = append(got[k], vs[i][0])
				}
				walks.Add(1)
				for k := keys - stable; k < keys; k++ {
					var want []int64
					for j := range 1 + k%12 {
						want = append(want, int64(k*100+j))
					}
					if !slices.Equal(want, got[k]) {
						t.Errorf("stable key %d: %v, want %v", k, got[k], want)
						return false
					}
				}
				return true
			})
			require.Positive(t, walks.Load())
			t.Logf("%d walks, %d shards", walks.Load(), b.Shards())
		})
	}
}
