package main

import (
	"strings"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// sync/info's error for an information region whose header block is
// erased ends in a hint that names no command; the commands replace it
// with one that does (regionHint). The wording is sync/info's
// (DecodeRegionHeader; sync/info/region_test.go pins it).
const (
	erasedHeaderText  = "no region header (erased)"
	formatRegionFirst = "; format the region first"
)

// The hints: what formats an information region. A pair with stores keeps
// its information in them: failback formats chip A's region and writes
// the last committed generation back (a round fails over first when chip
// A is active). Only a new pair is formatted by sync --populate, which
// erases both chips (it formats nothing where a store is).
const (
	regionHintPair = "cmcsync failback formats chip A's information region and writes the pair's last committed information back, " +
		"once a cmcsync sync round has failed over to chip B (a round does when chip A's header is erased); " +
		"a new pair's regions are formatted by cmcsync sync --populate, which formats, i.e. ERASES both chips"
	regionHintFailedOver = "cmcsync failback formats chip A's information region and writes the pair's last committed information back"
)

// regionHint returns msg with sync/info's "format the region first" after
// an erased region header replaced by hint, which names the command that
// formats it; any other msg is returned as it is.
func regionHint(msg, hint string) string {
	if !strings.Contains(msg, erasedHeaderText+formatRegionFirst) {
		return msg
	}
	return strings.Replace(msg, erasedHeaderText+formatRegionFirst, erasedHeaderText+": "+hint, 1)
}

// hintedError is an error whose message regionHint rewrote; it still
// wraps the original (errors.Is sees info.ErrCorrupt).
type hintedError struct {
	err error
	msg string
}

func (e *hintedError) Error() string { return e.msg }
func (e *hintedError) Unwrap() error { return e.err }

// withRegionHint is err with regionHint's hint, or err itself.
func withRegionHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	msg := regionHint(err.Error(), hint)
	if msg == err.Error() {
		return err
	}
	return &hintedError{err: err, msg: msg}
}

// anomalyHint is the hint for a round's anomaly: after a failover chip B
// is active already, and failback is what remains.
func anomalyHint(outcome string) string {
	if outcome == engine.OutcomeFailover {
		return regionHintFailedOver
	}
	return regionHintPair
}
