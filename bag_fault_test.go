package ets_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Fault injection on the bag kinds: the faults and checks of fault_test.go,
// with writers checked against the bags' model.

func TestFault_BagPanicsAmidConcurrentWrites(t *testing.T) {
	forEachBag(t, func(t *testing.T, k bagKind, newTable func() bagTable) {
		tab := newTable()
		panicsAmidConcurrentWrites(t, faultCase{
			tab:    tab,
			faults: len(faultKinds),
			first:  1, // bags have no Update
			// Several objects per fault key, with a copy in a DuplicateBag,
			// so that callbacks panic in the middle of a key's objects.
			fill: func(k, i int) error {
				return tab.InsertMany(entries(k, i, k, i+1, k, i, k, -i)...)
			},
			writer: func() (fuzzSubject, faultModel) { return &bagSubject{tab: tab}, bagFuzzModel{newBagModel(k.dup)} },
		})
	})
}

func TestFault_BagDropDuringTraversals(t *testing.T) {
	forEachBag(t, func(t *testing.T, _ bagKind, newTable func() bagTable) {
		dropsDuringTraversals(t, func() sharedTable {
			tab := newTable()
			for k := 50_000; k < 51_000; k++ { // keys with several objects, besides dropDuringTraversals' own
				require.NoError(t, tab.InsertMany(entries(k, 1, k, 2, k, 1)...))
			}
			return tab
		})
	})
}

func TestFault_BagWriteRacingDropLeavesNothing(t *testing.T) {
	forEachBag(t, func(t *testing.T, _ bagKind, newTable func() bagTable) {
		writeRacingDropLeavesNothing(t, func() sharedTable { return newTable() }, func(tab sharedTable, k, i int) error {
			if i%4 == 3 { // a second object under the key of the write before
				return tab.Insert(k-1, -i)
			}
			return sharedWrite(tab, k, i)
		})
	})
}
