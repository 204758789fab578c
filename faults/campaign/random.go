package campaign

import (
	"math/rand/v2"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/info"
)

// randomCase draws the n-th schedule of a random campaign: one to three
// ingredients, each with its own odds —
//
//   - a power cut or a torn operation somewhere in the round;
//   - the primary failing one read (far below the threshold), or failing
//     every read for a while (a wait short of the threshold or past it),
//     or dying from a probe on;
//   - a probe answered slowly: a quarter of the threshold, exactly the
//     threshold or a tick either side, or twice the threshold;
//   - the primary's image header, a record header or a payload corrupted
//     at some operation;
//   - a backup write failing, an erase failing silently, a program
//     reading right once only;
//   - backup damage before the round (a journal record, a committed
//     chunk, a free block);
//   - a cut in the recovery, or a silent erase failure there (the purge's
//     erase-and-verify).
//
// One seed drives every choice (seed and n).
func randomCase(b *bench, seed uint64, n int) Case {
	r := rand.New(rand.NewPCG(seed, uint64(n)^0x9e3779b97f4a7c15))
	d := &draw{b: b, r: r, s: faults.Schedule{Seed: seed ^ uint64(n)}}
	d.classify()
	c := Case{Scenario: b.scenario.Name, Seed: b.seed, Mutant: b.mutant}
	ingredients := []func(){d.primaryFails, d.slowProbe, d.primaryCorrupt, d.backupFaults, d.cut}
	for k := 1 + r.IntN(3); k > 0; k-- {
		ingredients[r.IntN(len(ingredients))]()
	}
	if r.Float64() < 0.1 {
		c.Before = d.damage()
	}
	if d.cutSome && r.Float64() < 0.3 {
		c.Recovery = d.recoveryFaults()
	}
	if len(d.s.Rules) == 0 {
		d.cut()
	}
	c.Round = d.s
	return c
}

// draw is one random case being drawn.
type draw struct {
	b *bench
	r *rand.Rand
	s faults.Schedule
	// the recorded round's operations by what they are.
	primaryReads, probes, backupWrites, backupPrograms, backupErases []int64
	cutSome                                                          bool // the round may lose power
}

func (d *draw) classify() {
	for i, st := range d.b.steps {
		op := st.op
		switch {
		case op.Role == faults.Primary && op.Kind == faults.Read:
			d.primaryReads = append(d.primaryReads, int64(i))
			if op.Off == d.b.layout.ImageOff {
				d.probes = append(d.probes, int64(i))
			}
		case op.Role == faults.Backup && op.Kind == faults.Program:
			d.backupPrograms = append(d.backupPrograms, int64(i))
			d.backupWrites = append(d.backupWrites, int64(i))
		case op.Role == faults.Backup && op.Kind == faults.Erase:
			d.backupErases = append(d.backupErases, int64(i))
			d.backupWrites = append(d.backupWrites, int64(i))
		}
	}
}

func (d *draw) pick(from []int64) (int64, bool) {
	if len(from) == 0 {
		return 0, false
	}
	return from[d.r.IntN(len(from))], true
}

func (d *draw) add(when faults.Pred, do faults.Action) {
	d.s.Rules = append(d.s.Rules, faults.Rule{When: when, Do: do})
}

func primaryReadsBetween(lo, hi int64) faults.Pred {
	return faults.And{Preds: []faults.Pred{faults.OnRole{Role: faults.Primary}, faults.OnKind{Kind: faults.Read}, faults.After{Index: lo}, faults.Before{Index: hi}}}
}

// primaryFails: one failed read, a stretch of failed reads, or death.
func (d *draw) primaryFails() {
	i, ok := d.pick(d.primaryReads)
	if !ok {
		return
	}
	switch d.r.IntN(3) {
	case 0:
		d.add(faults.At{Index: i}, faults.Fail{Kind: faults.FailMedia})
	case 1:
		// The probes that follow an anomaly come every 5 ms: a stretch of
		// k further reads fails for about k × 5 ms.
		d.add(primaryReadsBetween(i, i+1+int64(d.r.IntN(600))), faults.Fail{Kind: faults.FailTimeout})
	default:
		d.add(primaryReadsBetween(i, 1<<40), faults.Fail{Kind: faults.FailTimeout})
	}
}

// slowProbe: a probe answered after a quarter of the threshold, the
// threshold exactly or a tick either side, or twice the threshold; or
// reads slowed at random below the threshold.
func (d *draw) slowProbe() {
	th := d.b.threshold()
	i, ok := d.pick(d.probes)
	if !ok {
		return
	}
	took := d.b.answers[i].Duration()
	switch k := d.r.IntN(6); k {
	case 0:
		d.add(faults.At{Index: i}, faults.Delay{Duration: th / 4})
	case 1, 2, 3:
		d.add(faults.At{Index: i}, faults.Delay{Duration: th - took + time.Duration(k-2)})
	case 4:
		d.add(faults.At{Index: i}, faults.Delay{Duration: 2 * th})
	default:
		d.add(faults.And{Preds: []faults.Pred{faults.OnRole{Role: faults.Primary}, faults.OnKind{Kind: faults.Read}, faults.Random{Probability: 0.2, Seed: d.r.Uint64()}}},
			faults.Delay{Duration: th / 4})
	}
}

// primaryCorrupt: the primary's image header scribbled, or a bit of a
// record header or of a payload flipped, at some operation of the round.
func (d *draw) primaryCorrupt() {
	at := faults.At{Index: d.r.Int64N(int64(len(d.b.steps)))}
	t := d.b.scenario.Types[d.r.IntN(len(d.b.scenario.Types))]
	rec := d.b.records[t]
	l := d.b.layout
	switch d.r.IntN(3) {
	case 0:
		d.add(at, faults.Scribble{Role: faults.Primary, Lo: l.ImageOff, Hi: l.ImageOff + info.ImageHeaderSize})
	case 1:
		d.add(at, faults.Flip{Role: faults.Primary, Lo: rec, Hi: rec + info.RecordHeaderSize, Bits: 1 + d.r.IntN(3)})
	default:
		size := max(int64(len(d.b.roundGen.payloads[t])), 1)
		d.add(at, faults.Flip{Role: faults.Primary, Lo: rec + info.RecordHeaderSize, Hi: rec + info.RecordHeaderSize + size, Bits: 1 + d.r.IntN(3)})
	}
}

// backupFaults: a backup write failing, an erase failing silently, a
// program reading right once only.
func (d *draw) backupFaults() {
	switch d.r.IntN(3) {
	case 0:
		if i, ok := d.pick(d.backupWrites); ok {
			d.add(faults.At{Index: i}, faults.Fail{Kind: faults.FailMedia})
		}
	case 1:
		if i, ok := d.pick(d.backupErases); ok {
			d.add(faults.At{Index: i}, faults.SilentErase{Partial: d.r.IntN(2) == 0})
		}
	default:
		if i, ok := d.pick(d.backupPrograms); ok {
			d.add(faults.At{Index: i}, faults.Weak{})
		}
	}
}

// cut: a power cut or a torn operation somewhere in the round.
func (d *draw) cut() {
	i := d.r.Int64N(int64(len(d.b.steps)))
	var do faults.Action = faults.Cut{}
	if d.r.IntN(2) == 0 {
		do = faults.Torn{Mode: faults.TornMode(1 + d.r.IntN(3)), Unstable: d.r.IntN(3) == 0}
	}
	d.add(faults.At{Index: i}, do)
	d.cutSome = true
}

// recoveryFaults: a cut in the recovery that follows, or a silent erase
// failure there (operations counted from 0 in the recovery).
func (d *draw) recoveryFaults() faults.Schedule {
	k := d.r.Int64N(60)
	if d.r.IntN(2) == 0 {
		return faults.Schedule{Seed: d.s.Seed, Rules: []faults.Rule{{When: faults.At{Index: k}, Do: faults.Cut{}}}}
	}
	return faults.Schedule{Seed: d.s.Seed, Rules: []faults.Rule{{When: faults.And{Preds: []faults.Pred{faults.OnKind{Kind: faults.Erase}, faults.After{Index: k}}},
		Do: faults.SilentErase{Partial: d.r.IntN(2) == 0}}}}
}

// damage: backup damage before the round: a bit of a journal record, of
// a committed chunk, or a free block past the cursor scribbled.
func (d *draw) damage() faults.Schedule {
	ps := d.b.damagePoints()
	return ps[d.r.IntN(len(ps))].before
}
