package campaign

import (
	"context"
	"errors"
	"regexp"
	"strconv"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// checkStoppedReported: a round stopped by its context (the schedule's
// faults.Cancel fired and the round returned the context's error) whose
// purge did not finish says why (part of the purged invariant; it only
// fails). When the faults failed a backup erase, loudly or silently, after
// the cancel, and the round's engine reported no verified purge
// (engine.EventPurgeVerified), the round's error must carry an error
// besides the context's (the purge's): the daemon logs and shows only
// that. Judged from the injector's trace, the round's events and its
// error alone.
func checkStoppedReported(vs verdicts, t *trial) {
	if t.roundErr == nil || t.powerLost || !errors.Is(t.roundErr, context.Canceled) {
		return
	}
	at := int64(-1)
	for _, f := range t.roundFired {
		if _, ok := f.Action.(faults.Cancel); ok {
			at = f.Op.Index
			break
		}
	}
	if at < 0 {
		return
	}
	failed := 0
	for _, f := range t.roundFired {
		switch f.Action.(type) {
		case faults.Fail, faults.SilentErase:
			if f.Op.Role == faults.Backup && f.Op.Kind == faults.Erase && f.Op.Index > at {
				failed++
			}
		}
	}
	if failed == 0 {
		return
	}
	for _, ev := range t.preEvents {
		if ev.Kind == engine.EventPurgeVerified {
			return
		}
	}
	if onlyContext(t.roundErr) {
		vs.fail(Purged, "the round stopped by its context at operation %d: the faults failed %d backup erase(s) after that and no purge was verified, but the round's error says only %q (the purge's failure is dropped)", at, failed, t.roundErr)
	}
}

// onlyContext reports whether every error err wraps, down to the ones
// that wrap nothing, is a context's (cancelled or past its deadline).
func onlyContext(err error) bool {
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if !onlyContext(e) {
				return false
			}
		}
		return true
	case interface{ Unwrap() error }:
		if w := u.Unwrap(); w != nil {
			return onlyContext(w)
		}
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// eraseTriesText is how the method reports a block that does not read
// erased after its erase tries (docs/FORMAT.md, Verifying programs and
// erases): the size, the chip offset and the count of erases.
var eraseTriesText = regexp.MustCompile(`(\d+) bytes at 0x([0-9a-f]+) do not read erased after (\d+) erases`)

// checkEraseTriesReported: an error of the round that says a block does
// not read erased after N erases tells the truth (part of the
// bounded-wear invariant, whose bound counts EraseTries erases a write;
// it only fails): N is EraseTries, and the faults made at least N erases
// of that block fail silently in the round (each reported success and
// left it unerased). Judged from the round's error and the injector's
// trace.
func checkEraseTriesReported(vs verdicts, t *trial) {
	if t.roundErr == nil {
		return
	}
	for _, m := range eraseTriesText.FindAllStringSubmatch(t.roundErr.Error(), -1) {
		size, err1 := strconv.ParseInt(m[1], 10, 64)
		off, err2 := strconv.ParseInt(m[2], 16, 64)
		n, err3 := strconv.Atoi(m[3])
		if err1 != nil || err2 != nil || err3 != nil {
			vs.fail(BoundedWear, "the round's error %q names a block whose erases it cannot count", m[0])
			continue
		}
		silent := 0
		for _, f := range t.roundFired {
			if _, ok := f.Action.(faults.SilentErase); ok && f.Op.Role == faults.Backup && f.Op.Kind == faults.Erase && f.Op.Off <= off && off+size <= f.Op.Off+f.Op.Len {
				silent++
			}
		}
		switch {
		case n != EraseTries:
			vs.fail(BoundedWear, "the round's error says %q: the method erases a block %d times before it gives up (EraseTries)", m[0], EraseTries)
		case silent < n:
			vs.fail(BoundedWear, "the round's error says %q, but the faults made %d erase(s) of that block fail silently", m[0], silent)
		}
	}
}
