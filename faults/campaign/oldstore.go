package campaign

import (
	"bytes"
	"compress/gzip"
	"context"
	"embed"
	"fmt"
	"io"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// Stores an older cmcsync wrote ("v3chain", "v4chain"): the base is a
// pair of chips an older release's own writer made (format version 3 or
// 4: version 3 delta records named by intent-deltas records, 0x17, and
// checkpoint-deltas records, chains of up to 8 or 32 records), kept as
// gzip images in testdata/oldstores (its README says which commit and
// command made each). Today's engine opens them as they are; the round
// under test changes a run of Scenario.ScatterRun bytes in every chunk
// (dense.go), so it upgrades the store to version 5 before its intent and
// extends the old chains with compact records. The campaign cuts and
// tears every operation of it: recovery, the scrub and the apply read
// the old chains (before the upgrade, mixed after it), a failover
// restores from them.

//go:embed testdata/oldstores/*.img.gz
var oldStores embed.FS

// loadOldStore fills the scenario's erased chips with the images
// testdata/oldstores/NAME-primary.img.gz and NAME-backup.img.gz, erase
// block by erase block (blocks all 0xFF stay as they are).
func loadOldStore(chips [2]*sim.Flash, name string) error {
	for i, role := range [2]string{"primary", "backup"} {
		img, err := oldStoreImage(name, role)
		if err != nil {
			return err
		}
		c := chips[i]
		g := c.Geometry()
		if int64(len(img)) != g.Size {
			return fmt.Errorf("old store %s %s: image of %d bytes for a chip of %d", name, role, len(img), g.Size)
		}
		for off := int64(0); off < g.Size; off += g.EraseSize {
			block := img[off : off+g.EraseSize]
			if hal.IsErased(block) {
				continue
			}
			if _, err := c.WriteAt(block, off); err != nil {
				return fmt.Errorf("old store %s %s at %#x: %w", name, role, off, err)
			}
		}
	}
	return nil
}

func oldStoreImage(name, role string) ([]byte, error) {
	gz, err := oldStores.ReadFile("testdata/oldstores/" + name + "-" + role + ".img.gz")
	if err != nil {
		return nil, fmt.Errorf("old store %s: %w", name, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("old store %s %s: %w", name, role, err)
	}
	img, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("old store %s %s: %w", name, role, err)
	}
	return img, nil
}

// setupOldStore is setup for a scenario with Scenario.OldStore: the chips
// hold the older writer's pair instead of a format and a first sync.
func (b *bench) setupOldStore(ctx context.Context, sc Scenario, chips [2]*sim.Flash, clock *sim.Clock, opts engine.Options) (*bench, error) {
	if err := loadOldStore(chips, sc.OldStore); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	region, err := info.OpenRegion(chips[0], b.layout.InfoOff, b.layout.InfoSize)
	if err != nil {
		return nil, fmt.Errorf("setup: old store %s: %w", sc.OldStore, err)
	}
	e, err := engine.Open(ctx, chips[0], chips[1], opts)
	if err != nil {
		return nil, fmt.Errorf("setup: old store %s: %w", sc.OldStore, err)
	}
	return b.stageRoundUnderTest(e, sc, chips, clock, region, func() error {
		return scatter(region, sc, sc.DenseRounds+1)
	})
}
