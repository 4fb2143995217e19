package ets_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/etsgo/ets"
)

func ExampleNewSet() {
	users, err := ets.NewSet[string, int]()
	if err != nil {
		panic(err)
	}
	defer users.Drop()

	_ = users.Insert("alice", 31)
	_ = users.Insert("bob", 45)
	age, ok := users.Lookup("alice")
	fmt.Println(age, ok)
	_, ok = users.Lookup("carol")
	fmt.Println(ok)
	// Output:
	// 31 true
	// false
}

func ExampleSet_InsertNew() {
	locks, _ := ets.NewSet[string, string]()
	got, _ := locks.InsertNew("resource-1", "worker-a")
	fmt.Println("worker-a acquired:", got)
	got, _ = locks.InsertNew("resource-1", "worker-b")
	fmt.Println("worker-b acquired:", got)
	holder, _ := locks.Lookup("resource-1")
	fmt.Println("holder:", holder)
	// Output:
	// worker-a acquired: true
	// worker-b acquired: false
	// holder: worker-a
}

func ExampleSet_InsertMany() {
	prices, _ := ets.NewSet[string, float64]()
	// A concurrent reader sees all three prices or none of them.
	_ = prices.InsertMany(
		ets.Entry[string, float64]{Key: "apple", Value: 0.5},
		ets.Entry[string, float64]{Key: "pear", Value: 0.7},
		ets.Entry[string, float64]{Key: "plum", Value: 0.2},
	)
	fmt.Println(prices.Size())
	// Output: 3
}

func ExampleSet_Update() {
	stock, _ := ets.NewSet[string, int]()
	_ = stock.Insert("apples", 3)
	// Take one apple if any is left, atomically.
	take := func(old int, ok bool) (int, ets.Op) {
		if !ok || old == 0 {
			return old, ets.Keep
		}
		if old == 1 {
			return 0, ets.Delete
		}
		return old - 1, ets.Store
	}
	for range 4 {
		left, ok, _ := stock.Update("apples", take)
		fmt.Println(left, ok)
	}
	// Output:
	// 2 true
	// 1 true
	// 0 false
	// 0 false
}

func ExampleUpdateCounter() {
	hits, _ := ets.NewSet[string, int64]()
	// A missing key starts from the default object.
	n, _ := ets.UpdateCounter(hits, "/index", 1, ets.WithDefault[int64](0))
	fmt.Println(n)
	n, _ = ets.UpdateCounter(hits, "/index", 10)
	fmt.Println(n)
	// Without a default, a missing key is an error.
	_, err := ets.UpdateCounter(hits, "/missing", 1)
	fmt.Println(errors.Is(err, ets.ErrNotFound))
	// {Pos, Incr, Threshold, SetValue}: wrap to 0 past 12.
	n, _ = ets.UpdateCounter(hits, "/index", 5, ets.WithThreshold[int64](12, 0))
	fmt.Println(n)
	// Output:
	// 1
	// 11
	// true
	// 0
}

func ExampleSet_Select() {
	ages, _ := ets.NewSet[string, int]()
	_ = ages.InsertMany(
		ets.Entry[string, int]{Key: "alice", Value: 31},
		ets.Entry[string, int]{Key: "bob", Value: 45},
		ets.Entry[string, int]{Key: "carol", Value: 27},
	)
	over30 := ages.Select(func(name string, age int) bool { return age > 30 })
	sort.Slice(over30, func(i, j int) bool { return over30[i].Key < over30[j].Key })
	fmt.Println(over30)
	n, _ := ages.SelectDelete(func(name string, age int) bool { return age < 30 })
	fmt.Println("deleted", n, "left", ages.Size())
	// Output:
	// [{alice 31} {bob 45}]
	// deleted 1 left 2
}

func ExampleSet_SelectLimit() {
	t, _ := ets.NewSet[int, string]()
	for i := range 10 {
		_ = t.Insert(i, fmt.Sprint("item", i))
	}
	var keys []int
	page, cursor := t.SelectLimit(nil, 4)
	for {
		fmt.Println("page of", len(page))
		for _, e := range page {
			keys = append(keys, e.Key)
		}
		if cursor == nil {
			break
		}
		page, cursor = cursor.Next()
	}
	slices.Sort(keys)
	fmt.Println(keys)
	// Output:
	// page of 4
	// page of 4
	// page of 2
	// [0 1 2 3 4 5 6 7 8 9]
}

func ExampleSet_All() {
	t, _ := ets.NewSet[string, int]()
	_ = t.Insert("a", 1)
	_ = t.Insert("b", 2)
	sum := 0
	for _, v := range t.All() {
		sum += v
	}
	fmt.Println(sum)
	// Output: 3
}

func ExampleSet_Drop() {
	t, _ := ets.NewSet[string, int]()
	_ = t.Insert("a", 1)
	_ = t.Drop()
	fmt.Println(errors.Is(t.Insert("a", 2), ets.ErrDeleted))
	_, ok := t.Lookup("a")
	fmt.Println(ok, t.Err())
	// Output:
	// true
	// false ets: table deleted
}

// A table lives as long as its owner: cancel the owner's context and the
// table is dropped.
func ExampleNewOwner() {
	ctx, cancel := context.WithCancel(context.Background())
	owner := ets.NewOwner(ctx)
	sessions, _ := ets.NewSet[string, int](ets.WithOwner(owner))
	_ = sessions.Insert("s1", 1)

	cancel()
	<-owner.Done()
	fmt.Println(owner.Err())
	fmt.Println(sessions.Err())
	// Output:
	// context canceled
	// ets: table deleted
}

// An heir takes the table over when its owner crashes: no data is lost.
func ExampleWithHeir() {
	heir := ets.NewOwner(context.Background())
	defer heir.Stop(nil)

	worker := ets.Go(context.Background(), func(ctx context.Context, self *ets.Owner) error {
		jobs, err := ets.NewSet[string, string](ets.WithOwner(self), ets.WithHeir(heir, "jobs"))
		if err != nil {
			return err
		}
		_ = jobs.Insert("job-1", "running")
		panic("worker crashed") // recovered: the owner ends, the heir inherits
	})
	<-worker.Done()
	fmt.Println(worker.Err())

	tr := <-heir.Transfers()
	jobs := tr.Table.(*ets.Set[string, string])
	state, _ := jobs.Lookup("job-1")
	fmt.Println(tr.Data, state, jobs.Info().Owner == heir.ID())
	// Output:
	// ets: owner panicked: worker crashed
	// jobs running true
}

// An owner gives its table to another, which receives it as a Transfer.
func ExampleOwner_GiveAway() {
	producer := ets.NewOwner(context.Background())
	consumer := ets.NewOwner(context.Background())
	defer producer.Stop(nil)
	defer consumer.Stop(nil)

	batch, _ := ets.NewSet[int, string](ets.WithOwner(producer))
	_ = batch.Insert(1, "ready")
	_ = producer.GiveAway(batch, consumer, "batch 7")

	tr := <-consumer.Transfers()
	fmt.Println(tr.Data, tr.From == producer.ID())
	// The producer's handle lost the owner's rights on the protected table.
	fmt.Println(errors.Is(batch.Insert(2, "late"), ets.ErrAccess))
	fmt.Println(tr.Table.(*ets.Set[int, string]).Insert(2, "mine"))
	// Output:
	// batch 7 true
	// true
	// <nil>
}

// A named table is found from anywhere in the process.
func ExampleOpen() {
	users, _ := ets.NewSet[string, int](ets.WithName("example-users"))
	defer users.Drop()
	_ = users.Insert("alice", 31)

	same, err := ets.Open[*ets.Set[string, int]]("example-users")
	if err != nil {
		panic(err)
	}
	age, _ := same.Lookup("alice")
	fmt.Println(age)
	_, err = ets.Open[*ets.Set[string, string]]("example-users")
	fmt.Println(err)
	// Output:
	// 31
	// ets: wrong table type: table "example-users" is *ets.Set[string,int], not *ets.Set[string,string]
}

func ExampleNewBag() {
	// Who follows whom: many objects per key, in insertion order, no
	// object twice.
	follows, err := ets.NewBag[string, string]()
	if err != nil {
		panic(err)
	}
	defer follows.Drop()

	_ = follows.Insert("alice", "bob")
	_ = follows.Insert("alice", "carol")
	_ = follows.Insert("alice", "bob") // already there: changes nothing
	fmt.Println(follows.Lookup("alice"), follows.Count("alice"), follows.Size())
	_ = follows.DeleteObject("alice", "bob")
	fmt.Println(follows.Lookup("alice"))
	// Output:
	// [bob carol] 2 2
	// [carol]
}

func ExampleNewDuplicateBag() {
	// An event log per user: every copy is kept, in order.
	events, _ := ets.NewDuplicateBag[string, string]()
	for _, e := range []string{"login", "view", "view", "logout"} {
		_ = events.Insert("alice", e)
	}
	fmt.Println(events.Lookup("alice"))
	_ = events.DeleteObject("alice", "view") // removes every copy
	fmt.Println(events.Lookup("alice"))
	taken, _ := events.Take("alice")
	fmt.Println(taken, events.Member("alice"))
	// Output:
	// [login view view logout]
	// [login logout]
	// [login logout] false
}

func ExampleBag_SelectLimit() {
	tags, _ := ets.NewBag[int, string]()
	_ = tags.InsertMany(
		ets.Entry[int, string]{Key: 1, Value: "red"},
		ets.Entry[int, string]{Key: 1, Value: "green"},
		ets.Entry[int, string]{Key: 1, Value: "blue"},
		ets.Entry[int, string]{Key: 2, Value: "red"},
	)
	// Pages count objects, and may end inside one key's objects.
	n := 0
	page, cursor := tags.SelectLimit(nil, 3)
	for {
		fmt.Println("page of", len(page))
		n += len(page)
		if cursor == nil {
			break
		}
		page, cursor = cursor.Next()
	}
	fmt.Println(n, "objects")
	// Output:
	// page of 3
	// page of 1
	// 4 objects
}

func ExampleOrderedSet_Range() {
	// Temperatures by minute of the day: a range query is O(log n + m).
	temps, _ := ets.NewOrderedSet[int, float64]()
	defer temps.Drop()
	for minute, t := range []float64{12.5, 12.9, 13.4, 14.0, 14.8, 15.1} {
		_ = temps.Insert(minute*10, t)
	}
	for minute, t := range temps.Range(10, 40) { // 10 <= minute < 40
		fmt.Println(minute, t)
	}
	// The last reading at or before minute 35, and the first after it.
	for minute, t := range temps.Descend(35) {
		fmt.Println("before:", minute, t)
		break
	}
	minute, t, _ := temps.Next(35)
	fmt.Println("after:", minute, t)
	// Output:
	// 10 12.9
	// 20 13.4
	// 30 14
	// before: 30 14
	// after: 40 14.8
}

func ExampleOrderedSet_SelectLimit() {
	// Pages come in key order, and each resumes after the last key of the
	// page before, even if the table changes between pages.
	orders, _ := ets.NewOrderedSet[string, int]()
	for i := range 7 {
		_ = orders.Insert(fmt.Sprintf("order-%02d", i), i*100)
	}
	page, cursor := orders.SelectLimit(nil, 3)
	for {
		var keys []string
		for _, e := range page {
			keys = append(keys, e.Key)
		}
		fmt.Println(keys)
		if cursor == nil {
			break
		}
		_ = orders.Delete("order-00") // already paged: no effect on later pages
		page, cursor = cursor.Next()
	}
	// Output:
	// [order-00 order-01 order-02]
	// [order-03 order-04 order-05]
	// [order-06]
}

func ExampleOrderedSet_Next() {
	// ETS's first/next walk: each step is O(log n), holds no lock between
	// steps, and the key passed to Next need not be present any more.
	queue, _ := ets.NewOrderedSet[int, string]()
	_ = queue.InsertMany(
		ets.Entry[int, string]{Key: 3, Value: "c"},
		ets.Entry[int, string]{Key: 1, Value: "a"},
		ets.Entry[int, string]{Key: 2, Value: "b"},
	)
	for k, v, ok := queue.First(); ok; k, v, ok = queue.Next(k) {
		fmt.Println(k, v)
		_ = queue.Delete(k)
	}
	fmt.Println("left:", queue.Size())
	// Output:
	// 1 a
	// 2 b
	// 3 c
	// left: 0
}

func ExampleNewOrderedSetFunc() {
	// Keys the comparator calls equal are one key, as in ETS's ordered_set:
	// here, names that differ only in case.
	names, err := ets.NewOrderedSetFunc[string, int](func(a, b string) int {
		return strings.Compare(strings.ToLower(a), strings.ToLower(b))
	})
	if err != nil {
		panic(err)
	}
	_ = names.Insert("Alice", 1)
	_ = names.Insert("ALICE", 2) // replaces Alice, key included
	v, ok := names.Lookup("alice")
	fmt.Println(v, ok, slices.Collect(names.Keys()))
	// Output: 2 true [ALICE]
}
