package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/store"
)

// TestRoundWithNoTypesConfigured: a store whose committed configuration
// names no type but a group size (the store's own rules allow it; the
// engine's Validate would refuse it, but it is read from flash as it is)
// gives a round that syncs nothing: nothing-changed, committed, the group
// cursor left at 0 (there is no group to move past).
func TestRoundWithNoTypesConfigured(t *testing.T) {
	p := committedPair(t, DefaultConfig())
	s, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{})
	require.NoError(t, err)
	sc := store.Config{Interval: time.Minute, Threshold: 2 * time.Second, GroupSize: 2}
	_, err = s.CommitConfig(sc)
	require.NoError(t, err)
	gen := s.State().Generation

	e := p.open(t)
	require.Empty(t, e.Config().Types)
	require.Equal(t, 2, e.Config().GroupSize)
	rep, err := e.Round(context.Background())
	require.NoError(t, err)
	require.Equal(t, OutcomeNothingChanged, rep.Outcome)
	require.Equal(t, gen+1, rep.Generation)
	require.Empty(t, rep.Types)

	bs, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.Equal(t, gen+1, bs.State().Generation)
	require.Equal(t, uint16(0), bs.State().GroupNext)
	require.Equal(t, sc, bs.State().Config)
}
