package ets_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/etsgo/ets"
)

func ExampleSave() {
	users, _ := ets.NewSet[string, int](ets.WithName("example-users"))
	_ = users.Insert("alice", 31)
	_ = users.Insert("bob", 45)

	var buf bytes.Buffer // any io.Writer: a file, a network connection...
	if err := ets.Save(&buf, users); err != nil {
		panic(err)
	}
	_ = users.Drop() // frees the name for the copy

	// Load names the kind and types; the name and options come back.
	restored, err := ets.Load[*ets.Set[string, int]](&buf)
	if err != nil {
		panic(err)
	}
	defer restored.Drop()
	age, _ := restored.Lookup("bob")
	fmt.Println(restored.Info().Name, restored.Size(), age)
	// Output: example-users 2 45
}

func ExampleSaveFile() {
	dir, _ := os.MkdirTemp("", "ets-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "counters.ets")

	counters, _ := ets.NewSet[string, int64]()
	defer counters.Drop()
	_, _ = ets.UpdateCounter(counters, "hits", 1, ets.WithDefault[int64](0))

	// Written to a temporary file, synced, then renamed over path: a crash
	// leaves the previous snapshot or this one, never half of one.
	if err := ets.SaveFile(path, counters); err != nil {
		panic(err)
	}
	loaded, err := ets.LoadFile[*ets.Set[string, int64]](path)
	if err != nil {
		panic(err)
	}
	defer loaded.Drop()
	hits, _ := loaded.Lookup("hits")
	fmt.Println(hits)
	// Output: 1
}

func ExampleSnapshotInfo() {
	t, _ := ets.NewSet[string, float64](ets.WithWriteConcurrency(ets.WriteConcurrencyOff))
	defer t.Drop()
	_ = t.Insert("pi", 3.14159)
	var buf bytes.Buffer
	_ = ets.Save(&buf, t)

	h, err := ets.SnapshotInfo(&buf) // reads and verifies the header only
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Kind, h.KeyType, h.ValueType, h.Count, h.Codec, h.WriteConcurrency)
	// Output: set string float64 1 gob false
}

func ExampleLoad_wrongType() {
	t, _ := ets.NewSet[string, int]()
	defer t.Drop()
	var buf bytes.Buffer
	_ = ets.Save(&buf, t)

	_, err := ets.Load[*ets.Set[int, int]](&buf)
	fmt.Println(err)
	// Output: ets: snapshot of another table type (ets: wrong table type): the snapshot holds a set of string to int, not *ets.Set[int,int]
}

// jsonSnapshots is a Codec that writes a snapshot's keys and values as JSON.
type jsonSnapshots struct{}

func (jsonSnapshots) Name() string                       { return "json" }
func (jsonSnapshots) NewEncoder(w io.Writer) ets.Encoder { return json.NewEncoder(w) }
func (jsonSnapshots) NewDecoder(r io.Reader) ets.Decoder { return json.NewDecoder(r) }

func ExampleCodec() {
	t, _ := ets.NewSet[string, []string]()
	defer t.Drop()
	_ = t.Insert("fruit", []string{"apple", "pear"})

	var buf bytes.Buffer
	_ = ets.Save(&buf, t, ets.WithCodec(jsonSnapshots{}))
	loaded, err := ets.Load[*ets.Set[string, []string]](&buf, ets.WithLoadCodec(jsonSnapshots{}))
	if err != nil {
		panic(err)
	}
	defer loaded.Drop()
	fruit, _ := loaded.Lookup("fruit")
	fmt.Println(fruit)
	// Output: [apple pear]
}

func ExampleI() {
	sessions, _ := ets.NewSet[string, int](ets.WithName("sessions"))
	defer sessions.Drop()
	_ = sessions.Insert("s1", 1)

	// Prints one aligned line per live table, like ets:i() (no Output check:
	// IDs and the tables of other examples vary):
	//
	//	ID  NAME      KIND  SIZE  MEMORY  OWNER  HEIR  ACCESS  KEY     VALUE
	//	1   sessions  set   1     16584   none   none  public  string  int
	_ = ets.I(os.Stdout)
}

func ExampleLoadFile() {
	dir, err := os.MkdirTemp("", "ets-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "users.ets")

	users, _ := ets.NewSet[string, int](ets.WithName("example-loadfile-users"))
	defer users.Drop()
	_ = users.Insert("alice", 31)
	_ = users.Insert("bob", 45)
	if err := ets.SaveFile(path, users); err != nil {
		panic(err)
	}

	// The snapshot carries the name, which the original still holds...
	_, err = ets.LoadFile[*ets.Set[string, int]](path)
	fmt.Println(errors.Is(err, ets.ErrNameTaken))
	// ...so load a copy under another name.
	cp, err := ets.LoadFile[*ets.Set[string, int]](path, ets.WithName("example-loadfile-copy"))
	if err != nil {
		panic(err)
	}
	defer cp.Drop()
	_ = cp.Insert("carol", 27) // the copy is a table of its own
	fmt.Println(users.Info().Name, users.Size())
	fmt.Println(cp.Info().Name, cp.Size())
	// Output:
	// true
	// example-loadfile-users 2
	// example-loadfile-copy 3
}

// An OrderedSet made with NewOrderedSetFunc saves its objects, but not its
// comparator: Load takes it back with WithComparator.
func ExampleWithComparator() {
	byLength := func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b)) }
	words, _ := ets.NewOrderedSetFunc[string, int](byLength)
	for _, w := range []string{"banana", "fig", "apple", "kiwi"} {
		_ = words.Insert(w, len(w))
	}
	var buf bytes.Buffer
	if err := ets.Save(&buf, words); err != nil {
		panic(err)
	}
	_ = words.Drop()

	restored, err := ets.Load[*ets.OrderedSet[string, int]](&buf, ets.WithComparator(byLength))
	if err != nil {
		panic(err)
	}
	defer restored.Drop()
	for w := range restored.Keys() {
		fmt.Print(w, " ")
	}
	fmt.Println()
	// Output: fig kiwi apple banana
}
