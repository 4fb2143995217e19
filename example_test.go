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

func ExampleDuplicateBag_AppendLookup() {
	// A registry: the subscribers of each topic. Dispatch reuses one
	// buffer, so that a lookup allocates only until the buffer has grown.
	subs, _ := ets.NewDuplicateBag[string, int]()
	defer subs.Drop()
	_ = subs.Insert("prices", 1)
	_ = subs.Insert("prices", 2)
	_ = subs.Insert("news", 3)

	var buf []int
	for _, topic := range []string{"prices", "news", "sports"} {
		buf = subs.AppendLookup(buf[:0], topic)
		fmt.Println(topic, buf)
	}
	// Output:
	// prices [1 2]
	// news [3]
	// sports []
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

// The manager/worker pattern: the manager names itself heir, gives the table
// to a worker, and gets it back, with the worker's writes, when the worker
// crashes. It stays the heir, so this works for every worker it hires.
func ExampleOwner_SetHeir() {
	ctx := context.Background()
	manager := ets.NewOwner(ctx)
	defer manager.Stop(nil) // heir to itself: the table is dropped with it
	jobs, _ := ets.NewSet[string, string](ets.WithOwner(manager))
	_ = manager.SetHeir(jobs, manager, "back to the manager")

	// A worker waits for the table, records its job, then crashes.
	work := func(job string) func(context.Context, *ets.Owner) error {
		return func(ctx context.Context, self *ets.Owner) error {
			select {
			case tr := <-self.Transfers():
				_ = tr.Table.(*ets.Set[string, string]).Insert(job, "done")
			case <-ctx.Done():
				return ctx.Err()
			}
			panic(job + " crashed")
		}
	}
	for _, job := range []string{"job-1", "job-2"} {
		worker := ets.Go(ctx, work(job))
		_ = manager.GiveAway(jobs, worker, nil)

		tr := <-manager.Transfers() // the worker ended: the table is back
		<-worker.Done()
		state, _ := jobs.Lookup(job)
		info := jobs.Info()
		fmt.Println(worker.Err())
		fmt.Println(tr.Data, tr.From == worker.ID(), job, state)
		fmt.Println(info.Owner == manager.ID(), info.Heir == manager.ID(), info.Size)
	}
	// Output:
	// ets: owner panicked: job-1 crashed
	// back to the manager true job-1 done
	// true true 1
	// ets: owner panicked: job-2 crashed
	// back to the manager true job-2 done
	// true true 2
}

// A table made by an owner goroutine dies with it.
func ExampleGo() {
	tables := make(chan *ets.Set[string, int])
	release := make(chan struct{})
	worker := ets.Go(context.Background(), func(ctx context.Context, self *ets.Owner) error {
		cache, err := ets.NewSet[string, int](ets.WithOwner(self), ets.WithName("example-go-cache"))
		if err != nil {
			return err
		}
		_ = cache.Insert("answer", 42)
		tables <- cache.As(nil) // others get a handle acting for nobody
		<-release
		return nil
	})

	cache := <-tables
	answer, _ := cache.Lookup("answer") // protected, the default: everyone reads
	fmt.Println(answer, errors.Is(cache.Insert("answer", 0), ets.ErrAccess))

	// fn returns, the owner ends, and its tables are dropped before Done is
	// closed. A plain return ends the owner with ErrOwnerDone.
	close(release)
	<-worker.Done()
	fmt.Println(worker.Err())
	fmt.Println(cache.Err())
	_, err := ets.Open[*ets.Set[string, int]]("example-go-cache")
	fmt.Println(errors.Is(err, ets.ErrNotFound))
	// Output:
	// 42 true
	// ets: owner has ended
	// ets: table deleted
	// true
}

// A handle acts for an owner, or for nobody with As(nil); the table's Access
// decides what it may do.
func ExampleSet_As() {
	owner := ets.NewOwner(context.Background())
	defer owner.Stop(nil) // drops both tables

	secrets, _ := ets.NewSet[string, string](ets.WithOwner(owner), ets.WithAccess(ets.Private))
	_ = secrets.Insert("token", "s3cr3t")
	token, ok := secrets.Lookup("token") // the constructor's handle acts for owner
	fmt.Println(token, ok)
	outsider := secrets.As(nil)
	_, ok = outsider.Lookup("token") // not found; Err says why
	fmt.Println(ok, errors.Is(outsider.Err(), ets.ErrAccess))

	config, _ := ets.NewSet[string, int](ets.WithOwner(owner)) // Protected by default
	_ = config.Insert("workers", 4)
	reader := config.As(nil)
	workers, ok := reader.Lookup("workers")
	fmt.Println(workers, ok, reader.Err())
	fmt.Println(errors.Is(reader.Insert("workers", 8), ets.ErrAccess))
	// Output:
	// s3cr3t true
	// false true
	// 4 true <nil>
	// true
}

func ExampleSet_Take() {
	sessions, _ := ets.NewSet[string, int]()
	defer sessions.Drop()
	_ = sessions.Insert("s1", 7)

	// Lookup and Delete in one atomic step: one caller gets the value.
	v, ok, _ := sessions.Take("s1")
	fmt.Println(v, ok, sessions.Member("s1"))
	_, ok, _ = sessions.Take("s1")
	fmt.Println(ok)
	// Output:
	// 7 true false
	// false
}

func ExampleSet_SelectReplace() {
	prices, _ := ets.NewSet[string, int]() // cents
	defer prices.Drop()
	_ = prices.InsertMany(
		ets.Entry[string, int]{Key: "apple", Value: 50},
		ets.Entry[string, int]{Key: "pear", Value: 70},
		ets.Entry[string, int]{Key: "melon", Value: 300},
	)
	// Ten cents more on everything under a euro; the rest is left alone.
	n, _ := prices.SelectReplace(func(fruit string, cents int) (int, bool) {
		return cents + 10, cents < 100
	})
	all := prices.Select(nil)
	sort.Slice(all, func(i, j int) bool { return all[i].Key < all[j].Key })
	fmt.Println(n, all)
	// Output: 2 [{apple 60} {melon 300} {pear 80}]
}

func ExampleSet_SelectCount() {
	ages, _ := ets.NewSet[string, int]()
	defer ages.Drop()
	_ = ages.InsertMany(
		ets.Entry[string, int]{Key: "alice", Value: 31},
		ets.Entry[string, int]{Key: "bob", Value: 45},
		ets.Entry[string, int]{Key: "carol", Value: 27},
	)
	fmt.Println(ages.SelectCount(func(name string, age int) bool { return age > 30 }))
	fmt.Println(ages.SelectCount(nil)) // nil counts every object
	// Output:
	// 2
	// 3
}

func ExampleSet_SelectDelete() {
	// Sessions by last-seen minute: expire those not seen since minute 100.
	sessions, _ := ets.NewSet[string, int]()
	defer sessions.Drop()
	_ = sessions.InsertMany(
		ets.Entry[string, int]{Key: "s1", Value: 40},
		ets.Entry[string, int]{Key: "s2", Value: 120},
		ets.Entry[string, int]{Key: "s3", Value: 90},
	)
	// The predicate runs under the shard's lock: keep it short, and do not
	// call the table from it.
	n, _ := sessions.SelectDelete(func(id string, lastSeen int) bool { return lastSeen < 100 })
	fmt.Println("expired", n, "left", slices.Collect(sessions.Keys()))
	// Output: expired 2 left [s2]
}

func ExampleSet_Clear() {
	cache, _ := ets.NewSet[string, int]()
	defer cache.Drop()
	_ = cache.Insert("a", 1)
	_ = cache.Insert("b", 2)

	// Unlike Drop, Clear empties the table and keeps it usable.
	_ = cache.Clear()
	fmt.Println(cache.Size(), cache.Err())
	fmt.Println(cache.Insert("c", 3), cache.Size())
	// Output:
	// 0 <nil>
	// <nil> 1
}

func ExampleSet_Rename() {
	t, _ := ets.NewSet[string, int](ets.WithName("example-rename-old"))
	defer t.Drop()
	_ = t.Insert("a", 1)

	if err := t.Rename("example-rename-new"); err != nil {
		panic(err)
	}
	same, err := ets.Open[*ets.Set[string, int]]("example-rename-new")
	if err != nil {
		panic(err)
	}
	v, _ := same.Lookup("a")
	fmt.Println(t.Info().Name, v)
	_, err = ets.Open[*ets.Set[string, int]]("example-rename-old")
	fmt.Println(errors.Is(err, ets.ErrNotFound))
	// Output:
	// example-rename-new 1
	// true
}

func ExampleSet_Info() {
	owner := ets.NewOwner(context.Background())
	defer owner.Stop(nil) // drops the table

	prices, _ := ets.NewSet[string, float64](ets.WithName("example-info-prices"), ets.WithOwner(owner))
	_ = prices.Insert("apple", 0.5)
	// ID, Memory and Shards vary; the rest describes the table as made.
	in := prices.Info()
	fmt.Println(in.Name, in.Kind, in.Size, in.Access, in.KeyType, in.ValueType)
	fmt.Println(in.Owner == owner.ID(), in.Heir)
	// Output:
	// example-info-prices set 1 protected string float64
	// true none
}

func ExampleTables() {
	users, _ := ets.NewSet[string, int](ets.WithName("example-tables-users"))
	defer users.Drop()
	log, _ := ets.NewOrderedSet[int, string](ets.WithName("example-tables-log"))
	defer log.Drop()
	_ = log.Insert(1, "boot")

	// Every live table of the process, in ID order (creation order): keep
	// the ones this example made.
	for _, in := range ets.Tables() {
		if strings.HasPrefix(in.Name, "example-tables-") {
			fmt.Println(in.Name, in.Kind, in.Size)
		}
	}
	// Output:
	// example-tables-users set 0
	// example-tables-log ordered_set 1
}

func ExampleOrderedSet_First() {
	scores, _ := ets.NewOrderedSet[int, string]()
	defer scores.Drop()
	_ = scores.InsertMany(
		ets.Entry[int, string]{Key: 20, Value: "bob"},
		ets.Entry[int, string]{Key: 10, Value: "ann"},
		ets.Entry[int, string]{Key: 30, Value: "cid"},
	)
	k, v, ok := scores.First()
	fmt.Println("first:", k, v, ok)
	k, v, ok = scores.Last()
	fmt.Println("last:", k, v, ok)
	// Walk down with Prev; the key passed need not be present.
	for k, v, ok := scores.Prev(25); ok; k, v, ok = scores.Prev(k) {
		fmt.Println("below:", k, v)
	}
	// Output:
	// first: 10 ann true
	// last: 30 cid true
	// below: 20 bob
	// below: 10 ann
}

func ExampleOrderedSet_Ascend() {
	// String keys sort by prefix: Ascend from the prefix is a prefix scan.
	objects, _ := ets.NewOrderedSet[string, int]()
	defer objects.Drop()
	for i, k := range []string{"video:1", "user:bob", "album:9", "user:alice", "user:carol"} {
		_ = objects.Insert(k, i)
	}
	for k := range objects.Ascend("user:") {
		if !strings.HasPrefix(k, "user:") {
			break // past the prefix: no later key has it
		}
		fmt.Println(k)
	}
	// Output:
	// user:alice
	// user:bob
	// user:carol
}

func ExampleOrderedSet_Descend() {
	// Readings by second: the two latest at or before second 35.
	readings, _ := ets.NewOrderedSet[int, float64]()
	defer readings.Drop()
	for s, r := range []float64{1.5, 1.7, 1.6, 1.9, 2.0} {
		_ = readings.Insert(s*10, r) // seconds 0, 10, ..., 40
	}
	n := 0
	for s, r := range readings.Descend(35) {
		fmt.Println(s, r)
		if n++; n == 2 {
			break
		}
	}
	// Output:
	// 30 1.9
	// 20 1.6
}

func ExampleOrderedSet_SelectRange() {
	// Orders by number: the large ones among orders 100 to 199.
	orders, _ := ets.NewOrderedSet[int, int]() // number -> amount
	defer orders.Drop()
	_ = orders.InsertMany(
		ets.Entry[int, int]{Key: 99, Value: 900},
		ets.Entry[int, int]{Key: 100, Value: 500},
		ets.Entry[int, int]{Key: 120, Value: 20},
		ets.Entry[int, int]{Key: 150, Value: 700},
		ets.Entry[int, int]{Key: 200, Value: 800},
	)
	// lo <= key < hi; pred sees only keys in range.
	large := orders.SelectRange(100, 200, func(n, amount int) bool { return amount >= 100 })
	fmt.Println(large)
	fmt.Println(orders.SelectRange(100, 200, nil)) // nil: every object in range
	// Output:
	// [{100 500} {150 700}]
	// [{100 500} {120 20} {150 700}]
}

// Write concurrency chooses how many locks the writers spread over; Info
// reports the choice and the count in use.
func ExampleWithWriteConcurrency() {
	one, _ := ets.NewSet[string, int](ets.WithWriteConcurrency(ets.WriteConcurrencyOff))
	defer one.Drop()
	fixed, _ := ets.NewSet[string, int](ets.WithWriteConcurrency(ets.WriteConcurrencyOn), ets.WithShards(16))
	defer fixed.Drop()
	tree, _ := ets.NewOrderedSet[int, int]() // auto: base nodes split where writers contend
	defer tree.Drop()
	for _, t := range []ets.Table{one, fixed, tree} {
		in := t.Info()
		fmt.Println(in.Kind, in.WriteConcurrency, in.Shards, in.DecentralizedCounters)
	}
	// Output:
	// set false 1 false
	// set true 16 true
	// ordered_set auto 1 false
}
