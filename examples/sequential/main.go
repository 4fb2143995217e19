// Command sequential shows how to control the order of operations on a
// table: every write goes through one goroutine, so a read-modify-write
// sequence over several keys never interleaves with another.
//
// It is the "Controlled order of operations" section of "Patterns for
// managing ETS tables" (the Sequential GenServer, "a toy version of
// Mnesia"). The goroutine is an owner started with ets.Go that serves a
// channel of functions; it owns a Protected table, so reads may still go
// straight to the table from any goroutine, but a write that does not come
// through the owner is refused with ets.ErrAccess. A function that fails or
// panics returns an error to its caller and the owner, with its table, lives
// on, as the article's try/rescue does.
//
// The price is the article's: the owner is a bottleneck, and a sequence is
// not a transaction (no rollback: writes made before a failure stay). For a
// read-modify-write of a single key, Set.Update is atomic without any of
// this; the program shows both, and what goes wrong with neither.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/etsgo/ets"
)

// Table is the kind of table the sequential owner guards.
type Table = ets.Set[string, int]

// Sequential runs functions on its table one at a time, in its own
// goroutine.
type Sequential struct {
	owner    *ets.Owner
	requests chan request
	read     *Table // a handle acting for nobody: it reads, it cannot write
}

type request struct {
	fn    func(t *Table) error
	reply chan error
}

// ErrPanicked wraps the value of a function that panicked in the owner.
var ErrPanicked = errors.New("sequential: operation panicked")

// Start starts the owner and makes its table.
func Start(ctx context.Context) (*Sequential, error) {
	s := &Sequential{requests: make(chan request)}
	ready := make(chan error, 1)
	s.owner = ets.Go(ctx, func(ctx context.Context, self *ets.Owner) error {
		table, err := ets.NewSet[string, int](ets.WithOwner(self), ets.WithAccess(ets.Protected))
		if err == nil {
			s.read = table.As(nil)
		}
		ready <- err
		if err != nil {
			return err
		}
		for {
			select {
			case req := <-s.requests:
				req.reply <- apply(table, req.fn)
			case <-ctx.Done():
				return nil
			}
		}
	})
	if err := <-ready; err != nil {
		return nil, err
	}
	return s, nil
}

// apply runs fn, turning a panic into an error so that the owner survives.
func apply(t *Table, fn func(t *Table) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %v", ErrPanicked, v)
		}
	}()
	return fn(t)
}

// Do runs fn in the owner's goroutine, after every function sent before it
// and before every function sent after it, and returns its error. fn gets
// the owner's handle, which may write. Results travel back through variables
// fn captures: Do's return synchronizes after fn's writes.
func (s *Sequential) Do(ctx context.Context, fn func(t *Table) error) error {
	req := request{fn: fn, reply: make(chan error, 1)}
	select {
	case s.requests <- req:
		return <-req.reply
	case <-s.owner.Done():
		return s.owner.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Lookup reads key directly, in the caller's goroutine; it may see a
// sequence half done.
func (s *Sequential) Lookup(key string) (int, bool) { return s.read.Lookup(key) }

// Stop ends the owner, which drops the table.
func (s *Sequential) Stop() { s.owner.Stop(nil) }

// ErrInsufficientFunds is the business error of Transfer.
var ErrInsufficientFunds = errors.New("insufficient funds")

// Transfer moves amount from one account to another: two reads and two
// writes that must not interleave with another transfer's.
func Transfer(from, to string, amount int) func(t *Table) error {
	return func(t *Table) error {
		a, _ := t.Lookup(from)
		b, _ := t.Lookup(to)
		if a < amount {
			return fmt.Errorf("transfer %d from %s (balance %d): %w", amount, from, a, ErrInsufficientFunds)
		}
		return t.InsertMany(ets.Entry[string, int]{Key: from, Value: a - amount}, ets.Entry[string, int]{Key: to, Value: b + amount})
	}
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sequential:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	ctx := context.Background()
	seq, err := Start(ctx)
	if err != nil {
		return err
	}
	defer seq.Stop()

	// The article's usage: put, get, put v+1, get, as one uninterrupted run.
	var v int
	err = seq.Do(ctx, func(t *Table) error {
		if err := t.Insert("key", 1); err != nil {
			return err
		}
		v, _ = t.Lookup("key")
		if err := t.Insert("key", v+1); err != nil {
			return err
		}
		v, _ = t.Lookup("key")
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "sequence put 1, get, put v+1, get:", v)

	if err := counters(out); err != nil {
		return err
	}

	// Several keys: concurrent transfers between two accounts. Every
	// transfer reads both balances and writes both; through the owner the
	// total never changes and no balance goes negative.
	if err := seq.Do(ctx, func(t *Table) error {
		return t.InsertMany(ets.Entry[string, int]{Key: "alice", Value: 100}, ets.Entry[string, int]{Key: "bob", Value: 100})
	}); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from, to := "alice", "bob"
			if g%2 == 1 {
				from, to = to, from
			}
			for range 200 {
				// A refusal (ErrInsufficientFunds) depends on the schedule
				// and changes nothing.
				_ = seq.Do(ctx, Transfer(from, to, 7))
			}
		}()
	}
	wg.Wait()
	var a, b int
	_ = seq.Do(ctx, func(t *Table) error {
		a, _ = t.Lookup("alice")
		b, _ = t.Lookup("bob")
		return nil
	})
	fmt.Fprintf(out, "1600 concurrent transfers through the owner: alice+bob = %d (no money made or lost), none negative: %v\n",
		a+b, a >= 0 && b >= 0)

	// Writes that bypass the owner are refused: the table is protected.
	fmt.Fprintln(out, "direct write from another goroutine:", errors.Is(seq.read.Insert("alice", 1_000_000), ets.ErrAccess))

	// A failing operation is the caller's error, not the owner's death.
	err = seq.Do(ctx, Transfer("alice", "bob", 1_000))
	fmt.Fprintln(out, "failing operation:", err)
	err = seq.Do(ctx, func(t *Table) error {
		var accounts []string
		_ = accounts[3] // a bug: index out of range
		return nil
	})
	fmt.Fprintln(out, "panicking operation:", err)
	err = seq.Do(ctx, Transfer("alice", "bob", 1))
	fmt.Fprintf(out, "owner still alive: %v; next operation: %v\n", seq.owner.Err() == nil, err)
	return nil
}

// counters contrasts, for a single key, a read-then-write from many
// goroutines (increments get lost) with Set.Update (atomic per key, no
// owner needed).
func counters(out io.Writer) error {
	t, err := ets.NewSet[string, int]()
	if err != nil {
		return err
	}
	defer t.Drop()
	const goroutines, perGoroutine = 4, 2000
	increment := func(inc func() error) error {
		var wg sync.WaitGroup
		errs := make(chan error, goroutines)
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perGoroutine {
					if err := inc(); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	}

	err = increment(func() error {
		v, _ := t.Lookup("racy")
		runtime.Gosched() // stands for any work between the read and the write
		return t.Insert("racy", v+1)
	})
	if err != nil {
		return err
	}
	racy, _ := t.Lookup("racy")
	fmt.Fprintf(out, "lookup then insert, %d goroutines x %d: %d (%d increments lost)\n",
		goroutines, perGoroutine, racy, goroutines*perGoroutine-racy)

	err = increment(func() error {
		_, _, err := t.Update("atomic", func(old int, _ bool) (int, ets.Op) { return old + 1, ets.Store })
		return err
	})
	if err != nil {
		return err
	}
	atomic, _ := t.Lookup("atomic")
	fmt.Fprintf(out, "Update, %d goroutines x %d: %d\n", goroutines, perGoroutine, atomic)
	return nil
}
