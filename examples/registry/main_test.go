package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
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
	require.Contains(t, s, "list 28 articles, newest first: article-27 2026-03-05, article-26 2026-03-02, article-25 2026-02-27, … article-00 2025-12-14\n")
	require.Regexp(t, `\d+ lists of the 28 articles \(All, then sort by date\) from \d+ goroutines: median \S+, p99 \S+ \(the article: a full scan under 10µs; a lookup here: median \S+\)`, s)
	require.Regexp(t, `\d+ lists of the 1110 agents \(All, then sort by slug\) from \d+ goroutines: median \S+, p99 \S+ \(linear in the table's size\)`, s)
	_, err := ets.Open[*ets.Set[string, Agent]](TableName)
	require.ErrorIs(t, err, ets.ErrNotFound, "run drops the registry")
	_, err = ets.Open[*ets.Set[string, Article]](ArticlesTable)
	require.ErrorIs(t, err, ets.ErrNotFound, "run drops the article registry")
}

// List returns every article, newest first, builds a cold registry as Get
// does, and rebuilds a dropped one.
func TestList(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg := New("list-test", articles)
	for range 2 {
		list, err := reg.List(newestFirst)
		require.NoError(t, err)
		require.Len(t, list, 28)
		for i, a := range list {
			require.Equal(t, fmt.Sprintf("article-%02d", 27-i), a.Slug)
			if i > 0 {
				require.True(t, a.Published.Before(list[i-1].Published), "newest first")
			}
		}
		tb, err := ets.Open[*ets.Set[string, Article]]("list-test")
		require.NoError(t, err)
		require.NoError(t, tb.Drop()) // the next round lists a rebuilt registry
	}
}

// A list taken while a writer adds and removes agents is a snapshot: the
// table has one lock, so All copies it at one moment.
func TestListSnapshot(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg := New("snapshot-test", agents)
	_, _, err := reg.Get(slugOf(0))
	require.NoError(t, err)
	tb, err := ets.Open[*ets.Set[string, Agent]]("snapshot-test")
	require.NoError(t, err)
	defer tb.Drop()

	// The writer adds 50 extras in one batch, then deletes them one by one
	// in slug order: at any moment the extras present are the last k of
	// them. A walk that saw shards at different moments could see a gap.
	batch := make([]ets.Entry[string, Agent], 50)
	for i := range batch {
		slug := fmt.Sprintf("extra-%02d", i)
		batch[i] = ets.Entry[string, Agent]{Key: slug, Value: Agent{Slug: slug}}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			assert.NoError(t, tb.InsertMany(batch...))
			for _, e := range batch {
				assert.NoError(t, tb.Delete(e.Key))
			}
		}
	}()
	for range 100 {
		list, err := reg.List(bySlug)
		require.NoError(t, err)
		require.True(t, slices.IsSortedFunc(list, bySlug))
		var extras []string
		for _, a := range list {
			if strings.HasPrefix(a.Slug, "extra-") {
				extras = append(extras, a.Slug)
			}
		}
		require.Len(t, list, 1110+len(extras))
		for i, slug := range extras {
			require.Equal(t, fmt.Sprintf("extra-%02d", 50-len(extras)+i), slug, "extras listed: %v", extras)
		}
	}
	close(stop)
	wg.Wait()
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
