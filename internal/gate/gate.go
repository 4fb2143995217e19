// Package gate is the rights check the engines make themselves: a Gate
// admits everyone, nobody or the one Token it is set to, and an engine asks
// its Gate, with the Token of whoever calls it, before it reads (a Set's
// lock-free Get) or under the lock it writes under (every write; for
// shard.Map.Ref, its caller asks). The ets package gives each Owner a Token
// and sets a table's gates whenever the table changes hands or is dropped.
// A check under the write's lock is what makes a change of owner exact: a
// write that passed the ets package's own check just before a GiveAway, and
// reaches its lock after it, is refused there rather than landing on a
// table its owner no longer has.
package gate

import "sync/atomic"

// A Token stands for whoever calls an engine. Only its address matters; a
// nil Token is a caller with no Token of its own.
type Token struct{ _ byte }

// Everyone and Nobody are the two settings of a Gate that admit every Token
// (nil included) and none. Everyone is nil, so that the zero Gate admits
// everyone and Admits compares with nil rather than with a Token it must
// load first. No caller passes Nobody as its own Token (a Gate set to
// Nobody would admit it: Admits makes two comparisons, not three).
var (
	Everyone *Token
	Nobody   = new(Token)
)

// A Gate admits the callers its setting allows: everyone (its zero value),
// nobody, or the one Token it is set to. Store sets it.
//
// The engines' hot paths spell Admits out, as
//
//	if w := g.Load(); w != nil && w != who { /* refused */ }
//
// since the compiler does not inline it into generic code instantiated in
// another package (golang/go#56280): the call was 1 to 1.5 ns of a Set
// write's 14 to 27 (Insert, Update, UpdateCounter at 1e3 keys, -cpu 1).
type Gate struct{ atomic.Pointer[Token] }

// Admits reports whether the Gate lets who in: one atomic load (a plain
// load on amd64) and two comparisons.
func (g *Gate) Admits(who *Token) bool {
	w := g.Load()
	return w == nil || w == who
}
