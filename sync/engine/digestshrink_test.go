package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestShrunkLastChunkIsHashedAgain: a payload cut short inside its last
// chunk (same first bytes, a shorter chunk) must not take the committed
// chunk's digest from the payload kept from the last round; the backup
// then verifies and reads back the shorter payload. Rounds 2 and 3 shrink
// the same type twice, so the kept payload is the right generation's.
//
// The payload is kept only for a region without change tables (the
// earlier region version), and rounds hand chunkDigests the checks
// readRecord computed, so the kept payload is compared only when no
// checks come: under the no-crc-check harness mutant, which reads records
// without them. The test runs on the current region with the real engine
// and on a plain region with that mutant, where the comparison's
// chunk-bounds test decides.
func TestShrunkLastChunkIsHashedAgain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plain bool
		m     Mutant
	}{{"tables", false, None}, {"plain/no-crc-check", true, NoCRCCheck}} {
		t.Run(tc.name, func(t *testing.T) { shrinkLastChunks(t, tc.plain, tc.m) })
	}
}

func shrinkLastChunks(t *testing.T, plain bool, m Mutant) {
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	if plain {
		makePlain(t, p)
	}
	p.opts.Mutant = m
	e := p.open(t)
	ctx := context.Background()
	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	for _, ty := range []info.Type{info.EventLog, info.Node} {
		for cut := range 2 {
			r := p.region(t, p.chipA)
			rec, err := r.Read(ty)
			require.NoError(t, err)
			require.Greater(t, len(rec.Payload), 64)
			require.NoError(t, r.Write(ty, rec.Payload[:len(rec.Payload)-7]))
			rep, err := e.Round(ctx)
			require.NoError(t, err, "%v cut %d", ty, cut)
			require.Equal(t, OutcomeCommitted, rep.Outcome, "%v cut %d", ty, cut)
			requireSynced(t, p, p.chipA, p.chipB, info.All())
			s, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
			require.NoError(t, err)
			require.Empty(t, s.VerifyChunks(), "%v cut %d", ty, cut)
		}
	}
}
