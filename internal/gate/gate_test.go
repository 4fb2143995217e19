package gate

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A Gate admits what its setting says, and its zero value only the nil
// Token.
func TestGate(t *testing.T) {
	a, b := new(Token), new(Token)
	var g Gate
	require.True(t, g.Admits(nil))
	require.False(t, g.Admits(a))
	g.Set(Everyone)
	for _, who := range []*Token{nil, a, b, Everyone, Nobody} {
		require.True(t, g.Admits(who))
	}
	g.Set(a)
	require.True(t, g.Admits(a))
	for _, who := range []*Token{nil, b, Everyone, Nobody} {
		require.False(t, g.Admits(who))
	}
	g.Set(Nobody)
	for _, who := range []*Token{nil, a, b, Everyone} {
		require.False(t, g.Admits(who))
	}
}
