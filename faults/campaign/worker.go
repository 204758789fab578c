package campaign

import (
	"bytes"
	"hash/maphash"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
)

// worker owns a pair of chips to branch into, and the oracle's caches for
// the points it judges on them.
type worker struct {
	bench *bench
	chips [2]*sim.Flash
	clock *harnessClock
	// liveDue: check the live invariant at the point being judged (see
	// Options.LiveEvery); memoLive: reuse the verdicts of a live round
	// that started from the same state (see liveKey).
	liveDue, memoLive bool
	liveRounds        int // live rounds actually run (the rest reused a memoised verdict)
	// versionPrints and versionFacts cache what was read of a block by
	// its version (see facts and print).
	versionPrints map[blockKey]uint64
	versionFacts  map[uint64]blockFacts
	// baseChips are held at the base state; baseHashes (by chip and
	// offset) and basePrints cache what was read of them (see baseCached).
	baseChips  [2]*sim.Flash
	baseHashes map[[2]int64]uint64
	basePrints map[blockKey]uint64
	// touched holds the blocks (touchKey of chip and offset) written since
	// the base in the run being judged; the others hold the base contents.
	// lastWrites are the writes it was set from.
	touched    map[int64]bool
	lastWrites []faults.Op
	// harness holds the blocks (touchKeys) that the harness changed in
	// the run being judged without an operation of the engine: flips and
	// scribbles (see damage).
	harness   []int64
	offsetBuf []int64 // reused by writtenBlocks' callers
	// stable: no torn operation with unstable reads in the run judged.
	stable       bool
	liveVerdicts map[uint64][]Verdict
	matchMemo    map[matchKey][]mismatch
	// story, if set, is told what the run being judged did (ReplayStory).
	story *Story
	// caseLine is the replay line of the case being run, for decodeHook.
	caseLine string
	// untracedWrites: the case may write what the oracle's writes miss
	// (noteCase); its views bypass the views cache.
	untracedWrites bool
	// tamper, if set, makes the state of every run judged wrong (the
	// oracle's self-test).
	tamper      *tamper
	phaseBufs   [2]phaseBufs // by phase kind (see newPhase)
	lastRun     int          // how runCase ran the last case (ranReplay, ranBranch)
	readBuf     []byte       // one erase block
	regionBuf   []byte       // a payload's worth, reused by regionHolds
	erasedBlock []byte       // an erase block of 0xFF
	erasedHash  uint64       // maphash of erasedBlock
	// payloads holds committed payloads read back, by view and the
	// versions of their blocks (see payload); payloadBytes is their size,
	// payloadVers a reused buffer.
	payloads     map[payloadKey]payloadEntry
	payloadBytes int
	payloadVers  []uint64
	// region is what the oracle last read of an information region, by
	// the versions of its blocks (see noteRegion); versionBuf is reused.
	region     *regionRead
	versionBuf []uint64
}

func newWorker(b *bench) (*worker, error) {
	chips, clock, err := b.scenario.openChips(b.part, b.seed)
	if err != nil {
		return nil, err
	}
	base, _, err := b.scenario.openChips(b.part, b.seed)
	if err != nil {
		return nil, err
	}
	base[0].Restore(b.base[0])
	base[1].Restore(b.base[1])
	e := chips[0].Geometry().EraseSize
	w := &worker{bench: b, chips: chips, clock: newHarnessClock(clock), liveDue: true, baseChips: base,
		versionPrints: map[blockKey]uint64{}, versionFacts: map[uint64]blockFacts{},
		baseHashes: map[[2]int64]uint64{}, basePrints: map[blockKey]uint64{}, touched: map[int64]bool{},
		liveVerdicts: map[uint64][]Verdict{}, matchMemo: map[matchKey][]mismatch{},
		readBuf: make([]byte, e), erasedBlock: bytes.Repeat([]byte{0xff}, int(e))}
	w.erasedHash = maphash.Bytes(hashSeed, w.erasedBlock)
	return w, nil
}

// quiet runs the oracle's own reads so that they leave no trace: the
// chips' state (statistics, the random state of unstable reads) and the
// clock are put back afterwards, so that a run judged with warm caches
// and one replayed from scratch stay identical.
//
// Without unstable cells in the run (w.stable), reads change nothing the
// engine can see but the chips' read counters, so only the clock is put
// back.
func (w *worker) quiet(f func()) {
	if w.stable {
		at := w.clock.Now()
		f()
		w.clock.set(at)
		return
	}
	a, b := w.chips[0].Snapshot(), w.chips[1].Snapshot()
	at := w.clock.Now()
	f()
	w.chips[0].Restore(a)
	w.chips[1].Restore(b)
	w.clock.set(at)
}
