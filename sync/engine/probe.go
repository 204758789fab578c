package engine

import (
	"fmt"

	"github.com/cmcsync/cmcsync/sync/info"
)

// probe reads the primary's image header: an error, a header different
// from want (if given) or a response time above the threshold is an
// anomaly. With want it also reads the round's record headers. The
// anomaly is timed from the first request the primary did not answer in
// time: the first read slower than the threshold, else the one that failed
// (the requests before it were answered).
func (e *Engine) probe(rc *roundCtx, want *info.ImageHeader) (info.ImageHeader, error) {
	rc.primary.mark()
	h, err := info.ReadImageHeader(rc.primary)
	if err == nil && want != nil && h != *want {
		err = fmt.Errorf("%w: version %q, was %q", errImageChanged, h.Version, want.Version)
	}
	if err == nil && want != nil {
		// The records of the round's types: a header that no longer
		// decodes is primary corruption.
		hb := make([]byte, info.RecordHeaderSize)
		for _, off := range rc.recOffs {
			if _, err = rc.primary.ReadAt(hb, off); err != nil {
				break
			}
			if _, err = info.DecodeRecordHeader(hb); err != nil {
				err = fmt.Errorf("record header at %#x: %w", off, err)
				break
			}
		}
	}
	rc.lastProbe = e.clock.Now()
	// The response time is that of each read: each read is one request
	// the primary must answer.
	if err == nil && !rc.primary.slow.IsZero() {
		err = fmt.Errorf("%w: %v", errSlow, rc.primary.slowest)
	}
	if err != nil {
		return h, &anomaly{err: err, when: rc.primary.failedAt()}
	}
	return h, nil
}
