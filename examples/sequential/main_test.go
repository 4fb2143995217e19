package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/etsgo/ets"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out bytes.Buffer
	require.NoError(t, run(&out))
	s := out.String()
	require.Contains(t, s, "sequence put 1, get, put v+1, get: 2\n")
	require.Contains(t, s, "lookup then insert, 4 goroutines x 2000: ")
	require.Contains(t, s, "Update, 4 goroutines x 2000: 8000\n")
	require.Contains(t, s, "1600 concurrent transfers through the owner: alice+bob = 200 (no money made or lost), none negative: true")
	require.Contains(t, s, "direct write from another goroutine: true")
	require.Regexp(t, `failing operation: transfer 1000 from alice \(balance \d+\): insufficient funds`, s)
	require.Contains(t, s, "panicking operation: sequential: operation panicked: runtime error: index out of range [3] with length 0")
	require.Contains(t, s, "owner still alive: true; next operation: <nil>")
}

func TestDoAfterStop(t *testing.T) {
	defer goleak.VerifyNone(t)
	seq, err := Start(context.Background())
	require.NoError(t, err)
	seq.Stop()
	err = seq.Do(context.Background(), func(*Table) error { return nil })
	require.ErrorIs(t, err, ets.ErrOwnerDone)
}
