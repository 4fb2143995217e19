package ets

import (
	"fmt"
	"reflect"
)

// Transfer is a message an owner receives on Transfers when a table becomes
// its own: given away by its previous owner (ETS's {'ETS-TRANSFER', Tab,
// FromPid, GiftData}), or inherited as heir when the owner ended. Table acts
// for the receiving owner; convert it to the kind you made, as in
// tr.Table.(*ets.Set[string, int]).
type Transfer struct {
	Table Table   // the table, as a handle acting for the receiver
	From  OwnerID // the previous owner
	Data  any     // the data given to GiveAway, or to WithHeir / SetHeir
}

// GiveAway makes to the owner of t and sends it a Transfer carrying data
// (ETS give_away/3). Only t's current owner may give it away
// (ErrNotOwner otherwise), and only to a live owner other than itself
// (ErrOwnerDone, ErrInvalidOption); a nil t is ErrInvalidOption. The heir
// is unchanged. From then on the handles acting for o lose the owner's
// rights on t, and the Transfer's Table has them. The change is exact: a
// write through o's handle lands only if it reached its lock (a hash
// shard's, a base node's) before the change, and then every reader of what
// it writes sees it; one that checked o's rights before the change but
// reached its lock after it is refused there (ErrAccess), as is every write
// started after GiveAway returns, unless the table is o's again by then.
// The same holds when the table goes to its heir, and when it is dropped
// (ErrDeleted). A dropped table cannot be given away: ErrDeleted.
func (o *Owner) GiveAway(t Table, to *Owner, data any) error {
	if nilTable(t) {
		return fmt.Errorf("%w: GiveAway of a nil table (%T)", ErrInvalidOption, t)
	}
	c := t.tableCore()
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st.Load()
	if err := o.owns(c, st, "gives away"); err != nil {
		return err
	}
	switch {
	case to == nil:
		return fmt.Errorf("%w: GiveAway to a nil owner", ErrInvalidOption)
	case to.ctx == nil:
		return fmt.Errorf("%w: GiveAway to %s", ErrInvalidOption, errZeroOwner)
	case to == o:
		return fmt.Errorf("%w: GiveAway to the owner itself", ErrInvalidOption)
	case !o.alive():
		return fmt.Errorf("%w (GiveAway by %v)", ErrOwnerDone, o)
	}
	if !to.adopt(c) {
		return fmt.Errorf("%w (GiveAway to %v)", ErrOwnerDone, to)
	}
	o.release(c)
	next := *st
	next.owner = to
	c.publish(&next)
	to.deliver(Transfer{Table: c.handleFor(to), From: o.ID(), Data: data})
	return nil
}

// SetHeir names h the heir of t, with data for its Transfer (ETS
// setopts(T, {heir, Pid, Data})); a nil h removes the heir. When t's owner
// ends, a live heir becomes the owner and receives a Transfer; otherwise t is
// dropped. An heir that inherits stays the heir, as in ETS, with the same
// data: it is then heir to itself, so the table is dropped when it ends. An
// owner may name itself heir: it inherits the table back whenever an owner
// it gave the table to ends (ETS's manager/worker pattern; GiveAway leaves
// the heir as it is). Only t's owner may set the heir (ErrNotOwner); an heir
// that has ended is ErrOwnerDone, as is an owner that is ending (its Err is
// no longer nil), as for GiveAway; a nil t is ErrInvalidOption.
func (o *Owner) SetHeir(t Table, h *Owner, data any) error {
	if nilTable(t) {
		return fmt.Errorf("%w: SetHeir of a nil table (%T)", ErrInvalidOption, t)
	}
	c := t.tableCore()
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st.Load()
	if err := o.owns(c, st, "sets the heir of"); err != nil {
		return err
	}
	if !o.alive() {
		return fmt.Errorf("%w (SetHeir by %v)", ErrOwnerDone, o)
	}
	if h != nil {
		if err := errOwnerArg("SetHeir", h); err != nil {
			return err
		}
	}
	next := *st
	next.heir, next.heirData = h, data
	if h == nil {
		next.heirData = nil
	}
	c.publish(&next)
	return nil
}

// owns returns nil if o owns c in state st, and otherwise the error of an
// owner-only operation (what o tried, for the message). The caller holds
// c.mu.
func (o *Owner) owns(c *core, st *state, what string) error {
	switch {
	case st.dropped:
		return ErrDeleted
	case st.owner != o || o == nil:
		return fmt.Errorf("%w: %v %s %s, owned by %v", ErrNotOwner, o, what, c, st.owner)
	}
	return nil
}

// ownerEnded hands c to its heir, or drops it, now that o has ended. It does
// nothing if o no longer owns c (given away meanwhile) or c is dropped.
func (c *core) ownerEnded(o *Owner) {
	c.mu.Lock()
	st := c.st.Load()
	if st.dropped || st.owner != o {
		c.mu.Unlock()
		return
	}
	if h := st.heir; h != nil && h != o && h.adopt(c) {
		// The heir stays the heir, as in ETS: when it ends the table is
		// dropped (it is heir to itself), and when it gives the table
		// away again it gets it back if that owner ends too.
		next := *st
		next.owner = h
		c.publish(&next)
		h.deliver(Transfer{Table: c.handleFor(h), From: o.ID(), Data: st.heirData})
		c.mu.Unlock()
		return
	}
	c.dropUnlock(st)
}

// nilTable reports whether t is nil: a nil interface, or a nil handle in
// it, on which a method would dereference nil.
func nilTable(t Table) bool {
	if t == nil {
		return true
	}
	v := reflect.ValueOf(t)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
