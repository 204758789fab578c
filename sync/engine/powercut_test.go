package engine

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// A power cut in these tests is a faults schedule (see inject_test.go):
// "(on (at N) cut)", or a torn variant, N the index of a program or erase
// of the round or recovery under test in the trace of the same operations
// run without faults. The injector wraps both chips of the pair and they
// share its power rail, as they share one supply: once the cut fires,
// every later operation on either chip fails with hal.ErrPowerLoss.

// cutMode says what a power cut leaves of the program or erase it falls
// on.
type cutMode int

const (
	// cutClean: the operation does not happen.
	cutClean cutMode = iota
	// cutTorn: a program cleared a seeded random subset of its bits and
	// they read differently on each read; an erase set a random subset.
	cutTorn
	// cutAllButOne: a program cleared all its bits but one and they read
	// differently on each read; an erase set all its bits but one.
	cutAllButOne
)

// String names the mode in a failure message.
func (m cutMode) String() string {
	return [...]string{"clean", "torn", "all-but-one"}[m]
}

// cutAction returns the schedule action of a power cut in mode at op (a
// program or an erase). The cells of a torn program are left unstable (a
// program pulse cut short leaves them between states); a torn erase is
// left as it stopped.
func cutAction(op faults.Op, mode cutMode) string {
	unstable := ""
	if op.Kind == faults.Program {
		unstable = " unstable"
	}
	switch mode {
	case cutTorn:
		return "(torn bits" + unstable + ")"
	case cutAllButOne:
		return "(torn allbutone" + unstable + ")"
	}
	return "cut"
}

// cutSchedule returns the schedule text of a power cut in mode at op,
// seeded seed (for a torn operation's bits).
func cutSchedule(op faults.Op, mode cutMode, seed uint64) string {
	return fmt.Sprintf("(seed %d) (on (at %d) %s)", seed, op.Index, cutAction(op, mode))
}

// writesOf returns the programs and erases among ops, the operations a
// power cut can tear.
func writesOf(ops []faults.Op) []faults.Op {
	var w []faults.Op
	for _, op := range ops {
		if op.Kind != faults.Read {
			w = append(w, op)
		}
	}
	return w
}

// cutScenario is a pair after one committed generation, with the CMC's
// changes for the next round applied and a new config staged, snapshotted.
type cutScenario struct {
	pair       *pair
	snapA      *sim.Snapshot
	snapB      *sim.Snapshot
	gen1, gen2 map[info.Type][]byte
	cfg1       Config // committed with generation 1
	primaryImg []byte // chip A's image and information region
	base       uint64 // the committed generation before the round ("1")
}

func readRange(t testing.TB, f hal.Flash, off, n int64) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := f.ReadAt(b, off)
	require.NoError(t, err)
	return b
}

func payloadsOf(t testing.TB, p *pair, f hal.Flash) map[info.Type][]byte {
	t.Helper()
	r := p.region(t, f)
	m := map[info.Type][]byte{}
	for _, ty := range info.All() {
		rec, err := r.Read(ty)
		require.NoError(t, err)
		m[ty] = rec.Payload
	}
	return m
}

func newCutScenario(t testing.TB) *cutScenario { return newCutScenarioAged(t, false) }

// newCutScenarioAged: with aged, the store is first brought to steady
// state (full rewrites until the allocation cursor has gone round, so
// blocks must be erased before use and erase windows mix old data).
func newCutScenarioAged(t testing.TB, aged bool) *cutScenario {
	cfg := DefaultConfig()
	p := newPair(t, 8<<20, 1<<20, cfg)
	e := p.open(t)
	_, err := e.Round(context.Background())
	require.NoError(t, err)
	if aged {
		r := p.region(t, p.chipA)
		for i := 0; ; i++ {
			require.Less(t, i, 30, "never reached steady state")
			require.NoError(t, cmcsim.New(uint64(100+i)).Populate(r))
			rep, err := e.Round(context.Background())
			require.NoError(t, err)
			if rep.Erases >= int64(rep.ChangedChunks) && i > 0 {
				break
			}
		}
		// A few small rounds, so windows and single blocks interleave.
		for range 3 {
			require.NoError(t, p.cmc.Step(r, 20*time.Minute))
			_, err := e.Round(context.Background())
			require.NoError(t, err)
		}
	}
	s := &cutScenario{pair: p, cfg1: cfg}
	s.gen1 = payloadsOf(t, p, p.chipA)
	if aged {
		// A change big enough to take whole erase windows.
		_, err := p.cmc.Mutate(p.region(t, p.chipA), 0.12, true)
		require.NoError(t, err)
	} else {
		require.NoError(t, p.cmc.Step(p.region(t, p.chipA), 30*time.Minute))
	}
	s.gen2 = payloadsOf(t, p, p.chipA)
	cfg2 := cfg
	cfg2.Interval = 7 * time.Minute
	require.NoError(t, e.StageConfig(cfg2))
	s.base = e.Status().Generation
	s.snapA, s.snapB = p.chipA.Snapshot(), p.chipB.Snapshot()
	l := p.opts.Layout
	s.primaryImg = readRange(t, p.chipA, 0, l.InfoOff+l.InfoSize)
	return s
}

// restore puts the pair back as the scenario left it.
func (s *cutScenario) restore() {
	s.pair.chipA.Restore(s.snapA)
	s.pair.chipB.Restore(s.snapB)
}

// roundWrites returns the programs and erases of a round with opts from
// the scenario's state, run without faults (the chips are put back).
func (s *cutScenario) roundWrites(t testing.TB, opts Options) []faults.Op {
	s.restore()
	return writesOf(s.pair.traceRound(t, opts, "none"))
}

// cutRound restores the scenario and runs a round with power cut in mode
// at op (one of roundWrites), seeded seed; it returns the schedule.
func (s *cutScenario) cutRound(t testing.TB, opts Options, op faults.Op, mode cutMode, seed uint64) string {
	s.restore()
	sched := cutSchedule(op, mode, seed)
	e, _ := s.pair.openWithFaults(t, opts, "%s", sched)
	_, _ = e.Round(context.Background())
	return sched
}

// check opens the pair after a cut (recovery) and checks the invariants; it
// returns a description of the first violation, or "".
func (s *cutScenario) check(t testing.TB, opts Options) string {
	p := s.pair
	ctx := context.Background()
	e, err := Open(ctx, p.chipA, p.chipB, opts)
	if err != nil {
		return "open: " + err.Error()
	}
	l := p.opts.Layout
	if !bytes.Equal(readRange(t, p.chipA, 0, l.InfoOff+l.InfoSize), s.primaryImg) {
		return "primary changed"
	}
	st, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	if err != nil {
		return "backup store: " + err.Error()
	}
	if in := st.Interrupted(); in != nil {
		return fmt.Sprintf("interrupted round %d not purged after recovery", in.Generation)
	}
	gen := st.StateRef().Generation
	var want map[info.Type][]byte
	switch gen {
	case s.base:
		want = s.gen1
	case s.base + 1:
		want = s.gen2
	default:
		return fmt.Sprintf("committed generation %d", gen)
	}
	for _, ty := range info.All() {
		got, err := st.ReadPayload(uint8(ty))
		if err != nil {
			return fmt.Sprintf("generation %d %v: %v", gen, ty, err)
		}
		if !bytes.Equal(got, want[ty]) {
			return fmt.Sprintf("generation %d %v differs from what was synced", gen, ty)
		}
	}
	if purged := st.LastPurged(); purged != nil && purged.Generation == s.base+1 {
		for _, b := range purged.Blocks {
			if !allErased(readRange(t, p.chipB, st.BlockOffset(b), p.chipB.Geometry().EraseSize)) {
				return fmt.Sprintf("purged block %d not erased", b)
			}
		}
	}
	// Reinit: after a purge the configuration is the committed one (the
	// staged one is dropped); without a purge the staged one stays.
	cfg := e.Config()
	purged := st.LastPurged() != nil && st.LastPurged().Generation == s.base+1
	switch {
	case purged && !cfg.Equal(FromStoreConfig(st.StateRef().Config)):
		return fmt.Sprintf("config after purge has interval %v, committed %v", cfg.Interval, st.StateRef().Config.Interval)
	case purged && hasStaged(st):
		return "a staged configuration survived the purge"
	case !purged && cfg.Interval != 7*time.Minute:
		return fmt.Sprintf("config without purge has interval %v, want the staged or committed 7m", cfg.Interval)
	}
	// Live: the next round succeeds and the backup equals the primary.
	if _, err := e.Round(ctx); err != nil {
		return "next round: " + err.Error()
	}
	st2, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	if err != nil {
		return "backup store after next round: " + err.Error()
	}
	for _, ty := range info.All() {
		got, err := st2.ReadPayload(uint8(ty))
		if err != nil || !bytes.Equal(got, s.gen2[ty]) {
			return fmt.Sprintf("after the next round %v is not synced (%v)", ty, err)
		}
	}
	return ""
}

func allErased(b []byte) bool {
	for _, c := range b {
		if c != 0xFF {
			return false
		}
	}
	return true
}

// firstUnsafeCut finds the round's programs and erases, then cuts the
// round at each of them, clean and torn, and returns their count and the
// first violation the check finds ("" if none).
func (s *cutScenario) firstUnsafeCut(t testing.TB, opts Options) (total int, caught string) {
	t.Helper()
	writes := s.roundWrites(t, opts)
	for n, op := range writes {
		for _, mode := range []cutMode{cutClean, cutTorn} {
			sched := s.cutRound(t, opts, op, mode, uint64(n+1))
			if v := s.check(t, opts); v != "" {
				return len(writes), fmt.Sprintf("cut at write %d of %d (%v, %s): %s", n+1, len(writes), mode, sched, v)
			}
		}
	}
	return len(writes), ""
}

// requireSafeAtEveryCut requires a round of more than five operations
// that leaves a safe state wherever it is cut.
func requireSafeAtEveryCut(t *testing.T, s *cutScenario) {
	t.Helper()
	total, caught := s.firstUnsafeCut(t, s.pair.opts)
	require.Greater(t, total, 5)
	require.Empty(t, caught)
	t.Logf("%d operations in the round", total)
}

func TestPowerCutAtEveryOperation(t *testing.T) {
	requireSafeAtEveryCut(t, newCutScenario(t))
}

// TestPowerCutAtEveryOperationSteadyState is the same on an aged store.
func TestPowerCutAtEveryOperationSteadyState(t *testing.T) {
	requireSafeAtEveryCut(t, newCutScenarioAged(t, true))
}

// TestPowerCutDuringRecovery cuts the round (torn), then cuts the
// recovery at each of its programs and erases (torn, all-but-one every
// other one), then recovers again.
func TestPowerCutDuringRecovery(t *testing.T) {
	s := newCutScenario(t)
	opts := s.pair.opts
	writes := s.roundWrites(t, opts)
	total := len(writes)
	cuts := []int{2, total / 2, total - 1}
	if !testing.Short() {
		cuts = nil
		for n := 1; n <= total; n++ {
			cuts = append(cuts, n)
		}
	}
	recoveryCuts := 0
	for _, n := range cuts {
		s.cutRound(t, opts, writes[n-1], cutTorn, uint64(n))
		snapA, snapB := s.pair.chipA.Snapshot(), s.pair.chipB.Snapshot()
		rec := writesOf(s.pair.traceOpen(t, opts))
		recoveryCuts += len(rec)
		for m, op := range rec {
			s.pair.chipA.Restore(snapA)
			s.pair.chipB.Restore(snapB)
			mode := cutTorn
			if (m+1)%2 == 0 {
				mode = cutAllButOne
			}
			sched := cutSchedule(op, mode, uint64(m+1))
			_, chipA, chipB := s.pair.injector(t, false, nil, "%s", sched)
			_, _ = Open(context.Background(), chipA, chipB, opts)
			if v := s.check(t, opts); v != "" {
				t.Fatalf("round cut at write %d (torn), recovery cut at write %d of %d (%v, %s): %s", n, m+1, len(rec), mode, sched, v)
			}
		}
	}
	require.Positive(t, recoveryCuts, "no recovery wrote anything")
	t.Logf("%d round cuts, %d recovery cuts", len(cuts), recoveryCuts)
}

// TestMutantsAreCaught runs the power-cut campaign on each mutant that a
// power cut exposes and requires a violation.
func TestMutantsAreCaught(t *testing.T) {
	for _, m := range []Mutant{NoPurge, CommitBeforeDurable, ReinitInFlight, DeltaBeforeDurable} {
		t.Run(m.String(), func(t *testing.T) {
			s := newCutScenario(t)
			opts := s.pair.opts
			opts.Mutant = m
			_, caught := s.firstUnsafeCut(t, opts)
			require.NotEmpty(t, caught, "mutant %v survived every power cut", m)
			t.Logf("%v caught: %s", m, caught)
		})
	}
}

func hasStaged(s *store.Store) bool { _, ok := s.Staged(); return ok }

// TestPowerCutDuringFailover: the primary dies in the middle of a round;
// power is cut at every operation of the failover (role record, purge,
// restore of chip B's information region). After restarting with the
// primary still dead, at most one more round completes the failover: chip
// B is active, its region holds the last committed generation, and that
// survives another restart.
func TestPowerCutDuringFailover(t *testing.T) {
	p := syncedPairAfter(t, DefaultConfig(), time.Hour)
	ctx := context.Background()
	snapA, snapB := p.chipA.Snapshot(), p.chipB.Snapshot()
	committed := func() map[info.Type][]byte { return committedPayloads(t, p, p.chipB) }
	want := committed()
	// The primary stops answering in the middle of the round's writes, for
	// ever.
	dies := fmt.Sprintf("(on (and primary read (after %d)) (fail timeout))", midWrite(t, p.traceRound(t, p.opts, "none")))
	writes := writesOf(p.traceRound(t, p.opts, "%s", dies)) // of the round and its failover
	total := len(writes)
	require.Greater(t, total, 5)
	t.Logf("%d programs and erases in the round and its failover", total)
	// run cuts power at the n-th of them (1-based), tearing every other one.
	run := func(n int) {
		p.chipA.Restore(snapA)
		p.chipB.Restore(snapB)
		cut := "cut"
		if n%2 == 1 {
			cut = "(torn bits unstable)"
		}
		e, _ := p.openWithFaults(t, p.opts, "(seed %d) %s (on (at %d) %s)", n, dies, writes[n-1].Index, cut)
		_, _ = e.Round(ctx)
	}
	dead := func() hal.Flash { // the primary, never answering a read
		_, chipA, _ := p.injector(t, false, nil, "(on (and primary read) (fail timeout))")
		return chipA
	}
	step := 3 // every third operation (all of them take ~15 s)
	if testing.Short() {
		step = 11
	}
	for n := 1; n <= total; n += step {
		run(n)
		e, err := Open(ctx, dead(), p.chipB, p.opts)
		require.NoError(t, err, "cut %d", n)
		if e.Status().ActiveChip == 0 {
			rep, err := e.Round(ctx)
			require.NoError(t, err, "cut %d", n)
			require.Equal(t, OutcomeFailover, rep.Outcome, "cut %d", n)
		}
		require.Equal(t, 1, e.Status().ActiveChip, "cut %d", n)
		e2, err := Open(ctx, dead(), p.chipB, p.opts)
		require.NoError(t, err)
		require.Equal(t, 1, e2.Status().ActiveChip, "cut %d: role survives", n)
		require.Equal(t, want, committed(), "cut %d: chip B's store holds the last commit", n)
		rb := p.region(t, p.chipB)
		for _, ty := range info.All() {
			rec, err := rb.Read(ty)
			require.NoError(t, err, "cut %d %v", n, ty)
			require.Equal(t, want[ty], rec.Payload, "cut %d: %v restored", n, ty)
		}
	}
}
