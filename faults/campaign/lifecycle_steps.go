package campaign

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// The engine's part of the lifecycle's steps past the restart (see
// lifecycle.go): the change-table miss, the idle-time erase-ahead, the
// failover, reseed and failback, and the configuration changes of the
// group schedule. Each checks, in the recorded life, what the step must
// do (a fault counted, a round with no erase, roles swapped); the cuts
// are judged by lifecycle_judge.go.

// roundFunc checks a round's result (committed or nothing changed).
type roundFunc func(engine.RoundReport, error) error

// decodedStore is a store decoded by faults/reference and its chip.
type decodedStore struct {
	bk   *reference.Backup
	chip int
}

// newestBackup decodes the stores of both chips and returns the one with
// the newest committed generation (the one the engine syncs from after a
// failover, whichever chip is the backup); a chip whose store does not
// decode is skipped.
func newestBackup(chips [2]*sim.Flash, l engine.Layout) (decodedStore, error) {
	var out decodedStore
	var errs []error
	for i, c := range chips {
		bk, err := decodeChip(c, chips[1-i], i, l.StoreOff, l.StoreSize)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Geometry().Name, err))
			continue
		}
		if out.bk == nil || bk.Committed.Generation > out.bk.Committed.Generation {
			out = decodedStore{bk: bk, chip: i}
		}
	}
	if out.bk == nil {
		return out, errors.Join(errs...)
	}
	return out, nil
}

// tableMiss: a round (which does not see the forged chunk), a whole scrub
// pass, which must count exactly the forged chunks as change-table faults,
// and the round that syncs them.
func (r *lifeRun) tableMiss(ctx context.Context, e *engine.Engine, f *stepFacts, committed roundFunc) error {
	name := stepNames[r.step]
	rep, err := e.Round(ctx)
	if err := committed(rep, err); err != nil {
		return err
	}
	if fb := e.Status().Counters.TableFallbacks; len(rep.ReadWhole) != 1 || rep.ReadWhole[0] != f.stale || fb != 1 {
		return fmt.Errorf("%w: step %s: the round read %v whole and counted %d table fallbacks; the table of %v was left stale", errLife, name, rep.ReadWhole, fb, f.stale)
	}
	if err := scrubPass(ctx, e); err != nil {
		return lifeErr(name, err)
	}
	if got := e.Status().Counters.ChangeTableFaults; got != int64(len(f.forged)) {
		return fmt.Errorf("%w: step %s: the scrub counted %d change-table faults, %d chunks forged (%v)", errLife, name, got, len(f.forged), f.forged)
	}
	return committed(e.Round(ctx))
}

// idleErase: a round, the idle erase until done, the same activity again
// and a round, which finds its journal and data blocks erased ahead and
// erases nothing.
func (r *lifeRun) idleErase(ctx context.Context, e *engine.Engine, g *cmcsim.Generator, committed roundFunc) error {
	name := stepNames[r.step]
	if err := committed(e.Round(ctx)); err != nil {
		return err
	}
	// Step by step: the free data blocks known erased grow with every
	// data erase step, and the last step, which counts them afresh,
	// finds as many as the last erase reported.
	ready := -1
	for done := false; !done; {
		p, err := e.IdleEraseStep(ctx)
		if err != nil {
			return lifeErr(name, err)
		}
		switch {
		case p.Erased > 0 && p.Ready <= ready:
			return fmt.Errorf("%w: step %s: an idle erase step erased %d data blocks and reports %d ready, %d before", errLife, name, p.Erased, p.Ready, ready)
		case p.Erased > 0:
			ready = p.Ready
		case p.Done && p.Journal == 0 && ready >= 0 && p.Ready != ready:
			// The last step counts the ready blocks afresh.
			return fmt.Errorf("%w: step %s: the idle erase ends with %d data blocks ready, its last erase reported %d", errLife, name, p.Ready, ready)
		}
		done = p.Done
	}
	if err := r.activity(g, idleActivity); err != nil {
		return err
	}
	rep, err := e.Round(ctx)
	if err := committed(rep, err); err != nil {
		return err
	}
	if rep.Erases != 0 {
		return fmt.Errorf("%w: step %s: the round after the idle erase erased %d blocks (%d of data)", errLife, name, rep.Erases, rep.DataErases)
	}
	return nil
}

// failSchedule makes every read of the primary time out: the failover.
const failSchedule = "(on (and primary read) (fail timeout))"

// failover: the engine opened on chip A behind an injector of its own
// whose reads time out; the round fails over to chip B. Then Reseed must
// refuse: chip A, the standby now, holds a store of the pair.
func (r *lifeRun) failover(ctx context.Context, opts engine.Options) error {
	name := stepNames[r.step]
	s, err := faults.ParseSchedule(failSchedule)
	if err != nil {
		return err
	}
	dead := faults.NewInjector(s, faults.Options{Clock: r.clock}).Wrap(r.wrapped[0], faults.Primary)
	e, err := engine.Open(ctx, dead, r.wrapped[1], opts)
	if err != nil {
		return lifeErr(name, err)
	}
	rep, err := e.Round(ctx)
	active := e.Status().ActiveChip
	e.Release()
	if err != nil {
		return lifeErr(name, err)
	}
	if rep.Outcome != engine.OutcomeFailover || active != 1 {
		return fmt.Errorf("%w: step %s: the round with chip A's reads timing out: %s (active chip %d), want a failover to chip B", errLife, name, rep.Outcome, active)
	}
	_, err = engine.Reseed(ctx, r.wrapped[0], r.wrapped[1], opts, [2]bool{})
	if errors.Is(err, hal.ErrPowerLoss) {
		return err
	}
	if !errors.Is(err, engine.ErrReseedRefused) {
		return fmt.Errorf("%w: step %s: reseed with both stores of the pair valid: %v, want a refusal", errLife, name, lifeErr(name, err))
	}
	return nil
}

// reseedForce is the force the operator gives Reseed in the reseed step:
// chip A's store range may be erased.
var reseedForce = [2]bool{true, false}

// otherPairPairID is the pair id of the store the reseed step puts on
// chip A: another pair's.
const otherPairPairID = 0x0be7_0be7_0be7_0be7

// otherPairStore formats chip A's store range, outside the engine, as
// chip A of another pair (the same sizing and configuration): a used chip
// put in for the failed one.
func (r *lifeRun) otherPairStore() error {
	l := r.layout
	s, err := store.Open(r.chips[0], l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("%w: chip A's store before the reseed: %w", errLife, err)
	}
	sb, cfg := s.Superblock(), s.StateRef().Config
	s.Release()
	if sb.PairID == otherPairPairID {
		return fmt.Errorf("%w: the other pair's id is this pair's", errLife)
	}
	if err := r.chips[0].Erase(l.StoreOff, l.StoreSize); err != nil {
		return fmt.Errorf("%w: chip A's store: %w", errLife, err)
	}
	o := store.FormatOptions{ChipID: 0, PairID: otherPairPairID, Time: r.clock.Now(), MaxChunks: int(sb.MaxChunks), Config: cfg}
	if err := store.Format(r.chips[0], l.StoreOff, l.StoreSize, o); err != nil {
		return fmt.Errorf("%w: another pair's store on chip A: %w", errLife, err)
	}
	return nil
}

// reseed: chip A holds another pair's store; Reseed refuses to guess
// which chip is the standby, and with force naming chip A formats it as
// the standby and runs a round.
func (r *lifeRun) reseed(ctx context.Context, opts engine.Options) error {
	name := stepNames[r.step]
	if _, err := engine.Reseed(ctx, r.wrapped[0], r.wrapped[1], opts, [2]bool{}); errors.Is(err, hal.ErrPowerLoss) {
		return err
	} else if !errors.Is(err, engine.ErrReseedRefused) {
		return fmt.Errorf("%w: step %s: reseed without force with two pairs' stores: %v, want a refusal", errLife, name, lifeErr(name, err))
	}
	rep, err := engine.Reseed(ctx, r.wrapped[0], r.wrapped[1], opts, reseedForce)
	if err != nil {
		return lifeErr(name, err)
	}
	if !rep.Erased {
		return fmt.Errorf("%w: step %s: reseed did not erase chip A's store of another pair", errLife, name)
	}
	if rep.Standby != 0 || rep.Active != 1 || !roundCommitted(rep.Round) {
		return fmt.Errorf("%w: step %s: reseed formatted chip %d from chip %d, round %s, want chip A from chip B and a committed round", errLife, name, rep.Standby, rep.Active, rep.Round.Outcome)
	}
	return nil
}

// failback: chip A active again, then a round.
func (r *lifeRun) failback(ctx context.Context, e *engine.Engine, committed roundFunc) error {
	name := stepNames[r.step]
	rep, err := e.Failback(ctx)
	if err != nil {
		return lifeErr(name, err)
	}
	if rep.ActiveChip != 0 || e.Status().ActiveChip != 0 {
		return fmt.Errorf("%w: step %s: failback reported active chip %d, the engine %d, want chip A", errLife, name, rep.ActiveChip, e.Status().ActiveChip)
	}
	// Chip A's image is the one the restore-defaults step chose for, before
	// the failover: that choice stands (docs/DESIGN.md, The method, 5).
	h, err := info.ReadImageHeader(r.chips[0])
	if err != nil {
		return fmt.Errorf("%w: step %s: chip A's image header: %w", errLife, name, err)
	}
	if st := e.Status(); st.UpgradePending || st.CommittedVersion != h.Version {
		return fmt.Errorf("%w: step %s: after the failback chip A runs %q, chosen for before the failover, and the engine reports committed version %q, upgrade pending %v", errLife, name, h.Version, st.CommittedVersion, st.UpgradePending)
	}
	return committed(e.Round(ctx))
}

// groupConfigs are the configurations the config-groups step sets, in
// order: from c (the one acknowledged before), fewer types synced two a
// round, then one field at a time (a change the store's configuration
// comparison must see).
func groupConfigs(c engine.Config) []engine.Config {
	g := c.Clone()
	g.Types = g.Types[:min(3, len(g.Types))]
	g.GroupSize = 2
	th := g.Clone()
	th.Threshold += time.Millisecond
	iv := th.Clone()
	iv.Interval += time.Millisecond * 1000
	ra := iv.Clone()
	ra.RetryAtOnce = !ra.RetryAtOnce
	return []engine.Config{g, th, iv, ra}
}

// groups sets groupConfigs one at a time; after the first, the rounds of
// one turn of the group schedule, each syncing at most its group, all of
// them every chosen type; a round after each of the others.
func (r *lifeRun) groups(ctx context.Context, e *engine.Engine, f *stepFacts, committed roundFunc) error {
	name := stepNames[r.step]
	f.sets = groupConfigs(f.acked)
	f.setAt = make([][2]int64, len(f.sets))
	for k := range f.setAt {
		f.setAt[k] = [2]int64{-1, -1}
	}
	for k, c := range f.sets {
		f.setAt[k][0] = r.in.Ops()
		if err := e.SetConfig(c); err != nil {
			return lifeErr(name, err)
		}
		f.setAt[k][1] = r.in.Ops()
		if k > 0 {
			if err := committed(e.Round(ctx)); err != nil {
				return err
			}
			continue
		}
		seen := map[info.Type]bool{}
		for range groupTurn(c) {
			rep, err := e.Round(ctx)
			if err := committed(rep, err); err != nil {
				return err
			}
			if len(rep.Types) > c.GroupSize {
				return fmt.Errorf("%w: step %s: a round of groups of %d synced %v", errLife, name, c.GroupSize, rep.Types)
			}
			for _, t := range rep.Types {
				seen[t] = true
			}
		}
		if len(seen) != len(c.Types) {
			return fmt.Errorf("%w: step %s: a turn of the group schedule synced %d of the %d chosen types", errLife, name, len(seen), len(c.Types))
		}
	}
	return nil
}

// groupTurn is the number of rounds of one turn of c's group schedule.
func groupTurn(c engine.Config) int {
	if c.GroupSize <= 0 {
		return 1
	}
	return (len(c.Types) + c.GroupSize - 1) / c.GroupSize
}
