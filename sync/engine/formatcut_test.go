package engine

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestFormatWasCut: the chips say a format was cut when no chip holds
// data a format would destroy and the pair is neither blank on both chips
// nor a finished store on both.
func TestFormatWasCut(t *testing.T) {
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	l := p.opts.Layout
	formatted := [2]*sim.Snapshot{p.chipA.Snapshot(), p.chipB.Snapshot()}
	synced := syncedPairAfter(t, DefaultConfig(), 0)
	blank := func(t *testing.T, f *sim.Flash) { require.NoError(t, f.Erase(l.StoreOff, l.StoreSize)) }
	intent := func(t *testing.T, f *sim.Flash) {
		blank(t, f)
		require.NoError(t, store.MarkFormatIntent(f, l.StoreOff, l.StoreSize, store.FormatOptions{ChipID: 1, PairID: 5, MaxChunks: 64}))
	}
	foreign := func(t *testing.T, f *sim.Flash) {
		blank(t, f)
		f.Poke(l.StoreOff+7*f.Geometry().EraseSize, []byte("someone's data"))
	}
	keep := func(*testing.T, *sim.Flash) {}
	for _, tc := range []struct {
		name   string
		synced bool // chip A holds generation 1 instead of 0
		a, b   func(*testing.T, *sim.Flash)
		want   bool
	}{
		{"both formatted", false, keep, keep, false},
		{"both blank", false, blank, blank, false},
		{"intent beside blank", false, intent, blank, true},
		{"formatted beside intent", false, keep, intent, true},
		// A replaced (blank) chip beside a store of generation 0 (the
		// active chip's store, whose rounds commit on the backup): never
		// a cut format, whose intents come first on both chips.
		{"formatted beside blank", false, keep, blank, false},
		{"blank beside formatted", false, blank, keep, false},
		{"intent beside committed data", true, intent, keep, false},
		{"foreign data beside intent", false, foreign, intent, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := p.chipA, p.chipB
			if tc.synced {
				a, b = synced.chipA, synced.chipB
			} else {
				a.Restore(formatted[0])
				b.Restore(formatted[1])
			}
			tc.a(t, a)
			tc.b(t, b)
			require.Equal(t, tc.want, FormatWasCut(a, b, l))
		})
	}
}
