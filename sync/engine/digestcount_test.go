package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestOnlyChangedChunksAreHashed: on a region without change tables every
// type is read whole, yet only the chunks that changed since the committed
// generation are hashed with SHA-256; the others take the committed
// digest through their fast check. A fresh digest memo, handed to the
// engine after Open (whose verification hashes every committed chunk),
// counts the distinct chunks the round hashes (the store's read-back of
// the written chunk hashes the same bytes).
func TestOnlyChangedChunksAreHashed(t *testing.T) {
	ctx := context.Background()
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	makePlain(t, p)
	_, err := p.open(t).Round(ctx)
	require.NoError(t, err)

	// Change one byte in a middle chunk of the fault log.
	r := p.region(t, p.chipA)
	rec, err := r.Read(info.FaultLog)
	require.NoError(t, err)
	rec.Payload[len(rec.Payload)/2] ^= 0xFF
	require.NoError(t, r.Write(info.FaultLog, rec.Payload))

	e := p.open(t)
	memo := store.NewDigestMemo(0)
	e.opts.Digests = memo
	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Len(t, rep.ReadWhole, info.NumTypes, "a plain region is read whole")
	require.Equal(t, 1, rep.ChangedChunks)
	require.Equal(t, 1, memo.Len(), "only the changed chunk is hashed")
	requireSynced(t, p, p.chipA, p.chipB, info.All())
}
