package main

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out bytes.Buffer
	require.NoError(t, run(&out))
	s := out.String()
	require.Contains(t, s, `100 goroutines missed user:42 at once: source loads 1, 100 got "User 42"`)
	require.Contains(t, s, "one request, 3 reads of user:42: 1 from the table, 2 from the memo, 0 source loads")
	require.Contains(t, s, "after 59s: source loads of user:42: 1")
	require.Contains(t, s, `after 1m1s (past the 1m0s TTL): "User 42" <nil>, source loads of user:42: 2`)
	require.Contains(t, s, "10 goroutines missed user:bad: 10 failed with one source load; a later Get tries again: source: no such user (loads 2)")
	require.Contains(t, s, "sweep past the TTL: deleted 6 of 6 entries (<nil>), 0 left")
	require.Contains(t, s, "bound 100: item:0 to item:100 loaded in order; the last store evicted 11, the oldest (item:0 gone: true, item:10 gone: true, item:11 kept: true), 90 left\n")
	m := regexp.MustCompile(`bound 100: 8 goroutines loaded 1600 more keys at once: (\d+) evicted, (\d+) left; the largest size a goroutine saw: \d+ \(the bound, plus up to about one per goroutine storing\)\n`).FindStringSubmatch(s)
	require.NotNil(t, m, s)
	evicted, _ := strconv.Atoi(m[1])
	left, _ := strconv.Atoi(m[2])
	require.Equal(t, 90+1600, evicted+left, "every key is either evicted or left")
	require.LessOrEqual(t, left, 100, "within the bound once the loads stop")
}

// Filled in order, a bounded cache keeps the newest keys: what is left is
// the end of the order, never more than the bound, never less than nine
// tenths of it; a refreshed key counts as new.
func TestBoundKeepsNewest(t *testing.T) {
	defer goleak.VerifyNone(t)
	var clk clock
	cache, err := New(time.Minute, 50, func(_ context.Context, key string) (string, error) {
		return "v" + key, nil
	}, clk.Now)
	require.NoError(t, err)
	defer cache.Close()
	ctx := context.Background()
	order := []string{}
	get := func(key string) {
		v, err := cache.Get(ctx, nil, key)
		require.NoError(t, err)
		require.Equal(t, "v"+key, v)
		order = append(slices.DeleteFunc(order, func(k string) bool { return k == key }), key)
	}
	for i := range 300 {
		get(strconv.Itoa(i))
		if i%40 == 39 { // refresh key 0: past its TTL it is loaded and stored again
			clk.Advance(time.Minute)
			get("0")
		}
		size := cache.table.Size()
		require.LessOrEqual(t, size, 50)
		for j, key := range order {
			require.Equal(t, j >= len(order)-size, cache.table.Member(key), "key %s, %d from the end, size %d", key, len(order)-j, size)
		}
	}
	require.GreaterOrEqual(t, cache.table.Size(), 45)
}

// Under concurrent loads the bound holds once they stop, no load is lost to
// an eviction (every Get returns its value), and evicted plus left is every
// key loaded.
func TestBoundConcurrent(t *testing.T) {
	defer goleak.VerifyNone(t)
	var loads atomic.Int64
	cache, err := New(time.Minute, 64, func(_ context.Context, key string) (string, error) {
		loads.Add(1)
		return "v" + key, nil
	}, nil)
	require.NoError(t, err)
	defer cache.Close()
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				key := strconv.Itoa(g*1000 + i%150) // each key twice: the second may hit or reload
				v, err := cache.Get(context.Background(), nil, key)
				assert.NoError(t, err)
				assert.Equal(t, "v"+key, v)
			}
		}()
	}
	wg.Wait()
	size := cache.table.Size()
	require.LessOrEqual(t, size, 64)
	require.Equal(t, loads.Load(), cache.Stats().Evicted+int64(size))
}

// A panicking source wakes its waiters with ErrLoadPanicked and leaves no
// pending entry behind: the next Get loads again.
func TestLoadPanics(t *testing.T) {
	defer goleak.VerifyNone(t)
	var calls atomic.Int64
	release := make(chan struct{})
	cache, err := New(time.Minute, 0, func(ctx context.Context, key string) (string, error) {
		if calls.Add(1) == 1 {
			<-release
			panic("source bug")
		}
		return "ok", nil
	}, nil)
	require.NoError(t, err)
	defer cache.Close()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() { assert.Equal(t, "source bug", recover()) }()
		_, _ = cache.Get(context.Background(), nil, "k")
	}()
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	waiterErr := make(chan error, 1)
	go func() {
		_, err := cache.Get(context.Background(), nil, "k")
		waiterErr <- err
	}()
	for cache.Stats().Waited == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	require.ErrorIs(t, <-waiterErr, ErrLoadPanicked)
	v, err := cache.Get(context.Background(), nil, "k")
	require.NoError(t, err)
	require.Equal(t, "ok", v)
}

// A waiter whose context ends stops waiting; the load goes on for the others.
func TestWaiterContext(t *testing.T) {
	defer goleak.VerifyNone(t)
	release := make(chan struct{})
	cache, err := New(time.Minute, 0, func(ctx context.Context, key string) (string, error) {
		<-release
		return "v", nil
	}, nil)
	require.NoError(t, err)
	defer cache.Close()
	loaded := make(chan string, 1)
	go func() {
		v, _ := cache.Get(context.Background(), nil, "k")
		loaded <- v
	}()
	for cache.Stats().Loads == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = cache.Get(ctx, nil, "k")
	require.ErrorIs(t, err, context.Canceled)
	close(release)
	require.Equal(t, "v", <-loaded)
}
