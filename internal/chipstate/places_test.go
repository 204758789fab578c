package chipstate

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/source/fwimage"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// fakeSysfs writes a /sys/class/mtd as the QEMU fuji guest shows it with
// the CMC layout of docs: two chips (device links spi0.0, spi0.1) with
// the same partition names, each with a whole-chip partition.
func fakeSysfs(t *testing.T) string {
	dir := t.TempDir()
	type dev struct {
		name      string
		off, size int64
	}
	chip := []dev{{"u-boot", 0, 0xf0000}, {"u-boot-env", 0xf0000, 0x10000}, {"kernel", 0x100000, 0x900000}, {"rofs", 0xa00000, 0x5000000},
		{"rwfs", 0x5a00000, 0x1000000}, {"cmc-info", 0x6a00000, 0x400000}, {"cmc-store", 0x6e00000, 0x1200000}}
	n := 0
	for c, link := range []string{"spi0.0", "spi0.1"} {
		for _, d := range append(chip, dev{fmt.Sprintf("flash%d", c), 0, 0x8000000}) {
			p := filepath.Join(dir, fmt.Sprintf("mtd%d", n))
			require.NoError(t, os.MkdirAll(p, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(p, "name"), []byte(d.name+"\n"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(p, "offset"), []byte(fmt.Sprintf("%d\n", d.off)), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(p, "size"), []byte(fmt.Sprintf("%d\n", d.size)), 0o644))
			require.NoError(t, os.Symlink("../../../"+link, filepath.Join(p, "device")))
			require.NoError(t, os.MkdirAll(p+"ro", 0o755))
			n++
		}
	}
	return dir
}

// layoutOn is the layout of one chip with partitions parts for the
// places info and store, as PairLayout plans it.
func layoutOn(g hal.Geometry, parts []Partition, info, store string) (engine.Layout, error) {
	q, err := Places{Info: info, Store: store}.onChip(parts)
	if err != nil {
		return engine.Layout{}, err
	}
	return Plan(g, q)
}

func TestChipPartitionsAndLayout(t *testing.T) {
	sys := fakeSysfs(t)
	parts, err := ChipPartitions(sys, "/dev/mtd15") // flash1
	require.NoError(t, err)
	require.Len(t, parts, 8)
	for _, p := range parts {
		n := 0
		fmt.Sscanf(p.Dev, "mtd%d", &n)
		require.GreaterOrEqual(t, n, 8, "%v is on the other chip", p)
	}
	g := hal.Geometry{Name: "flash1", Kind: hal.NOR, Size: 128 << 20, EraseSize: 4096, WriteSize: 1, PageSize: 256}
	l, err := layoutOn(g, parts, "cmc-info", "cmc-store")
	require.NoError(t, err)
	require.Equal(t, engine.Layout{InfoOff: 0x6a00000, InfoSize: 4 << 20, StoreOff: 0x6e00000, StoreSize: 0x1200000}, l)
	l2, err := layoutOn(g, parts, "0x6a00000+4MiB", "0x6e00000+18M")
	require.NoError(t, err)
	require.Equal(t, l, l2)

	_, err = layoutOn(g, parts, "cmc-inf", "cmc-store")
	require.ErrorIs(t, err, ErrPlace)
	require.ErrorContains(t, err, `no partition "cmc-inf" on this chip (its partitions: u-boot, flash1, u-boot-env`)
	_, err = layoutOn(g, parts, "rwfs", "cmc-store") // 16 MiB region: the store is too small
	require.ErrorIs(t, err, engine.ErrLayout)
	_, err = layoutOn(g, parts, "cmc-info", "flash1") // the whole chip overlaps the region
	require.ErrorIs(t, err, engine.ErrLayout)

	id, err := Identity("uimage:kernel", parts)
	require.NoError(t, err)
	require.Equal(t, fwimage.Source{Off: 0x100000, Size: 0x900000, Kind: fwimage.FormatUImage}, id)
	id, err = Identity("sha256:0+64K", parts)
	require.NoError(t, err)
	require.Equal(t, engine.RangeDigest{Off: 0, Size: 64 << 10}, id)
	for _, bad := range []string{"uimage", "zip:kernel", "fit:nope"} {
		_, err = Identity(bad, parts)
		require.ErrorIs(t, err, ErrPlace, bad)
	}
	_, err = ChipPartitions(sys, "/dev/mtd99")
	require.ErrorIs(t, err, ErrPlace)
}

// TestPartitionDeviceSeesOnlyItself: a chip opened as one of its
// partitions (docs/DEPLOY.md's mtd:name=cmcsync0) has no other partition
// in its range, so an image identity naming the kernel is refused there
// (docs/DEPLOY.md, Upgrades: such a layout detects no upgrade).
func TestPartitionDeviceSeesOnlyItself(t *testing.T) {
	sys := fakeSysfs(t)
	parts, err := ChipPartitions(sys, "/dev/mtd6") // cmc-store of the first chip
	require.NoError(t, err)
	require.Equal(t, []Partition{{Name: "cmc-store", Dev: "mtd6", Off: 0, Size: 0x1200000}}, parts)
	_, err = Identity("uimage:kernel", parts)
	require.ErrorIs(t, err, ErrPlace)
	require.ErrorContains(t, err, `no partition "kernel" on this chip (its partitions: cmc-store)`)
}
