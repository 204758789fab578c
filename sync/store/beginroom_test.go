package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBeginLeavesRoomForTheRoundsLastRecords: Begin reserves, after the
// round's intent records, room for four records of two slots each (commit,
// a failover's role record, the purged mark, a staged configuration),
// compacting first when they do not fit: while the round is pending the
// journal cannot be compacted. Tried with the journal's tail at each slot
// of its last blocks (k role records after a first round), the reserved
// room is there after every Begin, and the round's role record, purge and
// a staged configuration then all succeed.
func TestBeginLeavesRoomForTheRoundsLastRecords(t *testing.T) {
	ps1 := payloads{1: randomBytes(1, 10000)}
	ps2 := payloads{1: randomBytes(2, 10000)}
	prepared := func(k int) *Store {
		_, s := newStore(t)
		runRound(t, s, 1, ps1)
		for i := range k {
			require.NoError(t, s.SetRole(Role{Epoch: uint64(i + 1), Active: uint8(i % 2)}))
		}
		return s
	}
	// The first k at which a role record no longer fits without a
	// compaction.
	s := prepared(0)
	area, kmax := s.area, 0
	for s.area == area {
		require.NoError(t, s.SetRole(Role{Epoch: uint64(kmax + 1), Active: uint8(kmax % 2)}))
		kmax++
	}
	reserve := []int64{2 * s.slotSize, 2 * s.slotSize, 2 * s.slotSize, 2 * s.slotSize}
	compacted := 0
	for k := max(0, kmax-3*int(s.eraseSize/s.slotSize)); k < kmax; k++ {
		s := prepared(k)
		require.Equal(t, area, s.area, "k %d", k)
		_, err := s.Begin(planOf(2, ps2))
		require.NoError(t, err, "k %d", k)
		require.NotNil(t, s.pending, "k %d", k)
		if s.area != area {
			compacted++
		}
		require.True(t, s.fits(reserve), "k %d: no room left for four records of two slots after Begin", k)
		require.NoError(t, s.SetRole(Role{Epoch: 1000, Active: 1}), "k %d", k)
		_, err = s.Purge()
		require.NoError(t, err, "k %d", k)
		require.NoError(t, s.StageConfig(Config{Types: []uint8{2}, Interval: 42}), "k %d", k)
	}
	// Begin compacts at the last 10 tail positions (slots) before a lone
	// role record would need a compaction: its intent records and the
	// reserve no longer fit there.
	require.Equal(t, 10, compacted, "Begins that compacted")
}
