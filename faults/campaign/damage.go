package campaign

import (
	"fmt"

	"github.com/cmcsync/cmcsync/faults"
)

// damage is a range of a chip that the harness damaged behind the
// engine's back: a flip or scribble (before the round or during it), or a
// weak program that reads right once and differently afterwards.
type damage struct {
	chip    int
	off, n  int64
	at      int64 // the round's operation it came before; -1: before the round
	weak    bool
	because string
}

func (d damage) String() string {
	when := "before the round"
	if d.at >= 0 {
		when = fmt.Sprintf("at #%d", d.at)
	}
	return fmt.Sprintf("%s of chip %d [%#x+%#x] %s", d.because, d.chip, d.off, d.n, when)
}

// damageOf lists what in's flips and scribbles changed and what its weak
// programs wrote; before marks damage done before the round.
func damageOf(in *faults.Injector, before bool) []damage {
	var out []damage
	for _, role := range []faults.Role{faults.Primary, faults.Backup} {
		for _, s := range in.Corrupted(role) {
			d := damage{chip: int(role) - 1, off: s.Off, n: s.Len, at: s.At, because: "flipped or scribbled"}
			if before {
				d.at = -1
			}
			out = append(out, d)
		}
	}
	for _, f := range in.Fired() {
		if _, ok := f.Action.(faults.Weak); ok && f.Op.Kind == faults.Program {
			out = append(out, damage{chip: chipOf(f.Op), off: f.Op.Off, n: f.Op.Len, at: f.Op.Index, weak: true, because: "weakly programmed"})
		}
	}
	return out
}

// noteDamage adds the blocks ds cover to the blocks the harness changed in
// the run (worker.harness).
func (w *worker) noteDamage(ds []damage) {
	e := w.bench.eraseSize
	for _, d := range ds {
		for off := d.off / e * e; off < d.off+d.n; off += e {
			w.harness = append(w.harness, touchKey(d.chip, off))
		}
	}
}

// applyBefore does a case's before damage to the chips: an injector of s
// over both chips, and one read of the primary's first byte (operation 0)
// for its rules to act on. The clock is left as it was.
func (w *worker) applyBefore(s faults.Schedule) ([]damage, error) {
	if len(s.Rules) == 0 {
		return nil, nil
	}
	at := w.clock.Now()
	defer w.clock.set(at)
	in := faults.NewInjector(s, faults.Options{Clock: w.clock})
	p := in.Wrap(w.chips[0], faults.Primary)
	in.Wrap(w.chips[1], faults.Backup)
	if _, err := p.ReadAt(make([]byte, 1), 0); err != nil {
		return nil, fmt.Errorf("before the round: %w", err)
	}
	if err := in.Err(); err != nil {
		return nil, fmt.Errorf("before the round: %w", err)
	}
	if w.story != nil {
		w.story.tellPhase("before", s, []faults.Op{{Role: faults.Primary, Kind: faults.Read, Len: 1}}, in.Fired())
	}
	return damageOf(in, true), nil
}

// healPrimary puts back the primary's blocks the harness damaged (flips
// and scribbles of chip A: worker.harness) as the base held them, before
// the live round: "once faults stop" the CMC's services have rewritten
// their records and the image is whole again. The engine never writes
// chip A as the primary, so its base contents are what it must hold
// (primary-untouched checks that apart, on the operations).
func (w *worker) healPrimary() {
	e := w.bench.eraseSize
	for _, k := range w.harness {
		chip, off := splitTouchKey(k)
		if chip != 0 {
			continue
		}
		buf := make([]byte, e)
		if _, err := w.baseChips[0].ReadAt(buf, off); err == nil {
			w.chips[0].Poke(off, buf)
		}
	}
}
