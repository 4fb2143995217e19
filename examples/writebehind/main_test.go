package main

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etsgo/ets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out bytes.Buffer
	require.NoError(t, run(&out))
	s := out.String()
	require.Regexp(t, `8 writers sent 40000 updates of 10 pages to one flusher; a direct write to the table: ets: access denied: .*\n`, s)
	require.Regexp(t, `the ticker \(every 5ms\) flushed [1-9]\d* times, writing \d+ objects in all for 40000 updates; the table caught up \S+ after the last update\n`, s)
	require.Regexp(t, `4 readers made \d+ lookups meanwhile, without a lock; reads that found counts beyond the total: 0\n`, s)
	require.Contains(t, s, "after Close the heir holds the table: total 40000, sum of the pages 40000, sent 40000\n")
	require.Contains(t, s, "hourly flusher: 3 updates sent, the table shows 0; Close's final flush wrote 2 objects, and the heir's table shows 3\n")
	require.Contains(t, s, "no heir: after Close the table's Err is ets: table deleted; Add: writebehind: closed\n")
}

// Every Add that returned nil is counted, even when Close races the writers.
func TestCloseLosesNothing(t *testing.T) {
	defer goleak.VerifyNone(t)
	for range 20 {
		keeper := ets.NewOwner(context.Background())
		c, err := Start(context.Background(), time.Millisecond, keeper)
		require.NoError(t, err)
		var accepted atomic.Int64
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					if err := c.Add(pages[(w+i)%len(pages)], 1); err != nil {
						assert.ErrorIs(t, err, ErrClosed)
						return
					}
					accepted.Add(1)
				}
			}()
		}
		time.Sleep(2 * time.Millisecond)
		require.NoError(t, c.Close())
		wg.Wait()
		kept, err := inherit(keeper)
		require.NoError(t, err)
		total, _ := kept.Lookup(Total)
		require.Equal(t, accepted.Load(), total)
		keeper.Stop(nil)
	}
}

// A flusher killed by its context loses what it had not flushed, no more:
// the heir gets the table with the last flush, and Adds fail.
func TestKilled(t *testing.T) {
	defer goleak.VerifyNone(t)
	keeper := ets.NewOwner(context.Background())
	defer keeper.Stop(nil)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := Start(ctx, time.Hour, keeper)
	require.NoError(t, err)
	require.NoError(t, c.Add("/", 1)) // never flushed: the ticker is hourly
	cancel()
	<-c.owner.Done()
	require.ErrorIs(t, c.Add("/", 1), ErrClosed)
	require.ErrorIs(t, c.Close(), context.Canceled)
	kept, err := inherit(keeper)
	require.NoError(t, err)
	require.Equal(t, 0, kept.Size())
}

func TestReserved(t *testing.T) {
	defer goleak.VerifyNone(t)
	c, err := Start(context.Background(), time.Millisecond, nil)
	require.NoError(t, err)
	require.ErrorIs(t, c.Add(Total, 1), ErrReserved)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "a second Close does nothing")
}
