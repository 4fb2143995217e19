// Command giveaway shows the manager/worker pattern that keeps a table alive
// when the goroutine working on it crashes: the manager owns the table, names
// itself heir and gives the table to a worker; when the worker panics, the
// manager inherits the table and gives it to a new worker. No data is lost.
//
// It is the "Give away" section of "Patterns for managing ETS tables"
// (after Steve Vinoski's "Don't lose your ets tables"), with the bug the
// article leaves as an exercise fixed: there, a call made while the worker
// restarts fails, because the worker's registered name — and its mailbox —
// die with it. Here the request queue is a channel that belongs to the
// service, not to any worker: a Go channel is a value that outlives the
// goroutines reading it. Requests made while no worker runs wait in the
// channel, in order, and the next worker serves them; the manager's restart
// loop is the only code that knows a worker died. No caller retries or
// polls. The one request that can fail is the one a worker was executing
// when it crashed: its caller gets ErrWorkerCrashed instead of waiting
// forever (a deferred reply in the worker, which runs while the panic
// unwinds), and may retry it if it is idempotent.
//
// The table is Private: only its owner of the moment — a worker, or the
// manager between two workers — can read or write it. Both goroutines are
// owners started with ets.Go, whose panics are recovered into the owner's
// Err so that a crash ends the worker, not the program.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/etsgo/ets"
)

// Table is the kind of table the service keeps.
type Table = ets.Set[string, string]

// ErrWorkerCrashed is returned for the request a worker was executing when it
// crashed. Requests still queued are served by the next worker.
var ErrWorkerCrashed = errors.New("giveaway: worker crashed during the request")

// ErrStopped is returned once the service has been stopped.
var ErrStopped = errors.New("giveaway: service stopped")

// Service is a manager owning a key-value table and the worker it lends the
// table to. Its methods are safe for concurrent use.
type Service struct {
	manager  *ets.Owner
	requests chan request // the service's mailbox: it survives every worker
	workers  atomic.Int64 // workers started, the first one included
}

type request struct {
	fn    func(t *Table) result // runs in the worker
	reply chan result           // nil for a cast
}

type result struct {
	value string
	ok    bool
	err   error
}

// heirData travels with every Transfer; ETS's HeirData and GiftData.
const heirData = "kv-table"

// Start starts the manager, which makes the table and hands it to the first
// worker. The service runs until Stop or until ctx ends.
func Start(ctx context.Context) (*Service, error) {
	s := &Service{requests: make(chan request, 64)}
	ready := make(chan error, 1)
	s.manager = ets.Go(ctx, func(ctx context.Context, self *ets.Owner) error {
		table, err := ets.NewSet[string, string](
			ets.WithOwner(self), ets.WithAccess(ets.Private), ets.WithHeir(self, heirData))
		if err == nil {
			err = s.lend(ctx, self, table)
		}
		ready <- err
		if err != nil {
			return err
		}
		for {
			select {
			case tr := <-self.Transfers(): // a worker ended: the table is back
				if err := s.restart(ctx, self, tr); err != nil {
					return err
				}
			case <-ctx.Done():
				return nil // the workers end with ctx; the table is dropped
			}
		}
	})
	if err := <-ready; err != nil {
		return nil, err
	}
	return s, nil
}

// restart takes back the table of a worker that ended and lends it to a new
// one. The manager is still the table's heir (inheriting keeps the heir, as
// in ETS), so the next crash brings the table back too.
func (s *Service) restart(ctx context.Context, self *ets.Owner, tr ets.Transfer) error {
	return s.lend(ctx, self, tr.Table.(*Table))
}

// lend starts a worker and gives it the table.
func (s *Service) lend(ctx context.Context, manager *ets.Owner, table *Table) error {
	worker := ets.Go(ctx, func(ctx context.Context, self *ets.Owner) error {
		return s.work(ctx, self, manager)
	})
	s.workers.Add(1)
	return manager.GiveAway(table, worker, heirData)
}

// work is a worker's life: wait for the table, then serve the mailbox.
func (s *Service) work(ctx context.Context, self, manager *ets.Owner) error {
	var table *Table
	select {
	case tr := <-self.Transfers():
		table = tr.Table.(*Table)
	case <-ctx.Done():
		return nil
	}
	for {
		select {
		case req := <-s.requests:
			serve(table, req)
		case <-ctx.Done():
			return nil
		}
	}
}

// serve runs one request. If it panics, the deferred reply tells the caller
// before the panic ends the worker.
func serve(table *Table, req request) {
	answered := false
	defer func() {
		if !answered && req.reply != nil {
			req.reply <- result{err: ErrWorkerCrashed}
		}
	}()
	r := req.fn(table)
	answered = true
	if req.reply != nil {
		req.reply <- r
	}
}

// call queues fn for the worker and waits for its result. It waits through
// worker restarts; only ctx or Stop end the wait early.
func (s *Service) call(ctx context.Context, fn func(t *Table) result) result {
	req := request{fn: fn, reply: make(chan result, 1)}
	select {
	case s.requests <- req:
	case <-s.manager.Done():
		return result{err: ErrStopped}
	case <-ctx.Done():
		return result{err: ctx.Err()}
	}
	select {
	case r := <-req.reply:
		return r
	case <-s.manager.Done():
		return result{err: ErrStopped}
	case <-ctx.Done():
		return result{err: ctx.Err()}
	}
}

// Get returns the value stored under key.
func (s *Service) Get(ctx context.Context, key string) (string, bool, error) {
	r := s.call(ctx, func(t *Table) result {
		v, ok := t.Lookup(key)
		return result{value: v, ok: ok, err: t.Err()}
	})
	return r.value, r.ok, r.err
}

// Put stores value under key. The worker's business logic has a bug: it
// panics on an empty key.
func (s *Service) Put(ctx context.Context, key, value string) error {
	return s.call(ctx, func(t *Table) result {
		_ = key[0] // the bug: index out of range for ""
		return result{err: t.Insert(key, value)}
	}).err
}

// Size returns the number of keys.
func (s *Service) Size(ctx context.Context) (int, error) {
	var n int
	r := s.call(ctx, func(t *Table) result {
		n = t.Size()
		return result{err: t.Err()}
	})
	return n, r.err
}

// Die makes the worker crash, as the article's Worker.die/0 cast: it queues
// the order and returns without waiting.
func (s *Service) Die() {
	select {
	case s.requests <- request{fn: func(*Table) result { panic("killed") }}:
	case <-s.manager.Done():
	}
}

// Workers returns how many workers have been started.
func (s *Service) Workers() int { return int(s.workers.Load()) }

// Stop ends the manager and its worker; the table is dropped.
func (s *Service) Stop() { s.manager.Stop(nil) }

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "giveaway:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	ctx := context.Background()
	s, err := Start(ctx)
	if err != nil {
		return err
	}
	defer s.Stop()

	v, ok, err := s.Get(ctx, "key")
	fmt.Fprintf(out, "get key: %q %v %v\n", v, ok, err)
	if err := s.Put(ctx, "key", "value"); err != nil {
		return err
	}
	v, ok, err = s.Get(ctx, "key")
	fmt.Fprintf(out, "put key, get key: %q %v %v\n", v, ok, err)

	// The article's bug: Worker.die; Worker.get("key") failed.
	s.Die()
	v, ok, err = s.Get(ctx, "key")
	fmt.Fprintf(out, "die, then get at once: %q %v %v (workers started: %d)\n", v, ok, err, s.Workers())

	// Writers keep writing while the worker is killed again and again.
	const writers, perWriter, kills = 8, 100, 5
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				if err := s.Put(ctx, fmt.Sprintf("w%d-%d", w, i), "x"); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	for range kills {
		s.Die()
	}
	wg.Wait()
	n, err := s.Size(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d puts from %d goroutines while the worker was killed %d more times: %d failed, %d keys (workers started: %d)\n",
		writers*perWriter, writers, kills, failed.Load(), n, s.Workers())

	// A request that crashes the worker fails alone; the next one is served.
	err = s.Put(ctx, "", "poison")
	fmt.Fprintln(out, "put that crashes the worker:", err)
	v, _, err = s.Get(ctx, "key")
	fmt.Fprintf(out, "next get: %q %v (workers started: %d)\n", v, err, s.Workers())
	return nil
}
