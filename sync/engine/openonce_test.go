package engine

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/store"
)

// journalOf returns where chip f's journal areas start and how long each
// is, and the last valid record of the area in charge, from a read-only
// inspection of its store.
func journalOf(t testing.TB, f hal.Flash, l Layout) (areas [2]int64, areaLen int64, last store.RecordInfo) {
	t.Helper()
	r, err := store.Inspect(f, l.StoreOff, l.StoreSize, false)
	require.NoError(t, err)
	sb := r.Superblock
	for a := range areas {
		areas[a] = l.StoreOff + int64(sb.Journal[a])*sb.EraseSize
	}
	require.NotEmpty(t, r.Journal.Log)
	return areas, int64(sb.JournalBlocks) * sb.EraseSize, r.Journal.Log[len(r.Journal.Log)-1]
}

// journalScans counts, by chip, the reads in ops of a whole journal area:
// the store's journal scans (the store reads an area whole to scan it).
func journalScans(ops []faults.Op, areas [2][2]int64, areaLen int64) [2]int {
	var n [2]int
	for _, op := range ops {
		i := int(op.Role) - int(faults.Primary)
		if op.Kind == faults.Read && op.Len == areaLen && (op.Off == areas[i][0] || op.Off == areas[i][1]) {
			n[i]++
		}
	}
	return n
}

// TestOpenScansEachJournalOnce: Open reads each chip's identity from its
// superblocks and scans each chip's journal once, by the writable open
// after the identity check — also when a superblock copy of the backup is
// another pair's and the identity is read again by the copy its role
// expects.
func TestOpenScansEachJournalOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, p *pair)
	}{
		{"a synced pair", func(*testing.T, *pair) {}},
		{"after a round", func(t *testing.T, p *pair) {
			_, err := p.open(t).Round(context.Background())
			require.NoError(t, err)
		}},
		{"the backup's superblock copy 0 another pair's", func(t *testing.T, p *pair) {
			// Another pair, formatted an hour later (Format takes the
			// pair id from the clock).
			later := sim.NewClock(p.clock.Now().Add(time.Hour))
			var other [2]*sim.Flash
			for i := range other {
				f, err := sim.New(sim.Options{Part: p.chipA.Part(), Size: p.chipA.Geometry().Size, Clock: later})
				require.NoError(t, err)
				other[i] = f
			}
			opts := p.opts
			opts.Clock = later
			require.NoError(t, Format(other[0], other[1], opts))
			copyRange(t, other[1], p.chipB, p.opts.Layout.StoreOff, p.chipA.Geometry().EraseSize)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := syncedPairAfter(t, DefaultConfig(), 0)
			tc.damage(t, p)
			var areas [2][2]int64
			var areaLen int64
			for i, f := range []*sim.Flash{p.chipA, p.chipB} {
				areas[i], areaLen, _ = journalOf(t, f, p.opts.Layout)
			}
			ops := p.traceOpen(t, p.opts)
			require.Equal(t, [2]int{1, 1}, journalScans(ops, areas, areaLen), "journal scans of chip A and chip B")
		})
	}
}

// TestOpenWrongChipLeavesItsJournal: a backup re-imaged from a dump of the
// primary whose last journal record is torn or reads differently on each
// read (which a writable open would program again) is refused with
// ErrWrongChip before anything is written: both chips keep every byte.
func TestOpenWrongChipLeavesItsJournal(t *testing.T) {
	for _, tc := range []struct {
		name string
		last func(t *testing.T, f *sim.Flash, r store.RecordInfo)
	}{
		{"last record torn", func(t *testing.T, f *sim.Flash, r store.RecordInfo) {
			// A program cut halfway: the second half of the record reads
			// erased.
			f.Poke(r.Off+r.Size/2, bytes.Repeat([]byte{0xff}, int(r.Size-r.Size/2)))
		}},
		{"last record unstable", func(t *testing.T, f *sim.Flash, r store.RecordInfo) {
			f.SetUnstable(r.Off, r.Size)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := syncedPairAfter(t, DefaultConfig(), 0)
			copyRange(t, p.chipA, p.chipB, 0, p.chipA.Geometry().Size)
			_, _, last := journalOf(t, p.chipB, p.opts.Layout)
			tc.last(t, p.chipB, last)
			settled := func(f *sim.Flash) []byte {
				b := make([]byte, f.Geometry().Size)
				f.ReadSettled(b, 0)
				return b
			}
			imgA, imgB := settled(p.chipA), settled(p.chipB)
			before := pairStats(p)
			_, err := Open(context.Background(), p.chipA, p.chipB, p.opts)
			require.ErrorIs(t, err, ErrWrongChip)
			programs, erases := writeOps(p.chipA, p.chipB, before)
			require.Zero(t, programs+erases, "nothing written")
			require.True(t, bytes.Equal(imgA, settled(p.chipA)), "chip A unchanged")
			require.True(t, bytes.Equal(imgB, settled(p.chipB)), "chip B unchanged")
		})
	}
}

// TestOpenFadedLastRecordOneVerdict: the backup's last journal record
// fades just as Open starts ((fade backup LO HI) at operation 0: it reads
// right once, then differently). Open judges it once: the one scan reads
// it right and uses it, and the writable open's second read of it finds
// it marginal and programs it again, so it holds. The backup keeps the
// generation it had, its store reads the same from then on, and it is
// not rolled back or purged.
func TestOpenFadedLastRecordOneVerdict(t *testing.T) {
	p := syncedPairAfter(t, DefaultConfig(), 0)
	l := p.opts.Layout
	want, err := store.Inspect(p.chipB, l.StoreOff, l.StoreSize, false)
	require.NoError(t, err)
	_, _, last := journalOf(t, p.chipB, l)

	in, chipA, chipB := p.injector(t, false, nil, "(on (at 0) (fade backup %#x %#x))", last.Off, last.Off+last.Size)
	e, err := Open(context.Background(), chipA, chipB, p.opts)
	require.NoError(t, err)
	require.NoError(t, in.Err())
	require.Len(t, in.Fired(), 1, "the fade fired")
	require.NotNil(t, e.stores[1], "the backup's store is open")
	require.Equal(t, want.Generation, e.stores[1].StateRef().Generation, "the backup's generation as before the fade")
	require.Empty(t, e.Status().Damage, "no damage: the record was read right and programmed again")

	// Read through the injector (which keeps the fade's state), the
	// record now reads as written, every time.
	settled := make([]byte, last.Size)
	p.chipB.ReadSettled(settled, last.Off)
	for range 4 {
		require.Equal(t, settled, readRange(t, chipB, last.Off, last.Size), "the record holds")
	}
	got, err := store.Inspect(chipB, l.StoreOff, l.StoreSize, false)
	require.NoError(t, err)
	require.Equal(t, want.Generation, got.Generation)
	require.Equal(t, want.Journal.Records, got.Journal.Records)
	require.False(t, got.Journal.Torn)
}
