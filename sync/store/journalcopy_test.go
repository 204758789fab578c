package store

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
)

// nandStore is a store on a simulated NAND chip (128 KiB erase blocks,
// 2 KiB pages: a slot is a page).
type nandStore struct {
	f         *sim.Flash
	off, size int64
	e         int64
}

func newNANDStore(t *testing.T) *nandStore {
	t.Helper()
	f := simtest.Chip(t, "mt29f2g01", sim.Options{Size: 32 << 20, Name: "nand"})
	ns := &nandStore{f: f, off: 1 << 20, size: 30 << 20, e: f.Geometry().EraseSize}
	require.Equal(t, hal.NAND, f.Geometry().Kind)
	require.NoError(t, Format(f, ns.off, ns.size, FormatOptions{
		ChipID: 1, PairID: 42, Time: time.Unix(1000, 0), MaxChunks: 16,
		Config: Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second},
	}))
	return ns
}

func (ns *nandStore) open(t *testing.T, f hal.Flash, o Options) *Store {
	t.Helper()
	s, err := Open(f, ns.off, ns.size, o)
	require.NoError(t, err)
	return s
}

// round syncs ps as generation gen, chunks cut at the NAND erase size.
func (ns *nandStore) round(t *testing.T, s *Store, gen uint64, ps payloads) {
	t.Helper()
	p := Plan{Generation: gen, Config: Config{Types: []uint8{1, 2}, Interval: time.Minute}}
	for _, typ := range []uint8{1, 2} {
		b := ps[typ]
		ds, _ := DigestPayload(b, testPhase, ns.e)
		checks := make([]uint64, len(ds))
		for i := range checks {
			lo, hi := ChunkBounds(int64(len(b)), testPhase, ns.e, i)
			checks[i] = ChunkCheck(b[lo:hi])
		}
		p.Types = append(p.Types, TypePlan{Type: typ, Phase: testPhase, Size: int64(len(b)), Seq: gen, Chunks: ds, Checks: checks})
	}
	r, err := s.Begin(p)
	require.NoError(t, err)
	for i, w := range r.Writes() {
		b := ps[w.Type]
		lo, hi := ChunkBounds(int64(len(b)), testPhase, ns.e, w.Index)
		_, _, err := r.Write(i, b[lo:hi])
		require.NoError(t, err)
	}
	require.NoError(t, r.Commit(State{Generation: gen, Time: time.Unix(int64(gen), 0), Config: p.Config}))
}

// check requires s to hold generation gen with payloads ps, no damage
// finding, and faults/reference to decode the same generation and
// payloads from the chip without damage.
func (ns *nandStore) check(t *testing.T, s *Store, gen uint64, ps payloads) {
	t.Helper()
	require.Empty(t, s.Damage(), "findings %v", s.Findings())
	require.Nil(t, s.Interrupted())
	require.Equal(t, gen, s.State().Generation)
	for typ, want := range ps {
		got, err := s.ReadPayload(typ)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "type %d payload differs", typ)
	}
	b, err := reference.Decode(ns.f, ns.off, ns.size)
	require.NoError(t, err)
	for _, fd := range b.Findings {
		require.False(t, fd.Damage(), "reference finds damage: %v", fd)
	}
	require.Nil(t, b.Pending)
	require.Equal(t, gen, b.Committed.Generation)
	for typ, want := range ps {
		got, err := b.Payload(ns.f, typ)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "reference: type %d payload differs", typ)
	}
}

// TestNANDJournalCopyLeftValid: on NAND, journal records whose read-back
// fails are written again at the start of the next block with the same
// sequence numbers, and the copy left behind cannot be programmed to
// zeros: it reads valid. Here the program of a round's intent records lands
// whole but each read-back of it fails with a media error (the faults
// schedule), so the writer writes the intent again in the next block and
// the round and a later one append after it there. A reader then meets, at
// the next block's start, valid copies of records the chain already took
// (docs/FORMAT.md, 4.6 step 3: copies are skipped). Reopened, the store
// and faults/reference must agree on the newest generation, find no
// damage, apply nothing twice, and keep sequence numbers increasing,
// through a further round and a compaction.
func TestNANDJournalCopyLeftValid(t *testing.T) {
	ns := newNANDStore(t)
	ps := func(gen uint64) payloads {
		return payloads{1: randomBytes(gen, 150000), 2: randomBytes(100+gen, 9000)}
	}
	s := ns.open(t, ns.f, Options{})
	ns.round(t, s, 1, ps(1))

	// Where the next writer starts: a fresh block T (a writer that has
	// just opened the journal never appends into the last block).
	ro := ns.open(t, ns.f, Options{ReadOnly: true})
	blk := ro.areaOff(ro.area) + ro.tailBlock*ns.e
	sched := fmt.Sprintf("(seed 1) (on (and backup read (addr %#x %#x)) (fail media))", blk, blk+ns.e)
	in := faults.NewInjector(mustSchedule(t, sched), faults.Options{Disarmed: true})
	s = ns.open(t, in.Wrap(ns.f, faults.Backup), Options{})
	require.Equal(t, ro.area, s.area)
	require.Equal(t, ro.tailBlock, s.tailBlock)
	ns.round(t, s, 2, ps(2)) // its records start block T
	require.Equal(t, ro.tailBlock, s.tailBlock)
	require.Positive(t, s.tailOffset, "round 3's intent does not start block T")
	seqBefore := s.nextSeq

	// Round 3: its intent records land in block T, and every read of them
	// back fails: they are written again at the start of block T+1.
	in.Arm()
	ns.round(t, s, 3, ps(3))
	in.Disarm()
	require.NotEmpty(t, in.Fired(), "the read-back failed")
	require.Equal(t, ro.tailBlock+1, s.tailBlock, "the intent was written again in the next block")
	// The copy left in block T reads valid (NAND: not zeroed).
	var found bool
	ro2 := ns.open(t, ns.f, Options{ReadOnly: true})
	area, err := ro2.readArea(ro2.area, &blockBufs{blockSize: ns.e})
	require.NoError(t, err)
	ro2.eachValid(area[ro.tailBlock*ns.e:(ro.tailBlock+1)*ns.e], func(_ int64, r record) {
		found = found || r.seq == seqBefore
	})
	require.True(t, found, "the first copy of round 3's intent reads valid in block T")

	ns.round(t, s, 4, ps(4)) // appends after the copy in block T+1
	lastSeq := s.nextSeq

	// A wrong state: the record at block T+1's start carries the number
	// of a record the chain took but is no copy of it (its body differs,
	// its CRCs are right). It is not skipped: both readers report damage.
	snap := ns.f.Snapshot()
	rewriteRecord(t, ns.f, blk+ns.e, func(_, body []byte) { body[len(body)-1] ^= 1 })
	bad := ns.open(t, ns.f, Options{ReadOnly: true})
	require.NotEmpty(t, bad.Damage(), "a record that is no copy is not skipped")
	require.Less(t, bad.State().Generation, uint64(4))
	rb, err := reference.Decode(ns.f, ns.off, ns.size)
	require.NoError(t, err)
	require.True(t, slices.ContainsFunc(rb.Findings, reference.Finding.Damage), "reference: %v", rb.Findings)
	require.Less(t, rb.Committed.Generation, uint64(4))
	ns.f.Restore(snap)

	s = ns.open(t, ns.f, Options{})
	ns.check(t, s, 4, ps(4))
	require.Equal(t, lastSeq, s.nextSeq, "sequence numbers go on from the last record")

	ns.round(t, s, 5, ps(5))
	require.Greater(t, s.nextSeq, lastSeq)
	s = ns.open(t, ns.f, Options{})
	ns.check(t, s, 5, ps(5))

	area0 := s.area
	seqBeforeCompact := s.nextSeq
	require.NoError(t, s.compact())
	require.NotEqual(t, area0, s.area)
	require.Greater(t, s.nextSeq, seqBeforeCompact)
	ns.round(t, s, 6, ps(6))
	s = ns.open(t, ns.f, Options{})
	ns.check(t, s, 6, ps(6))
	require.Greater(t, s.nextSeq, seqBeforeCompact)
}

// TestNORJournalCopyLeftValidWhenZeroingFails: on NOR the writer programs
// records it writes again to zeros, but best effort only: when that
// program fails (a media error, the faults schedule) the copy left behind
// reads valid as on NAND, and readers skip its copy at the next block's
// start all the same.
func TestNORJournalCopyLeftValidWhenZeroingFails(t *testing.T) {
	f := newChip(t)
	formatTest(t, f)
	ps := func(gen uint64) payloads {
		return payloads{1: randomBytes(gen, 20000), 2: randomBytes(100+gen, 3000)}
	}
	runRound(t, openTest(t, f, Options{}), 1, ps(1))
	snap := f.Snapshot()

	// session runs round 2 unfaulted, round 3 under the schedule sched
	// (armed with round 3), and round 4; it returns the store, the
	// injector and where round 3's records start.
	session := func(sched string, trace faults.Trace) (*Store, *faults.Injector, int64) {
		in := faults.NewInjector(mustSchedule(t, sched), faults.Options{Disarmed: true, Trace: trace})
		s := openTest(t, in.Wrap(f, faults.Backup), Options{})
		runRound(t, s, 2, ps(2))
		require.Positive(t, s.tailOffset, "round 3's intent does not start a block")
		at := s.areaOff(s.area) + s.tailBlock*s.eraseSize + s.tailOffset
		in.Arm()
		runRound(t, s, 3, ps(3))
		in.Disarm()
		runRound(t, s, 4, ps(4))
		return s, in, at
	}
	// A dry run finds the index of round 3's first journal program.
	var ops []faults.Op
	_, _, at := session("none", func(op faults.Op) { ops = append(ops, op) })
	i := slices.IndexFunc(ops, func(op faults.Op) bool { return op.Kind == faults.Program && op.Off == at })
	require.GreaterOrEqual(t, i, 0)
	first := ops[i].Index
	f.Restore(snap)

	// Its 1+maxReprograms read-backs fail, then the program of zeros over it.
	sched := fmt.Sprintf("(seed 1) (on (and backup read (addr %#x %#x)) (fail media)) (on (at %d) (fail media))", at, at+1, first+2+maxReprograms)
	s, in, at2 := session(sched, nil)
	require.Equal(t, at, at2)
	require.Len(t, in.Fired(), 2+maxReprograms, "%v", in.Fired())
	require.Equal(t, faults.Program, in.Fired()[len(in.Fired())-1].Op.Kind, "the zeroing failed")
	lastSeq := s.nextSeq

	s = openTest(t, f, Options{})
	require.Empty(t, s.Damage(), "findings %v", s.Findings())
	require.Equal(t, uint64(4), s.State().Generation)
	require.Equal(t, lastSeq, s.nextSeq)
	checkPayloads(t, s, ps(4))
	b, err := reference.Decode(f, testStoreOff, testStoreSize)
	require.NoError(t, err)
	require.False(t, slices.ContainsFunc(b.Findings, reference.Finding.Damage), "reference: %v", b.Findings)
	require.Equal(t, uint64(4), b.Committed.Generation)
}

// TestCopyOfTheAreasFirstRecordIsSkipped: the copies a reader skips at a
// block's start (docs/FORMAT.md, 4.6 step 3) may include the area's very
// first record. On a chip whose record slot is its whole 1 KiB erase
// block, the initial checkpoint is one record a block (begin, end); with a
// valid copy of the begin record between them (as a writer whose
// read-back of the first block failed would leave it), both this reader
// and faults/reference read the formatted store, without damage.
func TestCopyOfTheAreasFirstRecordIsSkipped(t *testing.T) {
	f, fo := formatOneKiB(t)
	cfg := fo.Config
	const off, size, e = oneKiBOff, oneKiBSize, 1024
	sb, err := PlanLayout(f.Geometry(), size, fo)
	require.NoError(t, err)
	a0 := off + int64(sb.Journal[0])*e
	blocks := make([]byte, 3*e)
	_, err = f.ReadAt(blocks, a0)
	require.NoError(t, err)
	require.True(t, hal.IsErased(blocks[2*e:]), "the initial checkpoint is two blocks")
	// begin, copy of begin, end
	require.NoError(t, f.Erase(a0+e, 2*e))
	f.Poke(a0+e, blocks[:e])
	f.Poke(a0+2*e, blocks[e:2*e])

	s, err := Open(f, off, size, Options{ReadOnly: true})
	require.NoError(t, err)
	require.Empty(t, s.Findings())
	require.Equal(t, 2, len(s.log), "begin and end; the copy is skipped")
	require.Equal(t, s.log[0].seq+1, s.log[1].seq)
	require.Equal(t, a0+2*e, s.log[1].off)
	require.True(t, cfg.Equal(s.State().Config))
	b, err := reference.Decode(f, off, size)
	require.NoError(t, err)
	for _, fd := range b.Findings {
		require.False(t, fd.Damage(), "reference finds damage: %v", fd)
	}
	require.Nil(t, b.Pending)
	require.Equal(t, s.State().Generation, b.Committed.Generation)
}
