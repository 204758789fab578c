package engine

import (
	"bytes"
	"context"
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// backupDiffers returns the types whose backup copy differs from what the
// primary's region holds (the wrong state the tests below must detect).
func backupDiffers(t *testing.T, p *pair, primary, backup hal.Flash) []info.Type {
	t.Helper()
	s, err := store.Open(backup, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	r := p.region(t, primary)
	var out []info.Type
	for _, ty := range info.All() {
		rec, err := r.Read(ty)
		require.NoError(t, err)
		got, err := s.ReadPayload(uint8(ty))
		require.NoError(t, err)
		if !bytes.Equal(rec.Payload, got) {
			out = append(out, ty)
		}
	}
	return out
}

// forgeSameChecks changes b (in place) at byte at and at some of the 16
// bytes from at+64 so that both CRCs of info.BlockCheck stay the same: a
// change the change table and the record's CRC cannot see.
func forgeSameChecks(t *testing.T, b []byte, at int) {
	t.Helper()
	require.NoError(t, faults.ForgeSameCheck(b, at, info.BlockCheck))
}

// The change table is not trusted blindly: a chunk of the primary
// changed behind the table's back (and behind the record's CRC) is not
// seen by a round, which reads the chunks the table names; the scrub,
// which compares the primary's chunks with their committed digests,
// finds it, reports a change-table fault, and the next round syncs it.
func TestScrubCatchesAChangeTheTableMissed(t *testing.T) {
	ctx := context.Background()
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	e := p.open(t)
	_, err := e.Round(ctx)
	require.NoError(t, err)
	require.Empty(t, backupDiffers(t, p, p.chipA, p.chipB))

	// Forge event-log chunk 3 (a whole erase block of the extent).
	r := p.region(t, p.chipA)
	off, _ := r.Extent(info.EventLog)
	eb := p.chipA.Geometry().EraseSize
	blk := make([]byte, eb)
	_, err = p.chipA.ReadAt(blk, off+3*eb)
	require.NoError(t, err)
	forgeSameChecks(t, blk, 100)
	p.chipA.Poke(off+3*eb, blk)
	_, err = r.Read(info.EventLog)
	require.NoError(t, err, "the record still reads intact")

	// A round alone does not see it: the check below fails on this state.
	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeNothingChanged, rep.Outcome)
	require.Empty(t, rep.ReadWhole)
	require.Equal(t, []info.Type{info.EventLog}, backupDiffers(t, p, p.chipA, p.chipB), "the round missed the change")

	// The scrub finds it.
	var faults []TableFault
	for {
		prog, err := e.ScrubStep(ctx)
		require.NoError(t, err)
		if prog.TableFault != nil {
			faults = append(faults, *prog.TableFault)
		}
		if prog.PassDone {
			break
		}
	}
	require.Len(t, faults, 1)
	require.Equal(t, info.EventLog, faults[0].Type)
	require.Equal(t, 3, faults[0].Index)
	require.Equal(t, int64(1), e.Status().Counters.ChangeTableFaults)
	require.True(t, slices.ContainsFunc(e.Events(), func(ev Event) bool { return ev.Kind == EventChangeTable }))

	// The next round re-reads the chunk and syncs it.
	rep, err = e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Equal(t, 1, rep.ChangedChunks)
	require.Empty(t, backupDiffers(t, p, p.chipA, p.chipB))

	// A second pass finds nothing more.
	for {
		prog, err := e.ScrubStep(ctx)
		require.NoError(t, err)
		require.Nil(t, prog.TableFault)
		if prog.PassDone {
			break
		}
	}
}

// A writer that keeps no table (or stopped between its record and its
// table) leaves entries that still match the committed chunks: the round
// sees the record's CRC disagree with the combined checks and reads the
// record whole. The NoCRCCheck mutant, which skips that comparison,
// commits a payload the primary never held: the check fails on it.
func TestStaleTableFallsBackToAWholeRead(t *testing.T) {
	for _, mutant := range []Mutant{None, NoCRCCheck} {
		t.Run(mutant.String(), func(t *testing.T) {
			ctx := context.Background()
			p := newPair(t, 8<<20, 1<<20, DefaultConfig())
			e := p.open(t)
			_, err := e.Round(ctx)
			require.NoError(t, err)
			r := p.region(t, p.chipA)
			toff, entries, ok := r.ChangeTable(info.FaultLog)
			require.True(t, ok)
			old := make([]byte, entries*info.ChangeEntrySize)
			_, err = p.chipA.ReadAt(old, toff)
			require.NoError(t, err)
			require.NoError(t, p.cmc.Step(r, cmcsim.TypicalInterval))
			rec, err := r.Read(info.FaultLog)
			require.NoError(t, err)
			rec.Payload[len(rec.Payload)/2] ^= 0xFF // a change in a middle chunk
			require.NoError(t, r.Write(info.FaultLog, rec.Payload))
			p.chipA.Poke(toff, old) // the table as before the writes

			p.opts.Mutant = mutant
			e = p.open(t)
			rep, err := e.Round(ctx)
			require.NoError(t, err)
			require.Equal(t, OutcomeCommitted, rep.Outcome)
			if mutant == None {
				require.Equal(t, []info.Type{info.FaultLog}, []info.Type(rep.ReadWhole))
				require.Empty(t, backupDiffers(t, p, p.chipA, p.chipB))
				require.Equal(t, int64(1), e.Status().Counters.TableFallbacks)
				return
			}
			require.Contains(t, backupDiffers(t, p, p.chipA, p.chipB), info.FaultLog, "the mutant commits a mix of two payloads")
		})
	}
}

// A region of the earlier version (no change tables) is read whole, as
// before, and never upgraded.
func TestPlainRegionIsReadWhole(t *testing.T) {
	ctx := context.Background()
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	makePlain(t, p)
	e := p.open(t)
	for range 2 {
		rep, err := e.Round(ctx)
		require.NoError(t, err)
		require.Len(t, rep.ReadWhole, info.NumTypes)
		require.Empty(t, backupDiffers(t, p, p.chipA, p.chipB))
		require.NoError(t, p.cmc.Step(p.region(t, p.chipA), cmcsim.TypicalInterval))
	}
	require.Equal(t, uint16(info.RegionVersionPlain), p.region(t, p.chipA).Header().Version)
	require.Zero(t, e.Status().Counters.TableFallbacks)
}

// makePlain rewrites the header of p's primary region as the earlier
// region version's: no change tables.
func makePlain(t *testing.T, p *pair) {
	t.Helper()
	h := p.region(t, p.chipA).Header()
	h.Version = info.RegionVersionPlain
	for i := range h.Extents {
		h.Extents[i].Table = 0
	}
	hb := make([]byte, p.chipA.Geometry().EraseSize)
	for i := range hb {
		hb[i] = 0xFF
	}
	copy(hb, h.Encode())
	p.chipA.Poke(p.opts.Layout.InfoOff, hb)
}

// The engine's own heap during a round on a 32 MiB region, the simulated
// chips' storage excluded: what the round allocates (an upper bound: it
// includes the simulator's storage for blocks first written in the round,
// which sim allocates on first write) and how much the heap kept grows
// across it. Target: at most 32 MiB each.
func TestRoundHeapOn32MiBRegion(t *testing.T) {
	if testing.Short() {
		t.Skip("two 128 MiB simulated chips; skipped under -short")
	}
	ctx := context.Background()
	p := newPair(t, 128<<20, 32<<20, DefaultConfig())
	e := p.open(t)
	first, err := e.Round(ctx)
	require.NoError(t, err)
	require.NoError(t, p.cmc.Step(p.region(t, p.chipA), cmcsim.TypicalInterval))
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC() // and the buffer pool's victim cache
	runtime.ReadMemStats(&ms)
	before, allocBefore := ms.HeapAlloc, ms.TotalAlloc
	rep, err := e.Round(ctx)
	require.NoError(t, err)
	runtime.ReadMemStats(&ms)
	during := ms.TotalAlloc - allocBefore
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	kept := int64(ms.HeapAlloc) - int64(before)
	t.Logf("32 MiB region: first round read %d bytes; next round %s, %d chunks written, %d bytes read: %.2f MiB allocated during the round, heap kept after it %+.2f MiB",
		first.BytesRead, rep.Outcome, rep.ChangedChunks, rep.BytesRead, float64(during)/(1<<20), float64(kept)/(1<<20))
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Empty(t, rep.ReadWhole)
	require.LessOrEqual(t, during, uint64(32<<20), "allocated during the round")
	require.LessOrEqual(t, kept, int64(32<<20), "kept by the engine after the round")
	runtime.KeepAlive(e)
}

// TestScrubReportsAChangeTheTableMissed: ScrubPrimary (what the CLI's sync
// runs after Open) compares the primary's unchanged chunks with their
// committed digests in one pass: a chunk changed behind the change table's
// back is reported (its result, the counter and an event) and the next
// round syncs it. Without the scrub the round misses it (checked first).
func TestScrubReportsAChangeTheTableMissed(t *testing.T) {
	ctx := context.Background()
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	e := p.open(t)
	_, err := e.Round(ctx)
	require.NoError(t, err)
	faults, err := e.ScrubPrimary(ctx)
	require.NoError(t, err)
	require.Empty(t, faults, "an honest table has no faults")

	r := p.region(t, p.chipA)
	off, _ := r.Extent(info.FaultLog)
	eb := p.chipA.Geometry().EraseSize
	blk := make([]byte, eb)
	_, err = p.chipA.ReadAt(blk, off+2*eb)
	require.NoError(t, err)
	forgeSameChecks(t, blk, 300)
	p.chipA.Poke(off+2*eb, blk)

	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeNothingChanged, rep.Outcome)
	require.Equal(t, []info.Type{info.FaultLog}, backupDiffers(t, p, p.chipA, p.chipB), "without the scrub the round misses the change")

	faults, err = e.ScrubPrimary(ctx)
	require.NoError(t, err)
	require.Equal(t, []TableFault{{Type: info.FaultLog, Index: 2, Generation: rep.Generation}}, faults)
	require.Equal(t, int64(1), e.Status().Counters.ChangeTableFaults)
	require.True(t, slices.ContainsFunc(e.Events(), func(ev Event) bool { return ev.Kind == EventChangeTable }))

	rep, err = e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Empty(t, backupDiffers(t, p, p.chipA, p.chipB))
	faults, err = e.ScrubPrimary(ctx)
	require.NoError(t, err)
	require.Empty(t, faults)
}
