package ets

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// A long-lived owner forgets the tables it no longer owns: dropped, given
// away, or whose constructor failed on a taken name. Otherwise its tables
// map keeps each one (and its emptied engine) until the owner ends; the
// tests that count memory give every table its own owner, so they did not
// see it. Found by a review.
func TestOwner_ForgetsTablesItNoLongerOwns(t *testing.T) {
	o := NewOwner(context.Background())
	defer o.Stop(nil)
	to := NewOwner(context.Background())
	defer to.Stop(nil)
	owned := func() int {
		o.mu.Lock()
		defer o.mu.Unlock()
		return len(o.tables)
	}

	dropped, err := NewSet[int, int](WithOwner(o))
	require.NoError(t, err)
	require.Equal(t, 1, owned())
	require.NoError(t, dropped.Drop())
	require.Zero(t, owned(), "after Drop")

	given, err := NewSet[int, int](WithOwner(o))
	require.NoError(t, err)
	require.NoError(t, o.GiveAway(given, to, nil))
	require.Zero(t, owned(), "after GiveAway")

	taken, err := NewSet[int, int](WithName("forgets-taken"))
	require.NoError(t, err)
	defer taken.Drop()
	_, err = NewSet[int, int](WithOwner(o), WithName("forgets-taken"))
	require.ErrorIs(t, err, ErrNameTaken)
	require.Zero(t, owned(), "after a constructor failed on a taken name")
}
