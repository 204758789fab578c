package engine

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestReadRecordFullExtent: a record that fills its extent to the last
// byte reads back whole, with one check per chunk at the given phase; an
// empty one reads as empty; an invalid type is refused.
func TestReadRecordFullExtent(t *testing.T) {
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	r := p.region(t, p.chipA)
	const chunk = 4 << 10
	for _, tc := range []struct {
		ty    info.Type
		size  int
		phase int64
	}{
		{info.Fan, r.Capacity(info.Fan), 0},
		{info.Node, r.Capacity(info.Node), 100},
		{info.Power, 0, 0},
	} {
		payload := bytes.Repeat([]byte{0x5a, 0xa5, 0x3c}, tc.size/3+1)[:tc.size]
		require.NoError(t, r.Write(tc.ty, payload))
		hb := make([]byte, info.RecordHeaderSize)
		rec, checks, err := readRecordInto(r, p.chipA, tc.ty, hb, tc.phase, chunk)
		require.NoError(t, err, "%v of %d bytes", tc.ty, tc.size)
		require.Equal(t, payload, rec.Payload)
		require.Len(t, checks, store.ChunkCount(int64(tc.size), tc.phase, chunk))
		for i := range checks {
			lo, hi := store.ChunkBounds(int64(tc.size), tc.phase, chunk, i)
			require.Equal(t, store.ChunkCheck(payload[lo:hi]), checks[i], "%v chunk %d", tc.ty, i)
		}
		e := &Engine{}
		rec2, checks2, err := e.readRecord(r, p.chipA, tc.ty, tc.phase, chunk)
		require.NoError(t, err)
		require.Equal(t, payload, rec2.Payload)
		require.Equal(t, checks, checks2)
		require.Equal(t, rec.Seq, rec2.Seq)
	}
	_, _, err := readRecordInto(r, p.chipA, info.Type(info.NumTypes+1), make([]byte, info.RecordHeaderSize), 0, chunk)
	require.ErrorContains(t, err, "unknown information type 7 (want 1..6)")
}
