package store

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
)

// flipBit inverts one bit of the byte at off.
func flipBit(f *sim.Flash, off int64) {
	b := make([]byte, 1)
	_, _ = f.ReadAt(b, off)
	f.Poke(off, []byte{b[0] ^ 0x10})
}

// rewriteRecord edits the journal record at chip offset off — its header
// and its body — and recomputes both CRCs, so the record stays valid:
// damage a CRC cannot see.
func rewriteRecord(t testing.TB, f *sim.Flash, off int64, edit func(header, body []byte)) {
	t.Helper()
	head := make([]byte, recordHeader)
	_, err := f.ReadAt(head, off)
	require.NoError(t, err)
	n := int(le.Uint32(head[8:]))
	rec := make([]byte, recordOverhead+n)
	_, err = f.ReadAt(rec, off)
	require.NoError(t, err)
	edit(rec[:recordHeader], rec[recordHeader:recordHeader+n])
	le.PutUint32(rec[20:], crc(rec[:20]))
	le.PutUint32(rec[recordHeader+n:], crc(rec[:recordHeader+n]))
	f.Poke(off, rec)
}

// journalFixture is a store whose journal spans several blocks: a first
// round, three more each after a restart (each starts a block: intent,
// intent-chunks, commit), and a staged configuration after a last restart.
type journalFixture struct {
	f    *sim.Flash
	ps   map[uint64]payloads // the payloads of each generation
	log  []record            // the journal as a fresh Open reads it
	base *sim.Snapshot
}

func newJournalFixture(t *testing.T) *journalFixture {
	t.Helper()
	jf := &journalFixture{f: newChip(t), ps: map[uint64]payloads{}}
	formatTest(t, jf.f)
	for gen := uint64(1); gen <= 4; gen++ {
		s := openTest(t, jf.f, Options{})
		jf.ps[gen] = payloads{1: randomBytes(gen, 30000), 2: randomBytes(100+gen, 5000)}
		runRound(t, s, gen, jf.ps[gen])
	}
	s := openTest(t, jf.f, Options{})
	require.NoError(t, s.StageConfig(Config{Types: []uint8{1, 2, 3}, Interval: time.Hour}))
	s = openTest(t, jf.f, Options{ReadOnly: true})
	require.Empty(t, s.Damage())
	jf.log = slices.Clone(s.log)
	jf.base = jf.f.Snapshot()
	return jf
}

// intentOf returns the journal record of generation gen's intent (the
// fixture's generations have one intent each, in order).
func (jf *journalFixture) intentOf(t *testing.T, gen uint64) record {
	t.Helper()
	n := uint64(0)
	for _, r := range jf.log {
		if r.kind == kindIntent {
			n++
			if n == gen {
				return r
			}
		}
	}
	require.Failf(t, "no intent", "generation %d", gen)
	return record{}
}

// lastSeq returns the highest sequence number in the fixture's journal.
func (jf *journalFixture) lastSeq() uint64 { return jf.log[len(jf.log)-1].seq }

// TestLostRecordsAreDamage: one bit flips in the first record of a journal
// block (generation 3's intent). The records after it — generations 3 and
// 4 and a staged configuration — are lost: Open reports it (area, offset,
// sequence number), the state is generation 2, and the writer neither
// reuses the lost records' sequence numbers nor appends into that area,
// nor programs a data block the lost rounds may have used without erasing
// it first: the next round commits, and every chunk of it verifies, also
// after a restart that must not run into the lost records.
func TestLostRecordsAreDamage(t *testing.T) {
	jf := newJournalFixture(t)
	in3 := jf.intentOf(t, 3)
	require.Zero(t, (in3.off-testStoreOff)%4096, "generation 3's intent starts a block")
	flipBit(jf.f, in3.off+30)

	s := openTest(t, jf.f, Options{})
	dmg := strings.Join(s.Damage(), "\n")
	require.Contains(t, dmg, "lost", "damage %q", dmg)
	require.Contains(t, dmg, fmt.Sprintf("seq %d", in3.seq+1), "damage names the first lost record found")
	require.Contains(t, dmg, fmt.Sprintf("%#x", in3.off), "damage names the block whose first record is damaged")
	require.Equal(t, uint64(2), s.State().Generation, "the state before the damage")
	_, staged := s.Staged()
	require.False(t, staged)
	checkPayloads(t, s, jf.ps[2])

	// The next round: after a compaction into the other area with
	// sequence numbers above the lost ones, every block erased before it
	// is programmed.
	chip, log := logErases(jf.f)
	s = openTest(t, chip, Options{})
	area := s.area
	ps := payloads{1: randomBytes(50, 30000), 2: randomBytes(51, 5000)}
	r, err := s.Begin(planOf(3, ps))
	require.NoError(t, err)
	require.NotEqual(t, area, s.area, "compacted into the other area before the intent")
	require.Greater(t, s.log0Seq(), jf.lastSeq(), "the new checkpoint's sequence numbers are above every record seen")
	for i, w := range r.Writes() {
		lo, hi := ChunkBounds(int64(len(ps[w.Type])), testPhase, 4096, w.Index)
		_, _, err := r.Write(i, ps[w.Type][lo:hi])
		require.NoError(t, err)
		off := s.BlockOffset(w.Block)
		require.True(t, slices.ContainsFunc(log.erases, func(e [2]int64) bool { return e[0] <= off && off < e[0]+e[1] }),
			"data block %d programmed without an erase after the damage", w.Block)
	}
	require.NoError(t, r.Commit(State{Generation: 3, Config: planOf(3, ps).Config}))
	require.Empty(t, s.VerifyChunks())

	s = openTest(t, jf.f, Options{})
	require.Empty(t, s.Damage())
	require.Equal(t, uint64(3), s.State().Generation)
	checkPayloads(t, s, ps)
	require.Empty(t, s.VerifyChunks())
	runRound(t, s, 4, payloads{1: randomBytes(60, 30000)})
	s = openTest(t, jf.f, Options{})
	require.Empty(t, s.Damage())
	require.Equal(t, uint64(4), s.State().Generation)
	require.Empty(t, s.VerifyChunks())
}

// log0Seq returns the sequence number of the first record of the journal
// area in charge (its checkpoint-begin), read from the flash.
func (s *Store) log0Seq() uint64 {
	buf := make([]byte, s.eraseSize)
	if _, err := s.flash.ReadAt(buf, s.areaOff(s.area)); err != nil {
		return 0
	}
	r, st := parseRecord(buf, s.slotSize, false)
	if st != parseOK {
		return 0
	}
	return r.seq
}

// TestDamagedCheckpointBeginIsDamage: a bit flips in the checkpoint-begin of
// the journal area in charge, which holds two generations more than the
// older area. Open falls back to the older area — and says so. A
// checkpoint-begin torn by power loss, with nothing valid after it (a
// compaction cut while it wrote its first record), is not damage.
func TestDamagedCheckpointBeginIsDamage(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 20000)}
	runRound(t, s, 1, ps)
	require.NoError(t, s.Compact())
	require.Equal(t, 1, s.area)
	base := f.Snapshot()
	for gen := uint64(2); gen <= 3; gen++ {
		runRound(t, s, gen, payloads{1: randomBytes(gen, 20000)})
	}
	begin := s.areaOff(1)
	flipBit(f, begin+40)
	s = openTest(t, f, Options{})
	dmg := strings.Join(s.Damage(), "\n")
	require.Contains(t, dmg, "checkpoint-begin", "damage %q", dmg)
	require.Equal(t, 0, s.area)
	require.Equal(t, uint64(1), s.State().Generation)
	runRound(t, s, 4, ps)
	s = openTest(t, f, Options{})
	require.Empty(t, s.Damage())
	require.Equal(t, uint64(4), s.State().Generation)
	require.Empty(t, s.VerifyChunks())

	// A compaction torn in its checkpoint-begin: power loss, not damage.
	f.Restore(base)
	s = openTest(t, f, Options{})
	require.Equal(t, 1, s.area)
	in := faults.NewInjector(mustSchedule(t, fmt.Sprintf("(seed 3) (on (and program (addr %#x %#x)) (torn random))", s.areaOff(0), s.areaOff(0)+4096)),
		faults.Options{Disarmed: true, SplitPages: true})
	s = openTest(t, in.Wrap(f, faults.Backup), Options{})
	in.Arm()
	require.Error(t, s.Compact())
	require.Len(t, in.Fired(), 1)
	s = openTest(t, f, Options{ReadOnly: true})
	require.Empty(t, s.Damage(), "a compaction cut in its first record")
	require.Equal(t, 1, s.area)
	require.Equal(t, uint64(1), s.State().Generation)
}

func mustSchedule(t testing.TB, text string) faults.Schedule {
	t.Helper()
	sc, err := faults.ParseSchedule(text)
	require.NoError(t, err)
	return sc
}

// TestRecordsTheReplayRejects damages valid records (CRCs recomputed) in
// the ways docs/FORMAT.md, "States and transitions" and "Record framing"
// call damage, and requires Open to report each and to keep the state
// before it.
func TestRecordsTheReplayRejects(t *testing.T) {
	jf := newJournalFixture(t)
	in3 := jf.intentOf(t, 3)
	chunks3 := jf.log[slices.IndexFunc(jf.log, func(r record) bool { return r.seq == in3.seq+1 })]
	staged := jf.log[len(jf.log)-1]
	require.Equal(t, kindStaged, staged.kind)
	// A block of generation 2 (the state before generation 3's intent).
	flipBit(jf.f, in3.off+30)
	s := openTest(t, jf.f, Options{ReadOnly: true})
	require.Equal(t, uint64(2), s.State().Generation)
	committed := s.StateRef().Types[0].Chunks[0].Block

	tests := []struct {
		name   string
		damage func(t *testing.T)
		want   string // in the damage report
		gen    uint64 // the generation after the damage
		staged bool
	}{
		{name: "intent names a committed block", damage: func(t *testing.T) {
			rewriteRecord(t, jf.f, chunks3.off, func(_, b []byte) { le.PutUint32(b[10+ieBlock:], committed) })
		}, want: "committed", gen: 2},
		{name: "payload digest of another payload", damage: func(t *testing.T) {
			rewriteRecord(t, jf.f, in3.off, func(_, b []byte) { b[len(b)-10] ^= 1 })
		}, want: "payload digest", gen: 2},
		{name: "reserved header bytes", damage: func(t *testing.T) {
			rewriteRecord(t, jf.f, chunks3.off, func(h, _ []byte) { h[5] = 1 })
		}, want: "reserved", gen: 2},
		{name: "undefined config flag", damage: func(t *testing.T) {
			rewriteRecord(t, jf.f, staged.off, func(_, b []byte) { b[len(b)-3] |= 0x80 })
		}, want: "flag", gen: 4},
		{name: "config naming a type twice", damage: func(t *testing.T) {
			rewriteRecord(t, jf.f, staged.off, func(_, b []byte) { b[2] = b[1] })
		}, want: "twice", gen: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jf.f.Restore(jf.base)
			tt.damage(t)
			s := openTest(t, jf.f, Options{ReadOnly: true})
			dmg := strings.Join(s.Damage(), "\n")
			require.Contains(t, dmg, tt.want, "damage %q", dmg)
			require.Equal(t, tt.gen, s.State().Generation)
			_, staged := s.Staged()
			require.Equal(t, tt.staged, staged)
		})
	}
}

// TestRoundAfterLostRecordsRewritesOverwrittenChunks: the lost rounds may
// have reused data blocks of the state the store falls back to (a block
// freed by a lost generation and programmed by a later one). The first
// round after the damage reads the committed chunks of the types it syncs
// and writes again those that no longer match, even where the plan's
// digest equals the committed one.
func TestRoundAfterLostRecordsRewritesOverwrittenChunks(t *testing.T) {
	jf := newJournalFixture(t)
	flipBit(jf.f, jf.intentOf(t, 3).off+30)
	s := openTest(t, jf.f, Options{})
	require.True(t, s.JournalDamaged())
	ts, _ := s.StateRef().Type(2)
	jf.f.Poke(s.BlockOffset(ts.Chunks[0].Block)+10, []byte("reused by a lost round"))
	require.Len(t, s.VerifyChunks(2), 1)
	ps := payloads{1: randomBytes(50, 30000), 2: jf.ps[2][2]} // type 2 as committed
	r, err := s.Begin(planOf(3, ps))
	require.NoError(t, err)
	rewritten := false
	for _, w := range r.Writes() {
		rewritten = rewritten || (w.Type == 2 && w.Index == 0)
	}
	require.True(t, rewritten, "the overwritten chunk is written again")
	for i, w := range r.Writes() {
		lo, hi := ChunkBounds(int64(len(ps[w.Type])), testPhase, 4096, w.Index)
		_, _, err := r.Write(i, ps[w.Type][lo:hi])
		require.NoError(t, err)
	}
	require.NoError(t, r.Commit(State{Generation: 3, Config: planOf(3, ps).Config}))
	require.Empty(t, s.VerifyChunks())
	checkPayloads(t, s, ps)
}

// TestSequenceGapInABlockSaysHigherOrLower: a record inside a journal
// block (not its first, after the checkpoint) whose sequence number is not the one expected,
// with right CRCs, ends the chain there; the SequenceGap finding is at
// that record, carries its number, and says whether it is higher or
// lower than the expected one.
func TestSequenceGapInABlockSaysHigherOrLower(t *testing.T) {
	jf := newJournalFixture(t)
	e := jf.f.Geometry().EraseSize
	k := 1
	for ; k < len(jf.log) && (jf.log[k-1].kind <= kindCkptEnd || jf.log[k].off/e != jf.log[k-1].off/e); k++ {
	}
	require.Less(t, k, len(jf.log), "no block holds two records")
	r := jf.log[k]
	for _, tc := range []struct {
		seq uint64
		rel string
	}{{r.seq + 5, "higher"}, {r.seq - 2, "lower"}} {
		jf.f.Restore(jf.base)
		rewriteRecord(t, jf.f, r.off, func(h, _ []byte) { le.PutUint64(h[12:], tc.seq) })
		gaps := findingsOf(t, jf.f, SequenceGap)
		require.Len(t, gaps, 1)
		require.Equal(t, r.off, gaps[0].Off)
		require.Equal(t, tc.seq, gaps[0].Seq)
		require.Contains(t, gaps[0].Detail, fmt.Sprintf("carries seq %d, %s than the expected %d", tc.seq, tc.rel, r.seq))
	}
}
