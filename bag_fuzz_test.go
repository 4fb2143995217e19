package ets_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/etsgo/ets"
)

// Differential fuzzing of the bag kinds: the decoder and driver of
// fuzz_test.go, with a subject for bag handles and one model for both kinds
// (bagModel, whose dup flag picks DuplicateBag's rules).

// bagReplace is SelectReplace's function for the bags: halve the values for
// which k+v is a multiple of mod. Halving maps two values to one and a value
// onto others of its key, so a Bag's replacements merge.
func bagReplace(mod int) func(k, v int) (int, bool) {
	return func(k, v int) (int, bool) { return v / 2, (k+v)%mod == 0 }
}

// describeObjects describes a traversal's objects by key, each key's in the
// order they came, after checking that each key's objects came together.
func describeObjects(es []ets.Entry[int, int]) string {
	done := map[int]bool{}
	for i, e := range es {
		if i > 0 && es[i-1].Key != e.Key {
			done[es[i-1].Key] = true
		}
		if done[e.Key] {
			return fmt.Sprintf("key %d's objects do not come together: %v", e.Key, es)
		}
	}
	return fmt.Sprint(grouped(es))
}

// bagSubject drives a Bag or a DuplicateBag.
type bagSubject struct {
	tab  bagTable
	walk *pagedWalk // the open SelectLimit walk, if any
}

func (s *bagSubject) apply(o fuzzOp) string {
	return applyShared(s.tab, &s.walk, o, bagReplace, s.call)
}

func (s *bagSubject) call(o fuzzOp) string {
	tab := s.tab
	switch o.code {
	case fuzzLookup:
		vs := tab.Lookup(o.key)
		return fmt.Sprint(vs, " nil ", vs == nil)
	case fuzzCount:
		return fmt.Sprint(tab.Count(o.key))
	case fuzzDeleteObject:
		return errName(tab.DeleteObject(o.key, o.val))
	case fuzzTake:
		vs, err := tab.Take(o.key)
		return fmt.Sprint(vs, " nil ", vs == nil, " ", errName(err))
	case fuzzAll:
		return describeObjects(entriesOf(tab.All()))
	case fuzzKeys:
		keys := slices.Collect(tab.Keys())
		slices.Sort(keys)
		return fmt.Sprint(keys)
	case fuzzSelect:
		return describeObjects(tab.Select(fuzzPred(o.mod)))
	case fuzzSelectLimit:
		page, cur := tab.SelectLimit(fuzzPred(o.mod), o.limit)
		all, problem := allPages(page, cur, o.limit)
		if problem != "" {
			return problem
		}
		return describeObjects(all)
	case fuzzWalkOpen:
		s.walk = openWalk(o, false, tab.Lookup)
		page, cur := tab.SelectLimit(s.walk.pred, o.limit)
		return s.walk.take(page, cur, &s.walk)
	case fuzzWalkNext:
		return s.walk.next(&s.walk)
	}
	return "n/a" // Update and UpdateCounter
}

func (s *bagSubject) final() string { return fmt.Sprint(bagContents(s.tab)) }

func (s *bagSubject) drop() string {
	page, cur := s.tab.SelectLimit(nil, 1)
	first, second := s.tab.Drop(), s.tab.Drop()
	page, cur = nextPage(page, cur)
	vs, err := s.tab.Take(0)
	return fmt.Sprintf("Drop %s, again %s, Err %s, Insert %s, Take %v %s, Lookup %v, Count %d, Member %v, Size %d, All %d, Keys %d, a walk's next page %d %v",
		errName(first), errName(second), errName(s.tab.Err()), errName(s.tab.Insert(0, 0)), vs, errName(err),
		s.tab.Lookup(0), s.tab.Count(0), s.tab.Member(0), s.tab.Size(), len(bagContents(s.tab)),
		len(slices.Collect(s.tab.Keys())), len(page), cur == nil)
}

// nextPage returns the page after page, or nothing if page was the last.
func nextPage(page []ets.Entry[int, int], cur *ets.Cursor[int, int]) ([]ets.Entry[int, int], *ets.Cursor[int, int]) {
	if cur == nil {
		return nil, nil
	}
	return cur.Next()
}

// bagFuzzModel is the model side of a bag's differential run: bagModel
// answering the decoded operations.
type bagFuzzModel struct {
	*bagModel
}

func (s bagFuzzModel) apply(o fuzzOp) string {
	m := s.bagModel
	nilErr := errName(nil)
	switch o.code {
	case fuzzInsert:
		m.insert(o.key, o.val)
		return nilErr
	case fuzzInsertMany:
		for _, e := range o.entries {
			m.insert(e.Key, e.Value)
		}
		return nilErr
	case fuzzInsertNew:
		return fmt.Sprint(m.insertNew(o.key, o.val), " ", nilErr)
	case fuzzInsertNewMany:
		for _, e := range o.entries {
			if len(m.m[e.Key]) > 0 {
				return fmt.Sprint(false, " ", nilErr)
			}
		}
		for _, e := range o.entries {
			m.insert(e.Key, e.Value)
		}
		return fmt.Sprint(true, " ", nilErr)
	case fuzzLookup:
		return fmt.Sprint(m.m[o.key], " nil ", m.m[o.key] == nil)
	case fuzzCount:
		return fmt.Sprint(len(m.m[o.key]))
	case fuzzMember:
		return fmt.Sprint(len(m.m[o.key]) > 0)
	case fuzzDelete:
		delete(m.m, o.key)
		return nilErr
	case fuzzDeleteObject:
		m.deleteObject(o.key, o.val)
		return nilErr
	case fuzzTake:
		vs := m.m[o.key]
		delete(m.m, o.key)
		return fmt.Sprint(vs, " nil ", vs == nil, " ", nilErr)
	case fuzzClear:
		clear(m.m)
		return nilErr
	case fuzzSize:
		return fmt.Sprint(m.size())
	case fuzzAll:
		return fmt.Sprint(m.m)
	case fuzzKeys:
		return fmt.Sprint(slices.Sorted(maps.Keys(m.m)))
	case fuzzSelect, fuzzSelectLimit:
		return fmt.Sprint(m.filter(fuzzPred(o.mod)))
	case fuzzSelectCount:
		return fmt.Sprint(countObjects(m.filter(fuzzPred(o.mod))))
	case fuzzSelectDelete:
		before := m.size()
		pred := fuzzPred(o.mod)
		m.m = m.filter(func(k, v int) bool { return !pred(k, v) })
		return fmt.Sprint(before-m.size(), " ", nilErr)
	case fuzzSelectReplace:
		return fmt.Sprint(m.replace(bagReplace(o.mod)), " ", nilErr)
	case fuzzWalkOpen, fuzzWalkNext: // the table checks its walk itself
		return "ok"
	}
	return "n/a"
}

// replace is SelectReplace: fn sees each object as it was, and in a Bag a
// replacement equal to an object fn left alone merges into it, wherever it
// is, and one equal to an earlier replacement merges into that. It returns
// how many objects fn replaced.
func (m *bagModel) replace(fn func(k, v int) (int, bool)) int {
	replaced := 0
	for k, vs := range m.m {
		var kept []int
		stored := make([]bool, len(vs))
		nvs := slices.Clone(vs)
		for i, v := range vs {
			if nv, ok := fn(k, v); ok {
				nvs[i], stored[i] = nv, true
				replaced++
			} else {
				kept = append(kept, v)
			}
		}
		var next []int
		for i, v := range nvs {
			if !m.dup && (stored[i] && slices.Contains(kept, v) || slices.Contains(next, v)) {
				continue
			}
			next = append(next, v)
		}
		m.m[k] = next
	}
	return replaced
}

func (s bagFuzzModel) final() string { return fmt.Sprint(s.m) }

func (s bagFuzzModel) drop() string {
	clear(s.m)
	deleted := errName(ets.ErrDeleted)
	return fmt.Sprintf("Drop %s, again %s, Err %s, Insert %s, Take %v %s, Lookup %v, Count %d, Member %v, Size %d, All %d, Keys %d, a walk's next page %d %v",
		errName(nil), deleted, deleted, deleted, []int(nil), deleted, []int(nil), 0, false, 0, 0, 0, 0, true)
}

// fuzzBag is the fuzz target of a bag kind: the first byte of the input picks
// the engine options, the rest are operations.
func fuzzBag(f *testing.F, kindName string) {
	i := slices.IndexFunc(bagKinds, func(k bagKind) bool { return k.name == kindName })
	if i < 0 {
		f.Fatalf("no kind %q in bagKinds", kindName)
	}
	kind := bagKinds[i]
	f.Fuzz(func(t *testing.T, data []byte) {
		b := fuzzBytes(data)
		opts := engineOptions[int(b.next())%len(engineOptions)].opts
		fuzzDifferential(t, b, &bagSubject{tab: kind.make(t, opts...)}, bagFuzzModel{newBagModel(kind.dup)})
	})
}

// FuzzBag checks Bag against a map of slices. go test replays
// testdata/fuzz/FuzzBag; go test -run '^$' -fuzz FuzzBag -fuzztime 3m .
// searches for more.
func FuzzBag(f *testing.F) { fuzzBag(f, "Bag") }

// FuzzDuplicateBag is FuzzBag for DuplicateBag: the model keeps every copy,
// and DeleteObject removes them all.
func FuzzDuplicateBag(f *testing.F) { fuzzBag(f, "DuplicateBag") }
