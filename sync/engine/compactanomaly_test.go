package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/store"
)

// backupJournal returns the backup's journal area in charge and its epoch.
func (p *pair) backupJournal(t testing.TB) (int, uint64) {
	t.Helper()
	rep, err := store.Inspect(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, false)
	require.NoError(t, err)
	return rep.Journal.Area, rep.Journal.Epoch
}

// untilCompactingRound runs rounds on p, an engine opened for each (a
// reopened store continues its journal in a new block) and an hour of CMC
// activity between them, until the round that compacts the backup's
// journal; it puts the chips back as they were before that round and
// returns the journal area and epoch then.
func untilCompactingRound(t *testing.T, p *pair) (int, uint64) {
	t.Helper()
	area, epoch := p.backupJournal(t)
	for range 400 {
		snapA, snapB := p.chipA.Snapshot(), p.chipB.Snapshot()
		_, err := p.open(t).Round(context.Background())
		require.NoError(t, err)
		if a, _ := p.backupJournal(t); a != area {
			p.chipA.Restore(snapA)
			p.chipB.Restore(snapB)
			return area, epoch
		}
		require.NoError(t, p.cmc.Step(p.region(t, p.chipA), time.Hour))
	}
	t.Fatal("no round compacted the journal")
	return 0, 0
}

// TestAnomalyDuringTheBackupsCompaction: the round whose intent does not
// fit in the backup's journal compacts it first (store Begin), and the
// engine probes the primary between the checkpoint's programs (apply.go).
// When that probe finds the primary not answering, the round is
// interrupted before writing anything, as at any other probe: retried at
// the next round if the primary answers again within the threshold (the
// backup's journal as before: the area in charge and its epoch), a
// failover if it does not (the role record then compacts the journal).
// The anomaly reaches the engine only through the failed compaction's
// error.
func TestAnomalyDuringTheBackupsCompaction(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fails   string // the primary's reads that time out, from the probe on
		outcome string
		wait    time.Duration
		kinds   []EventKind
		active  int
		journal [2]uint64 // the backup's journal area in charge and epoch after the round
		role    store.Role
	}{
		{"answers again within the threshold", "(before %d)", OutcomeInterrupted, 15003520 * time.Nanosecond,
			[]EventKind{EventAnomaly, EventInterrupt}, 0, [2]uint64{0, 1}, store.Role{}},
		{"stops answering", "(before 1099511627776)", OutcomeFailover, 2005 * time.Millisecond,
			[]EventKind{EventAnomaly, EventInterrupt, EventFailover, EventRestore}, 1, [2]uint64{1, 2}, store.Role{Epoch: 1, Active: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := committedPair(t, DefaultConfig())
			area, epoch := untilCompactingRound(t, p)
			require.Equal(t, [2]uint64{0, 1}, [2]uint64{uint64(area), epoch})
			ops := p.traceRound(t, p.opts, "none")
			// The first program of the round is the checkpoint's first
			// block (Begin compacts before it writes the intent); the
			// first read of the primary after it is the probe.
			n := primaryReadsAfter(t, ops, 1)[0]
			fails := tc.fails
			if strings.Contains(fails, "%d") {
				fails = fmt.Sprintf(fails, n+3)
			}
			e, _ := p.openWithFaults(t, p.opts, "(on (and primary read (after %d) %s) (fail timeout))", n-1, fails)
			rep, err := e.Round(context.Background())
			require.NoError(t, err)
			require.Equal(t, tc.outcome, rep.Outcome)
			require.Equal(t, uint64(85), rep.Generation)
			require.Equal(t, tc.wait, rep.WaitResponse)
			require.Equal(t, tc.kinds, eventKinds(e))
			require.Equal(t, "flash0: read image header: read flash0 [0x0+0x40]: no response: injected fault", e.Events()[0].Detail)
			require.Equal(t, "round interrupted before writing", e.Events()[1].Detail)
			require.Equal(t, tc.active, e.Status().ActiveChip)

			a, ep := p.backupJournal(t)
			require.Equal(t, tc.journal, [2]uint64{uint64(a), ep})
			bs, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
			require.NoError(t, err)
			require.Equal(t, uint64(84), bs.State().Generation)
			require.Equal(t, tc.role, bs.State().Role)

			// Restarted, the primary answering: the round commits.
			e = p.open(t)
			require.Equal(t, tc.active, e.Status().ActiveChip)
			rep, err = e.Round(context.Background())
			require.NoError(t, err)
			require.Equal(t, OutcomeCommitted, rep.Outcome)
			require.Equal(t, uint64(85), rep.Generation)
		})
	}
}
