package campaign

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/faults/reference/crosscheck"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/store"
)

// The independent-oracle cross-check: the oracle judges every store with
// the reference decoder (faults/reference) alone. While this package's
// tests run, every store the oracle decodes afresh — every generation,
// torn journal, purge and failover the campaigns produce — is also read by
// the store's own reader, and the two must agree on the committed state
// (generation, configuration, role, every type's chunk map and digests),
// the staged configuration, the pending and last purged rounds, and
// damage (crosscheck.Agree). A chip with unstable cells is skipped (two
// readers of bytes that read differently each time may disagree rightly),
// and so are the states the oracle's self-test makes wrong on purpose.
var crossChecks struct {
	sync.Mutex
	compared      int
	skipped       map[string]int
	disagreements []string
}

// crossCheck is the decode hook of this package's tests.
func crossCheck(chip hal.Flash, off, size int64, ref *reference.Backup, refErr error, skip string) {
	crossChecks.Lock()
	defer crossChecks.Unlock()
	if skip != "" {
		if crossChecks.skipped == nil {
			crossChecks.skipped = map[string]int{}
		}
		crossChecks.skipped[skip]++
		return
	}
	crossChecks.compared++
	st, err := store.Open(chip, off, size, store.Options{ReadOnly: true})
	var diffs []string
	switch {
	case refErr != nil && err != nil:
	case refErr != nil || err != nil:
		diffs = []string{fmt.Sprintf("one reader fails: reference %v, store %v", refErr, err)}
	default:
		diffs = append(crosscheck.State(ref, st), crosscheck.Damage(ref, st)...)
	}
	for _, d := range diffs {
		if len(crossChecks.disagreements) < 20 {
			crossChecks.disagreements = append(crossChecks.disagreements, fmt.Sprintf("%s: %s", chip.Geometry().Name, d))
		}
	}
}

func TestMain(m *testing.M) {
	decodeHook = crossCheck
	code := m.Run()
	crossChecks.Lock()
	defer crossChecks.Unlock()
	if len(crossChecks.disagreements) > 0 {
		fmt.Fprintf(os.Stderr, "independent-oracle cross-check: the reference decoder and sync/store disagree on %d store(s) (first ones):\n", len(crossChecks.disagreements))
		for _, d := range crossChecks.disagreements {
			fmt.Fprintln(os.Stderr, "  "+d)
		}
		code = 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "independent-oracle cross-check: %d stores compared; skipped: %v\n", crossChecks.compared, crossChecks.skipped)
	}
	os.Exit(code)
}
