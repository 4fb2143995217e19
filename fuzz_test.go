package ets_test

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/etsgo/ets"
)

// Differential fuzzing. The fuzz input is decoded into a sequence of
// operations (decodeOps, shared by every kind); each operation is applied to
// the table and to a trivial single-threaded model, both of which describe
// their answer as a string, and the first pair of answers that differ fails
// the run with the operations that led there.
//
// Adding a kind: write a fuzzSubject for its handle and one for its model
// (kinds with one value per key reuse uniqueSubject and mapModel), then a
// FuzzKind that calls fuzzDifferential. Decoded operations a kind lacks may
// be answered "n/a" by both sides. The bag kinds (bag_fuzz_test.go) share
// this decoder and driver with a model of their own.

// fuzzOpCode names one operation of the API.
type fuzzOpCode uint8

const (
	fuzzInsert fuzzOpCode = iota
	fuzzInsertMany
	fuzzInsertNew
	fuzzInsertNewMany
	fuzzLookup
	fuzzMember
	fuzzDelete
	fuzzTake
	fuzzUpdate
	fuzzUpdateCounter
	fuzzClear
	fuzzSize
	fuzzAll
	fuzzKeys
	fuzzSelect
	fuzzSelectCount
	fuzzSelectDelete
	fuzzSelectReplace
	fuzzSelectLimit
	fuzzWalkOpen // SelectLimit whose walk goes on, a page at a time, between later calls
	fuzzWalkNext // the next page of the open walk
	fuzzDeleteObject
	fuzzCount
	fuzzOpCount
)

var fuzzOpNames = [fuzzOpCount]string{
	"Insert", "InsertMany", "InsertNew", "InsertNewMany", "Lookup", "Member", "Delete", "Take",
	"Update", "UpdateCounter", "Clear", "Size", "All", "Keys", "Select", "SelectCount",
	"SelectDelete", "SelectReplace", "SelectLimit", "SelectLimit(walk)", "Cursor.Next",
	"DeleteObject", "Count",
}

// fuzzOp is one decoded operation. Only the fields its code uses are set.
type fuzzOp struct {
	code    fuzzOpCode
	key     int
	val     int
	entries []ets.Entry[int, int] // InsertMany, InsertNewMany
	choice  ets.Op                // Update
	// UpdateCounter: an optional default and an optional threshold.
	hasDefault, hasThreshold bool
	def, threshold, setValue int
	mod                      int // the Select family's predicates test divisibility by mod
	limit                    int // SelectLimit
}

func (o fuzzOp) String() string {
	name := fuzzOpNames[o.code]
	switch o.code {
	case fuzzInsert, fuzzInsertNew, fuzzDeleteObject:
		return fmt.Sprintf("%s(%d, %d)", name, o.key, o.val)
	case fuzzInsertMany, fuzzInsertNewMany:
		return fmt.Sprintf("%s(%v)", name, o.entries)
	case fuzzLookup, fuzzMember, fuzzDelete, fuzzTake, fuzzCount:
		return fmt.Sprintf("%s(%d)", name, o.key)
	case fuzzUpdate:
		return fmt.Sprintf("%s(%d, old+%d, op %d)", name, o.key, o.val, o.choice)
	case fuzzUpdateCounter:
		s := fmt.Sprintf("%s(%d, %d", name, o.key, o.val)
		if o.hasDefault {
			s += fmt.Sprintf(", WithDefault(%d)", o.def)
		}
		if o.hasThreshold {
			s += fmt.Sprintf(", WithThreshold(%d, %d)", o.threshold, o.setValue)
		}
		return s + ")"
	case fuzzSelect, fuzzSelectCount, fuzzSelectDelete, fuzzSelectReplace:
		return fmt.Sprintf("%s(mod %d)", name, o.mod)
	case fuzzSelectLimit, fuzzWalkOpen:
		return fmt.Sprintf("%s(mod %d, limit %d)", name, o.mod, o.limit)
	}
	return name + "()"
}

// fuzzPred is the predicate of the Select family: whether k+v is a multiple
// of mod (mod 1 matches everything).
func fuzzPred(mod int) func(k, v int) bool {
	return func(k, v int) bool { return (k+v)%mod == 0 }
}

// fuzzReplace is SelectReplace's function: replace the values of the keys
// that are multiples of mod with 2v+1.
func fuzzReplace(mod int) func(k, v int) (int, bool) {
	return func(k, v int) (int, bool) { return 2*v + 1, k%mod == 0 }
}

// fuzzBytes reads the fuzz input; past its end every byte is zero.
type fuzzBytes []byte

func (b *fuzzBytes) next() byte {
	if len(*b) == 0 {
		return 0
	}
	c := (*b)[0]
	*b = (*b)[1:]
	return c
}

// The key space is small so that operations meet the same keys.
func (b *fuzzBytes) key() int { return int(b.next() % 16) }
func (b *fuzzBytes) val() int { return int(int8(b.next())) }

func (b *fuzzBytes) entries(max int) []ets.Entry[int, int] {
	es := make([]ets.Entry[int, int], int(b.next())%(max+1))
	for i := range es {
		es[i] = ets.Entry[int, int]{Key: b.key(), Value: b.val()}
	}
	return es
}

// decodeOps turns fuzz input into operations: one byte picks the operation,
// the bytes after it are its arguments. Every input decodes to something.
func decodeOps(data []byte) []fuzzOp {
	b := fuzzBytes(data)
	var ops []fuzzOp
	for len(b) > 0 {
		o := fuzzOp{code: fuzzOpCode(b.next() % byte(fuzzOpCount))}
		switch o.code {
		case fuzzInsert, fuzzInsertNew, fuzzDeleteObject:
			o.key, o.val = b.key(), b.val()
		case fuzzInsertMany:
			o.entries = b.entries(4)
		case fuzzInsertNewMany:
			o.entries = b.entries(3)
		case fuzzLookup, fuzzMember, fuzzDelete, fuzzTake, fuzzCount:
			o.key = b.key()
		case fuzzUpdate:
			o.key, o.val, o.choice = b.key(), b.val(), ets.Op(b.next()%3)
		case fuzzUpdateCounter:
			o.key, o.val = b.key(), b.val()
			flags := b.next()
			if flags&1 != 0 {
				o.hasDefault, o.def = true, b.val()
			}
			if flags&2 != 0 {
				o.hasThreshold, o.threshold, o.setValue = true, b.val(), b.val()
			}
			if flags&4 != 0 { // counters near the edge of int, to reach overflow
				o.val *= math.MaxInt / 64
			}
		case fuzzSelect, fuzzSelectCount, fuzzSelectDelete, fuzzSelectReplace:
			o.mod = int(b.next()%4) + 1
		case fuzzSelectLimit, fuzzWalkOpen:
			o.mod, o.limit = int(b.next()%4)+1, int(b.next()%5)+1
		}
		ops = append(ops, o)
	}
	return ops
}

// fuzzSubject is one side of a differential run: a table or its model. It
// answers each operation with a description of the result.
type fuzzSubject interface {
	apply(o fuzzOp) string
	// final describes the whole contents, compared once the operations are
	// done; drop then drops the table and describes what a dropped table does.
	final() string
	drop() string
}

// fuzzDifferential runs the operations decoded from data on tab and model
// and fails at the first difference.
func fuzzDifferential(t *testing.T, data []byte, tab, model fuzzSubject) {
	ops := decodeOps(data)
	for i, o := range ops {
		got, want := tab.apply(o), model.apply(o)
		if got != want {
			t.Fatalf("operation %d of %d, %v:\n  table: %s\n  model: %s\nfrom the start:\n%s",
				i, len(ops), o, got, want, describeOps(ops[:i+1]))
		}
	}
	if got, want := tab.final(), model.final(); got != want {
		t.Fatalf("after %d operations the contents differ:\n  table: %s\n  model: %s\nfrom the start:\n%s",
			len(ops), got, want, describeOps(ops))
	}
	if got, want := tab.drop(), model.drop(); got != want {
		t.Fatalf("Drop after %d operations:\n  table: %s\n  model: %s", len(ops), got, want)
	}
}

func describeOps(ops []fuzzOp) string {
	var sb strings.Builder
	for i, o := range ops {
		fmt.Fprintf(&sb, "  %d: %v\n", i, o)
	}
	return sb.String()
}

// errName names the sentinel error err wraps, for results that must match.
func errName(err error) string {
	for _, e := range []error{ets.ErrNotFound, ets.ErrOverflow, ets.ErrDeleted, ets.ErrInvalidOption, ets.ErrAccess} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	if err != nil {
		return "unexpected error " + err.Error()
	}
	return "nil"
}

// sortedEntries describes entries in key order, or as given when the kind
// promises an order.
func sortedEntries(es []ets.Entry[int, int], ordered bool) string {
	if !ordered {
		es = byKey(es)
	}
	return fmt.Sprint(es)
}

// uniqueSubject drives a table of a kind with one value per key.
type uniqueSubject struct {
	tab     uniqueTable[int, int]
	ordered bool
	walk    *pagedWalk // the open SelectLimit walk, if any
}

func (s *uniqueSubject) apply(o fuzzOp) string {
	return applyShared(s.tab, &s.walk, o, fuzzReplace, s.call)
}

// applyShared makes the call o: with callShared if every kind has it, else
// with call, the kind's own. It keeps the open walk *walk, if any, informed
// of what the call changes. replace is the kind's SelectReplace function.
func applyShared(tab sharedTable, walk **pagedWalk, o fuzzOp, replace func(mod int) func(k, v int) (int, bool), call func(fuzzOp) string) string {
	if *walk != nil && o.code == fuzzSelectReplace {
		(*walk).replacing(replace(o.mod))
	}
	res, ok := callShared(tab, o, replace)
	if !ok {
		res = call(o)
	}
	if *walk != nil {
		(*walk).observe()
	}
	return res
}

// callShared makes the calls whose signature every kind shares and reports
// whether o was one; replace is the kind's SelectReplace function.
func callShared(tab sharedTable, o fuzzOp, replace func(mod int) func(k, v int) (int, bool)) (string, bool) {
	switch o.code {
	case fuzzInsert:
		return errName(tab.Insert(o.key, o.val)), true
	case fuzzInsertMany:
		return errName(tab.InsertMany(o.entries...)), true
	case fuzzInsertNew:
		ok, err := tab.InsertNew(o.key, o.val)
		return fmt.Sprint(ok, " ", errName(err)), true
	case fuzzInsertNewMany:
		ok, err := tab.InsertNewMany(o.entries...)
		return fmt.Sprint(ok, " ", errName(err)), true
	case fuzzMember:
		return fmt.Sprint(tab.Member(o.key)), true
	case fuzzDelete:
		return errName(tab.Delete(o.key)), true
	case fuzzClear:
		return errName(tab.Clear()), true
	case fuzzSize:
		return fmt.Sprint(tab.Size()), true
	case fuzzSelectCount:
		return fmt.Sprint(tab.SelectCount(fuzzPred(o.mod))), true
	case fuzzSelectDelete:
		n, err := tab.SelectDelete(fuzzPred(o.mod))
		return fmt.Sprint(n, " ", errName(err)), true
	case fuzzSelectReplace:
		n, err := tab.SelectReplace(replace(o.mod))
		return fmt.Sprint(n, " ", errName(err)), true
	}
	return "", false
}

func (s *uniqueSubject) call(o fuzzOp) string {
	tab := s.tab
	switch o.code {
	case fuzzLookup:
		v, ok := tab.Lookup(o.key)
		return fmt.Sprint(v, ok)
	case fuzzTake:
		v, ok, err := tab.Take(o.key)
		return fmt.Sprint(v, " ", ok, " ", errName(err))
	case fuzzUpdate:
		var saw string
		v, ok, err := tab.Update(o.key, func(old int, ok bool) (int, ets.Op) {
			saw = fmt.Sprint(old, ok)
			return old + o.val, o.choice
		})
		return fmt.Sprintf("fn saw %s, returned %d %v %s", saw, v, ok, errName(err))
	case fuzzUpdateCounter:
		var opts []ets.CounterOption[int]
		if o.hasDefault {
			opts = append(opts, ets.WithDefault(o.def))
		}
		if o.hasThreshold {
			opts = append(opts, ets.WithThreshold(o.threshold, o.setValue))
		}
		v, err := ets.UpdateCounter(tab, o.key, o.val, opts...)
		return fmt.Sprint(v, " ", errName(err))
	case fuzzAll:
		return sortedEntries(entriesOf(tab.All()), s.ordered)
	case fuzzKeys:
		keys := slices.Collect(tab.Keys())
		if !s.ordered {
			slices.Sort(keys)
		}
		return fmt.Sprint(keys)
	case fuzzSelect:
		return sortedEntries(tab.Select(fuzzPred(o.mod)), s.ordered)
	case fuzzSelectLimit:
		page, cur := tab.SelectLimit(fuzzPred(o.mod), o.limit)
		all, problem := allPages(page, cur, o.limit)
		if problem != "" {
			return problem
		}
		if s.ordered && !slices.IsSortedFunc(all, func(a, b ets.Entry[int, int]) int { return a.Key - b.Key }) {
			return fmt.Sprintf("pages out of key order: %v", all)
		}
		return sortedEntries(all, false)
	case fuzzWalkOpen:
		s.walk = openWalk(o, true, func(k int) []int {
			if v, ok := tab.Lookup(k); ok {
				return []int{v}
			}
			return nil
		})
		page, cur := tab.SelectLimit(s.walk.pred, o.limit)
		return s.walk.take(page, cur, &s.walk)
	case fuzzWalkNext:
		return s.walk.next(&s.walk)
	}
	return "n/a"
}

// pagedWalk is a SelectLimit walk whose pages are taken between other calls.
// It checks the contract of such walks, object by object (an object is a key
// and a value; copies of one in a DuplicateBag are counted): every page but
// the last is full, each page holds objects the table has when the page is
// taken, no object comes more often than it existed during the walk, and
// every object present for the whole walk comes. With oneValue (the kinds
// with one value per key) it also checks keys: no key comes twice, and every
// key present for the whole walk comes. Its predicate tests keys only, so
// whether an object matches never changes.
type pagedWalk struct {
	mod, limit int
	cur        *ets.Cursor[int, int]
	objects    func(k int) []int // k's objects in the table now
	oneValue   bool
	// Per object: copies at the last observation, the fewest copies seen
	// since the walk began, the copies that existed during the walk, and the
	// copies the pages held.
	now, always, ever, seen map[ets.Entry[int, int]]int
	keys                    map[int]bool // the matching keys present since the walk began
	seenKeys                map[int]bool
}

// walkKeys is the key space of the fuzz decoder, which the walk observes.
const walkKeys = 16

func openWalk(o fuzzOp, oneValue bool, objects func(k int) []int) *pagedWalk {
	w := &pagedWalk{mod: o.mod, limit: o.limit, objects: objects, oneValue: oneValue,
		keys: map[int]bool{}, seenKeys: map[int]bool{}, seen: map[ets.Entry[int, int]]int{}}
	w.now = w.count()
	w.always, w.ever = maps.Clone(w.now), maps.Clone(w.now)
	for e := range w.now {
		w.keys[e.Key] = true
	}
	return w
}

func (w *pagedWalk) pred(k, _ int) bool { return k%w.mod == 0 }

// count counts the copies of each matching object in the table.
func (w *pagedWalk) count() map[ets.Entry[int, int]]int {
	n := map[ets.Entry[int, int]]int{}
	for k := range walkKeys {
		if w.pred(k, 0) {
			for _, v := range w.objects(k) {
				n[ets.Entry[int, int]{Key: k, Value: v}]++
			}
		}
	}
	return n
}

// observe records the table's objects after a call.
func (w *pagedWalk) observe() {
	now := w.count()
	for e, c := range now {
		w.ever[e] += max(0, c-w.now[e])
	}
	for e := range w.always {
		w.always[e] = min(w.always[e], now[e])
	}
	for k := range w.keys {
		if len(w.objects(k)) == 0 {
			delete(w.keys, k)
		}
	}
	w.now = now
}

// replacing records a SelectReplace with fn about to run. It changes objects
// rather than removing and adding them, so the counts alone miss it: each
// object fn replaces is no longer present, and its replacement is an object
// that existed during the walk.
func (w *pagedWalk) replacing(fn func(k, v int) (int, bool)) {
	for k := range walkKeys {
		if !w.pred(k, 0) {
			continue
		}
		for _, v := range w.objects(k) {
			if nv, ok := fn(k, v); ok {
				w.always[ets.Entry[int, int]{Key: k, Value: v}] = 0
				w.ever[ets.Entry[int, int]{Key: k, Value: nv}]++
			}
		}
	}
}

// next takes the next page of the open walk, if any.
func (w *pagedWalk) next(open **pagedWalk) string {
	if w == nil {
		return "ok"
	}
	page, cur := w.cur.Next()
	return w.take(page, cur, open)
}

// take checks one page; after the last it checks the walk as a whole and
// clears *open. It answers "ok" or what is wrong.
func (w *pagedWalk) take(page []ets.Entry[int, int], cur *ets.Cursor[int, int], open **pagedWalk) string {
	w.cur = cur
	if problem := pageSize(page, cur, w.limit); problem != "" {
		return problem
	}
	for _, e := range page {
		switch {
		case !w.pred(e.Key, e.Value):
			return fmt.Sprintf("page holds %v, which the predicate rejects", e)
		case !slices.Contains(w.objects(e.Key), e.Value):
			return fmt.Sprintf("page holds %v while the table holds %v", e, w.objects(e.Key))
		case w.oneValue && w.seenKeys[e.Key]:
			return fmt.Sprintf("key %d comes twice in the walk", e.Key)
		}
		w.seen[e]++
		w.seenKeys[e.Key] = true
		if w.seen[e] > w.ever[e] {
			return fmt.Sprintf("%v comes %d times in the walk, but only %d copies existed", e, w.seen[e], w.ever[e])
		}
	}
	if cur != nil {
		return "ok"
	}
	*open = nil
	for e, c := range w.always {
		if w.seen[e] < c {
			return fmt.Sprintf("%v, %d copies present for the whole walk, came %d times", e, c, w.seen[e])
		}
	}
	for k := range w.keys {
		if w.oneValue && !w.seenKeys[k] {
			return fmt.Sprintf("key %d, present for the whole walk, never came", k)
		}
	}
	return "ok"
}

// pageSize checks the sizes the contract promises: every page but the last
// holds exactly limit objects, and the last at most limit.
func pageSize(page []ets.Entry[int, int], cur *ets.Cursor[int, int], limit int) string {
	switch {
	case cur != nil && len(page) != limit:
		return fmt.Sprintf("a page before the last holds %d objects, not %d", len(page), limit)
	case len(page) > limit:
		return fmt.Sprintf("the last page holds %d objects, over the limit %d", len(page), limit)
	}
	return ""
}

// allPages takes every page of a walk, from the first, and returns their
// objects in order, or what is wrong with the page sizes.
func allPages(page []ets.Entry[int, int], cur *ets.Cursor[int, int], limit int) ([]ets.Entry[int, int], string) {
	all := slices.Clone(page)
	for cur != nil {
		if problem := pageSize(page, cur, limit); problem != "" {
			return nil, problem
		}
		page, cur = cur.Next()
		all = append(all, page...)
	}
	return all, pageSize(page, cur, limit)
}

func (s *uniqueSubject) final() string { return fmt.Sprint(contents(s.tab)) }

func (s *uniqueSubject) drop() string {
	first, second := s.tab.Drop(), s.tab.Drop()
	_, ok := s.tab.Lookup(0)
	return fmt.Sprintf("Drop %s, again %s, Err %s, Insert %s, Lookup %v, Size %d, All %d",
		errName(first), errName(second), errName(s.tab.Err()), errName(s.tab.Insert(0, 0)),
		ok, s.tab.Size(), len(contents(s.tab)))
}

// mapModel is the model of the kinds with one value per key: a map.
type mapModel struct {
	m map[int]int
}

func (s *mapModel) apply(o fuzzOp) string {
	m := s.m
	nilErr := errName(nil)
	switch o.code {
	case fuzzInsert:
		m[o.key] = o.val
		return nilErr
	case fuzzInsertMany:
		for _, e := range o.entries {
			m[e.Key] = e.Value
		}
		return nilErr
	case fuzzInsertNew:
		_, had := m[o.key]
		if !had {
			m[o.key] = o.val
		}
		return fmt.Sprint(!had, " ", nilErr)
	case fuzzInsertNewMany:
		for _, e := range o.entries {
			if _, had := m[e.Key]; had {
				return fmt.Sprint(false, " ", nilErr)
			}
		}
		for _, e := range o.entries {
			m[e.Key] = e.Value
		}
		return fmt.Sprint(true, " ", nilErr)
	case fuzzLookup:
		v, ok := m[o.key]
		return fmt.Sprint(v, ok)
	case fuzzMember:
		_, ok := m[o.key]
		return fmt.Sprint(ok)
	case fuzzDelete:
		delete(m, o.key)
		return nilErr
	case fuzzTake:
		v, ok := m[o.key]
		delete(m, o.key)
		return fmt.Sprint(v, " ", ok, " ", nilErr)
	case fuzzUpdate:
		old, had := m[o.key]
		v, ok := old, had
		switch o.choice {
		case ets.Store:
			v, ok = old+o.val, true
			m[o.key] = v
		case ets.Delete:
			v, ok = 0, false
			delete(m, o.key)
		}
		return fmt.Sprintf("fn saw %d %v, returned %d %v %s", old, had, v, ok, nilErr)
	case fuzzUpdateCounter:
		v, err := s.counter(o)
		return fmt.Sprint(v, " ", errName(err))
	case fuzzClear:
		clear(m)
		return nilErr
	case fuzzSize:
		return fmt.Sprint(len(m))
	case fuzzAll:
		return fmt.Sprint(s.matching(nil))
	case fuzzKeys:
		var keys []int
		for _, e := range s.matching(nil) {
			keys = append(keys, e.Key)
		}
		return fmt.Sprint(keys)
	case fuzzSelect, fuzzSelectLimit:
		return fmt.Sprint(s.matching(fuzzPred(o.mod)))
	case fuzzWalkOpen, fuzzWalkNext: // the table checks its walk itself
		return "ok"
	case fuzzSelectCount:
		return fmt.Sprint(len(s.matching(fuzzPred(o.mod))))
	case fuzzSelectDelete:
		gone := s.matching(fuzzPred(o.mod))
		for _, e := range gone {
			delete(m, e.Key)
		}
		return fmt.Sprint(len(gone), " ", nilErr)
	case fuzzSelectReplace:
		n := 0
		for k, v := range m {
			if nv, ok := fuzzReplace(o.mod)(k, v); ok {
				m[k] = nv
				n++
			}
		}
		return fmt.Sprint(n, " ", nilErr)
	}
	return "n/a"
}

// matching returns the objects pred accepts (all for nil) in key order.
func (s *mapModel) matching(pred func(k, v int) bool) []ets.Entry[int, int] {
	var es []ets.Entry[int, int]
	for k, v := range s.m {
		if pred == nil || pred(k, v) {
			es = append(es, ets.Entry[int, int]{Key: k, Value: v})
		}
	}
	return byKey(es)
}

// counter is ETS's update_counter written out plainly, with Go's overflow
// rule from the contract: overflow counts as past any threshold, and is
// ErrOverflow without one.
func (s *mapModel) counter(o fuzzOp) (int, error) {
	old, ok := s.m[o.key]
	if !ok {
		if !o.hasDefault {
			return 0, ets.ErrNotFound
		}
		old = o.def
	}
	overflow := (o.val > 0 && old > math.MaxInt-o.val) || (o.val < 0 && old < math.MinInt-o.val)
	v := old + o.val
	past := overflow || (o.val >= 0 && v > o.threshold) || (o.val < 0 && v < o.threshold)
	switch {
	case o.hasThreshold && past:
		v = o.setValue
	case overflow:
		return 0, ets.ErrOverflow
	}
	s.m[o.key] = v
	return v, nil
}

func (s *mapModel) final() string { return fmt.Sprint(s.m) }

func (s *mapModel) drop() string {
	clear(s.m)
	return fmt.Sprintf("Drop %s, again %s, Err %s, Insert %s, Lookup %v, Size %d, All %d",
		errName(nil), errName(ets.ErrDeleted), errName(ets.ErrDeleted), errName(ets.ErrDeleted), false, 0, 0)
}

// fuzzUnique is the fuzz target of a kind with one value per key: the first
// byte of the input picks the engine options, the rest are operations.
func fuzzUnique(f *testing.F, kindName string) {
	i := slices.IndexFunc(uniqueKinds, func(k uniqueKind) bool { return k.name == kindName })
	if i < 0 {
		f.Fatalf("no kind %q in uniqueKinds", kindName)
	}
	kind := uniqueKinds[i]
	f.Fuzz(func(t *testing.T, data []byte) {
		b := fuzzBytes(data)
		opts := engineOptions[int(b.next())%len(engineOptions)].opts
		tab := &uniqueSubject{tab: kind.make(t, opts...), ordered: kind.ordered}
		fuzzDifferential(t, b, tab, &mapModel{m: map[int]int{}})
	})
}

// FuzzSet checks Set against a map. go test replays testdata/fuzz/FuzzSet;
// go test -run '^$' -fuzz FuzzSet -fuzztime 3m . searches for more.
func FuzzSet(f *testing.F) { fuzzUnique(f, "Set") }

// FuzzOrderedSet is FuzzSet's differential fuzzing for OrderedSet, whose
// model also checks key order.
func FuzzOrderedSet(f *testing.F) { fuzzUnique(f, "OrderedSet") }
