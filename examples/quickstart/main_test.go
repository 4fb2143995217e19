package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	for _, line := range []string{
		"lookup alice: 31 true",
		"insert_new alice again: false",
		"visits after 8x1000 concurrent increments: 8000",
		"bob after his birthday: 46",
		"over 30: [{alice 31} {bob 46}]",
		"objects: 4 size: 4",
	} {
		require.Contains(t, out.String(), line+"\n")
	}
}
