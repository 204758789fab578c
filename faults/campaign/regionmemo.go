package campaign

import (
	"bytes"
	"slices"

	"github.com/cmcsync/cmcsync/sync/info"
)

// regionRead is what the oracle read of a chip's information region while
// the region's erase blocks had the given versions: the types whose
// records info.Region.Read returned as valid, with their payloads. The
// simulator gives a block a new version whenever its contents, bad or
// unstable state change and never reuses one, so while the versions are
// the same a read returns the same.
type regionRead struct {
	chip     int
	versions []uint64
	payloads map[info.Type][]byte
}

// regionVersions appends the versions of the erase blocks of chip's
// information region to dst.
func (w *worker) regionVersions(chip int, dst []uint64) []uint64 {
	l, e := w.bench.layout, w.bench.eraseSize
	for b := l.InfoOff / e; b <= (l.InfoOff+l.InfoSize-1)/e; b++ {
		dst = append(dst, w.chips[chip].BlockVersion(b))
	}
	return dst
}

// noteRegion records that chip's information region opened and that Read
// returned a valid record with payloads[t] for every type of payloads.
// Only with stable cells (reads that may differ are not kept).
func (w *worker) noteRegion(chip int, payloads map[info.Type][]byte) {
	if !w.stable {
		w.region = nil
		return
	}
	w.region = &regionRead{chip: chip, versions: w.regionVersions(chip, nil), payloads: payloads}
}

// regionKnownHolds reports whether noteRegion's record shows that chip's
// region holds, now, a valid record of each of the scenario's types whose
// payload is g's (what regionHolds checks): the region is unchanged since
// it was read and every type was read valid with g's payload. false means
// unknown (read it).
func (w *worker) regionKnownHolds(chip int, g *generation) bool {
	r := w.region
	if r == nil || r.chip != chip || !w.stable {
		return false
	}
	for _, t := range w.bench.scenario.Types {
		want, held := g.payloads[t]
		got, read := r.payloads[t]
		if !held || !read || !bytes.Equal(got, want) {
			return false
		}
	}
	w.versionBuf = w.regionVersions(chip, w.versionBuf[:0])
	return slices.Equal(w.versionBuf, r.versions)
}
