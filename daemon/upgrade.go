package daemon

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/sync/info"
)

// ErrNotSimulated is returned by SimulateUpgrade on real chips.
var ErrNotSimulated = errors.New("the chips are real flash: upgrades cannot be simulated")

// SimulateUpgrade writes a new firmware image version to the active chip,
// as a firmware update would: the next minor version, a seeded image. The
// next round notices it and waits for the user's choice
// (engine.ErrUpgradePending). On real chips it returns ErrNotSimulated
// and writes nothing.
func (d *Daemon) SimulateUpgrade() error {
	if !d.simulated {
		return ErrNotSimulated
	}
	version, err := d.writeUpgradedImage()
	if err != nil {
		return fmt.Errorf("write the upgraded image: %w", err)
	}
	d.logf("simulated image upgrade: the active image is now version %s", version)
	return nil
}

// writeUpgradedImage rewrites the active chip's firmware image with the
// next version and returns it.
func (d *Daemon) writeUpgradedImage() (string, error) {
	d.primaryMu.Lock()
	defer d.primaryMu.Unlock()
	primary := d.engine.Primary()
	h, err := info.ReadImageHeader(primary)
	if err != nil {
		return "", err
	}
	d.mu.Lock()
	d.upgrades++
	n := d.upgrades
	d.mu.Unlock()
	h.Version = nextVersion(h.Version)
	h.Built = time.Now()
	return h.Version, info.WriteImage(primary, h, d.opts.Seed+uint64(n))
}

// maxVersionLen bounds the versions nextVersion makes of other forms.
const maxVersionLen = 20

// nextVersion bumps the minor number of a "major.minor.patch" version
// ("1.0.0" -> "1.1.0"); other forms get a "+u" suffix, keeping the last
// maxVersionLen bytes.
func nextVersion(v string) string {
	parts := strings.Split(v, ".")
	if len(parts) == 3 {
		if minor, err := strconv.Atoi(parts[1]); err == nil {
			return fmt.Sprintf("%s.%d.0", parts[0], minor+1)
		}
	}
	next := v + "+u"
	if len(next) > maxVersionLen {
		next = next[len(next)-maxVersionLen:]
	}
	return next
}
