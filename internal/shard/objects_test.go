package shard

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// check verifies the invariants of o against want, the key's objects in
// order.
func (o *objects[V]) check(t *testing.T, want []V, step int) {
	t.Helper()
	var got []V
	lastSeq := uint64(0)
	o.each(func(x *obj[V]) {
		got = append(got, x.v)
		if x.seq != x.number() {
			t.Fatalf("step %d: a live object flagged %#x", step, x.seq)
		}
		if x.seq <= lastSeq {
			t.Fatalf("step %d: sequence numbers not increasing", step)
		}
		lastSeq = x.seq
	})
	for i := 1; i < len(o.list); i++ {
		if o.list[i].number() <= o.list[i-1].number() {
			t.Fatalf("step %d: the list is not sorted by insertion number (paged walks search it) at %d", step, i)
		}
	}
	if !slices.Equal(got, want) || o.live != len(want) {
		t.Fatalf("step %d: objects %v (live %d), want %v", step, got, o.live, want)
	}
	if o.ix == nil {
		if len(o.list) != o.live {
			t.Fatalf("step %d: a small key has tombstones", step)
		}
		return
	}
	if len(o.ix.prev) != len(o.list) {
		t.Fatalf("step %d: %d chain links for %d slots", step, len(o.ix.prev), len(o.list))
	}
	if n := len(o.list); n > 0 && o.list[n-1].isDead() {
		t.Fatalf("step %d: a trailing tombstone", step)
	}
	indexed := 0
	for v, i := range o.ix.m {
		for ; i != noPrev; i = o.ix.prev[i] {
			if o.list[i].v != v || o.list[i].isDead() {
				t.Fatalf("step %d: chain of %v reaches slot %d holding %v", step, v, i, o.list[i].v)
			}
			indexed++
		}
	}
	if indexed != o.live {
		t.Fatalf("step %d: index reaches %d objects, want %d", step, indexed, o.live)
	}
	if dead := len(o.list) - o.live; dead > o.live+1 {
		t.Fatalf("step %d: %d tombstones for %d objects", step, dead, o.live)
	}
}

// The per-key structure against a slice, across the small and indexed forms.
func TestObjects_AgainstSlice(t *testing.T) {
	for _, dup := range []bool{false, true} {
		r := rand.New(rand.NewPCG(1, 2))
		var o objects[int]
		var want []int
		for step := range 50_000 {
			valueSpace := 4 + step/1000%40 // grow and shrink the key
			switch v := r.IntN(valueSpace); r.IntN(4) {
			case 0, 1:
				added := o.add(v, dup)
				if dup || !slices.Contains(want, v) {
					want = append(want, v)
					if !added {
						t.Fatalf("step %d: add(%d) refused", step, v)
					}
				} else if added {
					t.Fatalf("step %d: add(%d) kept a duplicate", step, v)
				}
			case 2:
				n := len(want)
				want = slices.DeleteFunc(want, func(x int) bool { return x == v })
				if got := o.remove(v, dup); got != n-len(want) {
					t.Fatalf("step %d: remove(%d) = %d, want %d", step, v, got, n-len(want))
				}
			case 3:
				// A sweep storing v+1 over every object equal to v.
				changes := make([]change[int], 0, o.live)
				stored := make([]bool, len(want))
				var kept []int
				for i, x := range want {
					if x == v {
						want[i], stored[i] = v+1, true
						changes = append(changes, change[int]{v + 1, Store})
					} else {
						kept = append(kept, x)
						changes = append(changes, change[int]{x, Keep})
					}
				}
				o.apply(changes, dup)
				if !dup {
					// A stored value merges into an equal object left
					// alone, wherever it is, or else into an earlier
					// stored one.
					var merged []int
					for i, x := range want {
						if stored[i] && slices.Contains(kept, x) || slices.Contains(merged, x) {
							continue
						}
						merged = append(merged, x)
					}
					want = merged
				}
			}
			o.check(t, want, step)
		}
	}
}

// A key that loses most of its objects gives their memory back: its list
// and its index shrink, whichever end the deletes come from. Before, a key
// emptied newest first (as a stack) kept its list's whole capacity, and any
// key kept its index's buckets (found by a review: 62 MB kept by 9 objects).
func TestObjects_ShrinkGivesBackMemory(t *testing.T) {
	const n, left = 10_000, 9
	for _, dup := range []bool{false, true} {
		for _, stack := range []bool{false, true} {
			var o objects[int]
			for v := range n {
				o.add(v, dup)
			}
			big := reflect.ValueOf(o.ix.m).UnsafePointer()
			for i := range n - left {
				v := i // oldest first
				if stack {
					v = n - 1 - i
				}
				o.remove(v, dup)
			}
			if c := cap(o.list); c > 4*left+smallObjects {
				t.Errorf("dup %v, stack %v: %d objects left in a list of capacity %d", dup, stack, o.live, c)
			}
			if o.ix != nil && reflect.ValueOf(o.ix.m).UnsafePointer() == big {
				t.Errorf("dup %v, stack %v: %d objects left in the index of %d", dup, stack, o.live, n)
			}
		}
	}
}

// A sweep that stores one value over every object of a Bag's key merges
// them into one object, which keeps no index and no list for forty (found
// by a review: rebuild chose the index before dropping the duplicates, and
// the key kept its 40-entry map).
func TestObjects_MergedKeyKeepsNoIndex(t *testing.T) {
	var o objects[int]
	for v := range 40 {
		o.add(v, false)
	}
	changes := make([]change[int], 40)
	for i := range changes {
		changes[i] = change[int]{v: 1000, op: Store}
	}
	o.apply(changes, false)
	o.check(t, []int{1000}, 0)
	if o.ix != nil || cap(o.list) > 4+smallObjects {
		t.Fatalf("a key of one object keeps an index (%v) or a list of capacity %d", o.ix != nil, cap(o.list))
	}
}
