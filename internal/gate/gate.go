// Package gate is the rights check the engines make themselves: a Gate
// admits Everyone, Nobody or the one Token it is set to, and an engine asks
// its Gate, with the Token of whoever calls it, before it reads (a Set's
// lock-free Get) or under the lock it writes under (every write). The ets
// package gives each Owner a Token and sets a table's gates whenever the
// table changes hands, access or life. A check under the write's lock is
// what makes a change of owner exact: a write that passed the ets package's
// own check just before a GiveAway, and reaches its lock after it, is
// refused there rather than landing on a table its owner no longer has.
package gate

import "sync/atomic"

// A Token stands for whoever calls an engine. Only its address matters.
type Token struct{ _ byte }

// Everyone and Nobody are the two settings of a Gate that admit every Token
// (nil included) and none. No caller passes Nobody as its own Token (a Gate
// set to Nobody would admit it: Admits makes two comparisons, not three).
var Everyone, Nobody = new(Token), new(Token)

// A Gate admits the callers its setting allows: Everyone, Nobody, or the
// one Token it is set to. The zero Gate admits only the nil Token; engines
// set theirs to Everyone when they are made.
type Gate struct{ p atomic.Pointer[Token] }

// Set makes the Gate admit t alone, or everyone (Everyone), or nobody
// (Nobody).
func (g *Gate) Set(t *Token) { g.p.Store(t) }

// Admits reports whether the Gate lets who in: one atomic load and two
// comparisons.
func (g *Gate) Admits(who *Token) bool {
	p := g.p.Load()
	return p == Everyone || p == who
}
