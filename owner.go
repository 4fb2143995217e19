package ets

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/etsgo/ets/internal/gate"
)

// Owner is the handle of an owning goroutine, ETS's owner process. A table
// made WithOwner(o) lives as long as o: when o ends, each table it owns goes
// to its heir, or is dropped if it has none (or the heir has ended too).
// Handles acting for an owner (the one its constructor returns, t.As(o), a
// Transfer's Table) carry the owner's rights on its protected and private
// tables, until the table changes hands (see GiveAway for a write in flight
// at that moment: it lands before the change, or is refused).
//
// An Owner ends once: when the context it was made with is done, when Stop is
// called, or, for an owner started with Go, when its function returns or
// panics. Ending runs no goroutine of its own beyond the short one
// context.AfterFunc starts, and leaves none behind.
//
// All methods are safe for concurrent use. The end of an owner, including
// the hand-over or drop of all its tables, is synchronized before the close
// of Done: a receive from Done, or a return from Stop, observes every table
// of the owner handed to its heir or dropped (a table being made for the
// owner at that moment included). The zero Owner, or a nil *Owner, is not
// an owner: options and methods given one return ErrInvalidOption, as does
// its Err; its Done is closed, its Transfers never delivers, and its Stop
// panics.
type Owner struct {
	id     uint64
	tok    gate.Token // the owner's token for the gates of its tables (see core.publish)
	ctx    context.Context
	cancel context.CancelCauseFunc
	done   chan struct{} // closed once the owner's tables are handed over or dropped

	mu     sync.Mutex
	ended  bool // set at the start of the end: no table is adopted afterwards
	tables map[*core]struct{}
	inbox  chan Transfer
	queue  []Transfer // transfers waiting for room in inbox, oldest first
	pump   bool       // a goroutine is moving queue into inbox
}

// inboxSize is how many transfers wait in an owner's channel before later
// ones queue in memory; transfers are never dropped either way.
const inboxSize = 16

var lastOwnerID atomic.Uint64

// NewOwner returns a live Owner that ends when ctx is done (its Err is then
// context.Cause(ctx): context.Canceled for a plain cancel) or when Stop is
// called. It panics if ctx is nil.
func NewOwner(ctx context.Context) *Owner {
	if ctx == nil {
		panic("ets: NewOwner or Go: nil context")
	}
	o := &Owner{
		id:     lastOwnerID.Add(1),
		done:   make(chan struct{}),
		tables: map[*core]struct{}{},
		inbox:  make(chan Transfer, inboxSize),
	}
	o.ctx, o.cancel = context.WithCancelCause(ctx)
	context.AfterFunc(o.ctx, o.end)
	return o
}

// Go starts fn in a new goroutine as an owner and returns that owner: ETS's
// spawned owner process. fn receives a context that is done when the owner
// ends, and the owner itself, to make tables WithOwner(self) and to receive
// Transfers. The owner ends when fn returns (its Err is fn's error, or
// ErrOwnerDone for nil), when ctx is done, or when Stop is called. A panic
// in fn is recovered and becomes the owner's Err, a *PanicError holding the
// value and the stack: a crashing worker never takes the program down, and
// its tables go to their heirs. It panics if ctx or fn is nil.
//
// The owner does not wait for fn: once ctx is done or Stop is called, its
// tables are handed over at once, and fn, which should return when its
// context is done, may still be running. Err keeps the first reason, so
// an error fn returns after that is discarded, and so is a panic it raises
// then, once recovered.
//
// If fn calls runtime.Goexit (as testing's FailNow does), the owner ends
// with ErrOwnerDone wrapped with a message that says so.
func Go(ctx context.Context, fn func(ctx context.Context, self *Owner) error) *Owner {
	if fn == nil {
		panic("ets: Go: nil function")
	}
	o := NewOwner(ctx)
	go func() {
		err := errGoexit
		defer func() {
			if v := recover(); v != nil {
				err = &PanicError{Value: v, Stack: debug.Stack()}
			}
			o.Stop(err)
		}()
		err = fn(o.ctx, o)
		if err == nil {
			err = ErrOwnerDone
		}
	}()
	return o
}

// errGoexit is the Err of an owner whose Go function called runtime.Goexit.
var errGoexit = fmt.Errorf("%w: its function called runtime.Goexit", ErrOwnerDone)

// Stop ends the owner with reason (ErrOwnerDone if nil) and returns once its
// tables have been handed to their heirs or dropped. Stopping an owner that
// has ended does nothing: Err keeps the first reason.
func (o *Owner) Stop(reason error) {
	if o == nil || o.cancel == nil {
		panic("ets: Stop: " + errZeroOwner)
	}
	if reason == nil {
		reason = ErrOwnerDone
	}
	o.cancel(reason)
	<-o.done
}

// Done returns a channel that is closed when the owner has ended and its
// tables have been handed over or dropped. The zero Owner's is closed.
func (o *Owner) Done() <-chan struct{} {
	if o == nil || o.done == nil {
		return closedChan
	}
	return o.done
}

// closedChan is the Done of the zero Owner, which is not alive.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Err returns nil while the owner is alive, and then the first reason it
// ended for: the reason given to Stop, the error its Go function returned, a
// *PanicError, or the cause of its context (context.Canceled,
// context.DeadlineExceeded...). The zero Owner's is ErrInvalidOption.
func (o *Owner) Err() error {
	if o == nil || o.ctx == nil {
		return fmt.Errorf("%w: %s", ErrInvalidOption, errZeroOwner)
	}
	if o.ctx.Err() == nil {
		return nil
	}
	return context.Cause(o.ctx)
}

// Transfers returns the channel on which the owner receives the tables given
// to it (GiveAway) or inherited as heir. Sends never block the giver and are
// never lost: transfers beyond the channel's buffer wait in memory, in order,
// until received or until the owner ends. The channel is never closed; select
// on Done as well. When the owner ends, the tables of the transfers it has
// not received go on with the rest of its tables (to their heirs, or
// dropped); up to 16 of those transfers stay readable on the channel, so a
// Transfer read after the end names a table the owner no longer owns (check
// tr.Table.Info().Owner, or the owner's context). The transfers from one
// ending owner to its heirs come in no particular order, as in ETS. The zero
// Owner's channel is nil: it never delivers.
func (o *Owner) Transfers() <-chan Transfer {
	if o == nil {
		return nil
	}
	return o.inbox
}

// ID returns the owner's identity, unique in the process; the ID of a nil
// *Owner is 0. Info and Transfer name owners by ID: an *Owner is a
// capability (whoever holds it may act for it through As), so the library
// never hands out one owner's *Owner to another.
func (o *Owner) ID() OwnerID {
	if o == nil {
		return 0
	}
	return OwnerID(o.id)
}

// String returns a short identity for logs, such as "owner#3".
func (o *Owner) String() string { return o.ID().String() }

// token is o's token for a table's read and write gates (see
// core.publish); nil for nobody.
func (o *Owner) token() *gate.Token {
	if o == nil {
		return nil
	}
	return &o.tok
}

// OwnerID identifies an Owner in Info and Transfer without granting its
// rights. The zero OwnerID means no owner.
type OwnerID uint64

// String returns "owner#N", or "none" for the zero OwnerID.
func (id OwnerID) String() string {
	if id == 0 {
		return "none"
	}
	return fmt.Sprintf("owner#%d", uint64(id))
}

// PanicError is the Err of an owner whose Go function panicked.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the goroutine's stack at the panic
}

// Error describes the panic: "ets: owner panicked: " and the value.
func (e *PanicError) Error() string { return fmt.Sprintf("ets: owner panicked: %v", e.Value) }

// Unwrap returns the panic value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// alive reports whether the owner has not begun to end: its Err is nil. The
// context is checked as well as ended, which is set only when end starts (a
// goroutine context.AfterFunc starts after the context is done), so that no
// table goes to an owner whose Err already says it ended.
func (o *Owner) alive() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.aliveLocked()
}

// aliveLocked is alive for a caller that holds o.mu. The zero Owner is never
// alive.
func (o *Owner) aliveLocked() bool { return !o.ended && o.ctx != nil && o.ctx.Err() == nil }

// errZeroOwner describes the misuse of a zero Owner.
const errZeroOwner = "an Owner not made by NewOwner or Go"

// adopt records that o owns c. It fails if o has begun to end (see alive): a
// table is never given to an owner that will not hand it on. The caller holds
// c.mu, publishes o as c's owner, and only then delivers the Transfer, so
// that the receiver owns the table by the time it reads the Transfer.
func (o *Owner) adopt(c *core) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.aliveLocked() {
		return false
	}
	o.tables[c] = struct{}{}
	return true
}

// deliver queues tr for o without blocking.
func (o *Owner) deliver(tr Transfer) {
	o.mu.Lock()
	o.send(tr)
	o.mu.Unlock()
}

// release forgets c (given away or dropped). The caller holds c.mu.
func (o *Owner) release(c *core) {
	o.mu.Lock()
	delete(o.tables, c)
	o.mu.Unlock()
}

// send delivers tr without blocking: into the channel if it has room and
// nothing waits before it, otherwise onto the queue that a pump goroutine
// drains while the owner lives. The caller holds o.mu.
func (o *Owner) send(tr Transfer) {
	if len(o.queue) == 0 && !o.pump {
		select {
		case o.inbox <- tr:
			return
		default:
		}
	}
	o.queue = append(o.queue, tr)
	if !o.pump {
		o.pump = true
		go o.drain()
	}
}

func (o *Owner) drain() {
	for {
		o.mu.Lock()
		if len(o.queue) == 0 {
			o.pump = false
			o.mu.Unlock()
			return
		}
		tr := o.queue[0]
		o.mu.Unlock()
		select {
		case o.inbox <- tr:
			o.mu.Lock()
			o.queue[0] = Transfer{}
			o.queue = o.queue[1:]
			o.mu.Unlock()
		case <-o.done:
			// Nobody will read: the owner has ended and its tables went on.
			o.mu.Lock()
			o.queue, o.pump = nil, false
			o.mu.Unlock()
			return
		}
	}
}

// end runs once, when the owner's context is done: it stops adoption, then
// hands each table the owner still owns to its heir or drops it.
func (o *Owner) end() {
	o.mu.Lock()
	o.ended = true
	tables := make([]*core, 0, len(o.tables))
	for c := range o.tables {
		tables = append(tables, c)
	}
	clear(o.tables)
	o.mu.Unlock()
	for _, c := range tables {
		c.ownerEnded(o)
	}
	close(o.done)
}

// errOwnerArg checks an owner passed as an argument.
func errOwnerArg(what string, o *Owner) error {
	switch {
	case o == nil:
		return fmt.Errorf("%w: %s: nil owner", ErrInvalidOption, what)
	case o.ctx == nil:
		return fmt.Errorf("%w: %s: %s", ErrInvalidOption, what, errZeroOwner)
	case !o.alive():
		return fmt.Errorf("%w (%s)", ErrOwnerDone, what)
	}
	return nil
}
