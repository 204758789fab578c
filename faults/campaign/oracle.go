package campaign

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"slices"
	"sort"
	"strings"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// WearBound is the stated bound of invariant 8: no erase block is erased
// more than this many times by one round together with the recoveries
// after it (the round erases a block once before writing it, a purge
// erases it once more), nor by the live round that follows.
const WearBound = 2

// Verdict is what the oracle saw for one invariant of one run.
type Verdict struct {
	Invariant string `json:"invariant"`
	OK        bool   `json:"ok"`
	Saw       string `json:"saw"`
}

// String formats "ok   atomic: ..." or "FAIL purged: ...".
func (v Verdict) String() string {
	s := "ok  "
	if !v.OK {
		s = "FAIL"
	}
	return fmt.Sprintf("%s %-17s %s", s, v.Invariant, v.Saw)
}

// trial is the state of one run once its faults have struck, handed to the
// oracle: the chips hold what the faults left.
type trial struct {
	testCase Case
	// preEvents are the events the engine reported before the power
	// was lost (a failover reported then must survive).
	preEvents []engine.Event
	// writes are the programs and erases the round and any cut recovery
	// issued before the cut, the torn one included.
	writes []faults.Op
	// firstPre is the backup store as the reference decoder read it right
	// after the fault, before any recovery (nil when a torn area is
	// unstable, since then any one read of it is as good as another).
	firstPre *storeView
	// failoverDue: a delay beyond the threshold struck a read of the
	// primary; powerLost: a cut or torn operation ended the round.
	failoverDue, powerLost bool
	// recordRecovery, if set, sees each operation of the recovery.
	recordRecovery faults.Trace
}

// storeView is what the reference decoder (store.Open read-only, no
// mutant options) sees on a chip.
type storeView struct {
	generation  uint64
	state       store.State
	interrupted *store.Interrupted
	staged      *store.Config
	dataOff     int64
	dataSize    int64
	refSet      map[int64]bool
	err         error
	store       *store.Store
}

// writes are all the programs and erases since the base: blocks they did
// not touch hold the base contents.
func (w *worker) view(chip int, writes []faults.Op) *storeView {
	var v *storeView
	w.quiet(func() {
		key, ok := w.journalKey(chip, writes)
		if ok {
			if c, hit := w.views[key]; hit {
				v = c
				return
			}
		}
		v = w.decode(chip)
		if ok && v.err == nil {
			if len(w.views) > 512 {
				clear(w.views)
				clear(w.matchMemo)
			}
			w.views[key] = v
		}
	})
	return v
}

// decode opens chip's store with the reference decoder.
func (w *worker) decode(chip int) *storeView {
	l := w.bench.layout
	s, err := store.Open(w.chips[chip], l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	if err != nil {
		return &storeView{err: err}
	}
	v := &storeView{store: s, state: s.State(), interrupted: s.Interrupted()}
	v.generation = v.state.Generation
	if c, ok := s.Staged(); ok {
		v.staged = &c
	}
	v.dataOff, v.dataSize = s.DataRange()
	return v
}

// journalKey fingerprints the store's metadata (superblocks and journal
// areas: all store.Open reads) on chip by the contents of its blocks that
// writes touched and that differ from the base.
func (w *worker) journalKey(chip int, writes []faults.Op) (viewKey, bool) {
	lo, size := w.bench.journalOff, w.bench.journalSize
	if size == 0 {
		return viewKey{}, false
	}
	hi := lo + size
	e := w.bench.eraseSize
	role := faults.Role(chip + 1)
	var offs []int64
	for _, op := range writes {
		if op.Role != role || op.Off >= hi || op.Off+op.Len <= lo {
			continue
		}
		for off := max(op.Off/e*e, lo); off < min(op.Off+op.Len, hi); off += e {
			offs = append(offs, off)
		}
	}
	slices.Sort(offs)
	offs = slices.Compact(offs)
	var h maphash.Hash
	h.SetSeed(hashSeed)
	for _, off := range offs {
		if bh := w.blockHash(chip, off); bh != w.baseHash(chip, off) {
			var b [16]byte
			binary.LittleEndian.PutUint64(b[:], uint64(off))
			binary.LittleEndian.PutUint64(b[8:], bh)
			h.Write(b[:])
		}
	}
	return viewKey{chip, h.Sum64()}, true
}

type viewKey struct {
	chip         int
	metadataHash uint64
}

var hashSeed = maphash.MakeSeed()

// blockHash returns a hash of the erase block at off on chip, cached by
// the block's version (the simulator never reuses a version).
func (w *worker) blockHash(chip int, off int64) uint64 { return w.facts(chip, off).hash }

// blockFacts is what the oracle needs of one version of a block.
type blockFacts struct {
	hash   uint64
	erased bool
}

// facts reads the block at off on chip once per version (the simulator
// numbers versions process-wide and never reuses one, so the version alone
// identifies the contents).
func (w *worker) facts(chip int, off int64) blockFacts {
	e := w.bench.eraseSize
	ver := w.chips[chip].BlockVersion(off / e)
	if f, ok := w.versionFacts[ver]; ok {
		return f
	}
	var f blockFacts
	buf := w.readBuf[:e]
	if w.chips[chip].KnownErased(off / e) {
		// Most of what the oracle reads after a purge: the simulator
		// knows the block reads all 0xFF.
		f.erased = true
	} else {
		if _, err := w.chips[chip].ReadAt(buf, off); err != nil {
			return blockFacts{}
		}
		f.erased = bytes.Equal(buf, w.erasedBlock)
	}
	// An erased block has the erased block's hash: no need to hash it
	// again.
	if f.erased {
		f.hash = w.erasedHash
	} else {
		f.hash = maphash.Bytes(hashSeed, buf)
	}
	if len(w.versionFacts) > 1<<18 {
		clear(w.versionFacts)
	}
	w.versionFacts[ver] = f
	return f
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

// judge runs a clean recovery on the chips, checks the invariants, then
// the live round, and returns a verdict per invariant.
func (w *worker) judge(ctx context.Context, t *trial) []Verdict {
	b := w.bench
	w.stable = !hasUnstable(t.testCase.Round) && !hasUnstable(t.testCase.Recovery)
	vs := verdicts{}
	// Room for the recovery's writes (a purge, a few journal records)
	// without growing the copy.
	writes := append(make([]faults.Op, 0, len(t.writes)+256), t.writes...)
	pre := w.view(1, writes)

	// Recovery: engine.Open on what the chips hold.
	target := &writes
	recording := true
	// The recovery's operations go into the live-round key: two recoveries
	// that leave the same contents by different paths may leave different
	// engine state in memory (which blocks it believes erased).
	var trace maphash.Hash
	trace.SetSeed(hashSeed)
	rin := faults.NewInjector(faults.Schedule{}, faults.Options{SplitPages: true, BlockEraseSize: w.bench.part.BlockEraseSize, Clock: w.clock, Trace: func(op faults.Op) {
		if recording {
			if t.recordRecovery != nil {
				t.recordRecovery(op)
			}
			var b [24]byte
			binary.LittleEndian.PutUint64(b[:], uint64(op.Kind)<<8|uint64(op.Role))
			binary.LittleEndian.PutUint64(b[8:], uint64(op.Off))
			binary.LittleEndian.PutUint64(b[16:], uint64(op.Len))
			trace.Write(b[:])
		}
		if op.Kind != faults.Read {
			op.Data = nil
			*target = append(*target, op)
		}
	}})
	ra, rb := rin.Wrap(w.chips[0], faults.Primary), rin.Wrap(w.chips[1], faults.Backup)
	e, err := engine.Open(ctx, ra, rb, b.options(w.clock, b.mutant))
	if err != nil {
		vs.fail(Live, "recovery failed: engine.Open: %v", err)
		return vs.all()
	}
	defer e.Release()
	recording = false
	w.setTouched(writes)
	events := e.Events()
	st := e.Status()
	post := w.view(1, writes)
	if post.err != nil {
		vs.fail(Atomic, "the reference decoder cannot read the backup store after recovery: %v", post.err)
		return vs.all()
	}

	// 1 atomic: the committed information is exactly one generation.
	var want *generation
	switch post.generation {
	case b.prevGen.number:
		want = b.prevGen
	case b.roundGen.number:
		want = b.roundGen
	default:
		vs.fail(Atomic, "committed generation %d is neither %d (before the round) nor %d (the round)", post.generation, b.prevGen.number, b.roundGen.number)
	}
	if want != nil {
		var msg string
		w.quiet(func() { msg = w.matches(post, want) })
		if msg != "" {
			vs.fail(Atomic, "generation %d: %s", post.generation, msg)
		} else {
			vs.ok(Atomic, "backup holds exactly generation %d (%d types, every chunk read and compared)", post.generation, len(b.scenario.Types))
		}
	}

	// 2 durable: no committed generation is lost.
	floor, why := b.prevGen.number, "committed before the round"
	if t.firstPre != nil && t.firstPre.err == nil && t.firstPre.generation > floor {
		floor, why = t.firstPre.generation, "committed on the backup before the restart"
	}
	if post.generation < floor {
		vs.fail(Durable, "committed generation %d after recovery, but generation %d was %s", post.generation, floor, why)
	} else {
		vs.ok(Durable, "generation %d >= %d (%s)", post.generation, floor, why)
	}

	// 3 purged: nothing of an interrupted round stays.
	w.quiet(func() { w.checkPurged(&vs, pre, post, writes, events) })
	// Recovery only purges: it never programs the data area.
	for _, op := range writes[len(t.writes):] {
		if op.Role == faults.Backup && op.Kind == faults.Program && op.Off < post.dataOff+post.dataSize && op.Off+op.Len > post.dataOff {
			vs.fail(Purged, "the recovery programmed the data area: %v", op)
			break
		}
	}

	// 4 reinit: the configuration after purge is the committed one.
	got := e.Config()
	committed := engine.FromStoreConfig(post.state.Config)
	switch {
	case pre.err == nil && pre.interrupted != nil:
		exp := b.prevGen.config
		if post.generation == b.roundGen.number {
			exp = b.roundGen.config
		}
		if !sameConfig(got, committed) || !sameConfig(got, exp) {
			vs.fail(Reinit, "after purging generation %d the configuration is %s; generation %d was committed with %s",
				pre.interrupted.Generation, describe(got), post.generation, describe(exp))
		} else {
			vs.ok(Reinit, "purged generation %d; configuration reinitialised to generation %d's: %s", pre.interrupted.Generation, post.generation, describe(got))
		}
	case pre.err == nil && pre.staged != nil:
		if !sameConfig(got, engine.FromStoreConfig(*pre.staged)) {
			vs.fail(Reinit, "nothing to purge; the staged configuration %s was lost: got %s", describe(engine.FromStoreConfig(*pre.staged)), describe(got))
		} else {
			vs.ok(Reinit, "nothing to purge; staged configuration kept: %s", describe(got))
		}
	default:
		if !sameConfig(got, committed) {
			vs.fail(Reinit, "nothing to purge; configuration %s differs from generation %d's %s", describe(got), post.generation, describe(committed))
		} else {
			vs.ok(Reinit, "nothing to purge; configuration is generation %d's", post.generation)
		}
	}

	// 5 failover: if and only if the primary made the backup wait beyond
	// the threshold; the role survives power loss. A failover is due when
	// a delay above the threshold struck a read of the primary.
	reported := false
	var fo []string
	for _, ev := range t.preEvents {
		if ev.Kind == engine.EventFailover {
			reported = true
			fo = append(fo, "in the round: "+ev.Detail)
		}
	}
	for _, ev := range events {
		if ev.Kind == engine.EventFailover {
			fo = append(fo, "in recovery: "+ev.Detail)
		}
	}
	wantActive := 0
	if reported {
		wantActive = 1
	}
	switch {
	case len(fo) > 0 && !t.failoverDue:
		vs.fail(Failover, "failed over although the primary never made the backup wait beyond the %v threshold (%s)", b.scenario.Threshold, strings.Join(fo, "; "))
	case t.failoverDue && !t.powerLost && !reported:
		vs.fail(Failover, "the primary made the backup wait beyond the %v threshold, but the engine did not fail over", b.scenario.Threshold)
	case st.ActiveChip != wantActive:
		vs.fail(Failover, "active chip %d after the restart, want %d (failover reported before it: %v)", st.ActiveChip, wantActive, reported)
	case reported:
		vs.ok(Failover, "failover due (a wait beyond the %v threshold) and made; chip 1 still active after the restart", b.scenario.Threshold)
	case t.failoverDue:
		vs.ok(Failover, "failover due, power lost before it was made; chip 0 active")
	default:
		vs.ok(Failover, "no failover due (every wait below the %v threshold) and none made; chip 0 active", b.scenario.Threshold)
	}

	// 6 primary untouched: chip A was the primary while the round ran.
	w.checkPrimary(&vs, writes, 0, w.bench.primaryBaseStats)

	// 8 bounded wear (round + recoveries).
	checkWear(&vs, writes, w.chips[0].Geometry().EraseSize, "round and recovery")

	// 7 live: with no more faults, the next round succeeds and leaves the
	// primary's current information on the backup.
	if !w.liveDue {
		vs.skip(Live, "not checked for this point (see Options.LiveEvery)")
		return vs.all()
	}
	var key uint64
	hit := false
	var lv []Verdict
	if w.memoLive {
		key = w.liveKey(writes, e) ^ trace.Sum64()
		lv, hit = w.liveVerdicts[key]
	}
	if !hit {
		var liveWrites []faults.Op
		target = &liveWrites
		lv = w.checkLive(ctx, e, &liveWrites)
		w.liveRounds++
		if w.memoLive {
			w.liveVerdicts[key] = lv
		}
	}
	for _, v := range lv {
		vs.set(v)
	}
	return vs.all()
}

// liveKey fingerprints what the live round starts from: the contents of
// every block written so far (the rest is the base, the same for every
// point) and the recovered engine's configuration and generation.
func (w *worker) liveKey(writes []faults.Op, e *engine.Engine) uint64 {
	eb := w.bench.eraseSize
	offs := w.offsetBuf[:0]
	for _, op := range writes {
		for off := op.Off / eb * eb; off < op.Off+op.Len; off += eb {
			offs = append(offs, int64(op.Role)<<56|off)
		}
	}
	slices.Sort(offs)
	offs = slices.Compact(offs)
	w.offsetBuf = offs
	var h maphash.Hash
	h.SetSeed(hashSeed)
	w.quiet(func() {
		var b [16]byte
		for _, k := range offs {
			chip, off := int(k>>56)-1, k&(1<<56-1)
			if bh := w.blockHash(chip, off); bh != w.baseHash(chip, off) {
				binary.LittleEndian.PutUint64(b[:], uint64(k))
				binary.LittleEndian.PutUint64(b[8:], bh)
				h.Write(b[:])
			}
		}
	})
	st := e.Status()
	fmt.Fprintf(&h, "gen=%d active=%d cfg=%v", st.Generation, st.ActiveChip, describe(e.Config()))
	return h.Sum64()
}

// baseHash returns the hash of the block at off on chip in the base state
// (before the round), read from the worker's base chips.
func (w *worker) baseHash(chip int, off int64) uint64 {
	k := [2]int64{int64(chip), off}
	if v, ok := w.baseHashes[k]; ok {
		return v
	}
	if v, ok := w.bench.memo.hashes.Load(k); ok {
		w.baseHashes[k] = v.(uint64)
		return v.(uint64)
	}
	buf := w.readBuf[:w.bench.eraseSize]
	if _, err := w.baseChips[chip].ReadAt(buf, off); err != nil {
		return 0
	}
	v := maphash.Bytes(hashSeed, buf)
	w.baseHashes[k] = v
	w.bench.memo.hashes.Store(k, v)
	return v
}

func (w *worker) checkLive(ctx context.Context, e *engine.Engine, writes *[]faults.Op) []Verdict {
	vs := verdicts{}
	active := e.Status().ActiveChip
	baseline := w.chips[active].Stats()
	rep, err := e.Round(ctx)
	if err != nil {
		vs.fail(Live, "the round after recovery failed: %v", err)
		return vs.list()
	}
	all := append(slices.Clone(w.lastWrites), *writes...)
	post := w.view(1-active, all)
	if post.err != nil {
		vs.fail(Live, "after the live round the reference decoder cannot read the backup (chip %d): %v", 1-active, post.err)
		return vs.list()
	}
	want := w.bench.roundGen
	if active != 0 {
		// After a failover the primary is chip B, whose information was
		// restored from the backup store.
		var err error
		w.quiet(func() { want, err = w.regionGeneration(active) })
		if err != nil {
			vs.fail(Live, "after failover, chip %d's information region is unreadable: %v", active, err)
			return vs.list()
		}
	}
	var msg string
	w.setTouched(all)
	w.quiet(func() { msg = w.matchesOn(1-active, post, want) })
	if msg != "" {
		vs.fail(Live, "after the live round (%s) generation %d on chip %d does not hold the primary's information: %s", rep.Outcome, post.generation, 1-active, msg)
		return vs.list()
	}
	checkWear(&vs, *writes, w.bench.eraseSize, "live round")
	w.checkPrimary(&vs, *writes, active, baseline)
	vs.ok(Live, "the round after recovery: %s, generation %d on chip %d holds the primary's information", rep.Outcome, post.generation, 1-active)
	return vs.list()
}

// regionGeneration reads the information a chip's region holds now.
func (w *worker) regionGeneration(chip int) (*generation, error) {
	r, err := info.OpenRegion(w.chips[chip], w.bench.layout.InfoOff, w.bench.layout.InfoSize)
	if err != nil {
		return nil, err
	}
	return readGeneration(r, w.bench.scenario.Types, 0, engine.Config{})
}

// matches reports how the committed generation in v differs from g ("" if
// it holds exactly g's payloads).
func (w *worker) matches(v *storeView, g *generation) string { return w.matchesOn(1, v, g) }

// matchesOn is matches for the store on chip.
func (w *worker) matchesOn(chip int, v *storeView, g *generation) string {
	// The answer depends on the view, the generation and the contents of
	// the blocks it references; referenced blocks not written since the
	// base hold the base contents, so the key needs only the written ones.
	refs := v.refs()
	var offs []int64
	for k := range w.touched {
		if off := k & (1<<56 - 1); k>>56 == int64(chip) && refs[off] {
			offs = append(offs, off)
		}
	}
	slices.Sort(offs)
	var h maphash.Hash
	h.SetSeed(hashSeed)
	for _, off := range offs {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], uint64(off))
		binary.LittleEndian.PutUint64(b[8:], w.blockHash(chip, off))
		h.Write(b[:])
	}
	key := matchKey{v, g, h.Sum64()}
	if m, ok := w.matchMemo[key]; ok {
		return m
	}
	m := w.match(chip, v, g)
	if len(w.matchMemo) > 1<<16 {
		clear(w.matchMemo)
	}
	w.matchMemo[key] = m
	return m
}

type matchKey struct {
	view       *storeView
	generation *generation
	blocksHash uint64
}

// refs returns the chip offsets of the data blocks the view's committed
// generation references.
func (v *storeView) refs() map[int64]bool {
	if v.refSet == nil {
		n := 0
		for _, ts := range v.state.Types {
			n += len(ts.Chunks)
		}
		v.refSet = make(map[int64]bool, n)
		for _, ts := range v.state.Types {
			for _, c := range ts.Chunks {
				v.refSet[v.store.BlockOffset(c.Block)] = true
			}
		}
	}
	return v.refSet
}

func (w *worker) match(chip int, v *storeView, g *generation) string {
	var bad []string
	for _, t := range w.bench.scenario.Types {
		ts, ok := v.state.Type(uint8(t))
		if !ok {
			bad = append(bad, fmt.Sprintf("%v missing", t))
			continue
		}
		want := g.payloads[t]
		if ts.Size != int64(len(want)) {
			bad = append(bad, fmt.Sprintf("%v has %d bytes, want %d", t, ts.Size, len(want)))
			continue
		}
		exp := g.chunkPrints(t, int64(ts.Phase), w.bench.eraseSize)
		if len(exp) != len(ts.Chunks) {
			bad = append(bad, fmt.Sprintf("%v has %d chunks, want %d", t, len(ts.Chunks), len(exp)))
			continue
		}
		for i, c := range ts.Chunks {
			lo, hi := store.ChunkBounds(ts.Size, int64(ts.Phase), w.bench.eraseSize, i)
			d, err := w.print(chip, v.store.BlockOffset(c.Block), hi-lo)
			if err != nil || d != exp[i] {
				other := w.bench.prevGen
				if g == w.bench.prevGen {
					other = w.bench.roundGen
				}
				if g != w.bench.prevGen && g != w.bench.roundGen {
					bad = append(bad, fmt.Sprintf("%v chunk %d (block %d) does not match", t, i, c.Block))
					break
				}
				if oe := other.chunkPrints(t, int64(ts.Phase), w.bench.eraseSize); err == nil && i < len(oe) && oe[i] == d {
					bad = append(bad, fmt.Sprintf("%v chunk %d (block %d) holds generation %d's bytes: a mix", t, i, c.Block, other.number))
				} else {
					bad = append(bad, fmt.Sprintf("%v chunk %d (block %d) matches neither generation", t, i, c.Block))
				}
				break
			}
		}
	}
	if len(bad) > 3 {
		bad = append(bad[:3], fmt.Sprintf("and %d more", len(bad)-3))
	}
	return strings.Join(bad, "; ")
}

func (w *worker) checkPurged(vs *verdicts, pre, post *storeView, writes []faults.Op, events []engine.Event) {
	if post.interrupted != nil {
		vs.fail(Purged, "after recovery the backup still has interrupted generation %d pending", post.interrupted.Generation)
		return
	}
	// Blocks the round (or a cut recovery) wrote in the data area that the
	// committed generation does not use must read erased.
	live := post.refs()
	e := w.bench.eraseSize
	var dirty []int64
	seen := w.offsetBuf[:0]
	for _, op := range writes {
		if op.Role != faults.Backup || op.Off >= post.dataOff+post.dataSize || op.Off+op.Len <= post.dataOff {
			continue
		}
		for off := op.Off / e * e; off < op.Off+op.Len; off += e {
			seen = append(seen, off)
		}
	}
	slices.Sort(seen)
	seen = slices.Compact(seen)
	w.offsetBuf = seen
	checked := 0
	for _, off := range seen {
		if off < post.dataOff || off >= post.dataOff+post.dataSize || live[off] {
			continue
		}
		checked++
		if !w.erased(1, off) {
			dirty = append(dirty, off)
		}
	}
	if len(dirty) > 0 {
		sort.Slice(dirty, func(i, j int) bool { return dirty[i] < dirty[j] })
		vs.fail(Purged, "%d data block(s) written by the interrupted round do not read erased after recovery (first at %#x)", len(dirty), dirty[0])
		return
	}
	if pre.err == nil && pre.interrupted != nil {
		verified := false
		for _, ev := range events {
			if ev.Kind == engine.EventPurgeVerified && ev.Generation == pre.interrupted.Generation {
				verified = true
			}
		}
		if !verified {
			vs.fail(Purged, "interrupted generation %d was not reported purge-verified", pre.interrupted.Generation)
			return
		}
		vs.ok(Purged, "interrupted generation %d purged and verified; %d written block(s) read erased", pre.interrupted.Generation, checked)
		return
	}
	vs.ok(Purged, "no interrupted round pending; %d block(s) written outside the committed generation read erased", checked)
}

// checkPrimary: no program or erase reached the chip that was active
// (the primary) in writes, and its counts still equal baseline.
func (w *worker) checkPrimary(vs *verdicts, writes []faults.Op, active int, baseline hal.Stats) {
	role := faults.Role(active + 1)
	for _, op := range writes {
		if op.Role == role {
			vs.fail(PrimaryIntact, "the primary (chip %d) was written: %v", active, op)
			return
		}
	}
	s := w.chips[active].Stats()
	if s.Programs != baseline.Programs || s.Erases != baseline.Erases {
		vs.fail(PrimaryIntact, "the primary's (chip %d) program/erase counts moved from %d/%d to %d/%d",
			active, baseline.Programs, baseline.Erases, s.Programs, s.Erases)
		return
	}
	vs.ok(PrimaryIntact, "no program or erase reached the primary (chip %d)", active)
}

// touchKey is the key of the block at off on chip in worker.touched.
func touchKey(chip int, off int64) int64 { return int64(chip)<<56 | off }

// setTouched records the blocks written since the base (see touched).
func (w *worker) setTouched(writes []faults.Op) {
	clear(w.touched)
	eb := w.bench.eraseSize
	for _, op := range writes {
		for off := op.Off / eb * eb; off < op.Off+op.Len; off += eb {
			w.touched[touchKey(int(op.Role)-1, off)] = true
		}
	}
	w.lastWrites = writes
}

func checkWear(vs *verdicts, writes []faults.Op, e int64, phase string) {
	count := make(map[int64]int, len(writes)) // by role<<56 | offset
	for _, op := range writes {
		if op.Kind != faults.Erase {
			continue
		}
		for off := op.Off; off < op.Off+op.Len; off += e {
			k := int64(op.Role)<<56 | off
			if count[k]++; count[k] > WearBound {
				vs.fail(BoundedWear, "%v block at %#x erased %d times in the %s (bound %d)", op.Role, off, count[k], phase, WearBound)
				return
			}
		}
	}
	vs.ok(BoundedWear, "%d block(s) erased in the %s, none more than %d times", len(count), phase, WearBound)
}

func sameConfig(a, b engine.Config) bool {
	return slices.Equal(a.Types, b.Types) && a.Interval == b.Interval && a.Threshold == b.Threshold &&
		a.Verify == b.Verify && a.GroupSize == b.GroupSize && a.RetryAtOnce == b.RetryAtOnce
}

func describe(c engine.Config) string {
	return fmt.Sprintf("{types=%s interval=%v threshold=%v}", info.FormatList(c.Types), c.Interval, c.Threshold)
}

// verdicts collects one verdict per invariant; the first failure of an
// invariant wins over later passes.
type verdicts map[string]Verdict

func (vs verdicts) set(v Verdict) {
	if old, ok := vs[v.Invariant]; ok && !old.OK {
		return
	}
	vs[v.Invariant] = v
}
func (vs verdicts) ok(inv, format string, a ...any) {
	vs.set(Verdict{Invariant: inv, OK: true, Saw: fmt.Sprintf(format, a...)})
}
func (vs verdicts) fail(inv, format string, a ...any) {
	vs.set(Verdict{Invariant: inv, OK: false, Saw: fmt.Sprintf(format, a...)})
}
func (vs verdicts) skip(inv, why string) {
	if _, ok := vs[inv]; !ok {
		vs[inv] = Verdict{Invariant: inv, OK: true, Saw: "not checked: " + why}
	}
}

// list returns the verdicts set, in invariant order.
func (vs verdicts) list() []Verdict {
	var out []Verdict
	for _, inv := range Invariants() {
		if v, ok := vs[inv]; ok {
			out = append(out, v)
		}
	}
	return out
}

// all returns the verdicts in invariant order; invariants not reached are
// reported as not checked.
func (vs verdicts) all() []Verdict {
	var out []Verdict
	for _, inv := range Invariants() {
		v, ok := vs[inv]
		if !ok {
			v = Verdict{Invariant: inv, OK: true, Saw: "not checked: an earlier step failed"}
		}
		out = append(out, v)
	}
	return out
}

// print returns the fingerprint of n bytes at off on chip, cached by the
// block's version (or, for a block untouched since the base, for good).
func (w *worker) print(chip int, off, n int64) (uint64, error) {
	e := w.bench.eraseSize
	if !w.touched[touchKey(chip, off/e*e)] {
		// Untouched since the base: the base contents, cached for good.
		k := blockKey{chip, off / e, 0, n}
		if d, ok := w.basePrints[k]; ok {
			return d, nil
		}
		if d, ok := w.bench.memo.prints.Load(k); ok {
			w.basePrints[k] = d.(uint64)
			return d.(uint64), nil
		}
		buf := w.readBuf[:n]
		if _, err := w.baseChips[chip].ReadAt(buf, off); err != nil {
			return 0, err
		}
		d := fingerprint(buf)
		w.basePrints[k] = d
		w.bench.memo.prints.Store(k, d)
		return d, nil
	}
	k := blockKey{0, 0, w.chips[chip].BlockVersion(off / e), n}
	if d, ok := w.versionPrints[k]; ok {
		return d, nil
	}
	buf := w.readBuf[:n]
	if _, err := w.chips[chip].ReadAt(buf, off); err != nil {
		return 0, err
	}
	d := fingerprint(buf)
	if len(w.versionPrints) > 1<<18 {
		clear(w.versionPrints)
	}
	w.versionPrints[k] = d
	return d, nil
}

// erased reports whether the erase block at off reads all 0xFF, cached by
// version.
func (w *worker) erased(chip int, off int64) bool { return w.facts(chip, off).erased }

type blockKey struct {
	chip    int
	block   int64
	version uint64
	length  int64
}

// worker owns a pair of chips to branch into.
type worker struct {
	bench         *bench
	chips         [2]*sim.Flash
	clock         *harnessClock
	liveDue       bool
	memoLive      bool
	liveRounds    int // live rounds actually run (the rest reused a memoised verdict)
	versionPrints map[blockKey]uint64
	versionFacts  map[uint64]blockFacts
	baseChips     [2]*sim.Flash // held at the base state
	baseHashes    map[[2]int64]uint64
	basePrints    map[blockKey]uint64
	// touched holds the blocks (touchKey of chip and offset) written since the base in
	// the run being judged; the others hold the base contents.
	touched    map[int64]bool // by touchKey
	lastWrites []faults.Op
	offsetBuf  []int64
	// stable: no torn operation with unstable reads in the run judged.
	stable               bool
	views                map[viewKey]*storeView
	liveVerdicts         map[uint64][]Verdict
	matchMemo            map[matchKey]string
	readBuf, erasedBlock []byte
	erasedHash           uint64 // maphash of ff
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
	w := &worker{baseChips: base, bench: b, chips: chips, clock: newHarnessClock(clock), liveDue: true,
		versionPrints: map[blockKey]uint64{},
		versionFacts:  map[uint64]blockFacts{}, views: map[viewKey]*storeView{}, liveVerdicts: map[uint64][]Verdict{}, matchMemo: map[matchKey]string{},
		baseHashes: map[[2]int64]uint64{}, basePrints: map[blockKey]uint64{}, touched: map[int64]bool{},
		readBuf: make([]byte, e), erasedBlock: bytes.Repeat([]byte{0xff}, int(e))}
	w.erasedHash = maphash.Bytes(hashSeed, w.erasedBlock)
	return w, nil
}
