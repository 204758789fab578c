package sel_test

import (
	"testing"

	"github.com/cmcsync/cmcsync/internal/infotest"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/source/ipmi/sel"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/stretchr/testify/require"
)

// populatedTable returns the event-log table of a 1 MiB information region
// filled by the simulated CMC.
func populatedTable(t *testing.T) *info.Table {
	t.Helper()
	chip := simtest.Chip(t, "w25q256jv", sim.Options{Size: 1 << 20, Name: "primary"})
	region, _ := infotest.Populated(t, chip, 0, 1<<20, 7)
	r, err := region.Read(info.EventLog)
	require.NoError(t, err)
	tb, err := info.DecodeTable(info.EventLog, r.Payload)
	require.NoError(t, err)
	return tb
}

// TestEventLogRingIsRawSEL: the event-log ring (docs/FORMAT.md, "3.1
// Payloads") is a raw SEL file in the specification's layout, and records
// this package parses append to it unchanged.
func TestEventLogRingIsRawSEL(t *testing.T) {
	require.Equal(t, sel.RecordSize, info.SELEntrySize)
	tb := populatedTable(t)
	require.NotZero(t, tb.Count)

	recs, err := sel.ParseRaw(tb.Ring, sel.LayoutIPMI)
	require.NoError(t, err)
	require.Len(t, recs, int(tb.Count))
	for i, r := range recs {
		require.Equal(t, sel.KindSystemEvent, r.Kind(), "entry %d", i)
		_, ok := r.Time()
		require.True(t, ok, "entry %d has a wall-clock time", i)
	}
	require.Equal(t, tb.Ring, sel.AppendRaw(nil, recs, sel.LayoutIPMI))

	// Append a text record as a SEL device would: the next ID from the SEL
	// info (fixed section bytes 2–3), a timestamp.
	added, err := sel.ParseText([]byte("0x04 0x01 0x30 0x01 0x57 0x52 0x50\n"))
	require.NoError(t, err)
	r := added[0]
	next := uint16(tb.Fixed[2]) | uint16(tb.Fixed[3])<<8
	r.SetID(next)
	r.SetTimestamp(tb.Updated)
	tb.Add(r[:])
	back, err := info.DecodeTable(info.EventLog, tb.Encode())
	require.NoError(t, err)
	newest, err := sel.ParseRaw(back.Newest(), sel.LayoutIPMI)
	require.NoError(t, err)
	require.Equal(t, []sel.Record{r}, newest)
}
