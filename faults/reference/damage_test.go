package reference_test

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sim"
)

// journalFixture is a backup store whose journal spans several blocks: a
// first sync, three more rounds each after a restart (so each starts a
// block: intent, intent-chunks, commit), and a staged configuration last.
type journalFixture struct {
	pair *pair
	base *sim.Snapshot // chip 1 (the backup) as produced
	ref  *reference.Backup
}

func newJournalFixture(t *testing.T) *journalFixture {
	t.Helper()
	p := newPair(t, 11)
	for range 4 {
		p.round(10 * time.Minute)
		p.open()
	}
	p.setInterval(time.Minute)
	f := &journalFixture{pair: p, base: p.chips[1].Snapshot()}
	f.ref = requireAgree(t, p.chips[1], p.layout, "fixture")
	require.Equal(t, uint64(4), f.ref.Committed.Generation)
	require.NotNil(t, f.ref.Staged)
	return f
}

// record returns the fixture journal's record of sequence number seq.
func (f *journalFixture) record(t *testing.T, seq uint64) reference.Record {
	t.Helper()
	for _, r := range f.ref.Journal {
		if r.Seq == seq {
			return r
		}
	}
	require.Failf(t, "no record", "seq %d", seq)
	return reference.Record{}
}

// flip inverts one bit of the byte at off.
func flip(chip *sim.Flash, off int64) {
	b := make([]byte, 1)
	_, _ = chip.ReadAt(b, off)
	chip.Poke(off, []byte{b[0] ^ 0x10})
}

// rewrite edits the record at off — its 24-byte header and its body — and
// recomputes both CRC-32C fields (docs/FORMAT.md, 4.2), so the record
// stays valid: damage a CRC cannot see.
func rewrite(t *testing.T, chip *sim.Flash, off int64, edit func(header, body []byte)) {
	t.Helper()
	head := make([]byte, 24)
	_, err := chip.ReadAt(head, off)
	require.NoError(t, err)
	n := int(binary.LittleEndian.Uint32(head[8:12]))
	rec := make([]byte, 24+n+4)
	_, err = chip.ReadAt(rec, off)
	require.NoError(t, err)
	edit(rec[:24], rec[24:24+n])
	crc := func(p []byte) uint32 { return crc32.Checksum(p, crc32.MakeTable(crc32.Castagnoli)) }
	binary.LittleEndian.PutUint32(rec[20:24], crc(rec[:20]))
	binary.LittleEndian.PutUint32(rec[24+n:], crc(rec[:24+n]))
	chip.Poke(off, rec)
}

func setSeq(seq uint64) func(h, _ []byte) {
	return func(h, _ []byte) { binary.LittleEndian.PutUint64(h[12:20], seq) }
}

// TestDamageFindings damages the fixture's journal in the ways
// docs/FORMAT.md calls damage (and in the ways power loss leaves it) and
// requires the matching finding, at the damaged record, with the state the
// document prescribes: the one before the damage. The store's own reader is
// run on the same image: both must agree on the state and on the damage.
func TestDamageFindings(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine")
	}
	f := newJournalFixture(t)
	chip := f.pair.chips[1]
	// The journal (see newJournalFixture): seq 11 intent at the start of a
	// block, 12 intent-chunks and 13 commit in the same block, 14..16 the
	// next round in the next block, 17 config-staged alone in the last.
	tests := []struct {
		name    string
		damage  func(t *testing.T)
		kind    reference.FindingKind
		at      uint64 // the record the finding names
		gen     uint64 // the committed generation after the damage
		pending bool   // an intent is pending after the damage
		staged  bool
	}{
		{name: "bit flip mid-block", damage: func(t *testing.T) { flip(chip, f.record(t, 12).Off+40) },
			kind: reference.RecordDamaged, at: 12, gen: 2, pending: true},
		{name: "header erased mid-block", damage: func(t *testing.T) { chip.Poke(f.record(t, 12).Off, ff(24)) },
			kind: reference.RecordDamaged, at: 12, gen: 2, pending: true},
		{name: "bit flip in a block's first record", damage: func(t *testing.T) { flip(chip, f.record(t, 11).Off+30) },
			kind: reference.RecordsLost, at: 12, gen: 2},
		{name: "gap mid-block", damage: func(t *testing.T) { rewrite(t, chip, f.record(t, 12).Off, setSeq(13)) },
			kind: reference.SequenceGap, at: 13, gen: 2, pending: true},
		{name: "gap at a block's start", damage: func(t *testing.T) { rewrite(t, chip, f.record(t, 11).Off, setSeq(12)) },
			kind: reference.SequenceGap, at: 12, gen: 2},
		{name: "sequence backwards", damage: func(t *testing.T) { rewrite(t, chip, f.record(t, 13).Off, setSeq(11)) },
			kind: reference.SequenceBackwards, at: 11, gen: 2, pending: true},
		{name: "commit of another intent", damage: func(t *testing.T) {
			rewrite(t, chip, f.record(t, 13).Off, func(_, b []byte) { binary.LittleEndian.PutUint64(b[0:8], 8) })
		}, kind: reference.PreconditionBroken, at: 13, gen: 2, pending: true},
		{name: "intent names a committed block", damage: func(t *testing.T) {
			blk := f.ref.CommittedBlocks()[0]
			rewrite(t, chip, f.record(t, 12).Off, func(_, b []byte) { binary.LittleEndian.PutUint32(b[10+5:], blk) })
		}, kind: reference.PreconditionBroken, at: 12, gen: 2, pending: true},
		{name: "payload digest of another payload", damage: func(t *testing.T) {
			rewrite(t, chip, f.record(t, 11).Off, func(_, b []byte) { b[len(b)-10] ^= 1 })
		}, kind: reference.PreconditionBroken, at: 13, gen: 2, pending: true},
		{name: "reserved header bytes", damage: func(t *testing.T) {
			rewrite(t, chip, f.record(t, 15).Off, func(h, _ []byte) { h[5] = 1 })
		}, kind: reference.BodyMalformed, at: 15, gen: 3, pending: true},
		{name: "undefined config flag", damage: func(t *testing.T) {
			rewrite(t, chip, f.record(t, 17).Off, func(_, b []byte) { b[len(b)-3] |= 0x80 })
		}, kind: reference.BodyMalformed, at: 17, gen: 4},
		{name: "config naming a type twice", damage: func(t *testing.T) {
			rewrite(t, chip, f.record(t, 17).Off, func(_, b []byte) { b[2] = b[1] })
		}, kind: reference.BodyMalformed, at: 17, gen: 4},
		{name: "torn last record", damage: func(t *testing.T) { flip(chip, f.record(t, 17).Off+30) },
			kind: reference.TornTail, at: 17, gen: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chip.Restore(f.base)
			tt.damage(t)
			ref := requireAgree(t, chip, f.pair.layout, tt.name)
			require.Equal(t, tt.gen, ref.Committed.Generation, "findings %v", ref.Findings)
			require.Equal(t, tt.pending, ref.Pending != nil)
			require.Equal(t, tt.staged, ref.Staged != nil)
			require.Len(t, ref.Findings, 1, "findings %v", ref.Findings)
			got := ref.Findings[0]
			require.Equal(t, tt.kind, got.Kind, "%v", got)
			require.Equal(t, tt.at, got.Seq, "%v", got)
			require.Equal(t, tt.kind != reference.TornTail, ref.Damaged())
		})
	}
}

func ff(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = 0xFF
	}
	return p
}

// TestStaleRoundAfterLostRecords: a bit flip in the first record of a
// journal block hides the records after it. Both readers report the lost
// records (docs/FORMAT.md 4.6: a valid record of a sequence number at
// least the expected one after the journal's end). The engine's writer
// then compacts into the other area with sequence numbers above the lost
// ones, and erases every data block before programming it (the lost
// rounds may have used them): after its round, neither reader runs into
// the lost rounds' records, no committed chunk fails its digest, and the
// store is clean again.
func TestStaleRoundAfterLostRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine")
	}
	f := newJournalFixture(t)
	chip, l := f.pair.chips[1], f.pair.layout
	flip(chip, f.record(t, 11).Off+30)
	ref, err := reference.Decode(chip, l.StoreOff, l.StoreSize)
	require.NoError(t, err)
	require.Equal(t, reference.RecordsLost, ref.Findings[0].Kind)

	requireAgree(t, chip, l, "lost records")
	lost := f.lastSeq()

	f.pair.open()
	f.pair.round(time.Minute)
	ref = requireAgree(t, chip, l, "the round after")
	bad, err := ref.VerifyChunks(chip)
	require.NoError(t, err)
	require.Empty(t, bad, "findings %v", ref.Findings)
	require.False(t, ref.Damaged(), "findings %v", ref.Findings)
	require.Equal(t, 1, ref.Area, "compacted into the other area")
	require.Greater(t, ref.Journal[0].Seq, lost, "above the lost records' sequence numbers")
	require.Equal(t, uint64(3), ref.Committed.Generation)
}

// lastSeq returns the sequence number of the fixture journal's last record.
func (f *journalFixture) lastSeq() uint64 { return f.ref.Journal[len(f.ref.Journal)-1].Seq }
