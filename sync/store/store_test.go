package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
)

const (
	testStoreOff  = 1 << 20
	testStoreSize = 3 << 20
	testMaxChunks = 250
)

func newChip(t testing.TB) *sim.Flash {
	t.Helper()
	return simtest.Chip(t, "mx66l1g45g", sim.Options{Size: 4 << 20, Name: "backup"})
}

func formatTest(t testing.TB, f hal.Flash) {
	t.Helper()
	require.NoError(t, Format(f, testStoreOff, testStoreSize, FormatOptions{
		ChipID: 1, PairID: 42, Time: time.Unix(1000, 0), MaxChunks: testMaxChunks,
		Config: Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second},
	}))
}

// newStore formats a fresh chip (formatTest) and opens its store.
func newStore(t testing.TB) (*sim.Flash, *Store) {
	t.Helper()
	f := newChip(t)
	formatTest(t, f)
	return f, openTest(t, f, Options{})
}

// requireReopens checks s's payloads, then that the store reopened
// read-only from f holds the same state.
func requireReopens(t testing.TB, f hal.Flash, s *Store, ps payloads) {
	t.Helper()
	checkPayloads(t, s, ps)
	require.Equal(t, s.State(), openTest(t, f, Options{ReadOnly: true}).State())
}

func openTest(t testing.TB, f hal.Flash, o Options) *Store {
	t.Helper()
	s, err := Open(f, testStoreOff, testStoreSize, o)
	require.NoError(t, err)
	return s
}

// payloads for a test: type -> bytes
type payloads map[uint8][]byte

const testPhase = 32

func planOf(gen uint64, ps payloads) Plan {
	p := Plan{Generation: gen, Config: Config{Types: []uint8{1, 2}, Interval: time.Minute}}
	for _, t := range []uint8{1, 2, 3, 4, 5, 6} {
		b, ok := ps[t]
		if !ok {
			continue
		}
		ds, _ := DigestPayload(b, testPhase, 4096)
		p.Types = append(p.Types, TypePlan{Type: t, Phase: testPhase, Size: int64(len(b)), Seq: gen, Chunks: ds})
	}
	return p
}

// runRound syncs ps as generation gen and returns erases and pages.
func runRound(t testing.TB, s *Store, gen uint64, ps payloads) (int64, int64) {
	t.Helper()
	r, err := s.Begin(planOf(gen, ps))
	require.NoError(t, err)
	var er, pg int64
	for i, w := range r.Writes() {
		b := ps[w.Type]
		lo, hi := ChunkBounds(int64(len(b)), testPhase, 4096, w.Index)
		e, p, err := r.Write(i, b[lo:hi])
		require.NoError(t, err)
		er += e
		pg += p
	}
	require.NoError(t, r.Commit(State{Generation: gen, Time: time.Unix(int64(gen), 0), Config: planOf(gen, ps).Config}))
	return er, pg
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func checkPayloads(t testing.TB, s *Store, ps payloads) {
	t.Helper()
	for typ, want := range ps {
		got, err := s.ReadPayload(typ)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "type %d payload differs", typ)
		ts, ok := s.StateRef().Type(typ)
		require.True(t, ok)
		_, d := DigestPayload(want, testPhase, 4096)
		require.Equal(t, d, ts.Digest)
	}
}

func TestRoundsAndReopen(t *testing.T) {
	f, s := newStore(t)
	require.Equal(t, uint64(0), s.State().Generation)
	ps := payloads{1: randomBytes(1, 50000), 2: randomBytes(2, 9000)}
	runRound(t, s, 1, ps)
	checkPayloads(t, s, ps)

	s = openTest(t, f, Options{})
	require.Equal(t, uint64(1), s.State().Generation)
	require.Nil(t, s.Interrupted())
	checkPayloads(t, s, ps)

	// Change one byte: one chunk rewritten.
	ps[1][20000] ^= 0xFF
	before := f.Stats()
	er, pg := runRound(t, s, 2, ps)
	d := f.Stats().Sub(before)
	require.Equal(t, int64(0), er, "first pass uses pre-erased blocks")
	require.Equal(t, int64(16), pg)
	require.Equal(t, int64(1), d.Erases, "after a restart the journal continues in a fresh block, erased first")
	require.LessOrEqual(t, d.PagesProgrammed, int64(16+3), "chunk + intent + commit")
	s = openTest(t, f, Options{})
	checkPayloads(t, s, ps)

	// Nothing changed: only a commit record.
	before = f.Stats()
	runRound(t, s, 3, ps)
	d = f.Stats().Sub(before)
	require.Equal(t, int64(1), d.Erases, "the fresh journal block after the restart")
	require.Equal(t, int64(1), d.PagesProgrammed)
	before = f.Stats()
	runRound(t, s, 4, ps)
	d = f.Stats().Sub(before)
	require.Equal(t, int64(0), d.Erases, "no erase at all once running")
	require.Equal(t, int64(1), d.PagesProgrammed)
	s = openTest(t, f, Options{})
	require.Equal(t, uint64(4), s.State().Generation)
}

func TestInterruptedRoundIsPurged(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 30000)}
	runRound(t, s, 1, ps)
	ps2 := payloads{1: randomBytes(7, 30000)}
	r, err := s.Begin(planOf(2, ps2))
	require.NoError(t, err)
	w := r.Writes()
	require.NotEmpty(t, w)
	b := ps2[1]
	lo, hi := ChunkBounds(int64(len(b)), testPhase, 4096, w[0].Index)
	_, _, err = r.Write(0, b[lo:hi])
	require.NoError(t, err)
	// power cut: reopen
	s = openTest(t, f, Options{})
	in := s.Interrupted()
	require.NotNil(t, in)
	require.Equal(t, uint64(2), in.Generation)
	require.True(t, in.Complete)
	require.Equal(t, uint64(1), s.State().Generation)
	res, err := s.Purge()
	require.NoError(t, err)
	require.Len(t, res.Blocks, len(w))
	require.Equal(t, len(w), res.Erased)
	buf := make([]byte, 4096)
	for _, blk := range res.Blocks {
		_, err := f.ReadAt(buf, s.BlockOffset(blk))
		require.NoError(t, err)
		require.True(t, hal.IsErased(buf))
	}
	checkPayloads(t, s, ps)
	s = openTest(t, f, Options{})
	require.Nil(t, s.Interrupted())
	require.NotNil(t, s.LastPurged())
	checkPayloads(t, s, ps)
	runRound(t, s, 2, ps2)
	checkPayloads(t, s, ps2)
}

func TestCompactionKeepsState(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 60000), 2: randomBytes(2, 5000)}
	gen := uint64(1)
	runRound(t, s, gen, ps)
	r := rand.New(rand.NewPCG(3, 4))
	epoch := s.epoch
	for range 700 {
		gen++
		ps[1][r.IntN(len(ps[1]))] ^= 1
		if gen%50 == 0 {
			ps[2] = randomBytes(gen, 1000+r.IntN(8000))
		}
		runRound(t, s, gen, ps)
	}
	require.Greater(t, s.epoch, epoch, "journal compacted at least once")
	s = openTest(t, f, Options{})
	require.Equal(t, gen, s.State().Generation)
	checkPayloads(t, s, ps)
	require.Empty(t, s.Damage())
}

func TestOpenBlank(t *testing.T) {
	f := newChip(t)
	_, err := Open(f, testStoreOff, testStoreSize, Options{})
	require.True(t, errors.Is(err, ErrNotFormatted), "%v", err)
}

// TestSteadyStateWearLevelling: once the allocation cursor has gone round
// the data area, every chunk costs one erase on average (whole erase
// windows, whose spare blocks later rounds use without an erase), and the
// erases spread evenly over the data area.
func TestSteadyStateWearLevelling(t *testing.T) {
	f, s := newStore(t)
	data := int(s.layout.DataBlocks)
	var steadyErases, steadyChunks int64
	rounds := 0
	for gen := uint64(1); s.wraps < 3; gen++ {
		ps := payloads{1: randomBytes(gen, 50000)}
		wrapped := s.wraps >= 1
		er, pg := runRound(t, s, gen, ps)
		require.LessOrEqual(t, pg, int64(13*16))
		require.LessOrEqual(t, er, int64(32), "round %d: at most two erase windows", gen)
		if wrapped {
			steadyErases += er
			steadyChunks += 13
		}
		rounds++
		require.Less(t, rounds, 10*data, "the cursor never wrapped")
	}
	require.InDelta(t, float64(steadyChunks), float64(steadyErases), 16, "one erase per chunk on average")
	first := int64(s.layout.DataFirst)
	lo, hi := int64(1<<62), int64(0)
	for b := int64(0); b < int64(data); b++ {
		w := f.Wear(testStoreOff/4096 + first + b)
		lo, hi = min(lo, w), max(hi, w)
	}
	require.LessOrEqual(t, hi-lo, int64(2), "wear spread over the data area: min %d max %d", lo, hi)
}

// TestWindowWithMixedBlocks: a round gets a whole erase window in which
// some blocks are known to be erased and others hold old data; the window
// is erased before anything of it is programmed, so no chunk is lost.
func TestWindowWithMixedBlocks(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 100000)}
	runRound(t, s, 1, ps)
	// Find the first free, aligned window after the live data, dirty it,
	// and mark only its first block as known erased.
	group := s.windowBlocks()
	require.Equal(t, uint32(16), group)
	w, ok := s.nextFreeWindow(s.cursor, group, 16, nil)
	require.True(t, ok)
	for k := w; k < w+group; k++ {
		f.Poke(s.BlockOffset(k), []byte{0x12, 0x34})
		s.erased.remove(k)
	}
	require.NoError(t, f.Erase(s.BlockOffset(w), 4096))
	s.erased.add(w)
	s.cursor = w
	ps = payloads{1: randomBytes(2, 100000)}
	runRound(t, s, 2, ps)
	checkPayloads(t, s, ps)
	s = openTest(t, f, Options{})
	checkPayloads(t, s, ps)
}

// TestJournalErasesWindows: on NOR with 4 KiB blocks the journal's tail,
// entering a block that starts a 64 KiB window an earlier pass used,
// erases the whole window and then enters its other blocks without
// erasing; a young window (never filled since the format) is erased block
// by block; a reopened store (which cannot know what the window erase
// left) erases again.
func TestJournalErasesWindows(t *testing.T) {
	f := newChip(t)
	formatTest(t, f)
	chip, log := logErases(f)
	s := openTest(t, chip, Options{})
	jo, jn := s.JournalRange()
	journalErases := func() (windows, single int) {
		for _, e := range log.erases {
			if e[0] < jo || e[0] >= jo+jn {
				continue
			}
			switch e[1] {
			case eraseWindow:
				require.Zero(t, e[0]%eraseWindow, "window erase at %#x not aligned", e[0])
				windows++
			case 4096:
				single++
			default:
				t.Fatalf("journal erase of %d bytes at %#x", e[1], e[0])
			}
		}
		return windows, single
	}
	cfg := Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second}
	i := 0
	stage := func() {
		i++
		cfg.Interval = time.Minute + time.Duration(i)*time.Second
		require.NoError(t, s.StageConfig(cfg))
	}
	// The first pass over area 0: young windows, erased block by block.
	require.Equal(t, 0, s.area)
	epoch0 := s.epoch
	for s.epoch == epoch0 && i < 100000 {
		stage()
	}
	windows, single := journalErases()
	require.Zero(t, windows, "no window erase in a young journal area")
	require.Positive(t, single)

	// Area 1's first pass, then area 0 again: its windows were used.
	epoch := s.epoch
	for s.epoch < epoch+1 && i < 200000 {
		stage()
	}
	require.Equal(t, 0, s.area)
	log.erases = nil
	entered := map[int64]bool{}
	for len(entered) < 40 && s.area == 0 && i < 300000 {
		stage()
		entered[s.tailBlock] = true
	}
	require.GreaterOrEqual(t, len(entered), 40, "the tail crossed 40 journal blocks of area 0")
	windows, single = journalErases()
	require.Positive(t, windows)
	require.LessOrEqual(t, single, 16, "only blocks before the first window start are erased one by one")
	require.LessOrEqual(t, windows, len(entered)/16+2)

	// A reopened store erases the next block it enters, even inside the
	// window the previous session erased.
	s = openTest(t, chip, Options{})
	before := len(log.erases)
	stage()
	blk := s.tailBlock
	for s.tailBlock == blk {
		stage()
	}
	require.Greater(t, len(log.erases), before, "the reopened store erased before entering a block")
	got, ok := s.Staged()
	require.True(t, ok)
	require.Equal(t, cfg.Interval, got.Interval)
}

// TestFailedProgramAtBlockStartStaysReachable: a journal record whose
// program failed at the start of a block (leaving it blank) is written
// again there, not in the next block, where a reader after a restart would
// never look (the blank block ends the journal for it). The write that
// failed with a media error is tried again at once (writeRecords), so the
// StageConfig whose program failed succeeds. A first run finds the first
// journal program at a block start; a second run from the same contents
// fails it with "(on (and program (at N)) (fail media))".
func TestFailedProgramAtBlockStartStaysReachable(t *testing.T) {
	f, s := newStore(t)
	lo, n := s.JournalRange()
	snap := f.Snapshot()
	// stage opens the store under in (armed once open) and stages
	// configurations until done, the same ones in every run.
	cfg := Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second}
	stage := func(in *faults.Injector, done func(*Store, error) bool) *Store {
		s := openTest(t, in.Wrap(f, faults.Backup), Options{})
		in.Arm()
		for i := 0; i < 10000; i++ {
			cfg.Interval = time.Minute + time.Duration(i)*time.Second
			if done(s, s.StageConfig(cfg)) {
				break
			}
		}
		return s
	}

	first := int64(-1)
	find := faults.NewInjector(faults.Schedule{}, faults.Options{Disarmed: true, Trace: func(op faults.Op) {
		if first < 0 && op.Kind == faults.Program && op.Off >= lo && op.Off < lo+n && op.Off%4096 == 0 {
			first = op.Index
		}
	}})
	stage(find, func(_ *Store, err error) bool {
		require.NoError(t, err)
		return first >= 0
	})
	require.GreaterOrEqual(t, first, int64(0), "no journal program started a block")

	f.Restore(snap)
	sched, err := faults.ParseSchedule(fmt.Sprintf("(on (and program (at %d)) (fail media))", first))
	require.NoError(t, err)
	in := faults.NewInjector(sched, faults.Options{Disarmed: true})
	s = stage(in, func(s *Store, err error) bool {
		require.NoError(t, err, "the failed program is tried again")
		return len(in.Fired()) > 0
	})
	require.Len(t, in.Fired(), 1, "%v never fired", sched)
	cfg.Interval += time.Hour
	require.NoError(t, s.StageConfig(cfg), "and the journal goes on")

	re := openTest(t, f, Options{ReadOnly: true})
	got, ok := re.Staged()
	require.True(t, ok, "a restart sees a staged configuration")
	require.Equal(t, cfg.Interval, got.Interval, "a restart sees the records written after the failure")
	require.Empty(t, re.Damage())
}
