package scenario

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/faults/campaign"
	"github.com/cmcsync/cmcsync/qemu/guest"
	"github.com/cmcsync/cmcsync/qemu/vm"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// nandScenario is the campaign scenario the NAND differential cuts: the
// nandsim partitions' geometry (nandPart) with a factory bad block on the
// backup.
const nandScenario = "nand"

// nandDiffPoints is how many of its points `make vm-diff` runs, and
// nandDiffSample how many `make test` does.
const (
	nandDiffPoints = 10
	nandDiffSample = 2
)

// qemuNAND runs replay phases in the x86 guest on nandsim, one boot per
// phase. nandsim keeps the chip in the guest's memory, so each boot
// creates the chip (two 128 MiB partitions with the scenario's factory
// bad blocks, nandsim badblocks=), loads the image files (virtio disks)
// onto it, and flips a bit behind the ECC in a page each chip's engine
// reads (the primary's information region, the backup's superblock): the
// kernel corrects it on every read and counts it (corrected_bits). The
// phase runs; at the cut the guest stops before the operation and ends,
// the chips are saved to the disks, and QEMU is stopped and killed.
type qemuNAND struct {
	e    *env
	bad  [2][]int64 // factory bad blocks of each partition
	flip [2]int64   // the offset of each chip's flipped page
	// ecc collects the kernel's ECC account of each phase, and
	// corrected how many bits it corrected on each chip during the phase
	// (the engine's reads of the flipped pages).
	ecc       *[]string
	corrected *[][2]int64
	// badSeen collects, per phase, how many bad blocks the guest found
	// on each chip when it loaded the image (the kernel's bad-block
	// table, nandsim badblocks=).
	badSeen *[][2]int
}

func (qemuNAND) imageSize() int64 { return nandPartSize }

func (w qemuNAND) run(ctx context.Context, cmd guest.ReplayCommand) ([]guest.Line, error) {
	e := w.e
	m, err := e.bootWith(ctx, func(c *vm.Config) {
		c.Disks = []string{e.primary, e.backup}
		c.Memory = "768M"
	})
	if err != nil {
		return nil, err
	}
	defer m.Kill()
	var bad []string
	for chip, bs := range w.bad {
		for _, b := range bs {
			bad = append(bad, strconv.FormatInt(int64(chip)*nandPartBlocks+b, 10))
		}
	}
	insmod := fmt.Sprintf("insmod /lib/modules/nandsim.ko first_id_byte=0x20 second_id_byte=0xaa third_id_byte=0x00 fourth_id_byte=0x15 parts=%d,%d",
		nandPartBlocks, nandPartBlocks)
	if len(bad) > 0 {
		insmod += " badblocks=" + strings.Join(bad, ",")
	}
	if _, err := e.run(ctx, m, insmod); err != nil {
		return nil, err
	}
	devs := [2]string{"/dev/mtd0", "/dev/mtd1"}
	disks := [2]string{"/dev/vda", "/dev/vdb"}
	var loaded []string
	var seen [2]int
	for i := range devs {
		out, err := e.run(ctx, m, fmt.Sprintf("cmcsync guest nand load --chip mtd:%s --image %s --size %d --flip %#x", devs[i], disks[i], cmd.Size, w.flip[i]))
		if err != nil {
			return nil, err
		}
		loaded = append(loaded, strings.TrimSpace(out))
		if seen[i], err = loadedBad(out); err != nil {
			return nil, err
		}
	}
	*w.badSeen = append(*w.badSeen, seen)
	before, err := w.counters(ctx, m)
	if err != nil {
		return nil, err
	}
	cmd.Primary, cmd.Backup = "mtd:"+devs[0], "mtd:"+devs[1]
	cmd.ExitAtCut = cmd.Phase == guest.PhaseRound
	out, err := e.run(ctx, m, cmd.String())
	if err != nil {
		return nil, err
	}
	after, err := w.counters(ctx, m)
	if err != nil {
		return nil, err
	}
	for i := range devs {
		if _, err := e.run(ctx, m, fmt.Sprintf("cmcsync guest nand save --chip mtd:%s --image %s --size %d", devs[i], disks[i], cmd.Size)); err != nil {
			return nil, err
		}
	}
	*w.corrected = append(*w.corrected, [2]int64{after[0] - before[0], after[1] - before[1]})
	*w.ecc = append(*w.ecc, fmt.Sprintf("%s: %s; corrected_bits during the phase: mtd0 %d -> %d, mtd1 %d -> %d",
		cmd.Phase, strings.Join(loaded, "; "), before[0], after[0], before[1], after[1]))
	// The power goes: QEMU stops (flushing the disks) and is killed.
	if err := m.Freeze(ctx, 30*time.Second); err != nil {
		return nil, fmt.Errorf("stop the guest before the kill: %w", err)
	}
	if err := m.Kill(); err != nil {
		return nil, err
	}
	return guest.Parse(out)
}

// loadedRE matches the guest's account of an image load: "load CHIP: N
// blocks (B bad), P pages programmed".
var loadedRE = regexp.MustCompile(`: \d+ blocks \((\d+) bad\)`)

// loadedBad returns how many bad blocks the guest's image load reported.
func loadedBad(out string) (int, error) {
	m := loadedRE.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("guest nand load: no block account in %q", strings.TrimSpace(out))
	}
	return strconv.Atoi(m[1])
}

// counters reads the kernel's corrected-bit counters of both partitions.
func (w qemuNAND) counters(ctx context.Context, m *vm.Machine) ([2]int64, error) {
	var c [2]int64
	out, err := w.e.run(ctx, m, "cat /sys/class/mtd/mtd0/corrected_bits /sys/class/mtd/mtd1/corrected_bits")
	if err != nil {
		return c, err
	}
	f := strings.Fields(out)
	if len(f) < 2 {
		return c, fmt.Errorf("corrected_bits: %q", out)
	}
	for i := range c {
		if c[i], err = strconv.ParseInt(f[len(f)-2+i], 10, 64); err != nil {
			return c, fmt.Errorf("corrected_bits: %q", out)
		}
	}
	return c, nil
}

// checkFactoryBad records the factory-bad-block check of one point: the
// guest found on each chip, at every phase's load, as many bad blocks as
// the scenario has (the kernel's bad-block table holds them), and the
// backup has at least one; the detail says whether the round stepped over
// one before the cut (campaign.WorldPlan.Crossed).
func checkFactoryBad(rep *Report, name string, plan *campaign.WorldPlan, seen [][2]int) {
	ok := len(plan.FactoryBad[1]) > 0 && len(seen) > 0
	for _, s := range seen {
		for i := range s {
			ok = ok && s[i] == len(plan.FactoryBad[i])
		}
	}
	cross := "the round did not reach one before the cut"
	if len(plan.Crossed) > 0 {
		cross = fmt.Sprintf("the round stepped over %v before the cut", plan.Crossed)
	}
	rep.check("factory-bad-block "+name, ok, "factory bad blocks %v (primary, backup); the guest's loads found %v per phase; %s",
		plan.FactoryBad, seen, cross)
}

// checkCrossed records the run's factory-bad-block-crossed check: some
// point's round stepped over a factory bad block before its cut. A run
// whose points all cut before the round reached one shows nothing of the
// allocation stepping over it.
func checkCrossed(rep *Report, points []ExactCut) {
	var crossed []string
	for i, x := range points {
		if len(x.Crossed) > 0 {
			crossed = append(crossed, fmt.Sprintf("point %d (op %d): %v", i+1, x.KilledAt, x.Crossed))
		}
	}
	rep.check("factory-bad-block-crossed", len(crossed) > 0, "points whose round stepped over a factory bad block before the cut: %s",
		joinOr(crossed, "none"))
}

// nandFlipOffsets returns where the NAND differential flips a bit on each
// chip: the first page of the primary's information region (the round
// reads it) and of the backup's store (its superblock: every open reads
// it).
func nandFlipOffsets(plan *campaign.WorldPlan) ([2]int64, error) {
	p, err := sim.LookupPart(plan.Part)
	if err != nil {
		return [2]int64{}, err
	}
	f, err := sim.New(sim.Options{Part: p, Size: plan.ChipSize})
	if err != nil {
		return [2]int64{}, err
	}
	defer f.Close()
	l, err := engine.DefaultLayout(f.Geometry(), plan.RegionSize)
	if err != nil {
		return [2]int64{}, err
	}
	return [2]int64{l.InfoOff, l.StoreOff}, nil
}

// runNANDDiff is the differential on NAND: cut points of the nand
// campaign scenario (Options.Points of them, 0: all; or the one replay
// line Options.Schedule), each in the x86 guest on nandsim and in the
// simulator, compared and judged as runDiff does, with the kernel's ECC
// counters of each phase.
func runNANDDiff(ctx context.Context, e *env) error {
	var cases []campaign.Case
	var kinds []string
	if e.o.Schedule != "" {
		c, err := campaign.ParseCase(e.o.Schedule)
		if err != nil {
			return err
		}
		cases, kinds = append(cases, c), append(kinds, "replay")
	} else {
		ps, err := campaign.WorldPoints(ctx, nandScenario, 1, e.o.Mutant)
		if err != nil {
			return err
		}
		pick := campaign.SamplePoints(ps, e.o.Points)
		count := map[string]int{}
		for _, p := range pick {
			cases, kinds = append(cases, p.Case), append(kinds, p.Kind)
			count[p.Kind]++
		}
		e.logf("%d of the nand round's %d differential points: %v", len(pick), len(ps), count)
		for _, l := range e.o.Extra {
			c, err := campaign.ParseCase(l)
			if err != nil {
				return err
			}
			cases, kinds = append(cases, c), append(kinds, "replay")
		}
	}
	var total time.Duration
	for i, c := range cases {
		plan, err := campaign.PlanWorld(ctx, c)
		if err != nil {
			return err
		}
		flip, err := nandFlipOffsets(plan)
		if err != nil {
			return err
		}
		var ecc []string
		var corrected [][2]int64
		var badSeen [][2]int
		w := qemuNAND{e: e, bad: plan.FactoryBad, flip: flip, ecc: &ecc, corrected: &corrected, badSeen: &badSeen}
		x, err := exactCut(ctx, w, e.primary, e.backup, c)
		if err != nil {
			return fmt.Errorf("point %d (%s): %w", i+1, c, err)
		}
		x.Kind, x.KernelECC, x.Crossed = kinds[i], ecc, plan.Crossed
		x.VMReplay = "cmcsync vm scenario nand-diff --schedule " + guestQuote(c.String())
		total += time.Duration(x.Wall)
		e.rep.ExactCuts = append(e.rep.ExactCuts, *x)
		e.logf("point %d/%d: %s", i+1, len(cases), x.Line())
		for _, l := range ecc {
			e.logf("  kernel ECC, %s", l)
		}
		name := fmt.Sprintf("point %d (%s)", i+1, x.Replay)
		e.rep.check("same-as-simulator "+name, len(x.Differences) == 0, "%s; sim/qemu replay: %s / %s",
			joinOr(x.Differences, fmt.Sprintf("%d operations, chips, backup (%s) and verdicts (qemu %s, sim %s) equal", x.RoundOps, x.WorldBackup, verdictWord(x.Failed()), verdictWord(x.SimFailed()))),
			x.Replay, x.VMReplay)
		if c.Mutant == engine.None {
			e.rep.check("oracle-passes "+name, len(x.Failed()) == 0, "failed in qemu: %s", strings.Join(x.Failed(), ", "))
		} else {
			e.rep.check("mutant-fails "+name, len(x.Failed()) > 0, "mutant %v passed the oracle in qemu", c.Mutant)
		}
		// Every boot's load checked that the kernel corrects and counts
		// its flips; every phase opens the engine, which reads the
		// backup's superblock, so the kernel must have corrected the flip
		// there during each phase.
		hit := len(corrected) == 2
		for _, c := range corrected {
			hit = hit && c[1] > 0
		}
		e.rep.check("bit-flip-reported "+name, hit, "bits the kernel corrected on the backup during the round and the recovery: %v; %s", corrected, strings.Join(ecc, " | "))
		checkFactoryBad(e.rep, name, plan, badSeen)
	}
	if e.o.Schedule == "" {
		checkCrossed(e.rep, e.rep.ExactCuts)
	}
	if len(cases) > 0 {
		e.logf("%d points in %v (mean %v per point)", len(cases), total.Round(time.Second), (total / time.Duration(len(cases))).Round(time.Millisecond))
	}
	return nil
}
