package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out bytes.Buffer
	require.NoError(t, run(&out))
	s := out.String()
	require.Contains(t, s, `get key: "" false`)
	require.Contains(t, s, `put key, get key: "value" true`)
	require.Contains(t, s, "8 goroutines wrote and read back 500 keys each; size 4001")
	require.Contains(t, s, `ets.Open("thin"): key="value" access=public read_concurrency=true write_concurrency=true`)
	require.Contains(t, s, "owner ended: put -> ets: table deleted; open -> not found: true")
}
