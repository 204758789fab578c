package engine

import (
	"errors"
	"time"

	"github.com/cmcsync/cmcsync/sync/info"
)

// anomaly is an error from the primary that interrupts a round.
type anomaly struct {
	err   error
	began time.Time // when the failing probe or read started
	// recheck is what the wait-response probes read again, besides the
	// image and record headers, before they count the primary as
	// answering correctly: the part of the information region that read
	// corrupt.
	recheck recheck
}

// recheck names the part of the primary's information region a round
// found corrupt: the region's header (region), and the record of type
// record if not zero.
type recheck struct {
	region bool
	record info.Type
}

func (a *anomaly) Error() string { return "primary anomaly: " + a.err.Error() }

func (a *anomaly) Unwrap() error { return a.err }

// corrupt reports whether the primary answered with data the engine
// detects as corrupt (a bad header or record CRC, a changed image
// header), rather than failing or being slow to answer. A corrupt answer
// counts as no answer (see waitResponse).
func (a *anomaly) corrupt() bool {
	return errors.Is(a.err, info.ErrCorrupt) || errors.Is(a.err, errImageChanged)
}

var (
	errImageChanged = errors.New("image header changed")
	errSlow         = errors.New("response time above the threshold")
)
