package campaign

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// failoverFacts is what the failover invariant judges (docs/DESIGN.md,
// Invariants, "Failover").
type failoverFacts struct {
	// due: some wait of the primary exceeded the threshold (failoverDue);
	// longest is the longest wait.
	due     bool
	longest *wait
	// powerLost: a cut or torn operation ended the round.
	powerLost bool
	// refused: the backup refused the due failover (failoverRefused): the
	// faults defeated each try of the role record and the round reported
	// an error.
	refused bool
	// inRound and inRecovery are the failovers the engine reported in the
	// round and in the recovery after it.
	inRound, inRecovery []string
	// storeActive is the active chip by the newest role in the two
	// stores as the reference decoder reads them after recovery (-1 if
	// neither decodes); engineActive the one engine.Status reports.
	storeActive, engineActive int
	// restored says how the active chip's information region differs
	// from the last committed generation ("" if it holds it), when chip 1
	// is active.
	restored string
}

// judgeFailover: the engine fails over if and only if the primary made
// the backup wait beyond the threshold; which chip is active survives the
// power loss (the stores' roles say chip 1 exactly when a failover was
// reported before the restart; either, if one was due and power was lost
// while it was made, or the faults defeated each of the engine's tries of
// the role record and the round reported it); the engine agrees with the stores; and after a
// failover the active chip's information equals the last committed
// generation.
func judgeFailover(vs verdicts, f failoverFacts, threshold time.Duration) {
	made := len(f.inRound) > 0
	all := append(append([]string{}, f.inRound...), f.inRecovery...)
	waited := "every request answered correctly in time"
	if f.longest != nil {
		waited = "longest wait " + f.longest.String()
	}
	switch {
	case len(all) > 0 && !f.due:
		vs.fail(Failover, "failed over although the primary never made the backup wait beyond the %v threshold (%s; %s)", threshold, waited, strings.Join(all, "; "))
	case f.due && !f.powerLost && !f.refused && !made:
		vs.fail(Failover, "the primary made the backup wait beyond the %v threshold (%s), but the engine did not fail over", threshold, waited)
	case f.storeActive < 0:
		vs.fail(Failover, "neither store decodes after the restart: no role says which chip is active")
	case f.storeActive != f.engineActive:
		vs.fail(Failover, "the engine says chip %d is active, the stores' newest role says chip %d", f.engineActive, f.storeActive)
	case made && f.storeActive != 1, !made && !(f.due && (f.powerLost || f.refused)) && f.storeActive != 0:
		vs.fail(Failover, "active chip %d after the restart, want %d (failover reported before it: %v)", f.storeActive, btoi(made), made)
	case f.storeActive == 1 && f.restored != "":
		vs.fail(Failover, "after the failover chip 1's information region does not hold the last committed generation: %s", f.restored)
	case made:
		vs.ok(Failover, "failover due (%s, threshold %v) and made; chip 1 active after the restart, its information restored", waited, threshold)
	case f.due && f.powerLost:
		vs.ok(Failover, "failover due (%s), power lost before it was reported; chip %d active", waited, f.storeActive)
	case f.due:
		vs.ok(Failover, "failover due (%s), the backup refused its role record (the faults defeated each of the %d tries after the wait passed the threshold; the round reported the error); chip %d active", waited, failoverTries, f.storeActive)
	default:
		vs.ok(Failover, "no failover due (%s, threshold %v) and none made; chip 0 active", waited, threshold)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// failoverFacts gathers the facts of the failover invariant after
// recovery: the waits in the round's answers, the failovers reported, the
// active chip by the stores' roles (both decoded with the reference
// decoder) and by the engine, and, if chip 1 is active, how its
// information region differs from want, the last committed generation.
func (w *worker) failoverFacts(t *trial, rec *recovery, writes []faults.Op, want *generation, excused func(info.Type) bool) failoverFacts {
	f := failoverFacts{powerLost: t.powerLost, storeActive: -1, engineActive: rec.engine.Status().ActiveChip}
	f.due, f.longest = failoverDue(t.answers, w.bench.threshold())
	if f.due {
		f.refused = failoverRefused(t.answers, inMetadata(t.backupFaults, w.bench.journalOff, w.bench.journalSize), w.bench.threshold(), t.roundErr)
	}
	for _, ev := range t.preEvents {
		if ev.Kind == engine.EventFailover {
			f.inRound = append(f.inRound, "in the round: "+ev.Detail)
		}
	}
	for _, ev := range rec.events {
		if ev.Kind == engine.EventFailover {
			f.inRecovery = append(f.inRecovery, "in recovery: "+ev.Detail)
		}
	}
	var stores []*reference.Backup
	for chip := range 2 {
		stores = append(stores, w.view(chip, writes).backup)
	}
	if role, ok := reference.NewestRole(stores...); ok {
		f.storeActive = int(role.Active)
	}
	if f.storeActive == 1 {
		w.quiet(func() { f.restored = w.regionDiffers(1, want, excused) })
	}
	return f
}

// regionDiffers says how chip's information region differs from g's
// payloads ("" if it holds them), leaving out the types g does not hold
// (nothing to restore) and those excused says the restore could not have
// had right.
func (w *worker) regionDiffers(chip int, g *generation, excused func(info.Type) bool) string {
	if w.stable && (w.regionKnownHolds(chip, g) || w.regionHolds(chip, g)) {
		return ""
	}
	got, err := w.regionGeneration(chip)
	if err != nil {
		return fmt.Sprintf("unreadable: %v", err)
	}
	var bad []string
	for _, t := range w.bench.scenario.Types {
		want, held := g.payloads[t]
		if held && !bytes.Equal(got.payloads[t], want) && !excused(t) {
			bad = append(bad, fmt.Sprintf("%v (%d bytes, generation %d's has %d)", t, len(got.payloads[t]), g.number, len(g.payloads[t])))
		}
	}
	if len(bad) > 0 {
		return "differs in " + strings.Join(bad, ", ")
	}
	return ""
}

// regionHolds reports whether chip's information region holds every one
// of the scenario's types as a valid record whose payload is g's (the
// case where regionDiffers says ""), comparing the payloads byte for
// byte with g's instead of reading them into a generation: no payload
// is allocated and no CRC computed (info.Region.ReadEqual, g.crc). Only
// for stable chips: with unstable cells a false answer would have read
// them once more before regionDiffers reads them again.
func (w *worker) regionHolds(chip int, g *generation) bool {
	r, err := info.OpenRegion(w.chips[chip], w.bench.layout.InfoOff, w.bench.layout.InfoSize)
	if err != nil {
		return false
	}
	for _, t := range w.bench.scenario.Types {
		want, held := g.payloads[t]
		if !held {
			return false
		}
		if w.regionBuf, err = r.ReadEqual(t, want, g.crc(t), w.regionBuf); err != nil {
			return false
		}
	}
	return true
}

// damagedTypes returns whether a type's committed chunks on chip 1 (post)
// lie in blocks the faults damaged after they were written, provided the
// engine reported damage or an error (reported): after a failover such a
// type cannot be restored as it was committed, and an engine that says so
// is not at fault.
func (w *worker) damagedTypes(t *trial, post *storeView, reported []string) func(info.Type) bool {
	return func(ty info.Type) bool {
		ts, ok := post.state.Type(uint8(ty))
		if !ok || len(reported) == 0 {
			return false
		}
		for _, c := range ts.Chunks {
			if damagedSinceWritten(t, 1, post.blockOffset(c.Block), w.bench.eraseSize) {
				return true
			}
			for _, d := range c.Deltas {
				if damagedSinceWritten(t, 1, post.blockOffset(d.Block), w.bench.eraseSize) {
					return true
				}
			}
		}
		return false
	}
}

// lastCommitted returns the generation the backup committed last, as the
// oracle knows it: the one before the round or the round's, by number;
// when damage before the round destroyed commits (the reference decoder
// read an older generation from the damaged base), what the backup store
// holds now, its payloads read back and checked against their digests by
// the reference decoder (a payload that does not read back is left out).
func (w *worker) lastCommitted(t *trial, post *storeView) *generation {
	b := w.bench
	if base := t.damagedBase; base == nil || base.err != nil || base.generation >= b.prevGen.number {
		if g := b.generation(post.generation); g != nil {
			return g
		}
		return b.prevGen
	}
	g := &generation{number: post.generation, config: engineConfig(post.state.Config), payloads: map[info.Type][]byte{}, chunks: map[chunkKey][]uint64{}}
	w.quiet(func() {
		for _, ty := range b.scenario.Types {
			if p, err := w.payload(post, 1, uint8(ty)); err == nil {
				g.payloads[ty] = p
			}
		}
	})
	return g
}
