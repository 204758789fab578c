package campaign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// The lifecycle oracle's invariants (besides Durable and Live, which it
// shares with the round campaign). It judges the backup from the flash
// contents decoded by faults/reference, the primary's information from
// its records, and the engine's public Status and Config.
const (
	// ConfigDurable: once engine.SetConfig returned nil, the configuration
	// is the one committed on flash and the engine's, after any cut and
	// the purge-then-reinit that follows; a cut inside SetConfig leaves
	// the old configuration or the new one.
	ConfigDurable = "config-durable"
	// UpgradeKept: while the active chip runs an image version other than
	// the one committed from it (the newest generation in the other
	// chip's store), the engine reports an upgrade waiting for its
	// choice, from the start on (a pending upgrade is never lost), and
	// none otherwise; its committed version is that one (see
	// lifecycle_upgrade.go).
	UpgradeKept = "upgrade-kept"
	// PrimaryNotTorn: a type the engine reports synced has an intact
	// record on the primary (its CRC checks) whose payload is the
	// committed copy, unless the CMC changed it since.
	PrimaryNotTorn = "primary-not-torn"
	// ScrubExact: after the damaged chunks are scrubbed and repaired, the
	// committed generation differs from the one before the damage in
	// exactly the damaged chunks, and every chunk matches its digest.
	ScrubExact = "scrub-exact"
	// TableMissFound: a chunk of the primary changed behind its change
	// table's back (the table-miss step) and not on the backup yet is
	// found by the next whole scrub pass, counted once as a change-table
	// fault (Status.Counters.ChangeTableFaults), and synced by the round
	// after it (Live).
	TableMissFound = "table-miss-found"
	// FormatResumable: a format cut after it wrote anything is finished
	// by the next plain start from what the chips hold (no marker, no
	// user action), and never leaves chips a start refuses.
	FormatResumable = "format-resumable"
)

// LifecycleInvariants lists the invariants the lifecycle campaign checks.
func LifecycleInvariants() []string {
	return []string{Durable, ConfigDurable, UpgradeKept, PrimaryNotTorn, ScrubExact, TableMissFound, FormatResumable, Live}
}

// lifeJudge is what the oracle needs to judge one cut of the life.
type lifeJudge struct {
	sc     Scenario
	seed   uint64
	mutant engine.Mutant
	layout engine.Layout
	chips  [2]*sim.Flash
	clock  *harnessClock
	facts  stepFacts
	cut    int64 // global index of the operation cut
	wrote  bool  // a program or erase of the step reached the chips before the cut (or was torn)
}

// judge restarts the engine on what the chips hold after the cut, checks
// the invariants, completes the step and checks the end of it.
func (j *lifeJudge) judge(ctx context.Context) []Verdict {
	vs := verdicts{}
	f := j.facts
	a, b := hal.Flash(j.chips[0]), hal.Flash(j.chips[1])
	opts := lifeOptions(j.sc, j.layout, j.clock, j.mutant)
	var e *engine.Engine
	var err error
	if f.step == stepFormat {
		var ok bool
		if e, ok = j.resumeFormat(ctx, vs, opts); !ok {
			return lifeList(vs)
		}
	} else {
		if f.step == stepReseed {
			// The operator runs the cut reseed again (with the same
			// force): it finishes a cut format, or refuses, writing
			// nothing.
			if _, rerr := engine.Reseed(ctx, a, b, opts, reseedForce); rerr != nil && !errors.Is(rerr, engine.ErrReseedRefused) {
				vs.fail(Live, "reseed again after the start: %v", rerr)
				return lifeList(vs)
			}
		}
		if e, err = engine.Open(ctx, a, b, opts); err != nil {
			vs.fail(Live, "the next plain start fails: %v", err)
			return lifeList(vs)
		}
	}
	defer func() { e.Release() }()

	act := e.Status().ActiveChip
	if f.step > stepFormat {
		// (After a cut format the engine may open a pair whose backup
		// store the next round lays out again: judged after that round.)
		// The newest committed generation of either chip's store: the
		// backup's, or after a failover the old backup's until the new
		// one commits.
		nb, err := newestBackup(j.chips, j.layout)
		if err != nil {
			vs.fail(Live, "no store decodes after the start: %v", err)
			return lifeList(vs)
		}
		bk := nb.bk
		if got, want := bk.Committed.Generation, f.before.Committed.Generation; got < want {
			vs.fail(Durable, "committed generation %d after the start, %d before the step", got, want)
		} else {
			vs.ok(Durable, "generation %d (%d before the step)", got, want)
		}
		if f.step != stepScrub {
			// Nothing erased or overwritten committed data (the idle
			// erase included); the scrub step damages chunks itself.
			if bad, err := bk.VerifyChunks(j.chips[nb.chip]); err != nil || len(bad) > 0 {
				vs.fail(Durable, "after the start %d chunks of committed generation %d fail their digest (%v)", len(bad), bk.Committed.Generation, err)
			}
		}
		j.checkConfig(vs, "after the start", engineConfig(bk.Committed.Config), e.Config())
		j.checkUpgrade(vs, e, "after the start")
		j.checkPrimary(vs, e, nb, act)
	}
	if f.step == stepFailback && act == 1 {
		if rep, err := e.Failback(ctx); err != nil || rep.ActiveChip != 0 {
			vs.fail(Live, "failback again after the start: active chip %d: %v", rep.ActiveChip, err)
			return lifeList(vs)
		}
		act = 0
		j.checkUpgrade(vs, e, "after the failback again")
	}

	// The step's completion: the upgrade choice if one waits, the scrub
	// pass of the scrub step, then a round.
	st := e.Status()
	if st.UpgradePending {
		choice := f.choice
		switch {
		case st.RestoreIncomplete:
			choice = engine.RestoreDefaults
		case choice == engine.NoChoice:
			choice = engine.KeepUpgraded
		}
		if rep, err := e.UpgradeRound(ctx, choice); err != nil || !roundCommitted(rep) {
			vs.fail(Live, "the %v choice after the start: %s %v", choice, rep.Outcome, err)
			return lifeList(vs)
		}
	}
	switch f.step {
	case stepScrub:
		if err := scrubPass(ctx, e); err != nil {
			vs.fail(Live, "the scrub after the start: %v", err)
			return lifeList(vs)
		}
	case stepTableMiss:
		if !j.checkTableMiss(ctx, vs, e, act) {
			return lifeList(vs)
		}
	case stepIdleErase:
		if _, err := e.IdleErase(ctx); err != nil {
			vs.fail(Live, "the idle erase after the start: %v", err)
			return lifeList(vs)
		}
	}
	rounds := 1
	if f.step == stepGroups {
		rounds = groupTurn(e.Config())
	}
	for range rounds {
		if rep, err := e.Round(ctx); err != nil || !roundCommitted(rep) {
			vs.fail(Live, "the round after the start: %s %v %s", rep.Outcome, err, rep.Error)
			return lifeList(vs)
		}
	}
	act = e.Status().ActiveChip
	if f.step == stepFailback && act != 0 {
		vs.fail(Live, "after the failback and the next round chip %d is active, want chip A", act)
		return lifeList(vs)
	}
	end, err := decodeChip(j.chips[1-act], j.chips[act], 1-act, j.layout.StoreOff, j.layout.StoreSize)
	if err != nil {
		vs.fail(Live, "the backup does not decode after the round: %v", err)
		return lifeList(vs)
	}
	if f.step > stepFormat {
		j.checkConfig(vs, "after the next round", engineConfig(end.Committed.Config), e.Config())
	}
	if f.step == stepScrub {
		j.checkScrub(vs, end)
	}
	j.checkLive(vs, end, act)
	return lifeList(vs)
}

// checkTableMiss is the table-miss step's completion: a round, then a
// whole scrub pass, which counts a change-table fault for each forged
// chunk the backup does not hold yet (a restarted engine counts afresh),
// no more, no fewer.
func (j *lifeJudge) checkTableMiss(ctx context.Context, vs verdicts, e *engine.Engine, act int) bool {
	// First a round, as the step does: it syncs the type whose table was
	// left stale (the record's CRC tells), not the forged chunk.
	if rep, err := e.Round(ctx); err != nil || !roundCommitted(rep) {
		vs.fail(Live, "the round after the start: %s %v %s", rep.Outcome, err, rep.Error)
		return false
	}
	want := int64(0)
	bk, err := decodeChip(j.chips[1-act], j.chips[act], 1-act, j.layout.StoreOff, j.layout.StoreSize)
	if err != nil {
		vs.fail(Live, "the backup does not decode after the start: %v", err)
		return false
	}
	region, err := info.OpenRegion(j.chips[act], j.layout.InfoOff, j.layout.InfoSize)
	if err != nil {
		vs.fail(Live, "the primary's region does not open: %v", err)
		return false
	}
	for _, c := range j.facts.forged {
		rec, rerr := region.Read(info.Type(c.Type))
		payload, perr := bk.Payload(j.chips[1-act], c.Type)
		if rerr == nil && perr == nil && !bytes.Equal(rec.Payload, payload) {
			want++
		}
	}
	before := e.Status().Counters.ChangeTableFaults
	if err := scrubPass(ctx, e); err != nil {
		vs.fail(Live, "the scrub after the start: %v", err)
		return false
	}
	if got := e.Status().Counters.ChangeTableFaults - before; got != want {
		vs.fail(TableMissFound, "the scrub counted %d change-table faults; %d forged chunks %v not on the backup", got, want, j.facts.forged)
		return true
	}
	vs.ok(TableMissFound, "%d change-table faults counted (forged %v)", want, j.facts.forged)
	return true
}

// roundCommitted reports a round that committed or found nothing changed.
func roundCommitted(rep engine.RoundReport) bool {
	return rep.Outcome == engine.OutcomeCommitted || rep.Outcome == engine.OutcomeNothingChanged
}

// resumeFormat is the start after a cut format, as the daemon starts
// without its marker: if the chips say a format was cut
// (engine.FormatWasCut) the format is done again, else the engine opens
// them as they are. A cut before anything was written may leave
// blank chips a start refuses; a cut after must not. The simulated CMC
// writes its information again (it was cut too).
func (j *lifeJudge) resumeFormat(ctx context.Context, vs verdicts, opts engine.Options) (*engine.Engine, bool) {
	a, b := hal.Flash(j.chips[0]), hal.Flash(j.chips[1])
	resumed := engine.FormatWasCut(a, b, j.layout)
	if resumed {
		if _, ferr := engine.FormatAndFill(a, b, opts, cmcsim.New(j.seed).Populate); ferr != nil {
			vs.fail(FormatResumable, "the chips say a format was cut, and formatting them again fails: %v", ferr)
			return nil, false
		}
	}
	e, err := engine.Open(ctx, a, b, opts)
	if err != nil {
		if !j.wrote {
			vs.ok(FormatResumable, "cut before the format wrote anything: the start refuses the blank chips (%v)", err)
			return nil, false
		}
		vs.fail(FormatResumable, "the format wrote to the chips before the cut, and the next plain start neither opens them nor finds a cut format to finish: %v", err)
		return nil, false
	}
	if !resumed {
		region, rerr := info.OpenRegion(a, j.layout.InfoOff, j.layout.InfoSize)
		if rerr == nil {
			rerr = cmcsim.New(j.seed).Populate(region)
		}
		if rerr != nil {
			e.Release()
			vs.fail(Live, "the CMC cannot write its information after the start: %v", rerr)
			return nil, false
		}
	}
	how := "opened as formatted"
	if resumed {
		how = "the cut format finished by the start"
	}
	vs.ok(FormatResumable, "%s", how)
	return e, true
}

// checkConfig: the configuration on flash and the engine's is the one
// acknowledged last; during the config step, before SetConfig returned,
// the old one or the new one.
func (j *lifeJudge) checkConfig(vs verdicts, when string, onFlash, engineCfg engine.Config) {
	f := j.facts
	want := []engine.Config{f.acked}
	what := "the configuration acknowledged before the step"
	if f.step == stepGroups {
		what = "the configuration SetConfig acknowledged last (or the one it was setting)"
		for k, c := range f.sets {
			if at := f.setAt[k]; at[1] >= 0 && j.cut >= at[1] {
				want = []engine.Config{c}
			} else if at[0] >= 0 && j.cut >= at[0] {
				want = append(want, c)
				break
			}
		}
	}
	if f.step == stepConfig {
		switch {
		case f.ackedAt >= 0 && j.cut >= f.ackedAt:
			want, what = []engine.Config{f.next}, "the configuration SetConfig acknowledged"
		default:
			want, what = []engine.Config{f.acked, f.next}, "the old or the new configuration (cut inside SetConfig)"
		}
	}
	for _, got := range []struct {
		name string
		c    engine.Config
	}{{"committed on flash", onFlash}, {"the engine's", engineCfg}} {
		if !slices.ContainsFunc(want, got.c.Equal) {
			vs.fail(ConfigDurable, "%s the configuration %s is %s, want %s (%s)", when, got.name, describeConfig(got.c), describeConfig(want[0]), what)
			return
		}
	}
	vs.ok(ConfigDurable, "%s: %s (%s)", when, describeConfig(onFlash), what)
}

func describeConfig(c engine.Config) string {
	return fmt.Sprintf("types %v groups of %d interval %v threshold %v verify %v retry-at-once %v", c.Types, c.GroupSize, c.Interval, c.Threshold, c.Verify, c.RetryAtOnce)
}

// checkPrimary: every type reported synced has an intact record on the
// primary holding the committed payload (unless the CMC changed the
// information at the step's start, or the backup's copy is damaged: the
// scrub's business).
func (j *lifeJudge) checkPrimary(vs verdicts, e *engine.Engine, nb decodedStore, act int) {
	bk := nb.bk
	region, err := info.OpenRegion(j.chips[act], j.layout.InfoOff, j.layout.InfoSize)
	if err != nil {
		vs.fail(PrimaryNotTorn, "the primary's information region does not open: %v", err)
		return
	}
	var synced []string
	for _, ts := range e.Status().Types {
		if !ts.Synced {
			continue
		}
		rec, err := region.Read(ts.Type)
		if err != nil {
			vs.fail(PrimaryNotTorn, "%v is reported synced while the primary's record is torn: %v", ts.Type, err)
			return
		}
		if !j.facts.activity {
			payload, err := bk.Payload(j.chips[nb.chip], uint8(ts.Type))
			if err == nil && !bytes.Equal(payload, rec.Payload) {
				vs.fail(PrimaryNotTorn, "%v is reported synced while the primary holds %d bytes that are not the committed %d", ts.Type, len(rec.Payload), len(payload))
				return
			}
		}
		synced = append(synced, ts.Name)
	}
	vs.ok(PrimaryNotTorn, "synced: %s", strings.Join(synced, " "))
}

// checkScrub: the generation after the repair differs from the one before
// the damage in exactly the damaged chunks.
func (j *lifeJudge) checkScrub(vs verdicts, end *reference.Backup) {
	var changed []chunkRef
	for _, t := range j.facts.before.Committed.Types {
		now, ok := end.Committed.Type(t.Type)
		if !ok || len(now.Chunks) != len(t.Chunks) || now.Digest != t.Digest {
			vs.fail(ScrubExact, "type %v changed beyond its chunks (present %v)", info.Type(t.Type), ok)
			return
		}
		for i, c := range t.Chunks {
			if n := now.Chunks[i]; n.Block != c.Block || n.Check != c.Check || n.Digest != c.Digest || !slices.Equal(n.Deltas, c.Deltas) {
				changed = append(changed, chunkRef{Type: t.Type, Index: i})
			}
		}
	}
	if !slices.Equal(changed, j.facts.damaged) {
		vs.fail(ScrubExact, "rewritten %v, damaged %v", changed, j.facts.damaged)
		return
	}
	vs.ok(ScrubExact, "rewritten exactly %v", changed)
}

// checkLive: after the completion every committed chunk matches its
// digest and every configured type's committed payload is the primary's.
func (j *lifeJudge) checkLive(vs verdicts, end *reference.Backup, act int) {
	bad, err := end.VerifyChunks(j.chips[1-act])
	if err != nil || len(bad) > 0 {
		vs.fail(Live, "after the next round %d committed chunks fail their digest (%v)", len(bad), err)
		return
	}
	region, err := info.OpenRegion(j.chips[act], j.layout.InfoOff, j.layout.InfoSize)
	if err != nil {
		vs.fail(Live, "the primary's information region does not open: %v", err)
		return
	}
	for _, t := range end.Committed.Config.Types {
		rec, err := region.Read(info.Type(t))
		if err != nil {
			vs.fail(Live, "after the next round the primary's %v record does not read: %v", info.Type(t), err)
			return
		}
		payload, err := end.Payload(j.chips[1-act], t)
		if err != nil && !errors.Is(err, reference.ErrNoType) {
			vs.fail(Live, "after the next round the backup's %v does not read: %v", info.Type(t), err)
			return
		}
		if !bytes.Equal(payload, rec.Payload) {
			vs.fail(Live, "after the next round the backup's %v is not the primary's", info.Type(t))
			return
		}
	}
	vs.ok(Live, "generation %d holds the primary's information", end.Committed.Generation)
}
