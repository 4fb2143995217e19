package gate

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A Gate admits what its setting says; its zero value admits everyone.
func TestGate(t *testing.T) {
	a, b := new(Token), new(Token)
	var g Gate
	for _, who := range []*Token{nil, a, b, Nobody} {
		require.True(t, g.Admits(who))
	}
	g.Store(a)
	require.True(t, g.Admits(a))
	for _, who := range []*Token{nil, b, Nobody} {
		require.False(t, g.Admits(who))
	}
	g.Store(Nobody)
	for _, who := range []*Token{nil, a, b} {
		require.False(t, g.Admits(who))
	}
	g.Store(Everyone)
	require.True(t, g.Admits(nil))
	require.True(t, g.Admits(b))
}
