package campaign

import (
	"fmt"
	"strings"

	"github.com/cmcsync/cmcsync/faults/reference"
)

// checkFindingsReported (atomic): the damage done to the backup's journal
// before the round (a damage point) that the reference decoder finds in
// the chain on the damaged base (base: records damaged, a sequence gap,
// records lost) is damage the round's engine reported when it opened the
// store (Status.Damage, reported: nil when it did not open), with the same kind,
// journal area, chip offset and sequence number: a user reads there what
// to look at. Judged only when the cells read the same from read to read
// (stable) and the decoder read the store; the self-test's wrong states
// are not judged here.
func checkFindingsReported(vs verdicts, base *storeView, reported []string, stable bool) {
	if !stable || base == nil || base.err != nil || base.backup == nil || reported == nil {
		return
	}
	for _, f := range base.backup.Findings {
		switch f.Kind {
		case reference.RecordDamaged, reference.SequenceGap, reference.RecordsLost:
		default:
			continue
		}
		want := findingWhere(f)
		if !containsSubstring(reported, want) {
			vs.fail(Atomic, "the backup's journal holds %s (reference decoder: %s), but the engine's open reported no %q among its damage %q", f.Kind, f.Detail, want, reported)
			return
		}
	}
}

// findingWhere is how a store finding of f's kind names where it lies
// (sync/store's Finding.String, docs/JSON.md's damage strings).
func findingWhere(f reference.Finding) string {
	s := fmt.Sprintf("%s in journal area %d at %#x", f.Kind, f.Area, f.Off)
	if f.Seq != 0 {
		s += fmt.Sprintf(", seq %d", f.Seq)
	}
	return s + ": "
}

// containsSubstring reports whether one of ss contains sub.
func containsSubstring(ss []string, sub string) bool {
	for _, s := range ss {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
