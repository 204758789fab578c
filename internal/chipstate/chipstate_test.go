package chipstate_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

func chip(t *testing.T, clk *sim.Clock) *sim.Flash {
	return simtest.Chip(t, "w25q256jv", sim.Options{Size: 16 << 20, Clock: clk})
}

// pair returns two chips formatted by the engine with an information
// region of infoSize bytes (0: not formatted).
func pair(t *testing.T, infoSize int64) (a, b *sim.Flash) {
	clk := sim.NewClock(time.Unix(0, 0))
	a, b = chip(t, clk), chip(t, clk)
	if infoSize != 0 {
		l, err := engine.DefaultLayout(a.Geometry(), infoSize)
		require.NoError(t, err)
		require.NoError(t, engine.Format(a, b, engine.Options{Clock: clk, Layout: l, Config: engine.DefaultConfig()}))
	}
	return a, b
}

func TestResolve(t *testing.T) {
	def, err := engine.DefaultLayout(chip(t, nil).Geometry(), 0)
	require.NoError(t, err)
	for _, tc := range []struct {
		name      string
		formatted int64 // info size the chips were formatted with; 0 blank
		places    chipstate.Places
		wantInfo  int64
		wantStore int64 // store offset
		wantErr   error
		errText   string
	}{
		{name: "blank, defaults", wantInfo: def.InfoSize, wantStore: def.StoreOff},
		{name: "4M region opened without a size", formatted: 1 << 20, wantInfo: 1 << 20, wantStore: def.InfoOff + 1<<20},
		{name: "4M region, same size given", formatted: 1 << 20, places: chipstate.Places{InfoSize: 1 << 20}, wantInfo: 1 << 20, wantStore: def.InfoOff + 1<<20},
		{name: "4M region, other size given", formatted: 1 << 20, places: chipstate.Places{InfoSize: 2 << 20}, wantErr: chipstate.ErrSizeMismatch},
		{name: "explicit places", places: chipstate.Places{InfoOff: 2 << 20, InfoSize: 1 << 20, StoreOff: 4 << 20, StoreSize: 8 << 20}, wantInfo: 1 << 20, wantStore: 4 << 20},
		{name: "explicit places overlapping", places: chipstate.Places{InfoOff: 2 << 20, InfoSize: 4 << 20, StoreOff: 4 << 20}, errText: "overlaps store"},
		{name: "named places", places: chipstate.Places{Info: "2M+1M", Store: "4M+8M"}, wantInfo: 1 << 20, wantStore: 4 << 20},
		{name: "named places at offset 0", places: chipstate.Places{Info: "0+1M", Store: "1M+8M"}, wantInfo: 1 << 20, wantStore: 1 << 20},
		{name: "named places, the size its header records", formatted: 1 << 20, places: chipstate.Places{Info: fmt.Sprintf("%#x+1M", def.InfoOff), Store: fmt.Sprintf("%#x+0", def.InfoOff+1<<20)}, wantInfo: 1 << 20, wantStore: def.InfoOff + 1<<20},
		{name: "named places, another size than its header records", formatted: 1 << 20, places: chipstate.Places{Info: fmt.Sprintf("%#x+512K", def.InfoOff), Store: "4M+8M"}, wantErr: chipstate.ErrSizeMismatch},
		{name: "named places overlapping", places: chipstate.Places{Info: "2M+4M", Store: "4M+8M"}, wantErr: chipstate.ErrPlace, errText: "overlaps store"},
		{name: "both forms", places: chipstate.Places{Info: "2M+1M", Store: "4M+8M", InfoSize: 1 << 20}, wantErr: chipstate.ErrPlace, errText: "give the places as --info and --store, or as offsets and sizes (--info-offset, ...), not both"},
		{name: "info without store", places: chipstate.Places{Info: "2M+1M"}, wantErr: chipstate.ErrPlace, errText: "give both the information region's and the store's place, or neither"},
		{name: "a partition on a chip without partitions", places: chipstate.Places{Info: "cmc-info", Store: "cmc-store"}, wantErr: chipstate.ErrPlace, errText: `information region: bad place: no partition "cmc-info": this chip has no partitions (give the place as OFF+SIZE`},
		{name: "a bad identity", places: chipstate.Places{Image: "zip:0+1M"}, wantErr: chipstate.ErrPlace, errText: `image identity kind "zip"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t, tc.formatted)
			specs := [2]flashspec.Spec{mustSpec(t, "sim:part=w25q256jv,name=a"), mustSpec(t, "sim:part=w25q256jv,name=b")}
			l, _, err := chipstate.PairLayout([2]hal.Flash{a, b}, specs, tc.places, false)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			}
			if tc.errText != "" {
				require.ErrorContains(t, err, tc.errText)
			}
			if tc.wantErr != nil || tc.errText != "" {
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantInfo, l.InfoSize)
			require.Equal(t, tc.wantStore, l.StoreOff)
		})
	}
}

func mustSpec(t *testing.T, s string) flashspec.Spec {
	sp, err := flashspec.Parse(s)
	require.NoError(t, err)
	return sp
}

// TestPairLayoutIdentity: the image identity spec resolves on the places
// of each chip, and the default is the engine's (nil).
func TestPairLayoutIdentity(t *testing.T) {
	a, b := pair(t, 0)
	specs := [2]flashspec.Spec{mustSpec(t, "sim:part=w25q256jv,name=a"), mustSpec(t, "sim:part=w25q256jv,name=b")}
	_, id, err := chipstate.PairLayout([2]hal.Flash{a, b}, specs, chipstate.Places{Info: "2M+1M", Store: "4M+8M", Image: "sha256:0+64K"}, true)
	require.NoError(t, err)
	require.Equal(t, engine.RangeDigest{Off: 0, Size: 64 << 10}, id)
	_, id, err = chipstate.PairLayout([2]hal.Flash{a, b}, specs, chipstate.Places{}, true)
	require.NoError(t, err)
	require.Nil(t, id)
}

func TestResolvePairDisagree(t *testing.T) {
	a, _ := pair(t, 1<<20)
	_, b := pair(t, 2<<20)
	_, err := chipstate.ResolvePair(a, b, chipstate.Places{})
	require.ErrorIs(t, err, chipstate.ErrSizeMismatch)
	require.ErrorContains(t, err, "not one pair", "the error says what the user can check")
	// Only the backup's header intact: its size is used for both.
	blank, _ := pair(t, 0)
	l, err := chipstate.ResolvePair(blank, b, chipstate.Places{})
	require.NoError(t, err)
	require.Equal(t, int64(2<<20), l.InfoSize)
}

func TestSurvey(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T) (hal.Flash, engine.Layout)
		erased bool
		want   string
	}{
		{name: "blank", erased: true, want: "nothing (erased)", setup: func(t *testing.T) (hal.Flash, engine.Layout) {
			a, _ := pair(t, 0)
			l, _, err := chipstate.Resolve(a, chipstate.Places{})
			require.NoError(t, err)
			return a, l
		}},
		{name: "store formatted with a 1M region", want: "a cmcsync store (generation 0) and an information region of 1MiB", setup: func(t *testing.T) (hal.Flash, engine.Layout) {
			_, b := pair(t, 1<<20)
			l, _, err := chipstate.Resolve(b, chipstate.Places{})
			require.NoError(t, err)
			return b, l
		}},
		{name: "store at another size than looked at", want: "information region of 1MiB", setup: func(t *testing.T) (hal.Flash, engine.Layout) {
			// Looking with the default layout (the store not where the
			// formatted one is) still sees the region header.
			_, b := pair(t, 1<<20)
			l, err := engine.DefaultLayout(b.Geometry(), 0)
			require.NoError(t, err)
			return b, l
		}},
		{name: "region only", want: "an information region of 2MiB", setup: func(t *testing.T) (hal.Flash, engine.Layout) {
			a, _ := pair(t, 0)
			l, err := engine.DefaultLayout(a.Geometry(), 2<<20)
			require.NoError(t, err)
			require.NoError(t, info.FormatRegion(a, l.InfoOff, l.InfoSize))
			return a, l
		}},
		{name: "a bootloader byte", want: "not cmcsync's (first byte not erased at 0x10)", setup: func(t *testing.T) (hal.Flash, engine.Layout) {
			a, _ := pair(t, 0)
			_, err := a.WriteAt([]byte{0x12}, 0x10)
			require.NoError(t, err)
			l, _, err := chipstate.Resolve(a, chipstate.Places{})
			require.NoError(t, err)
			return a, l
		}},
		{name: "a byte at the store's end", want: "first byte not erased at 0xfffffe", setup: func(t *testing.T) (hal.Flash, engine.Layout) {
			a, _ := pair(t, 0)
			_, err := a.WriteAt([]byte{0x00}, 16<<20-2)
			require.NoError(t, err)
			l, _, err := chipstate.Resolve(a, chipstate.Places{})
			require.NoError(t, err)
			return a, l
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, l := tc.setup(t)
			c, err := chipstate.Survey(f, l)
			require.NoError(t, err)
			require.Equal(t, tc.erased, c.Erased(), c.String())
			require.Contains(t, c.String(), tc.want)
		})
	}
}

func TestCheckFormat(t *testing.T) {
	for _, tc := range []struct {
		name      string
		formatted int64
		dirty     bool // a byte written at 0 on the backup
		force     [2]bool
		want      []string // error substrings; nil: allowed
	}{
		{name: "blank pair"},
		{name: "formatted pair", formatted: 2 << 20, want: []string{
			"primary (p) holds a cmcsync store (generation 0) and an information region of 2MiB",
			"backup (b) holds", "--format erases", "--format --force=primary,backup"}},
		{name: "formatted pair, backup forced", formatted: 2 << 20, force: [2]bool{false, true}, want: []string{"--force=primary"}},
		{name: "formatted pair, both forced", formatted: 2 << 20, force: [2]bool{true, true}},
		{name: "foreign byte on the backup", dirty: true, want: []string{"backup (b) holds data that is not cmcsync's", "--force=backup"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t, tc.formatted)
			if tc.dirty {
				_, err := b.WriteAt([]byte{0}, 0)
				require.NoError(t, err)
			}
			l, err := chipstate.Plan(a.Geometry(), chipstate.Places{})
			require.NoError(t, err)
			err = chipstate.CheckFormat([]chipstate.Chip{{Name: "primary", Spec: "p", Flash: a, Force: tc.force[0]}, {Name: "backup", Spec: "b", Flash: b, Force: tc.force[1]}}, l, "--format")
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, chipstate.ErrRefused)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
			if !tc.force[0] && tc.formatted == 0 {
				require.NotContains(t, err.Error(), "primary (")
			}
		})
	}
}

func TestParseForce(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []bool
		bad  bool
	}{{"", []bool{false, false}, false}, {"primary", []bool{true, false}, false}, {"backup,primary", []bool{true, true}, false}, {"chip1", nil, true}, {"all", nil, true}} {
		got, err := chipstate.ParseForce(tc.in, "primary", "backup")
		if tc.bad {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestCheckScratch(t *testing.T) {
	for _, tc := range []struct {
		dev, name  string
		configured []string
		force      bool
		want       string // "" allowed
	}{
		{dev: "/dev/mtd6", name: "flash1"},
		{dev: "/dev/mtd1", name: "env", want: `/dev/mtd1 ("env") looks like a partition a board boots from`},
		{dev: "/dev/mtd0", name: "u-boot", want: "boots from"},
		{dev: "/dev/mtd2", name: "kernel", want: "boots from"},
		{dev: "/dev/mtd0", name: "u-boot", force: true},
		{dev: "/dev/mtd6", name: "flash1", configured: []string{"/dev/mtd4", "/dev/mtd6"}},
		{dev: "/dev/mtd5", name: "flash0", configured: []string{"/dev/mtd4", "/dev/mtd6"}, want: "not one of the chips the configuration file names"},
		{dev: "/dev/mtd5", name: "flash0", configured: []string{"/dev/mtd4"}, force: true},
		{dev: "/dev/mtd7", name: "cmcsync0"},
		{dev: "/dev/mtd8", name: "environment"}, // not a boot name
	} {
		err := chipstate.CheckScratch("selftest", tc.dev, tc.name, tc.configured, tc.force)
		if tc.want == "" {
			require.NoError(t, err, "%+v", tc)
			continue
		}
		require.ErrorIs(t, err, chipstate.ErrRefused)
		require.ErrorContains(t, err, tc.want)
		require.ErrorContains(t, err, "--force")
	}
}
