package campaign

import (
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/info"
)

// pointKind is what an exhaustive point does.
type pointKind uint8

const (
	pointCut     pointKind = iota // a power cut before an operation
	pointTorn                     // an operation torn by a power cut
	pointAnomaly                  // the primary fails one read: an anomaly far below the threshold
	// pointSilentErase: a backup erase reports success and leaves the
	// block unchanged or partly erased.
	pointSilentErase
	// pointWeak: a backup program reads right once, then differently.
	pointWeak
	// pointPrimaryCorrupt: a flip or scribble of the primary during the
	// round: of the bytes a read of the collect step is about to read,
	// or, during the writes, of the image header, a record header (both
	// of which the probes read) or a payload already read.
	pointPrimaryCorrupt
	// pointSlowProbe: a probe of the primary answered after exactly the
	// threshold, one clock tick less, or one more.
	pointSlowProbe
	// pointPrimaryDies: from a probe on the primary answers nothing.
	pointPrimaryDies
	// pointBackupDamage: committed backup data damaged before the engine
	// opens (Case.Before): a journal record, a superblock copy, a whole
	// block, a committed chunk, a free block past the allocation cursor.
	pointBackupDamage
	// pointReimage: the backup re-imaged from a dump of the primary before
	// the engine opens (the engine must refuse it, or handle it).
	pointReimage
	// pointWorn: from a backup program of the round on, every program of
	// its area (the journal and superblocks, or the data area) is weak: a
	// worn region where nothing programmed holds, so a writer's retries
	// (written again, erased and written again) never succeed and must
	// stop.
	pointWorn
	// pointStop: the round stopped by its context, the backup's erases
	// failing from there (stop.go).
	pointStop
	// pointWornErase: from a backup erase of the round on, every erase of
	// its area fails silently (wornerase.go).
	pointWornErase
	// pointFadeOpen: after the fault-free round, the backup's last journal
	// record fades as the recovery opens (fadeopen.go).
	pointFadeOpen
)

var pointKindNames = []string{
	pointCut: "cut", pointTorn: "torn", pointAnomaly: "anomaly", pointSilentErase: "silent-erase", pointWeak: "weak",
	pointPrimaryCorrupt: "primary-corrupt", pointSlowProbe: "slow-probe", pointPrimaryDies: "primary-dies", pointBackupDamage: "backup-damage",
	pointReimage: "reimage", pointWorn: "worn", pointStop: "stop", pointWornErase: "worn-erase", pointFadeOpen: "fade-open",
}

// String returns the kind's name, as reports count points by kind.
func (k pointKind) String() string { return pointKindNames[k] }

// Sampling of the points run as cases (each is a whole round): every
// journal program and every eighth chunk-data program is made weak; a
// record header and a payload of the primary are flipped at every eighth
// backup write, its image header scribbled at every 32nd (each of those
// fails over, and a failover restores the whole region and the live round
// after it syncs it all again).
const (
	weakDataEvery     = 8
	primaryWriteEvery = 8
	imageWriteEvery   = 32
	// journalBodyEvery: a bit of the body of every fourth journal record
	// of the base is flipped before the round (of every header: one).
	journalBodyEvery = 4
)

// points lists a bench's exhaustive points: per operation of the recorded
// round (power loss at every one; the kinds run as cases where they
// apply, sampled as the constants above say), then the backup damage done
// before the round, then the worn areas, the stopped rounds, the worn
// erases and the fade at the recovery's open (last, so that a shard's
// earlier points stay what they were).
func (b *bench) points() []point {
	var ps []point
	writes := 0
	for i, st := range b.steps {
		op := st.op
		ps = append(ps, cutVariants(i, op)...)
		ps = append(ps, b.opPoints(i, op, &writes)...)
	}
	ps = append(ps, b.damagePoints()...)
	ps = append(ps, b.wornPoints()...)
	ps = append(ps, b.stopPoints()...)
	ps = append(ps, b.wornErasePoints()...)
	return append(ps, b.fadeOpenPoints()...)
}

// wornPoints lists the worn areas of the round: from the round's first
// backup program outside the data area on, every program there weak
// (the journal: the intent, chunk records, commit, the recovery's
// purged mark); and from its first data program on, every data program
// weak (each chunk written again after an erase, within a bound, then
// the round ends and the recovery purges). A writer that kept retrying
// would wear a block out (the live round fails, or a purged block no
// longer reads erased).
func (b *bench) wornPoints() []point {
	return b.areaPoints(faults.Program, pointWorn, faults.Weak{})
}

// areaPoints lists, for the journal side (every backup operation of kind
// outside the data area) and the data area, a point whose rule strikes
// every operation of kind there with act from the round's first such
// operation on: one point per area the round reaches.
func (b *bench) areaPoints(kind faults.Kind, pk pointKind, act faults.Action) []point {
	data := faults.Addr{Lo: b.dataOff, Hi: b.dataOff + b.dataSize}
	var ps []point
	journal, dataSeen := false, false
	for i, st := range b.steps {
		op := st.op
		if op.Role != faults.Backup || op.Kind != kind {
			continue
		}
		from := []faults.Pred{faults.OnRole{Role: faults.Backup}, faults.OnKind{Kind: kind}, faults.After{Index: int64(i)}}
		switch {
		case !b.inDataArea(op.Off) && !journal:
			journal = true
			ps = append(ps, point{opIndex: i, kind: pk, round: b.rule(faults.And{Preds: append(from, faults.Not{Pred: data})}, act)})
		case b.inDataArea(op.Off) && !dataSeen:
			dataSeen = true
			ps = append(ps, point{opIndex: i, kind: pk, round: b.rule(faults.And{Preds: append(from, data)}, act)})
		}
	}
	return ps
}

// rule is a one-rule schedule (seeded with the bench's seed).
func (b *bench) rule(when faults.Pred, do faults.Action) faults.Schedule {
	return faults.Schedule{Seed: b.seed, Rules: []faults.Rule{{When: when, Do: do}}}
}

// opPoints lists the points run as cases at round operation i; writes
// counts the backup writes so far.
func (b *bench) opPoints(i int, op faults.Op, writes *int) []point {
	at := faults.At{Index: int64(i)}
	one := func(kind pointKind, do faults.Action) point {
		return point{opIndex: i, kind: kind, round: b.rule(at, do)}
	}
	var ps []point
	switch {
	case op.Role == faults.Primary && op.Kind == faults.Read:
		ps = append(ps, one(pointAnomaly, faults.Fail{Kind: faults.FailMedia}))
		if i < b.split {
			ps = append(ps, one(pointPrimaryCorrupt, faults.Flip{Role: faults.Primary, Lo: op.Off, Hi: op.Off + op.Len, Bits: 1}))
		}
		if op.Off == b.layout.ImageOff {
			ps = append(ps, b.probePoints(i)...)
		}
	case op.Role == faults.Backup && op.Kind == faults.Erase:
		ps = append(ps, one(pointSilentErase, faults.SilentErase{}), one(pointSilentErase, faults.SilentErase{Partial: true}))
	case op.Role == faults.Backup && op.Kind == faults.Program:
		if !b.inDataArea(op.Off) || *writes%weakDataEvery == 0 {
			ps = append(ps, one(pointWeak, faults.Weak{}))
		}
	}
	if op.Role == faults.Backup && op.Kind != faults.Read {
		if i >= b.split && *writes%primaryWriteEvery == 0 {
			ps = append(ps, b.primaryCorruptPoints(i, *writes)...)
		}
		*writes++
	}
	return ps
}

// probePoints lists the points at a probe of the primary (operation i):
// answered after the threshold, a tick less and a tick more; and the
// primary dying there.
func (b *bench) probePoints(i int) []point {
	took := b.answers[i].Duration()
	var ps []point
	for _, tick := range []int64{-1, 0, 1} {
		d := b.threshold() - took + time.Duration(tick)
		ps = append(ps, point{opIndex: i, kind: pointSlowProbe, round: b.rule(faults.At{Index: int64(i)}, faults.Delay{Duration: d})})
	}
	dies := faults.And{Preds: []faults.Pred{faults.OnRole{Role: faults.Primary}, faults.OnKind{Kind: faults.Read}, faults.After{Index: int64(i)}}}
	return append(ps, point{opIndex: i, kind: pointPrimaryDies, round: b.rule(dies, faults.Fail{Kind: faults.FailTimeout})})
}

// primaryCorruptPoints lists the primary's corruption at backup write i
// (the n-th): a bit of a record header flipped, a bit of a payload (read
// already) flipped, and at every imageWriteEvery-th its image header
// scribbled.
func (b *bench) primaryCorruptPoints(i, n int) []point {
	at := faults.At{Index: int64(i)}
	t := b.scenario.Types[n/primaryWriteEvery%len(b.scenario.Types)]
	rec := b.records[t]
	size := int64(len(b.roundGen.payloads[t]))
	l := b.layout
	ps := []point{
		{opIndex: i, kind: pointPrimaryCorrupt, round: b.rule(at, faults.Flip{Role: faults.Primary, Lo: rec, Hi: rec + info.RecordHeaderSize, Bits: 1})},
		{opIndex: i, kind: pointPrimaryCorrupt, round: b.rule(at, faults.Flip{Role: faults.Primary, Lo: rec + info.RecordHeaderSize, Hi: rec + info.RecordHeaderSize + max(size, 1), Bits: 1})},
	}
	if n%imageWriteEvery == 0 {
		ps = append(ps, point{opIndex: i, kind: pointPrimaryCorrupt, round: b.rule(at, faults.Scribble{Role: faults.Primary, Lo: l.ImageOff, Hi: l.ImageOff + info.ImageHeaderSize})})
	}
	return ps
}

// damagePoints lists the backup damage done before the round: a bit of
// each journal record's header and of every journal-body-every-th one's
// body (and the last's), the last record written over an earlier one in
// the middle of a block (a misdirected write), a bit of each superblock
// copy, whole blocks scribbled (superblock 0, the journal's first and
// last blocks), a bit of a chunk of each type that the round leaves
// unchanged, and the first free blocks past the allocation cursor
// scribbled.
func (b *bench) damagePoints() []point {
	bb := b.baseBackup
	e := b.eraseSize
	var ps []point
	before := func(do faults.Action) {
		ps = append(ps, point{opIndex: -1, kind: pointBackupDamage, before: b.rule(faults.At{Index: 0}, do)})
	}
	flip := func(lo, hi int64) { before(faults.Flip{Role: faults.Backup, Lo: lo, Hi: hi, Bits: 1}) }
	scribble := func(off int64) { before(faults.Scribble{Role: faults.Backup, Lo: off, Hi: off + e}) }
	for i, r := range bb.Journal {
		flip(r.Off, r.Off+24)
		if i%journalBodyEvery == 0 || i == len(bb.Journal)-1 {
			flip(r.Off+24, r.Off+r.Size)
		}
	}
	// A misdirected write: the journal's last record also landed on the
	// slot of the latest earlier record in the middle of a block, where
	// the chain meets a valid record of a higher sequence number than
	// expected (docs/FORMAT.md 4.6 step 3: a sequence gap in the block;
	// the flips above make invalid records, never this).
	if n := len(bb.Journal); n > 1 {
		last := bb.Journal[n-1]
		for i := n - 2; i >= 0; i-- {
			if r := bb.Journal[i]; r.Off%e != 0 {
				before(faults.Misdirect{Role: faults.Backup, From: last.Off, To: r.Off, Len: last.Size})
				break
			}
		}
	}
	for copyOff := range 2 {
		off := bb.StoreOff + int64(copyOff)*e
		flip(off, off+96)
	}
	scribble(bb.StoreOff)
	if n := len(bb.Journal); n > 0 {
		scribble(bb.Journal[0].Off / e * e)
		scribble(bb.Journal[n-1].Off / e * e)
	}
	for _, t := range b.scenario.Types {
		if off, ok := b.unchangedChunk(t); ok {
			flip(off, off+64)
		}
	}
	for k := range uint32(2) {
		if d := bb.Cursor + k; d < bb.Superblock.DataBlocks {
			scribble(bb.BlockOffset(d))
		}
	}
	return ps
}

// unchangedChunk returns the chip offset of the data block of a chunk of
// type t that the round leaves as it is (the same bytes in both
// generations).
func (b *bench) unchangedChunk(t info.Type) (int64, bool) {
	ts, ok := b.baseBackup.Committed.Type(uint8(t))
	if !ok {
		return 0, false
	}
	phase := int64(ts.Phase)
	prev, next := b.prevGen.chunkPrints(t, phase, b.eraseSize), b.roundGen.chunkPrints(t, phase, b.eraseSize)
	for i := len(ts.Chunks) - 1; i >= 0; i-- {
		if i < len(next) && prev[i] == next[i] {
			return b.baseBackup.BlockOffset(ts.Chunks[i].Block), true
		}
	}
	return 0, false
}
