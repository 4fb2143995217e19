// Command secrettable shows the "secret public table": a public table with
// no name, whose handle a small service goroutine hands out on request.
//
// It is the "Secret public table" section of "Patterns for managing ETS
// tables". Nobody can reach the table by name; a caller asks the service for
// the handle once (one channel round trip, and the service is a single
// goroutine, so do not ask on every operation) and then runs as many
// operations as it likes through the handle, in its own goroutine. That is
// where the pattern shines: an operation through a handle goes straight to
// the table, while ets.Open(name) takes the process-wide registry's shared
// lock, looks the name up and checks the handle's type on every call. The program times both and
// BenchmarkSecretTable_Get in main_test.go measures them properly.
//
// The service is an owner started with ets.Go: the table lives as long as
// the service, and the handles it gives out act for nobody (t.As(nil)), so
// a caller gets the read and write rights of a public table but not the
// owner's.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/etsgo/ets"
)

// Secret is the service that owns the unnamed table and hands out its handle.
type Secret struct {
	owner    *ets.Owner
	requests chan chan *ets.Set[string, string]
}

// Start starts the service; the table is made before Start returns and lives
// until ctx ends or the service is stopped.
func Start(ctx context.Context) (*Secret, error) {
	s := &Secret{requests: make(chan chan *ets.Set[string, string])}
	ready := make(chan error, 1)
	s.owner = ets.Go(ctx, func(ctx context.Context, self *ets.Owner) error {
		table, err := ets.NewSet[string, string](
			ets.WithOwner(self),
			ets.WithAccess(ets.Public),
			ets.WithReadConcurrency(true),
			ets.WithWriteConcurrency(ets.WriteConcurrencyOn),
		)
		ready <- err
		if err != nil {
			return err
		}
		for {
			select {
			case reply := <-s.requests:
				reply <- table.As(nil)
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

// Reference asks the service for the table's handle: ETS's
// GenServer.call(Secret, :reference).
func (s *Secret) Reference(ctx context.Context) (*ets.Set[string, string], error) {
	reply := make(chan *ets.Set[string, string], 1)
	select {
	case s.requests <- reply:
		return <-reply, nil
	case <-s.owner.Done():
		return nil, s.owner.Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Stop ends the service, which drops the table.
func (s *Secret) Stop() { s.owner.Stop(nil) }

// Get and Put hide the table's API behind map-like calls, as the article's
// Secret.get/2 and Secret.put/3 do. They run in the caller's goroutine.
func Get(t *ets.Set[string, string], key string) (string, bool) { return t.Lookup(key) }

// Put stores value under key.
func Put(t *ets.Set[string, string], key, value string) error { return t.Insert(key, value) }

func main() {
	if err := run(os.Stdout, 200_000); err != nil {
		fmt.Fprintln(os.Stderr, "secrettable:", err)
		os.Exit(1)
	}
}

// run demonstrates the service and times ops lookups through a kept handle
// against ops lookups that find a named table by name each time.
func run(out io.Writer, ops int) error {
	ctx := context.Background()
	secret, err := Start(ctx)
	if err != nil {
		return err
	}
	defer secret.Stop()

	table, err := secret.Reference(ctx)
	if err != nil {
		return err
	}
	if err := Put(table, "hello", "world"); err != nil {
		return err
	}
	v, _ := Get(table, "hello")
	info := table.Info()
	fmt.Fprintf(out, "reference: unnamed=%v access=%v; put hello, get hello: %q\n",
		info.Name == "", info.Access, v)

	// The same data in a named table, for the comparison.
	const name = "secrettable-named"
	named, err := ets.NewSet[string, string](ets.WithName(name), ets.WithReadConcurrency(true))
	if err != nil {
		return err
	}
	defer named.Drop()
	if err := named.Insert("hello", "world"); err != nil {
		return err
	}

	viaHandle := timePerOp(ops, func() bool {
		_, ok := Get(table, "hello")
		return ok
	})
	viaName := timePerOp(ops, func() bool {
		t, err := ets.Open[*ets.Set[string, string]](name)
		if err != nil {
			return false
		}
		_, ok := Get(t, "hello")
		return ok
	})
	if viaHandle < 0 || viaName < 0 {
		return fmt.Errorf("a lookup missed")
	}
	fmt.Fprintf(out, "%d lookups in a row: through the handle %.1f ns/op, ets.Open by name each time %.1f ns/op (%.1fx)\n",
		ops, viaHandle, viaName, viaName/viaHandle)

	secret.Stop()
	fmt.Fprintf(out, "service stopped: table %v\n", table.Err())
	return nil
}

// timePerOp runs op n times and returns the mean nanoseconds per call, or -1
// if op failed.
func timePerOp(n int, op func() bool) float64 {
	start := time.Now()
	for range n {
		if !op() {
			return -1
		}
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}
