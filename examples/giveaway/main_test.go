package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out bytes.Buffer
	require.NoError(t, run(&out))
	s := out.String()
	require.Contains(t, s, `get key: "" false <nil>`)
	require.Contains(t, s, `put key, get key: "value" true <nil>`)
	require.Contains(t, s, `die, then get at once: "value" true <nil> (workers started: 2)`)
	require.Contains(t, s, "800 puts from 8 goroutines while the worker was killed 5 more times: 0 failed, 801 keys (workers started: 7)")
	require.Contains(t, s, "put that crashes the worker: giveaway: worker crashed during the request")
	require.Contains(t, s, `next get: "value" <nil> (workers started: 8)`)
}

// Requests made while no worker runs wait and succeed: kill the worker many
// times in a row and read after each kill.
func TestRequestsWaitThroughRestarts(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx := context.Background()
	s, err := Start(ctx)
	require.NoError(t, err)
	defer s.Stop()
	require.NoError(t, s.Put(ctx, "k", "v"))
	for range 50 {
		s.Die()
		v, ok, err := s.Get(ctx, "k")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "v", v)
	}
	require.Equal(t, 51, s.Workers())
}

func TestStopped(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx := context.Background()
	s, err := Start(ctx)
	require.NoError(t, err)
	s.Stop()
	_, _, err = s.Get(ctx, "k")
	require.ErrorIs(t, err, ErrStopped)
}
