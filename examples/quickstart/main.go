// Command quickstart shows the basics of an ets Set: insert, lookup, atomic
// updates and counters, batch inserts, select and iteration, from several
// goroutines at once.
package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"sort"
	"sync"

	"github.com/etsgo/ets"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(out io.Writer) error {
	users, err := ets.NewSet[string, int]()
	if err != nil {
		return err
	}
	defer users.Drop()

	// insert/2 and lookup/2.
	must(users.Insert("alice", 31))
	age, ok := users.Lookup("alice")
	fmt.Fprintln(out, "lookup alice:", age, ok)

	// insert_new/2 refuses a key that is present.
	added, _ := users.InsertNew("alice", 99)
	fmt.Fprintln(out, "insert_new alice again:", added)

	// A list insert is atomic and isolated.
	must(users.InsertMany(
		ets.Entry[string, int]{Key: "bob", Value: 45},
		ets.Entry[string, int]{Key: "carol", Value: 27},
	))

	// update_counter/3 from 8 goroutines at once: no increment is lost.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				_, err := ets.UpdateCounter(users, "visits", 1, ets.WithDefault(0))
				must(err)
			}
		}()
	}
	wg.Wait()
	visits, _ := users.Lookup("visits")
	fmt.Fprintln(out, "visits after 8x1000 concurrent increments:", visits)

	// Read-modify-write of one key, atomically.
	age, _, err = users.Update("bob", func(old int, ok bool) (int, ets.Op) { return old + 1, ets.Store })
	must(err)
	fmt.Fprintln(out, "bob after his birthday:", age)

	// select/2 with a Go predicate instead of a match spec.
	over30 := users.Select(func(name string, age int) bool { return name != "visits" && age > 30 })
	sort.Slice(over30, func(i, j int) bool { return over30[i].Key < over30[j].Key })
	fmt.Fprintln(out, "over 30:", over30)

	// tab2list/1 as an iterator.
	n := 0
	for range users.All() {
		n++
	}
	fmt.Fprintln(out, "objects:", n, "size:", users.Size())
	return nil
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
