package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/campaign"
	"github.com/cmcsync/cmcsync/qemu/guest"
)

// ErrCutNotReached: the world's round ended before the operation the
// schedule cuts — it already differs from the simulator's, which reached it.
var ErrCutNotReached = errors.New("the guest's round ended without the cut")

// ExactCut is one campaign case (a replay line) run in a world (the QEMU
// guest) and in the simulator, and judged by the campaign's oracle in
// both.
type ExactCut struct {
	// Replay is the campaign's replay line; VMReplay the command that
	// runs it in QEMU again.
	Replay   string `json:"replay"`
	VMReplay string `json:"vm_replay"`
	Kind     string `json:"kind,omitempty"` // of a differential point
	// KilledAt is the index of the round operation the guest stopped
	// before and QEMU was killed at; KilledOp that operation.
	KilledAt int64  `json:"killed_at_op"`
	KilledOp string `json:"killed_op"`
	// RoundOps is how many operations the guest's round traced (the cut
	// one included); TraceSame whether they equal the simulator's, with
	// their data and virtual times; RecoveryOps the guest recovery's.
	RoundOps    int  `json:"round_ops"`
	TraceSame   bool `json:"trace_same"`
	RecoveryOps int  `json:"recovery_ops"`
	// Sim and World are the oracle's verdicts on each; the backups as
	// the reference decoder reads them after the recovery.
	Sim         []campaign.Verdict     `json:"sim_verdicts"`
	World       []campaign.Verdict     `json:"qemu_verdicts"`
	SimBackup   campaign.BackupSummary `json:"sim_backup"`
	WorldBackup campaign.BackupSummary `json:"qemu_backup"`
	// KernelECC (NAND) says, per phase, what the guest loaded, the bit
	// flips it injected that the kernel corrected, and the kernel's
	// corrected-bit counters over the phase.
	KernelECC []string `json:"kernel_ecc,omitempty"`
	// Crossed (NAND) are the factory bad blocks the round stepped over
	// before the cut (campaign.WorldPlan.Crossed).
	Crossed []int64 `json:"crossed_bad_blocks,omitempty"`
	// Differences lists every way the simulator and QEMU differ.
	Differences []string `json:"differences,omitempty"`
	// RoundWall is the wall time from starting the round's boot to the
	// kill, RecoveryWall the recovery boot's, Wall the whole point.
	RoundWall    Seconds `json:"round_boot_to_kill_seconds"`
	RecoveryWall Seconds `json:"recovery_boot_seconds"`
	Wall         Seconds `json:"point_seconds"`
}

// Failed lists the invariants the oracle failed in the world.
func (x ExactCut) Failed() []string {
	var out []string
	for _, v := range x.World {
		if !v.OK {
			out = append(out, v.Invariant)
		}
	}
	return out
}

// SimFailed lists the invariants the oracle failed in the simulator.
func (x ExactCut) SimFailed() []string {
	var out []string
	for _, v := range x.Sim {
		if !v.OK {
			out = append(out, v.Invariant)
		}
	}
	return out
}

// Line is a one-line account.
func (x ExactCut) Line() string {
	s := fmt.Sprintf("killed at op %d (%s)", x.KilledAt, x.KilledOp)
	if x.Kind != "" {
		s = x.Kind + ": " + s
	}
	s += fmt.Sprintf("; qemu %s, sim %s; recovered %s", verdictWord(x.Failed()), verdictWord(x.SimFailed()), x.WorldBackup)
	if len(x.Differences) > 0 {
		s += fmt.Sprintf("; %d DIFFERENCES: %s", len(x.Differences), x.Differences[0])
	}
	return s + fmt.Sprintf(" (%v); replay: %s", x.Wall, x.Replay)
}

func verdictWord(failed []string) string {
	if len(failed) == 0 {
		return "pass"
	}
	return "FAIL " + strings.Join(failed, ",")
}

// world runs a replay phase on the chips' image files: it returns the
// guest's lines, and for the round phase stops the world (the power goes)
// as soon as the cut line arrives.
type world interface {
	run(ctx context.Context, cmd guest.ReplayCommand) ([]guest.Line, error)
	// imageSize is the size of its chips' image files (the scenario's
	// chips are their first bytes).
	imageSize() int64
}

// exactCut runs case c in w on the image files primary and backup
// (w.imageSize() each; the scenario's chips are their first bytes) and
// judges it.
func exactCut(ctx context.Context, w world, primary, backup string, c campaign.Case) (*ExactCut, error) {
	start := time.Now()
	plan, err := campaign.PlanWorld(ctx, c)
	if err != nil {
		return nil, err
	}
	x := &ExactCut{Replay: c.String(), VMReplay: "cmcsync vm scenario powercut --schedule " + guestQuote(c.String()), KilledAt: -1}
	for i, p := range []string{primary, backup} {
		if err := writeImage(p, plan.Base[i], w.imageSize()); err != nil {
			return nil, err
		}
	}
	cmd := guest.ReplayCommand{Primary: guest.DefaultPrimary, Backup: guest.DefaultBackup, Part: plan.Part, Size: plan.ChipSize,
		Region: plan.RegionSize, Types: plan.Types, Interval: plan.Interval, Threshold: plan.Threshold, ProbeEvery: plan.ProbeEvery,
		Mutant: c.Mutant, Phase: guest.PhaseRound, Clock: plan.BaseTime.UnixNano(), Schedule: c.Round.String()}
	t0 := time.Now()
	lines, err := w.run(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("round: %w", err)
	}
	x.RoundWall = Seconds(time.Since(t0))
	var run campaign.WorldRun
	var trace []guest.OpTrace
	var cut *guest.Line
	for i, l := range lines {
		switch l.Event {
		case guest.EventOp:
			trace = append(trace, *l.Op)
		case guest.EventCut:
			cut = &lines[i]
		case guest.EventError:
			return nil, fmt.Errorf("the guest's round failed: %s", l.Error)
		}
	}
	if cut == nil || cut.Op == nil {
		return nil, fmt.Errorf("%w of %s", ErrCutNotReached, c.Round)
	}
	// Operations after the cut never reached the chips (the injector
	// refused them): the comparison stops at the cut.
	for k, t := range trace {
		if t.Index > cut.Op.Index {
			trace = trace[:k]
			break
		}
	}
	x.KilledAt, x.KilledOp, x.RoundOps = cut.Op.Index, cut.Op.String(), len(trace)
	run.CutAt = cut.Op.Index
	x.TraceSame = true
	for i := 0; i < max(len(trace), len(plan.Ops)); i++ {
		var g, s string
		if i < len(trace) {
			g = fmt.Sprintf("%s @%d", trace[i], trace[i].Clock)
		}
		if i < len(plan.Ops) {
			t := guest.TraceOf(plan.Ops[i], plan.Times[i])
			s = fmt.Sprintf("%s @%d", t, t.Clock)
		}
		if g != s {
			x.TraceSame = false
			x.Differences = append(x.Differences, fmt.Sprintf("round operation %d: qemu %q, simulator %q", i, g, s))
			break
		}
	}
	for _, t := range trace {
		if t.Index < cut.Op.Index && t.Kind != faults.Read.String() {
			op, err := opOf(t)
			if err != nil {
				return nil, err
			}
			run.RoundWrites = append(run.RoundWrites, op)
		}
	}
	for i, p := range []string{primary, backup} {
		if run.AfterCut[i], err = readImage(p, plan.ChipSize, w.imageSize()); err != nil {
			return nil, err
		}
	}

	rcmd := cmd
	rcmd.Phase, rcmd.Schedule, rcmd.Clock = guest.PhaseRecover, "", cut.Clock
	t1 := time.Now()
	rlines, err := w.run(ctx, rcmd)
	if err != nil {
		return nil, fmt.Errorf("recovery: %w", err)
	}
	x.RecoveryWall = Seconds(time.Since(t1))
	done := false
	for _, l := range rlines {
		switch l.Event {
		case guest.EventOp:
			x.RecoveryOps++
			if l.Op.Kind != faults.Read.String() {
				op, err := opOf(*l.Op)
				if err != nil {
					return nil, err
				}
				run.RecoveryWrites = append(run.RecoveryWrites, op)
			}
		case guest.EventOpen:
			run.RecoveryEvents = l.Events
		case guest.EventDone:
			run.RecoveryEnd, done = time.Unix(0, l.Clock).UTC(), true
		case guest.EventError:
			return nil, fmt.Errorf("the guest's recovery failed: %s", l.Error)
		}
	}
	if !done {
		return nil, fmt.Errorf("the guest's recovery did not finish")
	}
	for i, p := range []string{primary, backup} {
		if run.Recovered[i], err = readImage(p, plan.ChipSize, w.imageSize()); err != nil {
			return nil, err
		}
	}
	v, err := campaign.JudgeWorld(ctx, c, run)
	if err != nil {
		return nil, err
	}
	x.Sim, x.World, x.SimBackup, x.WorldBackup = v.Sim, v.World, v.SimBackup, v.WorldBackup
	x.Differences = append(x.Differences, v.Differences...)
	x.Wall = Seconds(time.Since(start))
	return x, nil
}

// guestQuote quotes s for a host shell.
func guestQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// opOf reads an op line back as a faults.Op (without data).
func opOf(t guest.OpTrace) (faults.Op, error) {
	op := faults.Op{Index: t.Index, Off: t.Off, Len: t.Len}
	okRole, okKind := false, false
	for _, r := range []faults.Role{faults.Primary, faults.Backup} {
		if r.String() == t.Role {
			op.Role, okRole = r, true
		}
	}
	for _, k := range []faults.Kind{faults.Read, faults.Program, faults.Erase} {
		if k.String() == t.Kind {
			op.Kind, okKind = k, true
		}
	}
	if !okRole || !okKind {
		return op, fmt.Errorf("guest op line %s: unknown role or kind", t)
	}
	return op, nil
}

// writeImage makes path a size-byte image holding content at its start
// and 0xFF after it (no wear file: the chip's history starts here).
func writeImage(path string, content []byte, size int64) error {
	for _, f := range []string{path, path + ".wear"} {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	img := bytes.Repeat([]byte{0xFF}, int(size))
	copy(img, content)
	return os.WriteFile(path, img, 0o644)
}

// readImage reads the first size bytes of the image at path and checks
// that the rest, to imageSize, is erased (nothing past the scenario's chip
// was written).
func readImage(path string, size, imageSize int64) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != imageSize {
		return nil, fmt.Errorf("image %s: %d bytes, want %d", path, len(b), imageSize)
	}
	if int64(len(b)) < size {
		return nil, fmt.Errorf("image %s: %d bytes, want at least %d", path, len(b), size)
	}
	for i, v := range b[size:] {
		if v != 0xFF {
			return nil, fmt.Errorf("image %s: byte %#x past the scenario's %d-byte chip was written (%#x)", path, size+int64(i), size, v)
		}
	}
	return b[:size], nil
}
