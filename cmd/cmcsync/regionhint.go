package main

import (
	"errors"
	"strings"

	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// An information region whose header block is erased is reported by
// sync/info with info.ErrRegionErased, whose text ends in a hint that
// names no command ("format the region first"); the commands put one in
// its place that does: erasedHinted's text, then the hint.
const erasedHinted = "no region header (erased): "

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

// hintedError is an error for an erased region header whose message names
// the command that formats the region; it still wraps the original
// (errors.Is sees info.ErrRegionErased and info.ErrCorrupt).
type hintedError struct {
	err error
	msg string
}

func (e *hintedError) Error() string { return e.msg }
func (e *hintedError) Unwrap() error { return e.err }

// withRegionHint is err with hint in place of sync/info's "format the
// region first" when err is an erased region header's
// (errors.Is(err, info.ErrRegionErased)); any other err is returned as it
// is.
func withRegionHint(err error, hint string) error {
	if !errors.Is(err, info.ErrRegionErased) {
		return err
	}
	return &hintedError{err: err, msg: hintErased(err.Error(), hint)}
}

// hintErased is msg, the text of an error wrapping info.ErrRegionErased,
// with that error's text replaced by erasedHinted and hint (or, were it
// not found, with the hint after it). Only where the error is known to
// wrap info.ErrRegionErased: the text places the hint, it does not
// choose it.
func hintErased(msg, hint string) string {
	text := info.ErrRegionErased.Error()
	if !strings.Contains(msg, text) {
		return msg + "; " + hint
	}
	return strings.Replace(msg, text, erasedHinted+hint, 1)
}

// reportRegionHint is msg, the text of a report's error (a round's
// anomaly, inspect's info_error), with hint as withRegionHint puts it
// when err, the error the report keeps beside the text
// (RoundReport.AnomalyErr, Inspection.InfoErr), is an erased region
// header's (errors.Is(err, info.ErrRegionErased)); otherwise msg as it
// is, whatever its words.
func reportRegionHint(msg string, err error, hint string) string {
	if !errors.Is(err, info.ErrRegionErased) {
		return msg
	}
	return hintErased(msg, hint)
}

// anomalyHint is the hint for a round's anomaly: after a failover chip B
// is active already, and failback is what remains.
func anomalyHint(outcome string) string {
	if outcome == engine.OutcomeFailover {
		return regionHintFailedOver
	}
	return regionHintPair
}
