package scenario

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/faults/campaign"
	"github.com/cmcsync/cmcsync/qemu/guest"
	"github.com/cmcsync/cmcsync/qemu/vm"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// qemuWorld runs replay phases in the QEMU guest on the scenario's image
// files, one boot per phase: the round's boot ends with SIGKILL the moment
// the guest reports the cut, the recovery's with a clean reboot.
type qemuWorld struct{ e *env }

func (qemuWorld) imageSize() int64 { return vm.FlashImageSize }

func (w qemuWorld) run(ctx context.Context, cmd guest.ReplayCommand) ([]guest.Line, error) {
	e := w.e
	m, err := e.boot(ctx)
	if err != nil {
		return nil, err
	}
	defer m.Kill()
	e.logf("guest$ %s", cmd)
	id := m.Console.Begin(cmd.String())
	if cmd.Phase == guest.PhaseRound {
		got, err := expectGuest(ctx, m, "cut, done or error", func(l guest.Line) bool {
			return l.Event == guest.EventCut || l.Event == guest.EventDone || l.Event == guest.EventError
		})
		if err != nil {
			return nil, err
		}
		if got.Event == guest.EventCut {
			// The guest stopped before the operation: the power goes now.
			// QEMU first stops the CPUs, which flushes the page programs
			// the guest saw complete (m25p80 writes them back to the
			// image asynchronously: a bare SIGKILL under load lost one,
			// see docs/DESIGN.md), then SIGKILL.
			t0 := time.Now()
			if err := m.Freeze(ctx, 30*time.Second); err != nil {
				m.Kill()
				return nil, fmt.Errorf("stop the guest before the kill: %w", err)
			}
			if err := m.Kill(); err != nil {
				return nil, err
			}
			e.logf("stopped the guest (QMP stop, %v) and killed QEMU (SIGKILL) before round operation %s", time.Since(t0).Round(time.Millisecond), got.Op)
			return guest.Parse(m.Console.Output())
		}
	}
	r, err := m.Console.Finish(ctx, id, commandTimeout)
	if err != nil {
		return nil, err
	}
	if err := m.Reboot(rebootTimeout); err != nil {
		return nil, err
	}
	if r.Status != 0 {
		return nil, fmt.Errorf("guest command exited %d:\n%s", r.Status, tail(r.Output, 3000))
	}
	return guest.Parse(r.Output)
}

// runExactCut runs Options.Schedule (a campaign replay line) in the guest
// with a power cut at the exact operation it names, and judges it with the
// campaign's oracle in QEMU and in the simulator.
func runExactCut(ctx context.Context, e *env) error {
	c, err := campaign.ParseCase(e.o.Schedule)
	if err != nil {
		return err
	}
	x, err := exactCut(ctx, qemuWorld{e}, e.primary, e.backup, c)
	if err != nil {
		return err
	}
	e.rep.ExactCuts = append(e.rep.ExactCuts, *x)
	e.logf("%s", x.Line())
	checkExactCut(e.rep, *x)
	return nil
}

// checkExactCut records the checks of one exact cut: QEMU and the
// simulator do the same (operations, chips, recovered backup, verdicts),
// and the oracle's verdicts in QEMU pass.
func checkExactCut(rep *Report, x ExactCut) {
	name := fmt.Sprintf("op %d", x.KilledAt)
	rep.check("same-as-simulator "+name, len(x.Differences) == 0, "%s; sim/qemu replay: %s / %s",
		joinOr(x.Differences, fmt.Sprintf("%d operations with their data and virtual times, chips after the cut and after the recovery, backup (%s) and %d verdicts all equal", x.RoundOps, x.WorldBackup, len(x.World))),
		x.Replay, x.VMReplay)
	for _, v := range x.World {
		if v.Skipped {
			continue
		}
		rep.check(v.Invariant+" "+name, v.OK, "%s", v.Saw)
	}
}

// diffSample is the differential's points in `make test`: three ARM NOR
// points (vm-test) — every kind's first is too many for the time budget.
const diffSample = 3

// runDiff runs the differential: Options.Points cut points of the
// exhaustive standard campaign (campaign.WorldPoints; 0: all of them),
// each in QEMU and in the simulator, then Options.Extra replay lines (a
// mutant's, for instance).
func runDiff(ctx context.Context, e *env) error {
	ps, err := campaign.WorldPoints(ctx, "standard", 1, e.o.Mutant)
	if err != nil {
		return err
	}
	pick := campaign.SamplePoints(ps, e.o.Points)
	kinds := map[string]int{}
	for _, p := range pick {
		kinds[p.Kind]++
	}
	e.logf("%d of the round's %d differential points: %v", len(pick), len(ps), kinds)
	type item struct {
		c    campaign.Case
		kind string
	}
	var items []item
	for _, p := range pick {
		items = append(items, item{p.Case, p.Kind})
	}
	for _, l := range e.o.Extra {
		c, err := campaign.ParseCase(l)
		if err != nil {
			return err
		}
		items = append(items, item{c, "replay"})
	}
	var total time.Duration
	for i, it := range items {
		x, err := exactCut(ctx, qemuWorld{e}, e.primary, e.backup, it.c)
		if err != nil {
			return fmt.Errorf("point %d (%s): %w", i+1, it.c, err)
		}
		x.Kind = it.kind
		total += time.Duration(x.Wall)
		e.rep.ExactCuts = append(e.rep.ExactCuts, *x)
		e.logf("point %d/%d: %s", i+1, len(items), x.Line())
		name := fmt.Sprintf("point %d (%s)", i+1, x.Replay)
		e.rep.check("same-as-simulator "+name, len(x.Differences) == 0, "%s; sim/qemu replay: %s / %s",
			joinOr(x.Differences, fmt.Sprintf("%d operations, chips, backup (%s) and verdicts (qemu %s, sim %s) equal", x.RoundOps, x.WorldBackup, verdictWord(x.Failed()), verdictWord(x.SimFailed()))),
			x.Replay, x.VMReplay)
		if it.c.Mutant == engine.None {
			e.rep.check("oracle-passes "+name, len(x.Failed()) == 0, "failed in qemu: %s", strings.Join(x.Failed(), ", "))
		} else {
			e.rep.check("mutant-fails "+name, len(x.Failed()) > 0, "mutant %v passed the oracle in qemu", it.c.Mutant)
		}
	}
	if len(items) > 0 {
		e.logf("%d points in %v (mean %v per point)", len(items), total.Round(time.Second), (total / time.Duration(len(items))).Round(time.Millisecond))
	}
	return nil
}
