package ets_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"

	"github.com/etsgo/ets"
)

// Linearizability of the bag kinds: the recorder and checking loop of
// linearizability_test.go, with the bags' calls, state and model step.

// bagLinOps are the calls bag histories are made of.
var bagLinOps = []fuzzOpCode{
	fuzzInsert, fuzzInsertMany, fuzzInsertNew, fuzzInsertNewMany, fuzzDeleteObject,
	fuzzDelete, fuzzTake, fuzzLookup, fuzzCount, fuzzMember,
}

// bagLinValues is the value space: small, so that objects meet (a Bag's
// equal objects, a DuplicateBag's copies, DeleteObject's every copy). Each
// value is one digit in bagLinState.
const bagLinValues = 3

func randomBagLinInput(r *rand.Rand) linInput {
	in := linInput{op: bagLinOps[r.IntN(len(bagLinOps))], key: r.IntN(linKeys), val: r.IntN(bagLinValues)}
	if in.op == fuzzInsertMany || in.op == fuzzInsertNewMany {
		in.entries = make([]ets.Entry[int, int], 1+r.IntN(linKeys))
		for i := range in.entries {
			in.entries[i] = ets.Entry[int, int]{Key: r.IntN(linKeys), Value: r.IntN(bagLinValues)}
		}
	}
	return in
}

// bagLinOutput is what a bag call returned: vals holds the objects of Lookup
// and Take, one digit each, in order.
type bagLinOutput struct {
	vals string
	n    int
	ok   bool
	err  string
}

func digits(vs []int) string {
	var sb strings.Builder
	for _, v := range vs {
		sb.WriteByte(byte('0' + v))
	}
	return sb.String()
}

// bagLinApply runs one call on a bag.
func bagLinApply(tab bagTable, in linInput) bagLinOutput {
	if ok, errs, done := linApplyShared(tab, in); done {
		return bagLinOutput{ok: ok, err: errs}
	}
	var out bagLinOutput
	var err error
	switch in.op {
	case fuzzDeleteObject:
		err = tab.DeleteObject(in.key, in.val)
	case fuzzTake:
		var vs []int
		vs, err = tab.Take(in.key)
		out.vals = digits(vs)
	case fuzzLookup:
		out.vals = digits(tab.Lookup(in.key))
	case fuzzCount:
		out.n = tab.Count(in.key)
	}
	out.err = errName(err)
	return out
}

// bagLinState is the model's whole table: each key's objects in insertion
// order, one digit each. An array of strings compares with ==, as
// porcupine's default equality needs.
type bagLinState [linKeys]string

// bagLinStep is the sequential specification of the bags (DuplicateBag's
// with dup): the state after in, and the output in must give.
func bagLinStep(dup bool, s bagLinState, in linInput) (bagLinState, bagLinOutput) {
	ok := bagLinOutput{err: errName(nil)}
	insert := func(k, v int) {
		d := string(rune('0' + v))
		if dup || !strings.Contains(s[k], d) {
			s[k] += d
		}
	}
	switch in.op {
	case fuzzInsert:
		insert(in.key, in.val)
	case fuzzInsertMany:
		for _, e := range in.entries {
			insert(e.Key, e.Value)
		}
	case fuzzInsertNew:
		if ok.ok = s[in.key] == ""; ok.ok {
			insert(in.key, in.val)
		}
	case fuzzInsertNewMany:
		ok.ok = true
		for _, e := range in.entries {
			ok.ok = ok.ok && s[e.Key] == ""
		}
		for _, e := range in.entries {
			if ok.ok {
				insert(e.Key, e.Value)
			}
		}
	case fuzzDeleteObject:
		s[in.key] = strings.ReplaceAll(s[in.key], string(rune('0'+in.val)), "")
	case fuzzDelete:
		s[in.key] = ""
	case fuzzTake:
		ok.vals, s[in.key] = s[in.key], ""
	case fuzzLookup:
		ok.vals = s[in.key]
	case fuzzCount:
		ok.n = len(s[in.key])
	case fuzzMember:
		ok.ok = s[in.key] != ""
	case fuzzAll, fuzzSelect, fuzzSelectDelete, fuzzSelectReplace:
		ok.vals = s[in.key]
		switch in.op {
		case fuzzSelectDelete:
			s[in.key] = strings.ReplaceAll(s[in.key], "1", "")
		case fuzzSelectReplace:
			if !dup && strings.Contains(s[in.key], "2") { // the 0 merges into the 2
				s[in.key] = strings.ReplaceAll(s[in.key], "0", "")
			} else {
				s[in.key] = strings.ReplaceAll(s[in.key], "0", "2")
			}
		}
	default:
		panic("bagLinStep: unknown operation")
	}
	return s, ok
}

// bagLinModel is bagLinStep as a porcupine model, partitioned as linModel.
func bagLinModel(dup bool) porcupine.Model {
	m := linModel
	m.Init = func() any { return bagLinState{} }
	m.Step = func(state, input, output any) (bool, any) {
		next, want := bagLinStep(dup, state.(bagLinState), input.(linInput))
		return want == output.(bagLinOutput), next
	}
	return m
}

// bagCheck is the linCheck of a bag kind (DuplicateBag with dup).
func bagCheck(dup bool, newTable func() bagTable) linCheck {
	return linCheck{model: bagLinModel(dup), random: randomBagLinInput, newTable: func() linTable {
		tab := newTable()
		return linTable{apply: func(in linInput) any {
			if slices.Contains(bagLinTraversals, in.op) {
				return bagLinTraverse(tab, in)
			}
			return bagLinApply(tab, in)
		}, drop: tab.Drop}
	}}
}

// bagLinTraversals are the traversals of the bags' histories: each visits a
// key's objects together, under the key's shard lock, so each is checked key
// by key as linVisits describes (SelectLimit is not: its pages may split a
// key's objects).
var bagLinTraversals = []fuzzOpCode{fuzzAll, fuzzSelect, fuzzSelectDelete, fuzzSelectReplace}

// bagLinVisits is what a traversal of a bag saw of each key: its objects, one
// digit each, in the order visited (vals), and the call's error.
type bagLinVisits [linKeys]bagLinOutput

func (vs bagLinVisits) perKey() []any { return perKey(vs) }

// bagLinTraverse runs the traversal in.op on a bag: SelectDelete deletes
// the objects of value 1, SelectReplace turns 0 into 2 (which, in a Bag,
// merges with a 2 the key has).
func bagLinTraverse(tab bagTable, in linInput) bagLinVisits {
	var out bagLinVisits
	err := traverse(tab, in.op, func(k, v int) { out[k].vals += string(rune('0' + v)) },
		func(v int) bool { return v == 1 }, func(v int) (int, bool) { return 2, v == 0 })
	for k := range out {
		out[k].err = errName(err)
	}
	return out
}

func TestLinearizability_Bags(t *testing.T) {
	forEachBag(t, func(t *testing.T, k bagKind, newTable func() bagTable) {
		requireLinearizable(t, bagCheck(k.dup, newTable))
	})
}

// TestLinearizability_BagTraversals adds All, Select, SelectDelete and
// SelectReplace to the bags' histories, checked key by key, as
// TestLinearizability_Traversals does for the other kinds.
func TestLinearizability_BagTraversals(t *testing.T) {
	forEachBag(t, func(t *testing.T, k bagKind, newTable func() bagTable) {
		c := bagCheck(k.dup, newTable)
		c.random = withTraversals(bagLinTraversals, randomBagLinInput)
		requireLinearizable(t, c)
	})
}

// The model itself, on a sequence whose answers are known: a Bag keeps one
// of equal objects, a DuplicateBag every copy, and DeleteObject removes them
// all.
func TestLinearizability_BagModel(t *testing.T) {
	for _, dup := range []bool{false, true} {
		var s bagLinState
		var out bagLinOutput
		for _, in := range []linInput{
			{op: fuzzInsert, key: 1, val: 2},
			{op: fuzzInsertMany, entries: entries(1, 0, 1, 2, 0, 1)},
			{op: fuzzInsertNew, key: 0, val: 2},
		} {
			s, _ = bagLinStep(dup, s, in)
		}
		_, out = bagLinStep(dup, s, linInput{op: fuzzLookup, key: 1})
		want := map[bool]string{false: "20", true: "202"}[dup]
		require.Equal(t, want, out.vals, fmt.Sprint("dup ", dup))
		s, _ = bagLinStep(dup, s, linInput{op: fuzzDeleteObject, key: 1, val: 2})
		_, out = bagLinStep(dup, s, linInput{op: fuzzTake, key: 1})
		require.Equal(t, "0", out.vals)
		_, out = bagLinStep(dup, s, linInput{op: fuzzInsertNewMany, entries: entries(2, 1, 0, 1)})
		require.False(t, out.ok, "key 0 has an object")
	}
}
