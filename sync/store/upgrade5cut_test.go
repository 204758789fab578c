package store

import (
	"crypto/sha256"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
)

// clonePayloads returns a deep copy of ps.
func clonePayloads(ps payloads) payloads {
	out := payloads{}
	for t, b := range maps.All(ps) {
		out[t] = append([]byte(nil), b...)
	}
	return out
}

// roundUnderSchedule opens the store on f through an injector of sched
// (trace, if set, sees every operation), requires its format version to be
// v, arms sched so that operation 0 is the round's first and syncs ps as
// generation gen (deltas allowed); it returns the injector. Unless the
// power went off, the round must succeed.
func roundUnderSchedule(t *testing.T, f *sim.Flash, sched faults.Schedule, trace faults.Trace, gen uint64, ps payloads, v uint32) *faults.Injector {
	t.Helper()
	in := faults.NewInjector(sched, faults.Options{Disarmed: true, SplitPages: true, BlockEraseSize: eraseWindow, Trace: trace})
	cs := openTest(t, in.Wrap(f, faults.Backup), Options{})
	require.Equal(t, v, cs.Identity().Version)
	in.Arm()
	r, err := cs.Begin(deltaPlanOf(gen, ps))
	var writes []ChunkWrite
	if err == nil {
		writes = r.Writes()
	}
	for i, w := range writes {
		if err != nil {
			break
		}
		var data []byte
		if w.Type != DeltaBlockType {
			lo, hi := ChunkBounds(int64(len(ps[w.Type])), testPhase, 4096, w.Index)
			data = ps[w.Type][lo:hi]
		}
		_, _, err = r.Write(i, data)
	}
	if err == nil {
		err = r.Commit(State{Generation: gen, Time: time.Unix(int64(gen), 0).UTC(), Config: planOf(gen, ps).Config})
	}
	require.NoError(t, in.Err(), "the harness itself")
	if !in.PoweredOff() {
		require.NoError(t, err)
	}
	return in
}

// TestPowerCutDuringUpgradeToVersion5 cuts the first delta round of a
// version 4 store whose chains hold version 3 records — the round that
// upgrades the superblocks to version 5 (copy 1, then copy 0) and then
// writes compact records — at every one of its flash operations, cleanly
// and torn (faults schedules "(on (at N) cut)" and "(seed N) (on (at N)
// (torn bits))"): the store always reopens without damage at generation
// 3 with its payloads, or at generation 4 with the new ones, in version 4
// or 5 (copies differing in the version alone are finished by the open),
// and the next round commits and reads back. A cut inside a superblock
// copy's rewrite is reported as damage to that copy (and only that), which
// the writer repairs.
func TestPowerCutDuringUpgradeToVersion5(t *testing.T) {
	if testing.Short() {
		t.Skip("a round per flash operation")
	}
	f, s, ps := version4WithDeltas(t)
	snap := f.Snapshot()
	old := clonePayloads(ps)
	next := clonePayloads(ps)
	scatter(next[1], 20, 9)

	roundUnder := func(sched faults.Schedule) *faults.Injector {
		return roundUnderSchedule(t, f, sched, nil, 4, next, chainVersion)
	}
	count := roundUnder(faults.Schedule{})
	total := count.Ops()
	require.Greater(t, total, int64(3))
	s = openTest(t, f, Options{ReadOnly: true})
	require.Equal(t, uint32(compactVersion), s.Identity().Version, "the round upgraded the store")
	require.Positive(t, journalKinds(t, s)["intent-deltas-5"])

	digest := func(ps payloads) [32]byte { return sha256.Sum256(ps[1]) }
	sbCuts := 0
	for n := range total {
		for _, sched := range []faults.Schedule{
			faults.CutAt(n),
			faults.TornAt(n, faults.TornBits, false, uint64(n)),
		} {
			f.Restore(snap)
			in := roundUnder(sched)
			require.True(t, in.PoweredOff(), "%v", sched)
			s, err := Open(f, testStoreOff, testStoreSize, Options{})
			require.NoError(t, err, "reopen after %v", sched)
			// A cut inside the rewrite of a superblock copy (after its
			// erase, before its program read back) leaves that copy erased
			// or torn: a reader cannot tell it from damage to the copy and
			// reports it (docs/FORMAT.md, Superblock: "one valid"), as for
			// a cut in Format's last step; the writer rewrites it. Nothing
			// else may be reported.
			for _, d := range s.Damage() {
				require.True(t, strings.HasPrefix(d, "superblock-damaged in superblock at"), "%v: %s", sched, d)
				sbCuts++
			}
			require.False(t, s.JournalDamaged(), "%v", sched)
			v := s.Identity().Version
			require.Contains(t, []uint32{chainVersion, compactVersion}, v, "%v", sched)
			want := old
			if s.State().Generation == 4 {
				want = next
				require.Equal(t, uint32(compactVersion), v, "%v: a compact round committed in a version %d store", sched, v)
			} else {
				require.Equal(t, uint64(3), s.State().Generation, "%v", sched)
			}
			got, err := s.ReadPayload(1)
			require.NoError(t, err, "%v", sched)
			require.Equal(t, digest(want), sha256.Sum256(got), "%v", sched)
			require.Empty(t, s.VerifyChunks(), "%v", sched)
			// The next round (after the purge of the cut one) commits and
			// reads back.
			if s.Interrupted() != nil {
				_, err := s.Purge()
				require.NoError(t, err, "%v", sched)
			}
			after := clonePayloads(want)
			scatter(after[1], 20, 11)
			deltaRound(t, s, 5, after)
			s = openTest(t, f, Options{ReadOnly: true})
			require.Equal(t, uint32(compactVersion), s.Identity().Version, "%v", sched)
			checkPayloads(t, s, after)
			require.Empty(t, s.Damage(), "%v: the writer repaired the superblock", sched)
		}
	}
	t.Logf("%d operations cut, %d cuts inside a superblock copy's rewrite", total, sbCuts)
	require.Positive(t, sbCuts, "cuts inside a superblock copy's rewrite")
}
