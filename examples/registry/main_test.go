package main

import (
	"bytes"
	"sync"
	"testing"

	"github.com/etsgo/ets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out bytes.Buffer
	require.NoError(t, run(&out, 5_000))
	s := out.String()
	require.Regexp(t, `64 goroutines raced to create "agent_registry": 64 found their agent; tables with the name: 1, size 1110 \(copies built: \d+, the losers dropped theirs\)`, s)
	require.Contains(t, s, "get agent-0042: {Slug:agent-0042 Name:Agent 42 Tier:0} true <nil>")
	require.Contains(t, s, "get no-such-agent: false <nil>")
	require.Regexp(t, `5000 lookups from \d+ goroutines: median \S+, p99 \S+ \(the clock itself: median \S+\)`, s)
	require.Regexp(t, `500 lookups through one serving goroutine \(the GenServer anti-pattern\): median \S+, p99 \S+`, s)
	_, err := ets.Open[*ets.Set[string, Agent]](TableName)
	require.ErrorIs(t, err, ets.ErrNotFound, "run drops the registry")
}

// A reader never sees a half-loaded registry, however the creation race
// goes, and a dropped registry is rebuilt on the next Get.
func TestNeverHalfLoaded(t *testing.T) {
	defer goleak.VerifyNone(t)
	for round := range 10 {
		reg := New("registry-test", agents)
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// The last agent loaded is present for everyone.
				a, ok, err := reg.Get(slugOf(1109 - i))
				assert.NoError(t, err)
				assert.True(t, ok, "round %d", round)
				assert.Equal(t, slugOf(1109-i), a.Slug)
			}()
		}
		wg.Wait()
		tb, err := ets.Open[*ets.Set[string, Agent]]("registry-test")
		require.NoError(t, err)
		require.Equal(t, 1110, tb.Size())
		require.NoError(t, tb.Drop())
		_, ok, err := reg.Get(slugOf(0))
		require.NoError(t, err)
		require.True(t, ok, "rebuilt after drop")
		tb, err = ets.Open[*ets.Set[string, Agent]]("registry-test")
		require.NoError(t, err)
		require.NoError(t, tb.Drop())
	}
}
