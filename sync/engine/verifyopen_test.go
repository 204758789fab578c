package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestOpenVerifiesCommittedChunks: a committed chunk of the backup decays
// while the engine is not running (the journal still says it is intact).
// Open reads every committed chunk and reports the damage; the next round
// rewrites the chunk and the backup verifies again. Without the check at
// Open, nothing reports the damage and the round changes nothing.
func TestOpenVerifiesCommittedChunks(t *testing.T) {
	p := syncedPairAfter(t, DefaultConfig(), 0)
	l := p.opts.Layout
	s, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	ts, ok := s.StateRef().Type(uint8(info.Fan))
	require.True(t, ok)
	off := s.BlockOffset(ts.Chunks[0].Block)
	b := make([]byte, 1)
	_, err = p.chipB.ReadAt(b, off+7)
	require.NoError(t, err)
	p.chipB.Poke(off+7, []byte{b[0] ^ 0x10})

	e := p.open(t)
	st := e.Status()
	require.Len(t, st.Damage, 1, "the damaged chunk is reported at Open")
	require.Contains(t, st.Damage[0], "fails its digest")
	require.Equal(t, HealthDamaged, st.BackupHealth)
	require.Contains(t, eventKinds(e), EventDamage)

	rep, err := e.Round(context.Background())
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Contains(t, rep.ChangedTypes, info.Fan, "the round rewrites the damaged chunk")
	s, err = store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.Empty(t, s.VerifyChunks())
	requireSynced(t, p, p.chipA, p.chipB, info.All())
	require.Equal(t, HealthOK, e.Status().BackupHealth)
}
