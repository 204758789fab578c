package engine

import (
	"errors"
	"time"
)

// anomaly is an error from the primary that interrupts a round.
type anomaly struct {
	err   error
	began time.Time // when the failing probe or read started
}

func (a *anomaly) Error() string { return "primary anomaly: " + a.err.Error() }

func (a *anomaly) Unwrap() error { return a.err }

var (
	errImageChanged = errors.New("image header changed")
	errSlow         = errors.New("response time above the threshold")
)
