package main

import (
	"bytes"
	"context"
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
}

// A panicking source wakes its waiters with ErrLoadPanicked and leaves no
// pending entry behind: the next Get loads again.
func TestLoadPanics(t *testing.T) {
	defer goleak.VerifyNone(t)
	var calls atomic.Int64
	release := make(chan struct{})
	cache, err := New(time.Minute, func(ctx context.Context, key string) (string, error) {
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
	cache, err := New(time.Minute, func(ctx context.Context, key string) (string, error) {
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
