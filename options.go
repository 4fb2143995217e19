package ets

import (
	"fmt"
	"runtime"

	"github.com/etsgo/ets/internal/shard"
)

// An Option configures a table when it is made. Options are applied in order;
// every option is validated, so a bad value is an error even when a later
// option overrides it.
type Option struct {
	apply func(*config) error
}

// WriteConcurrency is ETS's write_concurrency: how many locks a table's
// writers spread over.
type WriteConcurrency uint8

const (
	// WriteConcurrencyAuto lets the engine adapt the lock count to the
	// contention it sees, as ETS's {write_concurrency, auto}. It is the
	// default here, where ETS's is false: a table made without options
	// scales with its writers. A Set, Bag or DuplicateBag starts with 64
	// locks and, when GOMAXPROCS (read when the table is made) is more than
	// 4, once its writers have waited for a lock 16 times per lock within a
	// second, splits every lock's keys in four (or in two, where four would
	// pass the most), up to the count of WriteConcurrencyOn, 16 per
	// processor: once with GOMAXPROCS 8, twice with 64, three times with
	// 256. With 4 or fewer, 64 is already the most. A
	// grow copies the whole table into the new locks' tables: meanwhile
	// writers wait (tens of milliseconds for a million keys), and so do a
	// bag's traversals, while lookups, Member and a bag's Count go on
	// reading. It gives up, to try again later, rather than wait long
	// for a lock someone holds (a slow Update function, a traversal). Readers
	// of a Set take no lock, and a write holds its lock for tens of
	// nanoseconds, so on 2 processors the measured throughput is the same
	// between 16 and 256 locks (BenchmarkSet_Shards: mixes with 10% and 50%
	// writes and 64 hot counters from 2 goroutines), while one lock
	// (WriteConcurrencyOff) is up to three times slower under parallel
	// writes: starting at 64 saves memory (a lock is 256 bytes) on machines
	// with many processors, where WriteConcurrencyOn's count is large, and
	// the grow's pause is paid only where contention calls for more locks.
	// Info reports the current count. An OrderedSet under
	// WriteConcurrencyAuto or WriteConcurrencyOn is a contention-adapting
	// tree: it starts with one lock, splits a key range in two when its
	// writers contend, and joins a range with a neighbour again when its
	// writers have not contended for a thousand writes.
	WriteConcurrencyAuto WriteConcurrency = iota
	// WriteConcurrencyOff uses one lock for the whole table: every write is
	// serialised, and a traversal of a Set, Bag or DuplicateBag copies the
	// whole table at once, so it is a snapshot (an OrderedSet's walks copy
	// bounded batches either way).
	WriteConcurrencyOff
	// WriteConcurrencyOn spreads a hash table's keys over many locks from
	// the start (64, or 16 per processor when that is more, unless
	// WithShards says otherwise), so writers of different keys rarely wait
	// for each other; the count does not change.
	WriteConcurrencyOn
)

// String returns the ETS spelling: "auto", "false" or "true".
func (w WriteConcurrency) String() string {
	switch w {
	case WriteConcurrencyAuto:
		return "auto"
	case WriteConcurrencyOff:
		return "false"
	case WriteConcurrencyOn:
		return "true"
	}
	return fmt.Sprintf("WriteConcurrency(%d)", uint8(w))
}

// config is the validated result of a constructor's options.
type config struct {
	readConcurrency  bool
	writeConcurrency WriteConcurrency
	shards           int // 0: chosen from writeConcurrency
	decentralized    *bool
	owner            *Owner
	heir             *Owner
	heirData         any
	access           Access // 0: the default for the owner
	name             string
	load             *loadConfig         // non-nil only while Load applies its options
	testEngine       func(*shard.Config) // set only by tests (WithEngineForTest)
}

// defaultShards is the lock count of WriteConcurrencyOn and Auto without
// WithShards: enough that two writers of random keys seldom meet on a machine
// of this size, and a power of two.
func defaultShards() int {
	n := 64
	for n < 16*runtime.GOMAXPROCS(0) && n < shard.MaxShards {
		n *= 2
	}
	return n
}

func newConfig(opts []Option) (config, error) { return configFrom(config{}, opts) }

// configFrom applies opts on top of c and validates the result. Load starts
// from the options a snapshot saved.
func configFrom(c config, opts []Option) (config, error) {
	for i, o := range opts {
		if o.apply == nil {
			return config{}, fmt.Errorf("%w: option %d is the zero Option", ErrInvalidOption, i)
		}
		if err := o.apply(&c); err != nil {
			return config{}, err
		}
	}
	switch {
	case c.owner == nil && c.heir != nil:
		return config{}, fmt.Errorf("%w: WithHeir needs WithOwner: a table without owner has nobody to inherit from", ErrInvalidOption)
	case c.owner == nil && c.access != 0 && c.access != Public:
		return config{}, fmt.Errorf("%w: WithAccess(%v) needs WithOwner: a table without owner is public", ErrInvalidOption, c.access)
	}
	return c, nil
}

// accessLevel is the table's access: as asked, or protected for a table with
// an owner and public for one without, as in ETS.
func (c *config) accessLevel() Access {
	switch {
	case c.access != 0:
		return c.access
	case c.owner != nil:
		return Protected
	}
	return Public
}

// shardCount is the number of shards the options ask for.
func (c *config) shardCount() int {
	switch {
	case c.writeConcurrency == WriteConcurrencyOff:
		return 1
	case c.shards > 0:
		return c.shards
	}
	return defaultShards()
}

// decentralizedCounters reports whether each shard counts its own keys:
// the default whenever writes are spread over several locks, as in ETS.
func (c *config) decentralizedCounters() bool {
	if c.decentralized != nil {
		return *c.decentralized
	}
	return c.writeConcurrency != WriteConcurrencyOff
}

// autoShards is how many shards a hash table made with WriteConcurrencyAuto
// (and no WithShards) starts with; it grows to defaultShards when its
// writers wait for locks. It is defaultShards on machines of up to 4
// processors: a table that started with 16 there paid a grow (a copy of
// the whole table, 20-70 ms for a million keys) the first time two
// goroutines wrote to it, for locks that measured no faster.
const autoShards = 64

func (c *config) engine() shard.Config {
	e := shard.Config{Shards: c.shardCount(), Central: !c.decentralizedCounters()}
	if c.writeConcurrency == WriteConcurrencyAuto && c.shards == 0 && e.Shards > autoShards {
		e.MaxShards, e.Shards = e.Shards, autoShards
	}
	if c.testEngine != nil {
		c.testEngine(&e)
	}
	return e
}

// WithReadConcurrency is ETS's read_concurrency (default false). Every kind
// accepts it and Info reports it, but no engine uses it: each reads the same
// way whatever the value.
//   - A Set's Lookup and Member never take a lock or write shared memory
//     (they validate an optimistic read against the shard's sequence
//     counter), so its readers never contend with each other. That is on
//     amd64, 386, s390x and arm64; on other architectures, ppc64 and riscv64
//     among them, they take their shard's lock, since Go does not promise
//     there that the slot's loads are not reordered after the counter's.
//   - An OrderedSet's reads are lock-free in the same way on amd64, 386 and
//     s390x; elsewhere they take their base node's read lock, which writes
//     shared memory but lets readers run together.
//   - A Bag's or DuplicateBag's Lookup, AppendLookup, Count and Member read
//     as a Set's do: Lookup copies the key's objects without the lock and
//     keeps the copy if the shard's counter did not move meanwhile. Only a
//     key whose shard writers keep busy is copied under the lock, after a
//     few tries (after one, for a key of more than 1,024 objects).
func WithReadConcurrency(on bool) Option {
	return Option{func(c *config) error {
		c.readConcurrency = on
		return nil
	}}
}

// WithWriteConcurrency is ETS's write_concurrency. See WriteConcurrency for
// the values; any other value is ErrInvalidOption.
func WithWriteConcurrency(w WriteConcurrency) Option {
	return Option{func(c *config) error {
		if w > WriteConcurrencyOn {
			return fmt.Errorf("%w: WithWriteConcurrency(%d): not a WriteConcurrency", ErrInvalidOption, uint8(w))
		}
		c.writeConcurrency = w
		return nil
	}}
}

// WithShards sets the lock count of a hash table (Set, Bag, DuplicateBag)
// with write concurrency: n must be between 1 and 65536 and is rounded up to
// a power of two. Without it the count is 64, or 16 per processor under
// WriteConcurrencyOn when that is more (see WriteConcurrency). ETS has no
// public counterpart (OTP 25's {write_concurrency, N} was withdrawn; a
// hidden debug option remains). It is ignored under WriteConcurrencyOff,
// which always has one lock. The count is fixed: a hash table given
// WithShards does not grow under WriteConcurrencyAuto, although
// Info.WriteConcurrency still says auto. Info.Shards reports the count in
// use. An OrderedSet ignores it: its contention-adapting tree chooses its
// lock count.
func WithShards(n int) Option {
	return Option{func(c *config) error {
		if n < 1 || n > shard.MaxShards {
			return fmt.Errorf("%w: WithShards(%d): must be between 1 and %d", ErrInvalidOption, n, shard.MaxShards)
		}
		p := 1
		for p < n {
			p *= 2
		}
		c.shards = p
		return nil
	}}
}

// WithDecentralizedCounters is ETS's decentralized_counters, for a hash
// table (Set, Bag, DuplicateBag). On (the default with write concurrency,
// auto or on; ETS's default is on only for auto), each shard counts its own
// objects: writers never share a counter, and Size sums the shards' counts.
// Off (the default under WriteConcurrencyOff), one table-wide counter is
// updated by every insert and delete, and Size reads it with one atomic
// load. An OrderedSet ignores it (its Info reports false): its tree always
// keeps a count per base node, which its writers hold the lock of anyway.
func WithDecentralizedCounters(on bool) Option {
	return Option{func(c *config) error {
		c.decentralized = &on
		return nil
	}}
}

// WithOwner makes o the table's owner (ETS: the process that creates a
// table owns it): the table is dropped when o ends, unless its heir inherits
// it. The constructor's handle acts for o. A nil owner is ErrInvalidOption;
// one that has ended, or ends while the table is being made, ErrOwnerDone
// (even when a later WithOwner names another owner, as for every option's
// bad value).
func WithOwner(o *Owner) Option {
	return Option{func(c *config) error {
		if err := errOwnerArg("WithOwner", o); err != nil {
			return err
		}
		c.owner = o
		return nil
	}}
}

// WithHeir names h the table's heir (ETS {heir, Pid, HeirData}): when the
// owner ends, a live h becomes the owner, receives a Transfer with data and
// stays the heir (see Owner.SetHeir).
// It needs WithOwner; h may be the owner itself. A nil h is ErrInvalidOption
// (a table has no heir unless given one; SetHeir with a nil heir removes
// it, as ETS's {heir, none}); an h that has ended, ErrOwnerDone.
func WithHeir(h *Owner, data any) Option {
	return Option{func(c *config) error {
		if err := errOwnerArg("WithHeir", h); err != nil {
			return err
		}
		c.heir, c.heirData = h, data
		return nil
	}}
}

// WithAccess sets the table's access level (ETS public, protected,
// private). Protected and Private need WithOwner. Without this option a
// table with an owner is Protected, and one without is Public.
func WithAccess(a Access) Option {
	return Option{func(c *config) error {
		if a < Public || a > Private {
			return fmt.Errorf("%w: WithAccess(%d): not an Access", ErrInvalidOption, uint8(a))
		}
		c.access = a
		return nil
	}}
}

// WithName registers the table under name (ETS named_table), so that
// Open[T](name) finds it from anywhere in the process. A name taken by a live
// table is ErrNameTaken from the constructor; an empty name is
// ErrInvalidOption. Dropping the table, or its owner ending without heir,
// frees the name.
func WithName(name string) Option {
	return Option{func(c *config) error {
		if name == "" {
			return fmt.Errorf("%w: WithName(\"\")", ErrInvalidOption)
		}
		c.name = name
		return nil
	}}
}
