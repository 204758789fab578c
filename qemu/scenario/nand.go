package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/qemu/guest"
	"github.com/cmcsync/cmcsync/qemu/vm"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/store"
)

// The NAND the x86 guest simulates with nandsim: ID 20 aa 00 15 is a
// 256 MiB chip with 2 KiB pages and 128 KiB blocks, split into two
// partitions of 1024 blocks: mtd0 (the primary) and mtd1 (the backup).
const (
	nandPart       = "mt29f2g01" // the sim part with the same geometry
	nandBlock      = 128 << 10
	nandPartBlocks = 1024
	nandPartSize   = nandPartBlocks * nandBlock
	nandRounds     = 3
	nandBadPerChip = 3
	// nandBadWindow: the bad blocks are drawn among the first blocks of
	// the store's data area, which the first round's chunks (about 54 of
	// them) fill: the store must step over them.
	nandBadWindow = 48
	// nandBitflips is nandsim's most bits flipped per page read (on a
	// random 1 in 1024 reads); the 1-bit Hamming ECC corrects one.
	nandBitflips = 1
)

// nandFigures is what the nand scenario reports from the guest.
type nandFigures struct {
	BadBlocks     []int64       `json:"bad_blocks"` // absolute eraseblock numbers of the NAND chip
	BadKind       string        `json:"bad_kind"`   // "factory" (nandsim badblocks=) or "grown" (marked after format)
	Bitflips      int           `json:"bitflips"`
	FormatWall    Seconds       `json:"guest_format_seconds"`
	Rounds        []syncFigures `json:"rounds"`
	KernelCounts  string        `json:"kernel_mtd_counters"` // corrected bits, ECC failures, bad blocks per partition
	MTD           string        `json:"proc_mtd"`
	EngineLastErr string        `json:"engine_last_error,omitempty"`
}

// runNAND boots the x86 variant, creates a NAND chip with nandsim (random
// bit flips on reads, corrected by the kernel's ECC), lets the guest format
// both partitions, mark seeded blocks of the store's data areas bad through
// the kernel (MEMSETBADBLOCK: blocks gone bad in service; with
// Options.FactoryBad nandsim marks them bad from the start instead), fill
// the primary's information and run rounds with CMC activity in between,
// then copies both partitions to virtio disks. The host decodes the copies (with the bad blocks marked): the
// backup's committed generation equals the primary, every chunk verifies,
// nothing is left interrupted, the firmware image verifies.
func runNAND(ctx context.Context, e *env) error {
	rng := rand.New(rand.NewPCG(e.o.Seed, e.o.Seed^0x6e616e64))
	firstData, err := nandDataStart(ctx)
	if err != nil {
		return err
	}
	e.logf("store data area starts at partition block %d; bad blocks drawn from the %d after it", firstData, nandBadWindow)
	var bad []int64
	var pbad, bbad []int64
	for chip := range 2 {
		var picked []int64
		for len(picked) < nandBadPerChip {
			b := firstData + int64(rng.IntN(nandBadWindow))
			if !slices.Contains(picked, b) {
				picked = append(picked, b)
			}
		}
		slices.Sort(picked)
		for _, b := range picked {
			bad = append(bad, int64(chip)*nandPartBlocks+b)
			if chip == 0 {
				pbad = append(pbad, b*nandBlock)
			} else {
				bbad = append(bbad, b*nandBlock)
			}
		}
	}
	fig := nandFigures{BadBlocks: bad, Bitflips: nandBitflips, BadKind: "grown"}
	if e.o.FactoryBad {
		fig.BadKind = "factory"
	}
	for _, p := range []string{e.primary, e.backup} {
		if err := os.Remove(p + ".wear"); err != nil && !os.IsNotExist(err) {
			return err
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			return err
		}
		if err := os.Truncate(p, nandPartSize); err != nil {
			return err
		}
	}
	m, err := e.bootWith(ctx, func(c *vm.Config) {
		c.Disks = []string{e.primary, e.backup}
		c.Memory = "768M"
	})
	if err != nil {
		return err
	}
	defer m.Kill()
	badList := make([]string, len(bad))
	for i, b := range bad {
		badList[i] = strconv.FormatInt(b, 10)
	}
	insmod := fmt.Sprintf("insmod /lib/modules/nandsim.ko first_id_byte=0x20 second_id_byte=0xaa third_id_byte=0x00 fourth_id_byte=0x15 parts=%d,%d bitflips=%d",
		nandPartBlocks, nandPartBlocks, nandBitflips)
	cmd := guest.Command{Primary: "mtd:/dev/mtd0", Backup: "mtd:/dev/mtd1", Format: true,
		Rounds: nandRounds, Seed: e.o.Seed, Activity: 10 * time.Minute, Mutant: e.o.Mutant}
	if e.o.FactoryBad {
		insmod += " badblocks=" + strings.Join(badList, ",")
	} else {
		for _, b := range bad {
			chip := guest.Primary
			if b >= nandPartBlocks {
				chip = guest.Backup
			}
			cmd.MarkBad = append(cmd.MarkBad, guest.BadBlock{Chip: chip, Block: b % nandPartBlocks})
		}
	}
	if _, err := e.run(ctx, m, insmod); err != nil {
		return err
	}
	mtd, err := e.run(ctx, m, "cat /proc/mtd")
	if err != nil {
		return err
	}
	fig.MTD = strings.TrimSpace(mtd)
	if !regexp.MustCompile(`mtd0: 08000000 00020000`).MatchString(mtd) || !regexp.MustCompile(`mtd1: 08000000 00020000`).MatchString(mtd) {
		return fmt.Errorf("nandsim did not create two 128 MiB partitions with 128 KiB blocks:\n%s", mtd)
	}
	out, runErr := e.run(ctx, m, cmd.String())
	counters, _ := e.run(ctx, m, "for d in mtd0 mtd1; do echo $d corrected_bits=$(cat /sys/class/mtd/$d/corrected_bits) ecc_failures=$(cat /sys/class/mtd/$d/ecc_failures) bad_blocks=$(cat /sys/class/mtd/$d/bad_blocks); done")
	fig.KernelCounts = strings.TrimSpace(counters)
	if _, err := e.run(ctx, m, "dd if=/dev/mtd0 of=/dev/vda bs=131072 conv=noerror,sync 2>/dev/null && dd if=/dev/mtd1 of=/dev/vdb bs=131072 conv=noerror,sync 2>/dev/null && sync"); err != nil {
		return fmt.Errorf("copying the partitions to the host: %w", err)
	}
	if err := m.Reboot(rebootTimeout); err != nil {
		return err
	}
	lines, _ := guest.Parse(out)
	committed := 0
	for _, l := range lines {
		switch {
		case l.Event == guest.EventFormat:
			fig.FormatWall = Seconds(l.Elapsed())
		case l.Event == guest.EventRound && l.Report != nil:
			fig.Rounds = append(fig.Rounds, roundFigures(l))
			if l.Report.Outcome == engine.OutcomeCommitted {
				committed++
			}
		case l.Event == guest.EventDone && l.Status != nil:
			fig.EngineLastErr = l.Status.LastError
		}
	}
	e.rep.Guest, _ = json.Marshal(fig)
	e.logf("guest: %d rounds, %d committed; kernel: %s", len(fig.Rounds), committed, strings.ReplaceAll(fig.KernelCounts, "\n", "; "))
	if runErr != nil {
		return violationf("the engine on NAND failed in the guest: %v", runErr)
	}
	e.rep.check("rounds-committed", committed == nandRounds, "%d of %d rounds committed", committed, nandRounds)
	pc := chipSpec{part: nandPart, size: nandPartSize, bad: pbad}
	bc := chipSpec{part: nandPart, size: nandPartSize, bad: bbad}
	g, err := nandGeometry()
	if err != nil {
		return err
	}
	l, err := engine.DefaultLayout(g, 0)
	if err != nil {
		return err
	}
	st, err := readChipImages(pc, bc, e.primary, e.backup, l)
	if err != nil {
		return violationf("decoding the NAND copies: %v", err)
	}
	diffs := compareSynced(st, engine.DefaultConfig().Types)
	e.rep.check("backup-equals-primary", len(diffs) == 0, "%s", joinOr(diffs, fmt.Sprintf("generation %d holds the primary's records (same sequence numbers and sha256)", st.Backup.Generation)))
	e.rep.check("chunks-verify", len(st.ChunkErrors) == 0, "%d committed chunks fail their digests (first: %s)", len(st.ChunkErrors), firstChunkErr(st.ChunkErrors))
	e.rep.check("nothing-interrupted", st.Interrupted == nil, "%s", interruptedString(st.Interrupted))
	e.rep.check("primary-image", st.ImageErr == nil, "firmware image: %s", errString(st.ImageErr, "verifies"))
	var onBad []string
	for _, ts := range st.Backup.Types {
		for _, c := range ts.Chunks {
			if slices.Contains(bbad, st.DataOff+int64(c.Block)*st.ChunkSize) {
				onBad = append(onBad, fmt.Sprintf("type %d block %d", ts.Type, c.Block))
			}
		}
	}
	e.rep.check("bad-blocks-avoided", len(onBad) == 0, "%s", joinOr(onBad, fmt.Sprintf("no committed chunk on the backup's %d bad blocks", len(bbad))))
	return nil
}

// nandDataStart returns the partition block where the store's data area
// starts with the default layout, from a format of simulated chips of the
// same geometry.
func nandDataStart(ctx context.Context) (int64, error) {
	p, err := sim.LookupPart(nandPart)
	if err != nil {
		return 0, err
	}
	clock := sim.NewClock(time.Unix(0, 0))
	var chips [2]*sim.Flash
	for i := range chips {
		if chips[i], err = sim.New(sim.Options{Part: p, Size: nandPartSize, Clock: clock}); err != nil {
			return 0, err
		}
		defer chips[i].Close()
	}
	if err := engine.Format(chips[0], chips[1], engine.Options{Clock: clock}); err != nil {
		return 0, fmt.Errorf("plan the NAND layout: %w", err)
	}
	l, err := engine.DefaultLayout(chips[1].Geometry(), 0)
	if err != nil {
		return 0, err
	}
	st, err := store.Open(chips[1], l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	return st.BlockOffset(0) / nandBlock, nil
}

// nandGeometry is the geometry hal/mtd reports for a nandsim partition.
func nandGeometry() (hal.Geometry, error) {
	p, err := sim.LookupPart(nandPart)
	if err != nil {
		return hal.Geometry{}, err
	}
	f, err := sim.New(sim.Options{Part: p, Size: nandPartSize})
	if err != nil {
		return hal.Geometry{}, err
	}
	defer f.Close()
	return f.Geometry(), nil
}
