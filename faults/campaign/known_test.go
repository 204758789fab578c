package campaign

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// The expectation list: testdata/known-violations.txt holds the cases
// that today's engine and store are known to fail, each as the invariant
// it breaks and its replay line, under the reason it fails. The campaign
// tests accept exactly these violations (any other fails them), and
// TestKnownViolationsStillFail replays every one and fails once a listed
// case no longer breaks its invariant: the list cannot go stale, and it is
// emptied as the store's and the engine's fixes land.
//
// "crosscheck" entries are stores on which the reference decoder and
// sync/store disagree (see crosscheck_test.go).
//
// CMCSYNC_UPDATE_KNOWN_VIOLATIONS=1 go test -run TestUpdateKnownViolations
// rewrites the list from what the campaign tests find, with the reasons of
// knownReasons.

const knownFile = "testdata/known-violations.txt"

// crossCheckInvariant names a disagreement of the two decoders in the
// list.
const crossCheckInvariant = "crosscheck"

// knownViolation is one line of the list.
type knownViolation struct {
	invariant, replay, reason string
}

func (k knownViolation) key() string { return k.invariant + ": " + k.replay }

var known struct {
	once  sync.Once
	list  []knownViolation
	byKey map[string]knownViolation
	err   error
}

// knownViolations reads the list once.
func knownViolations(t testing.TB) map[string]knownViolation {
	t.Helper()
	known.once.Do(func() {
		known.byKey = map[string]knownViolation{}
		data, err := os.ReadFile(knownFile)
		if err != nil {
			known.err = err
			return
		}
		reason := ""
		for n, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			switch {
			case line == "":
			case strings.HasPrefix(line, "# reason: "):
				reason = strings.TrimPrefix(line, "# reason: ")
			case strings.HasPrefix(line, "#"):
			default:
				inv, replay, ok := strings.Cut(line, ": ")
				if !ok || reason == "" {
					known.err = fmt.Errorf("%s:%d: want \"INVARIANT: REPLAY LINE\" under a \"# reason: \" line, got %q", knownFile, n+1, line)
					return
				}
				k := knownViolation{invariant: inv, replay: replay, reason: reason}
				known.list = append(known.list, k)
				known.byKey[k.key()] = k
			}
		}
	})
	require.NoError(t, known.err)
	return known.byKey
}

// requireOnlyKnown fails t for every violation rep lists that the list
// does not hold; rep must list them all (Options.KeepViolations).
func requireOnlyKnown(t *testing.T, rep *Report) {
	t.Helper()
	k := knownViolations(t)
	require.Equal(t, rep.ViolationsTotal, len(rep.Violations), "the report must list every violation (raise KeepViolations)")
	var unknown []string
	for _, v := range rep.Violations {
		if _, ok := k[v.Invariant+": "+v.Replay]; !ok {
			unknown = append(unknown, fmt.Sprintf("%s: %s\n    %s", v.Invariant, v.Replay, v.Detail))
		}
	}
	recordFound(rep.Violations)
	if !updating() {
		require.Empty(t, unknown, "violations not in %s", knownFile)
	}
}

// allKnown keeps every violation any test found (see
// TestUpdateKnownViolations).
var allKnown struct {
	sync.Mutex
	found []Violation
}

func recordFound(vs []Violation) {
	allKnown.Lock()
	allKnown.found = append(allKnown.found, vs...)
	allKnown.Unlock()
}

// TestKnownViolationsStillFail replays every listed case and requires it
// to break its invariant still (a crosscheck entry: the decoders still
// disagree on a store the case leaves).
func TestKnownViolationsStillFail(t *testing.T) {
	knownViolations(t)
	if testing.Short() && len(known.list) > 40 {
		t.Skip("replays every known violation")
	}
	ctx := context.Background()
	for _, k := range known.list {
		c, err := ParseCase(k.replay)
		require.NoError(t, err, k.replay)
		before := disagreementsFor(k.replay)
		vs, err := Replay(ctx, c)
		require.NoError(t, err, k.replay)
		if k.invariant == crossCheckInvariant {
			require.Greater(t, disagreementsFor(k.replay), before, "%s: the decoders agree now; remove the line (%s)", k.replay, k.reason)
			continue
		}
		v := verdictOf(vs, k.invariant)
		require.False(t, v.OK, "%s: %s holds now (%s); remove the line (%s)", k.replay, k.invariant, v.Saw, k.reason)
	}
}

// knownReasons classifies a violation for the list: the first pattern its
// replay line contains, with the invariant, gives the reason.
var knownReasons = []struct {
	invariant, pattern, reason string
}{
	{crossCheckInvariant, "before", staleView},
	{Purged, "before", staleView},
	{crossCheckInvariant, "", "(store) sync/store and the reference decoder read a damaged store differently"},
	{Atomic, "before", "(store) damage before the round is not detected: a destroyed journal record hides the committed blocks and the allocator takes blocks from the cursor on as erased, programming over old data; a flipped committed chunk is neither verified at open nor reported"},
	{Live, "before", "(engine) the round after recovery leaves damaged committed chunks in place: nothing verifies them, so nothing rewrites them"},
	{Atomic, "weak", "(store) a weakly programmed chunk (reads right once) is committed and never read twice: the damage is neither detected nor reported"},
	{Live, "weak", "(engine) the round after recovery does not rewrite a chunk that decayed after it was committed"},
	{Durable, "weak", "(store) a weakly programmed journal record decays after the commit: every record after it, the commit included, is lost at the next open"},
	{Purged, "weak", "(store) a weakly programmed intent decays: at the next open the interrupted round is invisible, so its blocks are never purged"},
	{Failover, "weak", "(store, engine) a weak program around a failover: a journal record before the role record decays (the role is lost at the next open), or a page of the restored information region decays (the restore is never read back)"},
	{Failover, "silent-erase", "(engine) the failover's restore programs the information region after erases that silently failed and never reads it back"},
	{Live, "silent-erase", "(engine) after an erase that silently failed the round after recovery cannot do its work: a chunk committed over the erase stays in place (nothing verifies it), or the information region a failover restored over it holds garbage the round cannot read"},
	{Atomic, "silent-erase", "(store) a chunk programmed over an erase that silently failed is committed without being read back"},
	{Durable, "silent-erase", "(store) a journal block whose erase silently failed is written without being read back: its records are garbage at the next open and the round's commit is lost"},
	{Purged, "silent-erase", "(store) blocks taken as erased after an erase that silently failed are never read back: a journal block's intent reads as garbage (the round's blocks are never purged), or a window erase's spare blocks stay dirty while the store records them as erased"},
	{BoundedWear, "", "(engine) blocks erased more often than the stated bound"},
	{InterruptBound, "", "(engine) the round writes a long run of backup records without probing the primary (the intent of a round that rewrites most chunks, or a compaction, is written whole before the first probe between chunk writes): a primary corrupted just before it is seen only after more backup writes than the probe interval allows"},
	{"", "", "unclassified: see the replay"},
}

// staleView is the reason of the cases where the oracle judges a stale
// decode: a fresh reference.Decode of the chip agrees with sync/store.
const staleView = "(harness) the oracle judges a stale view: after damage before the round, the engine's Open in the round phase purges and compacts (area 1, epoch 2, nothing pending), but the round phase's injector is disarmed while the engine opens (newPhase(c.Round, true, 0)), so those writes are not traced, the judge's writes are empty, view()'s cache key (the changed metadata blocks) equals the damaged base's and the cache returns the base's decode (area 0, a pending round, records lost); a fresh reference.Decode of the chip agrees with sync/store"

// reasonFor returns the reason knownReasons gives v.
func reasonFor(invariant, replay string) string {
	for _, r := range knownReasons {
		if (r.invariant == "" || r.invariant == invariant) && strings.Contains(replay, r.pattern) {
			return r.reason
		}
	}
	return ""
}

// TestUpdateKnownViolations rewrites the list from the violations the
// campaign tests of this run found (run it with the tests whose findings
// it should hold, and without -short).
func TestUpdateKnownViolations(t *testing.T) {
	if os.Getenv("CMCSYNC_UPDATE_KNOWN_VIOLATIONS") == "" {
		t.Skip("set CMCSYNC_UPDATE_KNOWN_VIOLATIONS=1 to rewrite " + knownFile)
	}
	t.Cleanup(func() {
		allKnown.Lock()
		defer allKnown.Unlock()
		byReason := map[string][]string{}
		seen := map[string]bool{}
		add := func(inv, replay string) {
			line := inv + ": " + replay
			if !seen[line] {
				seen[line] = true
				r := reasonFor(inv, replay)
				byReason[r] = append(byReason[r], line)
			}
		}
		for _, v := range allKnown.found {
			add(v.Invariant, v.Replay)
		}
		for _, line := range disagreementLines() {
			add(crossCheckInvariant, line)
		}
		var reasons []string
		for r := range byReason {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		var b strings.Builder
		b.WriteString(knownHeader)
		for _, r := range reasons {
			lines := byReason[r]
			sort.Strings(lines)
			fmt.Fprintf(&b, "\n# reason: %s\n%s\n", r, strings.Join(lines, "\n"))
		}
		require.NoError(t, os.WriteFile(knownFile, []byte(b.String()), 0o644))
	})
}

const knownHeader = `# Known violations of today's engine and store.
#
# Each line is an invariant (or "crosscheck": the reference decoder and
# sync/store disagree on a store the case leaves) and the replay line of a
# case that breaks it, under the reason it fails ("(store)": sync/store
# must change; "(engine)": sync/engine). Replay one with
#   go run ./cmd/cmcsync campaign --replay 'LINE'
# The campaign tests accept exactly these violations; TestKnownViolationsStillFail
# fails once a listed case holds: remove its line as the fix lands.
`
