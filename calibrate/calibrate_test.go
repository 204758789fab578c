package calibrate_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/calibrate"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sim"
)

var at = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// calibrateSpec calibrates the simulated chip spec names on a 1 MiB
// scratch at 1 MiB with the default plan.
func calibrateSpec(t *testing.T, spec string) (*calibrate.Result, sim.Profile) {
	t.Helper()
	s, err := flashspec.Parse(spec)
	require.NoError(t, err)
	clock := sim.NewClock(at)
	f, err := flashspec.Open(s, clock)
	require.NoError(t, err)
	defer hal.Close(f)
	res, err := calibrate.Run(context.Background(), f, calibrate.DefaultPlan(calibrate.Range{Off: 1 << 20, Size: 1 << 20}), clock, nil)
	require.NoError(t, err)
	pr, err := res.Profile(calibrate.Meta{Device: spec, At: at, Clock: "virtual"})
	require.NoError(t, err)
	return res, pr
}

// within asserts got is within 5% of want, and logs both.
func within(t *testing.T, what string, want, got float64) {
	t.Helper()
	t.Logf("%-22s table %12.3f  recovered %12.3f  (%+.2f%%)", what, want, got, 100*(got-want)/want)
	require.InEpsilon(t, want, got, 0.05, what)
}

// TestRecoversBuiltInParts calibrates every built-in part, simulated with
// the timing spread on, and recovers its typical table within 5%: page
// program, sector erase and bus rate under the 4k erase model (where a 64
// KiB erase is 16 sector erases, so the block erase is not measurable),
// the block erase under the 64k model (where it is the erase unit), and
// the NAND page read. The maxima are observed ones: at least typical, at
// most the table's.
func TestRecoversBuiltInParts(t *testing.T) {
	for _, p := range sim.Parts() {
		models := []sim.EraseModel{sim.Erase4K}
		if p.BlockEraseSize > 0 {
			models = append(models, sim.Erase64K)
		}
		for _, em := range models {
			spec := fmt.Sprintf("sim:part=%s,size=4M,timing=spread,erase=%v", p.Name, em)
			t.Run(spec, func(t *testing.T) {
				_, pr := calibrateSpec(t, spec)
				got, err := pr.Part()
				require.NoError(t, err)
				require.NoError(t, got.CheckPlausible())
				us := func(d time.Duration) float64 { return float64(d) / 1e3 }
				within(t, "page program µs", us(p.Typical.PageProgram), us(got.Typical.PageProgram))
				within(t, "bus rate B/s", float64(p.Typical.ReadBytesPerSec), float64(got.Typical.ReadBytesPerSec))
				tableErase, tableMax := p.Typical.SectorErase, p.Max.SectorErase
				if em == sim.Erase64K {
					tableErase, tableMax = p.Typical.BlockErase, p.Max.BlockErase
				}
				within(t, em.String()+" erase µs", us(tableErase), us(got.Typical.SectorErase))
				if p.Kind == hal.NAND {
					within(t, "page read µs", us(p.Typical.PageRead), us(got.Typical.PageRead))
				}
				require.Zero(t, got.BlockEraseSize, "Linux erases 64 KiB as 16 sectors under 4k; under 64k the block is the unit")
				require.LessOrEqual(t, got.Max.PageProgram, p.Max.PageProgram)
				require.LessOrEqual(t, got.Max.SectorErase, tableMax)
				require.GreaterOrEqual(t, got.Max.PageProgram, got.Typical.PageProgram)
				if p.Kind == hal.NOR && em == sim.Erase4K {
					require.Regexp(t, `block erase: not measurable: a 64 KiB erase took (0\.9|1\.0)\d× 16 erase commands of 4KiB`, strings.Join(pr.Notes, "\n"))
				}
			})
		}
	}
}

// TestBlockEraseMeasured: a driver that erases an aligned 64 KiB range
// with one block command (not Linux's spi-nor core with 4 KiB sectors)
// gives a block erase in the profile; one that erases it sector by sector
// does not, even when a large fixed cost per erase call (an emulator's)
// makes the 64 KiB erase far cheaper than sixteen 4 KiB erase calls.
func TestBlockEraseMeasured(t *testing.T) {
	bus := func(n int64) time.Duration { return time.Microsecond + time.Duration(n*40) }
	for _, tc := range []struct {
		name      string
		costs     costs
		wantBlock bool
	}{
		{"one block command", costs{read: bus, program: 500 * time.Microsecond, erase: 50 * time.Millisecond, erase64k: 150 * time.Millisecond}, true},
		{"sixteen sector commands", costs{read: bus, program: 500 * time.Microsecond, erase: 50 * time.Millisecond}, false},
		{"sixteen sector commands behind a fixed cost per call", costs{read: bus, program: 500 * time.Microsecond, erase: 25 * time.Microsecond, eraseCall: 500 * time.Microsecond}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeFlash(4<<20, tc.costs)
			res, err := calibrate.Run(context.Background(), f, calibrate.DefaultPlan(calibrate.Range{Off: 0, Size: 1 << 20}), f.clock, nil)
			require.NoError(t, err)
			pr, err := res.Profile(calibrate.Meta{Device: "fake", At: at, Clock: "virtual"})
			require.NoError(t, err)
			p, err := pr.Part()
			require.NoError(t, err)
			if !tc.wantBlock {
				require.Zero(t, p.BlockEraseSize)
				require.Contains(t, strings.Join(pr.Notes, "\n"), "block erase: not measurable: a 64 KiB erase took 1.00× 16 erase commands of 4KiB")
				return
			}
			require.Equal(t, int64(64<<10), p.BlockEraseSize)
			require.Equal(t, 150*time.Millisecond-time.Microsecond, p.Typical.BlockErase)
			require.Equal(t, 50*time.Millisecond-time.Microsecond, p.Typical.SectorErase)
			require.Equal(t, 500*time.Microsecond-time.Microsecond-256*40*time.Nanosecond, p.Typical.PageProgram)
			require.Equal(t, int64(25_000_000), p.Typical.ReadBytesPerSec)
			require.NoError(t, p.CheckPlausible())
		})
	}
}

// TestEmulatedChipIsImplausible: a device that erases instantly and
// programs no slower than its transfer (an emulator writing a file) gives
// a well-formed profile that CheckPlausible refuses; the program time
// below the transfer is set to 0 with a note.
func TestEmulatedChipIsImplausible(t *testing.T) {
	bus := func(n int64) time.Duration { return 20*time.Microsecond + time.Duration(n*1000) } // 1 MB/s
	f := newFakeFlash(4<<20, costs{read: bus, program: 100 * time.Microsecond, erase: 30 * time.Microsecond})
	res, err := calibrate.Run(context.Background(), f, calibrate.DefaultPlan(calibrate.Range{Off: 2 << 20, Size: 256 << 10}), f.clock, nil)
	require.NoError(t, err)
	pr, err := res.Profile(calibrate.Meta{Device: "mtd:/dev/mtd6", At: at, Clock: "monotonic", Emulated: true})
	require.NoError(t, err)
	require.True(t, pr.Emulated)
	require.Equal(t, "calibrated on mtd:/dev/mtd6 at 2026-11-26T12:00:00Z (emulated: the figures are the emulator's, not a chip's)", pr.Source)
	require.Contains(t, strings.Join(pr.Notes, "\n"), "typical page program: the measured 100µs is less than the command overhead and transfer")
	p, err := pr.Part()
	require.NoError(t, err)
	require.Zero(t, p.Typical.PageProgram)
	err = p.CheckPlausible()
	require.ErrorIs(t, err, sim.ErrImplausible)
	require.ErrorContains(t, err, "typical sector erase 10µs is faster than 1ms")
	require.ErrorContains(t, err, "typical page program 0s is not positive")
}

// TestOnlyScratchTouched: every operation lies inside the scratch, the
// rest of the device is unchanged, and the scratch is left erased.
func TestOnlyScratchTouched(t *testing.T) {
	bus := func(n int64) time.Duration { return time.Microsecond + time.Duration(n*40) }
	f := newFakeFlash(2<<20, costs{read: bus, program: 300 * time.Microsecond, erase: 40 * time.Millisecond})
	before := bytes.Clone(f.mem)
	scratch := calibrate.Range{Off: 512 << 10, Size: 192 << 10}
	var lines []string
	res, err := calibrate.Run(context.Background(), f, calibrate.DefaultPlan(scratch), f.clock, func(l string) { lines = append(lines, l) })
	require.NoError(t, err)
	require.NotEmpty(t, f.ops)
	for _, op := range f.ops {
		require.True(t, op.off >= scratch.Off && op.off+op.n <= scratch.End(), "%s of %#x+%#x outside %v", op.op, op.off, op.n, scratch)
	}
	require.Equal(t, before[:scratch.Off], f.mem[:scratch.Off])
	require.Equal(t, before[scratch.End():], f.mem[scratch.End():])
	require.True(t, hal.IsErased(f.mem[scratch.Off:scratch.End()]))
	require.Equal(t, calibrate.Range{Off: 512 << 10, Size: 64 << 10}, res.BlockWindow)
	require.Equal(t, 40*16, res.Program.Count)
	require.Equal(t, 40, res.Erase.Count)
	require.Equal(t, 10, res.Block.Count)
	require.Contains(t, lines, "repetition 43/43")
}

func TestPlanRefusals(t *testing.T) {
	g := hal.Geometry{Name: "mtd6", Kind: hal.NOR, Size: 128 << 20, EraseSize: 4096, WriteSize: 1, PageSize: 256}
	for _, tc := range []struct {
		name    string
		plan    calibrate.Plan
		want    error
		message string
	}{
		{"no scratch", calibrate.DefaultPlan(calibrate.Range{}), calibrate.ErrNoScratch, "name the range"},
		{"unaligned offset", calibrate.DefaultPlan(calibrate.Range{Off: 0x7e00100, Size: 1 << 20}), calibrate.ErrScratchUnaligned,
			"0x7e00100+1MiB on mtd6, whose erase size is 4KiB: calibration erases whole blocks (the aligned range around it is 0x7e00000+1028KiB)"},
		{"unaligned size", calibrate.DefaultPlan(calibrate.Range{Off: 0, Size: 100 << 10}), nil, ""},
		{"odd size", calibrate.DefaultPlan(calibrate.Range{Off: 0, Size: 5000 * 40}), calibrate.ErrScratchUnaligned, "0x0+200000"},
		{"past the end", calibrate.DefaultPlan(calibrate.Range{Off: 127 << 20, Size: 2 << 20}), calibrate.ErrScratchOutOfDevice,
			"0x7f00000+2MiB ends at 0x8100000, the device mtd6 is 0x8000000 bytes"},
		{"beyond the device", calibrate.DefaultPlan(calibrate.Range{Off: 200 << 20, Size: 1 << 20}), calibrate.ErrScratchOutOfDevice, "ends at"},
		{"too small", calibrate.DefaultPlan(calibrate.Range{Off: 0, Size: 16 << 10}), calibrate.ErrScratchTooSmall,
			"holds 4 erase blocks of 4KiB; 40 repetitions (and 3 warm-up) need at least 24KiB (6 blocks, at most 8 erases each)"},
		{"too few reps", calibrate.Plan{Scratch: calibrate.Range{Size: 1 << 20}, Reps: 5}, calibrate.ErrTooFewReps, "want at least 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.plan.Check(g)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			require.ErrorContains(t, err, tc.message)
		})
	}
}

// TestRunRefusesBeforeTouching: a refused plan or a bad block in the
// scratch stops Run before any operation.
func TestRunRefusesBeforeTouching(t *testing.T) {
	f := newFakeFlash(1<<20, costs{})
	_, err := calibrate.Run(context.Background(), f, calibrate.DefaultPlan(calibrate.Range{Off: 4096, Size: 4 << 20}), f.clock, nil)
	require.ErrorIs(t, err, calibrate.ErrScratchOutOfDevice)
	require.Empty(t, f.ops)

	part, err := sim.LookupPart("mt29f2g01")
	require.NoError(t, err)
	nand, err := sim.New(sim.Options{Part: part, Size: 4 << 20})
	require.NoError(t, err)
	require.NoError(t, nand.MarkBad(3<<17))
	_, err = calibrate.Run(context.Background(), nand, calibrate.DefaultPlan(calibrate.Range{Off: 0, Size: 2 << 20}), nand.Clock(), nil)
	require.ErrorIs(t, err, calibrate.ErrScratchBadBlock)
	require.ErrorContains(t, err, "erase block at 0x60000")
	require.Zero(t, nand.Stats().Erases)
}

func TestRunCancelled(t *testing.T) {
	f := newFakeFlash(1<<20, costs{read: func(int64) time.Duration { return time.Microsecond }})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := calibrate.Run(ctx, f, calibrate.DefaultPlan(calibrate.Range{Size: 1 << 20}), f.clock, nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestWriteText(t *testing.T) {
	res, pr := calibrateSpec(t, "sim:part=mx66l1g45g,size=4M")
	var b strings.Builder
	require.NoError(t, res.WriteText(&b, pr))
	out := b.String()
	for _, want := range []string{
		"measured mx66l1g45g nor 4MiB erase=4KiB write=1 page=256, scratch 0x100000+1MiB: 40 repetitions after 3 warm-up",
		"program    256    640    267.2µs    267.2µs",
		"profile calibrated-mx66l1g45g (calibrated on sim:part=mx66l1g45g,size=4M at 2026-11-26T12:00:00Z)",
		"bus rate          25.000 MB/s, command overhead 960ns (both corners)",
		"page program      typical 256µs, max 256µs",
		"erase (4KiB)      typical 30ms, max 30ms",
	} {
		require.Contains(t, out, want)
	}
}

// TestRecoversAcrossSeeds: the 5% recovery does not hang on one seed of
// the spread.
func TestRecoversAcrossSeeds(t *testing.T) {
	for _, p := range sim.Parts() {
		for seed := uint64(1); seed <= 5; seed++ {
			f, err := sim.New(sim.Options{Part: p, Size: 4 << 20, Spread: true, Seed: seed})
			require.NoError(t, err)
			res, err := calibrate.Run(context.Background(), f, calibrate.DefaultPlan(calibrate.Range{Off: 1 << 20, Size: 1 << 20}), f.Clock(), nil)
			require.NoError(t, err)
			pr, err := res.Profile(calibrate.Meta{Device: p.Name, At: at, Clock: "virtual"})
			require.NoError(t, err)
			got, err := pr.Part()
			require.NoError(t, err)
			msg := fmt.Sprintf("%s seed %d", p.Name, seed)
			require.InEpsilon(t, float64(p.Typical.PageProgram), float64(got.Typical.PageProgram), 0.05, msg)
			require.InEpsilon(t, float64(p.Typical.SectorErase), float64(got.Typical.SectorErase), 0.05, msg)
			require.InEpsilon(t, float64(p.Typical.ReadBytesPerSec), float64(got.Typical.ReadBytesPerSec), 0.05, msg)
		}
	}
}
