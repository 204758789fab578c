package campaign

import (
	"fmt"
	"os"
	"sort"
	"strings"
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
	compared int
	skipped  map[string]int
	// disagreements holds, by replay line, what the two readers
	// disagreed on in the stores that case left.
	disagreements map[string][]string
}

// crossCheck is the decode hook of this package's tests.
func crossCheck(line string, chip hal.Flash, off, size int64, ref *reference.Backup, refErr error, skip string) {
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
	if len(diffs) > 0 {
		if crossChecks.disagreements == nil {
			crossChecks.disagreements = map[string][]string{}
		}
		for _, d := range diffs {
			crossChecks.disagreements[line] = append(crossChecks.disagreements[line], fmt.Sprintf("%s: %s", chip.Geometry().Name, d))
		}
	}
}

// disagreementsFor returns how many disagreements the cases with replay
// line produced so far.
func disagreementsFor(line string) int {
	crossChecks.Lock()
	defer crossChecks.Unlock()
	return len(crossChecks.disagreements[line])
}

// disagreementLines returns the replay lines of the cases with
// disagreements, sorted.
func disagreementLines() []string {
	crossChecks.Lock()
	defer crossChecks.Unlock()
	var out []string
	for l := range crossChecks.disagreements {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// updating reports whether the tests run to rewrite the expectation list
// (see TestUpdateKnownViolations): then nothing fails for being unknown.
func updating() bool { return os.Getenv("CMCSYNC_UPDATE_KNOWN_VIOLATIONS") != "" }

func TestMain(m *testing.M) {
	decodeHook = crossCheck
	code := m.Run()
	k := knownViolations(nopT{})
	var unknown []string
	for _, line := range disagreementLines() {
		if _, ok := k[crossCheckInvariant+": "+line]; !ok {
			crossChecks.Lock()
			unknown = append(unknown, line+"\n    "+strings.Join(crossChecks.disagreements[line], "\n    "))
			crossChecks.Unlock()
		}
	}
	if len(unknown) > 0 && !updating() {
		fmt.Fprintf(os.Stderr, "independent-oracle cross-check: the reference decoder and sync/store disagree on the stores of %d case(s) not in %s:\n", len(unknown), knownFile)
		for i, d := range unknown {
			if i == 20 {
				fmt.Fprintf(os.Stderr, "  and %d more\n", len(unknown)-20)
				break
			}
			fmt.Fprintln(os.Stderr, "  "+d)
		}
		code = 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "independent-oracle cross-check: %d stores compared; disagreements on the stores of %d case(s), all expected: %v; skipped: %v\n",
			crossChecks.compared, len(disagreementLines()), len(unknown) == 0, crossChecks.skipped)
	}
	os.Exit(code)
}

// nopT is a testing.TB for reading the list outside a test.
type nopT struct{ testing.TB }

func (nopT) Helper()                           {}
func (nopT) Errorf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
func (nopT) FailNow()                          { os.Exit(2) }
