package engine

import (
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
)

// probe is the monitor step of the method (docs/DESIGN.md, The method):
// it reads the primary's image header (with the default identity source,
// HeaderIdentity) or else its information region's header (checked:
// magic, CRC, and the size the layout gives); an error, an image header
// different from want (if given) or a response time above the threshold
// is an anomaly. With want it also reads the round's record headers. The
// anomaly is timed from the first request the primary did not answer in
// time: the first read slower than the threshold, else the one that failed
// (the requests before it were answered).
func (e *Engine) probe(rs *roundState, want *info.ImageHeader) (info.ImageHeader, error) {
	rs.primary.mark()
	var h info.ImageHeader
	var err error
	if e.headerProbe() {
		h, err = info.ReadImageHeader(rs.primary)
		if err == nil && want != nil && h != *want {
			err = fmt.Errorf("%w: version %q, was %q", errImageChanged, h.Version, want.Version)
		}
	} else {
		err = e.probeRegion(rs.primary)
	}
	if err == nil && want != nil {
		// The records of the round's types: a header that no longer
		// decodes is primary corruption.
		hb := make([]byte, info.RecordHeaderSize)
		for _, off := range rs.recordOffsets {
			if _, err = rs.primary.ReadAt(hb, off); err != nil {
				break
			}
			if _, err = info.DecodeRecordHeader(hb); err != nil {
				err = fmt.Errorf("record header at %#x: %w", off, err)
				break
			}
		}
	}
	rs.lastProbe = e.clock.Now()
	// The response time is that of each read: each read is one request
	// the primary must answer.
	if err == nil {
		err = rs.primary.slow()
	}
	if err != nil {
		return h, &anomaly{err: err, began: rs.primary.failedAt()}
	}
	rs.writesSinceAnswer = 0
	return h, nil
}

// probeRegion reads and checks the information region's header of primary:
// the health probe of a chip that carries no cmcsync image header. An
// error wraps info.ErrCorrupt, or is the read's error.
func (e *Engine) probeRegion(primary hal.Flash) error {
	l := e.opts.Layout
	b := make([]byte, info.RegionHeaderSize)
	if _, err := primary.ReadAt(b, l.InfoOff); err != nil {
		return fmt.Errorf("read the information region header: %w", err)
	}
	h, err := info.DecodeRegionHeader(b)
	if err != nil {
		return fmt.Errorf("information region header at %#x: %w", l.InfoOff, err)
	}
	if h.Size != l.InfoSize {
		return fmt.Errorf("%w: the information region header at %#x records %s, the layout gives %s", info.ErrCorrupt, l.InfoOff, hal.FormatSize(h.Size), hal.FormatSize(l.InfoSize))
	}
	return nil
}
