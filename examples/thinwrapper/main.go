// Command thinwrapper shows the most common way to use an ets table: a
// public, named table with read and write concurrency, wrapped in a tiny
// Get/Put API whose calls run in the caller's goroutine.
//
// It is the "most common use case" section of "Patterns for managing ETS
// tables" (the ThinWrapper GenServer). In Elixir the GenServer exists only to
// create, and so own, the table; every get and put runs in the calling
// process. In Go the GenServer becomes an *ets.Owner made with ets.NewOwner:
// no goroutine serves requests, the owner only bounds the table's life (it is
// dropped, and its name freed, when the owner's context ends). The table is
// Public so that every goroutine may write, and named so that any part of
// the program can find it with ets.Open — the wrapper itself keeps the
// handle, which is cheaper than a name look-up per call (see secrettable).
//
// Read and write concurrency: WithReadConcurrency(true) and
// WriteConcurrencyOn, as the article's {read_concurrency, true} and
// {write_concurrency, true}. As the article says, drop write concurrency for
// a read-mostly table (see the registry example).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/etsgo/ets"
)

// TableName is the name under which the wrapper registers its table.
const TableName = "thin"

// ThinWrapper is a Get/Put façade over a public, named Set. Its methods run
// in the caller's goroutine and are safe for concurrent use.
type ThinWrapper struct {
	owner *ets.Owner
	table *ets.Set[string, string]
}

// Start makes the table, owned by an owner that ends with ctx: cancelling
// ctx drops the table and frees its name.
func Start(ctx context.Context) (*ThinWrapper, error) {
	owner := ets.NewOwner(ctx)
	table, err := ets.NewSet[string, string](
		ets.WithOwner(owner),
		ets.WithAccess(ets.Public),
		ets.WithName(TableName),
		ets.WithReadConcurrency(true),
		ets.WithWriteConcurrency(ets.WriteConcurrencyOn),
	)
	if err != nil {
		owner.Stop(err)
		return nil, err
	}
	return &ThinWrapper{owner: owner, table: table}, nil
}

// Done is closed once the wrapper's owner has ended and its table is gone.
func (w *ThinWrapper) Done() <-chan struct{} { return w.owner.Done() }

// Get returns the value stored under key, modelled on a map read.
func (w *ThinWrapper) Get(key string) (string, bool) { return w.table.Lookup(key) }

// Put stores value under key. It fails only once the table is gone.
func (w *ThinWrapper) Put(key, value string) error { return w.table.Insert(key, value) }

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "thinwrapper:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	thin, err := Start(ctx)
	if err != nil {
		return err
	}

	v, ok := thin.Get("key")
	fmt.Fprintf(out, "get key: %q %v\n", v, ok)
	if err := thin.Put("key", "value"); err != nil {
		return err
	}
	v, ok = thin.Get("key")
	fmt.Fprintf(out, "put key, get key: %q %v\n", v, ok)

	// Many goroutines read and write at once; nothing runs in the owner.
	const goroutines, perGoroutine = 8, 500
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perGoroutine {
				key := fmt.Sprintf("g%d-%d", g, i)
				if err := thin.Put(key, key); err != nil {
					errs <- err
					return
				}
				if got, _ := thin.Get(key); got != key {
					errs <- fmt.Errorf("read %q back as %q", key, got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Fprintf(out, "%d goroutines wrote and read back %d keys each; size %d\n",
		goroutines, perGoroutine, thin.table.Size())

	// The name reaches the table from code that was never given the wrapper.
	byName, err := ets.Open[*ets.Set[string, string]](TableName)
	if err != nil {
		return err
	}
	v, _ = byName.Lookup("key")
	info := byName.Info()
	fmt.Fprintf(out, "ets.Open(%q): key=%q access=%v read_concurrency=%v write_concurrency=%v\n",
		TableName, v, info.Access, info.ReadConcurrency, info.WriteConcurrency)

	// The table lives as long as its owner.
	cancel()
	<-thin.Done()
	_, err = ets.Open[*ets.Set[string, string]](TableName)
	fmt.Fprintf(out, "owner ended: put -> %v; open -> not found: %v\n",
		thin.Put("key", "late"), errors.Is(err, ets.ErrNotFound))
	return nil
}
