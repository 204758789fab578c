package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
)

// chipProfile is the W25Q256JV as a calibration on a kernel with 4 KiB
// sectors would give it: renamed, no block erase.
func chipProfile(t *testing.T, name string) sim.Part {
	t.Helper()
	p, err := sim.LookupPart("w25q256jv")
	require.NoError(t, err)
	p.Name, p.BlockEraseSize, p.Typical.BlockErase, p.Max.BlockErase = name, 0, 0, 0
	return p
}

func TestCheckProfile(t *testing.T) {
	for _, p := range sim.Parts() {
		w, err := CheckProfile(p, false)
		require.NoError(t, err, p.Name)
		require.Empty(t, w)
	}
	emulated := chipProfile(t, "qemu-flash1")
	emulated.Typical.SectorErase, emulated.Max.SectorErase = 40*time.Microsecond, 90*time.Microsecond
	_, err := CheckProfile(emulated, false)
	require.ErrorIs(t, err, sim.ErrImplausible)
	require.ErrorContains(t, err, `part "qemu-flash1": physically implausible for NOR flash: typical sector erase 40µs is faster than 1ms`)
	require.ErrorContains(t, err, "cmcsync bench --allow-implausible")
	w, err := CheckProfile(emulated, true)
	require.NoError(t, err)
	require.Contains(t, w, "profile qemu-flash1 runs although")
	require.Contains(t, w, "its rows measure the profile, not a flash chip")

	broken := chipProfile(t, "broken")
	broken.EraseSize = 3000
	_, err = CheckProfile(broken, true)
	require.ErrorContains(t, err, "erase size 3000")
}

func TestConfigProfilesRefused(t *testing.T) {
	nand, err := sim.LookupPart("mt29f2g01")
	require.NoError(t, err)
	emulated := chipProfile(t, "qemu")
	emulated.Typical.PageProgram = 0
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"implausible", Config{Profiles: []sim.Part{emulated}}, "typical page program 0s is not positive"},
		{"nand", Config{Profiles: []sim.Part{nand}}, "part mt29f2g01 is nand"},
		{"same name as a table part", Config{Parts: []string{"w25q256jv"}, Profiles: []sim.Part{chipProfile(t, "w25q256jv")}}, "part w25q256jv is given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorContains(t, tc.c.Validate(), tc.want)
			_, err := Run(context.Background(), tc.c)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestRunProfiles: a profile runs beside (or instead of) the table's
// parts; with the W25Q256JV's timings it gives the W25Q256JV's rows; the
// 64k erase model, which it lacks, is skipped with the reason; an
// implausible profile runs only when allowed, with a warning.
func TestRunProfiles(t *testing.T) {
	base := Config{Timings: []string{"typical"}, Sizes: []int64{1 << 20},
		Workloads: []Workload{Synthetic(1, true)}, Strategies: []string{StrategyFullCopy, StrategyBlockDiff}, Seed: 3}
	c := base
	c.Parts, c.Profiles = []string{"w25q256jv"}, []sim.Part{chipProfile(t, "my-chip")}
	rep, err := Run(context.Background(), c)
	require.NoError(t, err)
	require.Contains(t, rep.Skipped, "my-chip typical 64k: part my-chip has no block erase: use the 4k erase model")
	byPart := map[string][]Row{}
	for _, r := range rep.Rows {
		byPart[r.Part] = append(byPart[r.Part], r)
	}
	require.NotEmpty(t, byPart["my-chip"])
	for _, r := range byPart["my-chip"] {
		require.Equal(t, "4k", r.EraseModel)
		var twin Row
		for _, w := range byPart["w25q256jv"] {
			if w.EraseModel == r.EraseModel && w.Strategy == r.Strategy && w.Workload == r.Workload {
				twin = w
			}
		}
		require.Equal(t, twin.DeviceSeconds, r.DeviceSeconds, r.Strategy)
		require.Equal(t, twin.PagesProgrammed, r.PagesProgrammed, r.Strategy)
	}
	require.Empty(t, rep.Warnings)

	emulated := chipProfile(t, "qemu-flash1")
	emulated.Typical.SectorErase, emulated.Max.SectorErase = 50*time.Microsecond, 80*time.Microsecond
	c = base
	c.Profiles, c.AllowImplausible = []sim.Part{emulated}, true
	rep, err = Run(context.Background(), c)
	require.NoError(t, err)
	require.Len(t, rep.Warnings, 1)
	require.Contains(t, rep.Warnings[0], "qemu-flash1")
	require.NotEmpty(t, rep.Rows)
	for _, r := range rep.Rows {
		require.Equal(t, "qemu-flash1", r.Part)
	}
	var b strings.Builder
	require.NoError(t, rep.WriteTable(&b))
	require.Contains(t, b.String(), "WARNING: profile qemu-flash1 runs although")
}
