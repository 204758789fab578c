package engine

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/source/fwimage"
	"github.com/cmcsync/cmcsync/sync/info"
)

// realChipPair is a pair of simulated chips laid out as a real CMC's: a
// boot image in the first MiB, other partitions' bytes up to the
// information region at 4 MiB (1 MiB), the store from 5 MiB to the end.
// Every byte outside the region and the store is random (never erased), so
// a stray write or erase there shows.
type realChipPair struct {
	*pair
	outside [2][]byte // each chip's whole contents, as the test last set them
}

const (
	realBoot     = 1 << 20
	realInfoOff  = 4 << 20
	realInfoSize = 1 << 20
	realStoreOff = 5 << 20
)

func testImage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "source", "fwimage", "testdata", name))
	require.NoError(t, err)
	return b
}

func newRealChipPair(t *testing.T, image []byte, ident func(*realChipPair) ImageIdentity) *realChipPair {
	t.Helper()
	clock := simtest.NewClock()
	p := &realChipPair{pair: &pair{clock: clock, cmc: cmcsim.New(7)}}
	rng := rand.New(rand.NewPCG(14, 1))
	a, b := simtest.Pair(t, "mx66l1g45g", sim.Options{Size: 8 << 20, Clock: clock, Seed: 1})
	for i, f := range []*sim.Flash{a, b} {
		junk := make([]byte, 8<<20)
		for j := range junk {
			junk[j] = byte(rng.UintN(255)) // never 0xff: nothing reads as erased
		}
		copy(junk, image)
		f.Poke(0, junk)
		p.outside[i] = junk
	}
	p.chipA, p.chipB = a, b
	l, err := NewLayout(p.chipA.Geometry(), realInfoOff, realInfoSize, realStoreOff, 0)
	require.NoError(t, err)
	require.Zero(t, l.ImageSize)
	p.opts = Options{Clock: clock, Layout: l, Config: DefaultConfig(), Image: ident(p)}
	_, err = FormatAndFill(p.chipA, p.chipB, p.opts, p.cmc.Populate)
	require.NoError(t, err)
	p.requireOutsideUnchanged(t)
	return p
}

// outsideDiff returns an error naming the first byte outside the
// information region and the store (the region starts at 4 MiB; the store
// runs to the end) that differs from what the test put there.
func (p *realChipPair) outsideDiff() error {
	for i, f := range []hal.Flash{p.chipA, p.chipB} {
		got := make([]byte, realInfoOff)
		if _, err := f.ReadAt(got, 0); err != nil {
			return err
		}
		want := p.outside[i][:realInfoOff]
		if !bytes.Equal(got, want) {
			first := 0
			for got[first] == want[first] {
				first++
			}
			return fmt.Errorf("%s: byte %#x outside the region and the store changed: %#02x, was %#02x", f.Geometry().Name, first, got[first], want[first])
		}
	}
	return nil
}

func (p *realChipPair) requireOutsideUnchanged(t *testing.T) {
	t.Helper()
	require.NoError(t, p.outsideDiff())
}

// replaceImage puts another image at offset 0 of the primary, as an
// upgrade would.
func (p *realChipPair) replaceImage(image []byte) {
	p.chipA.Poke(0, image)
	copy(p.outside[0], image)
}

func TestRealChipLayoutUpgradeDetection(t *testing.T) {
	bootSource := func(*realChipPair) ImageIdentity {
		return fwimage.Source{Off: 0, Size: realBoot}
	}
	tests := []struct {
		name       string
		first      []byte
		second     []byte // the upgrade
		ident      func(*realChipPair) ImageIdentity
		detected   bool
		wantPrefix string
	}{
		{"uImage", testImage(t, "uimage-uboot.bin"), testImage(t, "uimage-kernel.bin"), bootSource, true, "uImage "},
		{"uImage header only", testImage(t, "uimage-uboot.bin"), testImage(t, "uimage-kernel.bin"),
			func(*realChipPair) ImageIdentity {
				return fwimage.Source{Size: realBoot, HeaderOnly: true, Kind: fwimage.FormatUImage}
			}, true, "uImage "},
		{"FIT", testImage(t, "fit-embedded.itb"), testImage(t, "fit-openbmc.itb"), bootSource, true, "FIT "},
		{"range digest", []byte("bootloader v1"), []byte("bootloader v2"),
			func(*realChipPair) ImageIdentity { return RangeDigest{Off: 0, Size: realBoot} }, true, "sha256:"},
		{"none", []byte("bootloader v1"), []byte("bootloader v2"), func(*realChipPair) ImageIdentity { return nil }, false, "none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			p := newRealChipPair(t, tc.first, tc.ident)
			e := p.open(t)
			rep, err := e.Round(ctx)
			require.NoError(t, err)
			require.Equal(t, OutcomeCommitted, rep.Outcome)
			requireSynced(t, p.pair, p.chipA, p.chipB, DefaultConfig().Types)
			first := e.Status().CommittedVersion
			require.True(t, len(first) > len(tc.wantPrefix) && first[:len(tc.wantPrefix)] == tc.wantPrefix || first == tc.wantPrefix, "identity %q", first)
			p.requireOutsideUnchanged(t)

			p.replaceImage(tc.second)
			require.NoError(t, p.cmc.Step(p.region(t, p.chipA), time.Hour))
			_, err = e.Round(ctx)
			if !tc.detected {
				require.NoError(t, err)
				require.False(t, e.Status().UpgradePending)
				p.requireOutsideUnchanged(t)
				return
			}
			require.ErrorIs(t, err, ErrUpgradePending)
			require.True(t, e.Status().UpgradePending)
			second := e.Status().PrimaryVersion
			require.NotEqual(t, first, second)
			// Known at Open too, from the flash.
			require.True(t, p.open(t).Status().UpgradePending)
			require.NoError(t, e.Upgrade(KeepUpgraded))
			require.Equal(t, second, e.Status().CommittedVersion)
			require.False(t, e.Status().UpgradePending)
			requireSynced(t, p.pair, p.chipA, p.chipB, DefaultConfig().Types)
			p.requireOutsideUnchanged(t)
		})
	}
}

// TestRealChipOutsideCheckFails shows the outside-bytes check catches a
// write there: the generated image a simulator Format writes at 0.
func TestRealChipOutsideCheckFails(t *testing.T) {
	p := newRealChipPair(t, testImage(t, "uimage-uboot.bin"), func(*realChipPair) ImageIdentity { return fwimage.Source{Size: realBoot} })
	require.NoError(t, info.WriteImage(p.chipB, info.ImageHeader{Version: "1.0.0", Size: 4096}, 1))
	require.ErrorContains(t, p.outsideDiff(), "flash1: byte 0x0 outside")
}

// TestRealChipHealthFromRegion: without the image header, a primary whose
// information region header reads corrupt is an anomaly (no commit; the
// primary never answers correctly, so a failover), and
// a layout without an image area refuses the header identity source.
func TestRealChipHealthFromRegion(t *testing.T) {
	p := newRealChipPair(t, testImage(t, "uimage-uboot.bin"), func(*realChipPair) ImageIdentity { return fwimage.Source{Size: realBoot} })
	e := p.open(t)
	_, err := e.Round(context.Background())
	require.NoError(t, err)
	gen := e.Status().Generation
	hdr := make([]byte, 8)
	_, err = p.chipA.ReadAt(hdr, realInfoOff)
	require.NoError(t, err)
	require.Equal(t, info.RegionMagic, string(hdr))
	p.chipA.Poke(realInfoOff, []byte("XXXXXXXX"))
	rep, err := e.Round(context.Background())
	require.NoError(t, err)
	require.Equal(t, OutcomeFailover, rep.Outcome)
	require.Contains(t, rep.Anomaly, "information region header at 0x400000")
	require.Equal(t, gen, e.Status().Generation, "nothing committed from the corrupt primary")
	require.Equal(t, 1, e.Status().ActiveChip)

	opts := p.opts
	opts.Image = HeaderIdentity{}
	_, err = Open(context.Background(), p.chipA, p.chipB, opts)
	require.ErrorContains(t, err, "needs an image area")
}

// TestRealChipIdentityUnreadable: an identity source that finds no image
// ends the round with ErrImageIdentity, without a failover.
func TestRealChipIdentityUnreadable(t *testing.T) {
	p := newRealChipPair(t, nil, func(*realChipPair) ImageIdentity { return fwimage.Source{Size: realBoot} })
	e := p.open(t)
	_, err := e.Round(context.Background())
	require.ErrorIs(t, err, ErrImageIdentity)
	require.ErrorIs(t, err, fwimage.ErrNotImage)
	require.Zero(t, e.Status().ActiveChip)
	require.Zero(t, e.Status().Counters.Failovers)
	p.requireOutsideUnchanged(t)
}

func TestLayoutCheck(t *testing.T) {
	g := hal.Geometry{Name: "flash0", Kind: hal.NOR, Size: 64 << 20, EraseSize: 64 << 10, WriteSize: 1, PageSize: 256}
	M := int64(1 << 20)
	tests := []struct {
		name string
		l    Layout
		want string
	}{
		{"default", Layout{ImageSize: M, InfoOff: M, InfoSize: 8 * M, StoreOff: 9 * M, StoreSize: 55 * M}, ""},
		{"no image, store before region", Layout{InfoOff: 60 * M, InfoSize: 4 * M, StoreOff: 24 * M, StoreSize: 32 * M}, ""},
		{"misaligned", Layout{InfoOff: 60*M + 512, InfoSize: 3 * M, StoreOff: 24 * M, StoreSize: 32 * M}, "information region 0x3c00200+0x300000: offset and size must be non-negative multiples of the erase size 64KiB"},
		{"overlap", Layout{InfoOff: 50 * M, InfoSize: 4 * M, StoreOff: 24 * M, StoreSize: 32 * M}, "information region 0x3200000+4MiB overlaps store 0x1800000+32MiB"},
		{"past the end", Layout{InfoOff: 62 * M, InfoSize: 4 * M, StoreOff: 24 * M, StoreSize: 32 * M}, "information region 0x3e00000+4MiB ends past the end of flash0 (64MiB)"},
		{"image not at 0", Layout{ImageOff: M, ImageSize: M, InfoOff: 2 * M, InfoSize: M, StoreOff: 3 * M, StoreSize: 8 * M}, "must start at offset 0"},
		{"no store", Layout{InfoOff: 2 * M, InfoSize: M}, "store is empty"},
		{"store too small", Layout{InfoOff: 2 * M, InfoSize: 8 * M, StoreOff: 10 * M, StoreSize: M}, "store of 1MiB for an information region of 8MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.l.Check(g)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrLayout)
			require.ErrorContains(t, err, tc.want)
		})
	}
	l, err := NewLayout(g, 60*M, 4*M, 24*M, 32*M)
	require.NoError(t, err)
	require.Equal(t, Layout{InfoOff: 60 * M, InfoSize: 4 * M, StoreOff: 24 * M, StoreSize: 32 * M}, l)
	l, err = NewLayout(g, 8*M, 4*M, 16*M, 0)
	require.NoError(t, err)
	require.Equal(t, 48*M, l.StoreSize)
}
