package cmcsim

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/stretchr/testify/require"
)

func TestGeneratorDeterministicBySeed(t *testing.T) {
	run := func(seed uint64) []byte {
		r, f := newRegion(t, 256<<10)
		g := New(seed)
		require.NoError(t, g.Populate(r))
		for i := 0; i < 3; i++ {
			require.NoError(t, g.Step(r, 7*time.Minute))
		}
		require.Equal(t, Epoch.Add(21*time.Minute), g.Now())
		require.Equal(t, seed, g.Seed())
		img := make([]byte, 256<<10)
		_, err := f.ReadAt(img, 0)
		require.NoError(t, err)
		return img
	}
	a, b, c := run(11), run(11), run(12)
	require.True(t, bytes.Equal(a, b), "same seed, same bytes (replay: TestGeneratorDeterministicBySeed seed 11)")
	require.False(t, bytes.Equal(a, c), "different seeds give different contents")
}

func TestGeneratorChangesAboutOnePercentPerInterval(t *testing.T) {
	for _, size := range []int64{256 << 10, 1 << 20, 8 << 20, 32 << 20} {
		for _, seed := range []uint64{1, 2} {
			if size > 8<<20 && (seed > 1 || testing.Short()) {
				continue // one large run is enough
			}
			t.Run(fmt.Sprintf("%s/seed%d", hal.FormatSize(size), seed), func(t *testing.T) {
				r, _ := newRegion(t, size)
				g := New(seed)
				require.NoError(t, g.Populate(r))
				for _, ty := range []info.Type{info.EventLog, info.FaultLog, info.Power, info.Fan, info.Node} {
					tb, err := info.DecodeTable(ty, payloads(t, r)[ty])
					require.NoError(t, err)
					require.InDelta(t, populateFill, float64(tb.Count)/float64(tb.Slots), 0.001, "%v ring fill", ty)
					require.Equal(t, info.RingSlots(ty, r.Capacity(ty)), tb.Slots)
				}
				for step := 0; step < 3; step++ {
					before := payloads(t, r)
					require.NoError(t, g.Step(r, TypicalInterval))
					diff, total := changed(before, payloads(t, r))
					frac := float64(diff) / float64(total)
					t.Logf("step %d: %d of %d payload bytes changed (%.3f%%)", step, diff, total, 100*frac)
					require.InDelta(t, 0.01, frac, 0.003, "step %d changed %d of %d bytes (replay: seed %d size %d)", step, diff, total, seed, size)
				}
			})
		}
	}
}

func TestGeneratorStepContents(t *testing.T) {
	r, _ := newRegion(t, 256<<10)
	g := New(5)
	require.NoError(t, g.Step(r, 0), "nothing to do")
	// Step works on a freshly formatted (default) region: it sizes the rings.
	before := payloads(t, r)
	require.NoError(t, g.Step(r, time.Hour))
	after := payloads(t, r)
	require.Equal(t, before[info.Asset], after[info.Asset], "assets change rarely")
	for _, ty := range []info.Type{info.Power, info.Fan, info.EventLog, info.FaultLog} {
		require.NotEqual(t, before[ty], after[ty], ty)
	}
	sel, err := info.DecodeTable(info.EventLog, after[info.EventLog])
	require.NoError(t, err)
	require.Equal(t, info.RingSlots(info.EventLog, r.Capacity(info.EventLog)), sel.Slots)
	require.Positive(t, sel.Count)
	// SEL entries: record IDs count up from 1, type 0x02, EvM rev 0x04, time in the hour.
	for i := 0; i < int(sel.Count); i++ {
		e := sel.Ring[i*info.SELEntrySize:][:info.SELEntrySize]
		require.Equal(t, uint16(i+1), binary.LittleEndian.Uint16(e), "record ID")
		require.Equal(t, byte(0x02), e[2])
		require.Equal(t, byte(0x04), e[9])
		ts := time.Unix(int64(binary.LittleEndian.Uint32(e[3:])), 0)
		require.True(t, ts.After(Epoch) && !ts.After(Epoch.Add(time.Hour)), ts)
	}
	// Long activity fills and wraps the rings; every payload stays well-formed.
	require.NoError(t, g.Step(r, 14*24*time.Hour))
	for _, ty := range info.All() {
		p := payloads(t, r)[ty]
		tb, err := info.DecodeTable(ty, p)
		require.NoError(t, err, ty)
		if tb.EntrySize > 0 {
			require.Equal(t, tb.Slots, tb.Count, "%v ring full", ty)
		}
	}
	sel, err = info.DecodeTable(info.EventLog, payloads(t, r)[info.EventLog])
	require.NoError(t, err)
	require.Equal(t, byte(1), sel.Fixed[1], "SEL overflow flag")
	newest := sel.Newest()
	require.Equal(t, binary.LittleEndian.Uint16(sel.Fixed[2:])-1, binary.LittleEndian.Uint16(newest), "newest entry has the last record ID")
	// Asset information changes over a year.
	before = payloads(t, r)
	require.NoError(t, g.Step(r, 365*24*time.Hour))
	require.NotEqual(t, before[info.Asset], payloads(t, r)[info.Asset])
	tb, err := info.DecodeTable(info.Asset, payloads(t, r)[info.Asset])
	require.NoError(t, err)
	for i := 0; i < info.NumFRUs; i++ {
		checkFRU(t, tb.Fixed[i*info.FRUSize:(i+1)*info.FRUSize])
	}
}

func TestGeneratorStepOnCorruptRegion(t *testing.T) {
	r, f := newRegion(t, 256<<10)
	g := New(1)
	require.NoError(t, g.Populate(r))
	off, _ := r.Extent(info.FaultLog)
	b := make([]byte, 2)
	_, err := f.ReadAt(b, off+info.RecordHeaderSize+100)
	require.NoError(t, err)
	f.(interface{ Poke(int64, []byte) }).Poke(off+info.RecordHeaderSize+100, []byte{^b[0], ^b[1]})
	err = g.Step(r, time.Minute)
	require.ErrorIs(t, err, info.ErrCorrupt)
	require.ErrorContains(t, err, "fault-log record")
	// A payload that is not a table is refused with the type named.
	require.NoError(t, r.Write(info.Node, []byte("not a table")))
	err = g.Step(r, time.Minute)
	require.ErrorContains(t, err, "node record: malformed payload")
}

func TestMutate(t *testing.T) {
	for _, clustered := range []bool{true, false} {
		for _, fraction := range []float64{0, 0.0001, 0.01, 0.1, 1} {
			name := fmt.Sprintf("clustered=%v/fraction=%v", clustered, fraction)
			r, _ := newRegion(t, 256<<10)
			g := New(3)
			require.NoError(t, g.Populate(r))
			before := payloads(t, r)
			n, err := g.Mutate(r, fraction, clustered)
			require.NoError(t, err, name)
			after := payloads(t, r) // every record still verifies
			diff, total := changed(before, after)
			var mutable int64
			for _, ty := range info.All() {
				mutable += int64(len(before[ty]) - info.PayloadHeaderSize)
				require.Equal(t, before[ty][:info.PayloadHeaderSize], after[ty][:info.PayloadHeaderSize], "%s: payload header kept", name)
				_, err := info.DecodeTable(ty, after[ty])
				require.NoError(t, err, name)
			}
			want := min(int64(fraction*float64(total)+0.5), mutable)
			require.Equal(t, want, n, name)
			require.Equal(t, n, diff, name)
			if fraction == 0.01 {
				runs := countRuns(before, after)
				if clustered {
					require.Less(t, runs, n/100, "%s: %d runs for %d bytes", name, runs, n)
				} else {
					require.Greater(t, runs, n*9/10, "%s: %d runs for %d bytes", name, runs, n)
				}
			}
		}
	}
	r, _ := newRegion(t, 256<<10)
	g := New(3)
	for _, bad := range []float64{-0.1, 1.5} {
		_, err := g.Mutate(r, bad, true)
		require.ErrorContains(t, err, "not in [0, 1]")
	}
}

func TestMutateDeterministic(t *testing.T) {
	run := func() map[info.Type][]byte {
		r, _ := newRegion(t, 256<<10)
		g := New(8)
		require.NoError(t, g.Populate(r))
		_, err := g.Mutate(r, 0.02, true)
		require.NoError(t, err)
		_, err = g.Mutate(r, 0.02, false)
		require.NoError(t, err)
		return payloads(t, r)
	}
	require.Equal(t, run(), run())
}

func TestGeneratorOnNAND(t *testing.T) {
	r, _ := regionOn(t, newChip(t, "mt29f2g01", 4<<20)) // NAND: 128 KiB erase, 2 KiB pages
	g := New(4)
	require.NoError(t, g.Populate(r))
	require.NoError(t, g.Step(r, TypicalInterval))
	_, err := g.Mutate(r, 0.01, true)
	require.NoError(t, err)
	payloads(t, r)
}

// TestStepFlashCost pins what one typical interval costs the primary chip
// on the standard 8 MiB region: the Step reads each record once, and
// appends go into erased space, so only each changed record's first block
// (its header) is erased, and its change table's block.
func TestStepFlashCost(t *testing.T) {
	if testing.Short() {
		t.Skip("8 MiB region")
	}
	r, f := newRegion(t, 8<<20)
	g := New(1)
	require.NoError(t, g.Populate(r))
	before := stats(t, f)
	require.NoError(t, g.Step(r, TypicalInterval))
	d := stats(t, f).Sub(before)
	t.Logf("one %v step on 8 MiB: %+v", TypicalInterval, d)
	require.LessOrEqual(t, d.Erases, int64(12), "at most two erases per type (its header block and its change table)")
	require.Less(t, d.BytesRead, int64(8<<20)+int64(1<<20), "about one read of the region")
	require.Less(t, d.BytesProgrammed, int64(8<<20)/50)
}

func BenchmarkGeneratorStep8MiB(b *testing.B) {
	r, _ := newRegion(b, 8<<20)
	g := New(1)
	require.NoError(b, g.Populate(r))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		require.NoError(b, g.Step(r, TypicalInterval))
	}
}

func BenchmarkMutate8MiB(b *testing.B) {
	for _, clustered := range []bool{true, false} {
		b.Run(fmt.Sprintf("clustered=%v", clustered), func(b *testing.B) {
			r, _ := newRegion(b, 8<<20)
			g := New(1)
			require.NoError(b, g.Populate(r))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, err := g.Mutate(r, 0.01, clustered)
				require.NoError(b, err)
			}
		})
	}
}

// TestPopulateDescribes: every populated payload is a well-formed table
// with its ring sized for the extent, 80% full, updated at Now.
func TestPopulateDescribes(t *testing.T) {
	r, _ := newRegion(t, 256<<10)
	g := New(2)
	require.NoError(t, g.Populate(r))
	for ty, p := range payloads(t, r) {
		d, err := info.DescribePayload(ty, p)
		require.NoError(t, err)
		require.Equal(t, g.Now(), d.Updated)
		if d.EntrySize > 0 {
			require.Equal(t, int(info.RingSlots(ty, r.Capacity(ty))), d.Slots)
			require.Equal(t, int(float64(d.Slots)*populateFill), d.Entries)
		}
	}
}
