package guest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

func TestRepairRegion(t *testing.T) {
	pf, bf := newChip(t, "mx66l1g45g", 8<<20), newChip(t, "mx66l1g45g", 8<<20)
	l, err := engine.FormatAndFill(pf, bf, engine.Options{Clock: hal.SystemClock{}}, cmcsim.New(3).Populate)
	require.NoError(t, err)

	repaired, err := repairRegion(pf, l)
	require.NoError(t, err)
	require.Empty(t, repaired, "nothing torn")

	// Tear the fan and asset records' payloads (a bit flipped each).
	region, err := info.OpenRegion(pf, l.InfoOff, l.InfoSize)
	require.NoError(t, err)
	for _, ty := range []info.Type{info.Fan, info.Asset} {
		off, _ := region.Extent(ty)
		b := make([]byte, 1)
		_, err := pf.ReadAt(b, off+info.RecordHeaderSize)
		require.NoError(t, err)
		pf.Poke(off+info.RecordHeaderSize, []byte{b[0] ^ 1})
		_, err = region.Read(ty)
		require.ErrorIs(t, err, info.ErrCorrupt)
	}
	power, err := region.Read(info.Power)
	require.NoError(t, err)

	repaired, err = repairRegion(pf, l)
	require.NoError(t, err)
	require.Equal(t, []info.Type{info.Fan, info.Asset}, repaired)
	for _, ty := range repaired {
		rec, err := region.Read(ty)
		require.NoError(t, err)
		require.Equal(t, info.Default(ty), rec.Payload)
	}
	again, err := region.Read(info.Power)
	require.NoError(t, err)
	require.Equal(t, power, again, "intact records are left alone")
}
