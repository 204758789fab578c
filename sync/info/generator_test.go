package info

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/stretchr/testify/require"
)

// newRegion formats and opens a region of size bytes at offset 0 of a fresh
// simulated NOR chip.
func newRegion(t testing.TB, size int64) (*Region, hal.Flash) {
	t.Helper()
	f := newNOR(t, size)
	require.NoError(t, FormatRegion(f, 0, size))
	r, err := OpenRegion(f, 0, size)
	require.NoError(t, err)
	return r, f
}

// payloads reads every type's payload.
func payloads(t testing.TB, r *Region) map[Type][]byte {
	t.Helper()
	out := map[Type][]byte{}
	for _, ty := range All() {
		rec, err := r.Read(ty)
		require.NoError(t, err, ty)
		out[ty] = rec.Payload
	}
	return out
}

// changed counts the payload bytes that differ (bytes past the shorter
// payload count as changed) and the total payload bytes before.
func changed(before, after map[Type][]byte) (diff, total int64) {
	for _, ty := range All() {
		a, b := before[ty], after[ty]
		total += int64(len(a))
		for i := 0; i < max(len(a), len(b)); i++ {
			if i >= len(a) || i >= len(b) || a[i] != b[i] {
				diff++
			}
		}
	}
	return diff, total
}

func TestGeneratorDeterministicBySeed(t *testing.T) {
	run := func(seed uint64) []byte {
		r, f := newRegion(t, 256<<10)
		g := NewGenerator(seed)
		require.NoError(t, g.Populate(r))
		for i := 0; i < 3; i++ {
			require.NoError(t, g.Step(r, 7*time.Minute))
		}
		require.Equal(t, GeneratorEpoch.Add(21*time.Minute), g.Now())
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
				g := NewGenerator(seed)
				require.NoError(t, g.Populate(r))
				for _, ty := range []Type{EventLog, FaultLog, Power, Fan, Node} {
					tb, err := decodeTable(ty, payloads(t, r)[ty])
					require.NoError(t, err)
					require.InDelta(t, populateFill, float64(tb.count)/float64(tb.slots), 0.001, "%v ring fill", ty)
					require.Equal(t, slotsFor(ty, r.Capacity(ty)), tb.slots)
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
	g := NewGenerator(5)
	require.NoError(t, g.Step(r, 0), "nothing to do")
	// Step works on a freshly formatted (default) region: it sizes the rings.
	before := payloads(t, r)
	require.NoError(t, g.Step(r, time.Hour))
	after := payloads(t, r)
	require.Equal(t, before[Asset], after[Asset], "assets change rarely")
	for _, ty := range []Type{Power, Fan, EventLog, FaultLog} {
		require.NotEqual(t, before[ty], after[ty], ty)
	}
	sel, err := decodeTable(EventLog, after[EventLog])
	require.NoError(t, err)
	require.Equal(t, slotsFor(EventLog, r.Capacity(EventLog)), sel.slots)
	require.Positive(t, sel.count)
	// SEL entries: record IDs count up from 1, type 0x02, EvM rev 0x04, time in the hour.
	for i := 0; i < int(sel.count); i++ {
		e := sel.ring[i*SELEntrySize:][:SELEntrySize]
		require.Equal(t, uint16(i+1), binary.LittleEndian.Uint16(e), "record ID")
		require.Equal(t, byte(0x02), e[2])
		require.Equal(t, byte(0x04), e[9])
		ts := time.Unix(int64(binary.LittleEndian.Uint32(e[3:])), 0)
		require.True(t, ts.After(GeneratorEpoch) && !ts.After(GeneratorEpoch.Add(time.Hour)), ts)
	}
	// Long activity fills and wraps the rings; every payload stays well-formed.
	require.NoError(t, g.Step(r, 14*24*time.Hour))
	for _, ty := range All() {
		p := payloads(t, r)[ty]
		tb, err := decodeTable(ty, p)
		require.NoError(t, err, ty)
		if tb.entrySize > 0 {
			require.Equal(t, tb.slots, tb.count, "%v ring full", ty)
		}
	}
	sel, err = decodeTable(EventLog, payloads(t, r)[EventLog])
	require.NoError(t, err)
	require.Equal(t, byte(1), sel.fixed[1], "SEL overflow flag")
	newest := sel.newest()
	require.Equal(t, binary.LittleEndian.Uint16(sel.fixed[2:])-1, binary.LittleEndian.Uint16(newest), "newest entry has the last record ID")
	// Asset information changes over a year.
	before = payloads(t, r)
	require.NoError(t, g.Step(r, 365*24*time.Hour))
	require.NotEqual(t, before[Asset], payloads(t, r)[Asset])
	tb, err := decodeTable(Asset, payloads(t, r)[Asset])
	require.NoError(t, err)
	for i := 0; i < numFRUs; i++ {
		checkFRU(t, tb.fixed[i*fruSize:(i+1)*fruSize])
	}
}

func TestGeneratorStepOnCorruptRegion(t *testing.T) {
	r, f := newRegion(t, 256<<10)
	g := NewGenerator(1)
	require.NoError(t, g.Populate(r))
	off, _ := r.Extent(FaultLog)
	b := make([]byte, 2)
	_, err := f.ReadAt(b, off+RecordHeaderSize+100)
	require.NoError(t, err)
	f.(interface{ Poke(int64, []byte) }).Poke(off+RecordHeaderSize+100, []byte{^b[0], ^b[1]})
	err = g.Step(r, time.Minute)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "fault-log record")
	// A payload that is not a table is refused with the type named.
	require.NoError(t, r.Write(Node, []byte("not a table")))
	err = g.Step(r, time.Minute)
	require.ErrorContains(t, err, "node record: malformed payload")
}

func TestTableResize(t *testing.T) {
	tb := newTable(EventLog, 4)
	for i := 1; i <= 6; i++ { // wraps: slots hold 5, 6, 3, 4
		tb.add(bytes.Repeat([]byte{byte(i)}, SELEntrySize))
	}
	require.Equal(t, uint32(4), tb.count)
	require.Equal(t, uint32(2), tb.next)
	require.Equal(t, byte(6), tb.newest()[0])
	order := func(x *table) []byte {
		var out []byte
		for i := 0; i < int(x.count); i++ {
			out = append(out, x.ring[i*SELEntrySize])
		}
		return out
	}
	require.Equal(t, []byte{5, 6, 3, 4}, order(tb))
	grown := tb.resized(6)
	require.Equal(t, []byte{3, 4, 5, 6}, order(grown), "oldest first after growing")
	require.Equal(t, uint32(4), grown.next)
	grown.add(bytes.Repeat([]byte{7}, SELEntrySize))
	require.Equal(t, []byte{3, 4, 5, 6, 7}, order(grown))
	shrunk := tb.resized(2)
	require.Equal(t, []byte{5, 6}, order(shrunk), "the newest entries survive")
	require.Equal(t, uint32(0), shrunk.next)
	_, err := decodeTable(EventLog, shrunk.encode())
	require.NoError(t, err)
	require.Same(t, tb, tb.resized(4))
}

func TestMutate(t *testing.T) {
	for _, clustered := range []bool{true, false} {
		for _, fraction := range []float64{0, 0.0001, 0.01, 0.1, 1} {
			name := fmt.Sprintf("clustered=%v/fraction=%v", clustered, fraction)
			r, _ := newRegion(t, 256<<10)
			g := NewGenerator(3)
			require.NoError(t, g.Populate(r))
			before := payloads(t, r)
			n, err := g.Mutate(r, fraction, clustered)
			require.NoError(t, err, name)
			after := payloads(t, r) // every record still verifies
			diff, total := changed(before, after)
			var mutable int64
			for _, ty := range All() {
				mutable += int64(len(before[ty]) - PayloadHeaderSize)
				require.Equal(t, before[ty][:PayloadHeaderSize], after[ty][:PayloadHeaderSize], "%s: payload header kept", name)
				_, err := decodeTable(ty, after[ty])
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
	g := NewGenerator(3)
	for _, bad := range []float64{-0.1, 1.5} {
		_, err := g.Mutate(r, bad, true)
		require.ErrorContains(t, err, "not in [0, 1]")
	}
}

func TestMutateDeterministic(t *testing.T) {
	run := func() map[Type][]byte {
		r, _ := newRegion(t, 256<<10)
		g := NewGenerator(8)
		require.NoError(t, g.Populate(r))
		_, err := g.Mutate(r, 0.02, true)
		require.NoError(t, err)
		_, err = g.Mutate(r, 0.02, false)
		require.NoError(t, err)
		return payloads(t, r)
	}
	require.Equal(t, run(), run())
}

// countRuns counts maximal runs of changed bytes.
func countRuns(before, after map[Type][]byte) int64 {
	var runs int64
	for _, ty := range All() {
		a, b := before[ty], after[ty]
		in := false
		for i := range a {
			d := a[i] != b[i]
			if d && !in {
				runs++
			}
			in = d
		}
	}
	return runs
}

func TestGeneratorOnNAND(t *testing.T) {
	f := newNAND(t, 4<<20)
	require.NoError(t, FormatRegion(f, 0, 4<<20))
	r, err := OpenRegion(f, 0, 4<<20)
	require.NoError(t, err)
	g := NewGenerator(4)
	require.NoError(t, g.Populate(r))
	require.NoError(t, g.Step(r, TypicalInterval))
	_, err = g.Mutate(r, 0.01, true)
	require.NoError(t, err)
	payloads(t, r)
}

// TestStepFlashCost pins what one typical interval costs the primary chip
// on the standard 8 MiB region: the Step reads each record once, and
// appends go into erased space, so only each changed record's first block
// (its header) is erased.
func TestStepFlashCost(t *testing.T) {
	if testing.Short() {
		t.Skip("8 MiB region")
	}
	r, f := newRegion(t, 8<<20)
	g := NewGenerator(1)
	require.NoError(t, g.Populate(r))
	before := stats(t, f)
	require.NoError(t, g.Step(r, TypicalInterval))
	d := stats(t, f).Sub(before)
	t.Logf("one %v step on 8 MiB: %+v", TypicalInterval, d)
	require.LessOrEqual(t, d.Erases, int64(6), "at most one erase per type (its header block)")
	require.Less(t, d.BytesRead, int64(8<<20)+int64(1<<20), "about one read of the region")
	require.Less(t, d.BytesProgrammed, int64(8<<20)/50)
}

func BenchmarkGeneratorStep8MiB(b *testing.B) {
	r, _ := newRegion(b, 8<<20)
	g := NewGenerator(1)
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
			g := NewGenerator(1)
			require.NoError(b, g.Populate(r))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, err := g.Mutate(r, 0.01, clustered)
				require.NoError(b, err)
			}
		})
	}
}

func TestDescribePayload(t *testing.T) {
	r, _ := newRegion(t, 256<<10)
	for _, ty := range All() {
		d, err := DescribePayload(ty, Default(ty))
		require.NoError(t, err)
		fixed, entry := layoutOf(ty)
		require.Equal(t, PayloadInfo{Type: ty, FixedSize: fixed, EntrySize: entry, Updated: time.Unix(0, 0).UTC()}, d)
	}
	g := NewGenerator(2)
	require.NoError(t, g.Populate(r))
	for ty, p := range payloads(t, r) {
		d, err := DescribePayload(ty, p)
		require.NoError(t, err)
		require.Equal(t, g.Now(), d.Updated)
		if d.EntrySize > 0 {
			require.Equal(t, int(slotsFor(ty, r.Capacity(ty))), d.Slots)
			require.Equal(t, int(float64(d.Slots)*populateFill), d.Entries)
		}
	}
	_, err := DescribePayload(Power, Default(Fan))
	require.ErrorContains(t, err, "power payload: malformed payload: payload says type fan")
	_, err = DescribePayload(0, nil)
	require.ErrorContains(t, err, "unknown information type 0")
	_, err = DescribePayload(EventLog, Default(EventLog)[:30])
	require.ErrorContains(t, err, "30 bytes, header implies 40")
}
