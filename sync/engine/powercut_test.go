package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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

// power is a power supply shared by the chips of a pair: it counts program
// and erase operations and cuts power at operation cutAt (1-based; 0 =
// never), optionally tearing that operation.
type power struct {
	ops       int
	cutAt     int
	torn      bool
	allButOne bool
	dead      bool
	rng       *rand.Rand
}

// pokeFlash is a simulated chip (or a wrapper of one) with the harness
// abilities a torn operation needs.
type pokeFlash interface {
	hal.Flash
	Poke(off int64, p []byte)
	SetUnstable(off, n int64)
}

// cutFlash is a sim chip behind a power supply.
type cutFlash struct {
	pokeFlash
	power *power
}

func (c *cutFlash) lost(op string, off, n int64) error {
	return &hal.OpError{Op: op, Dev: c.Geometry().Name, Off: off, Len: n, Err: fmt.Errorf("%w: %w", hal.ErrInjected, hal.ErrPowerLoss)}
}

func (c *cutFlash) ReadAt(b []byte, off int64) (int, error) {
	if c.power.dead {
		return 0, c.lost("read", off, int64(len(b)))
	}
	return c.pokeFlash.ReadAt(b, off)
}

func (c *cutFlash) WriteAt(b []byte, off int64) (int, error) {
	if c.power.dead {
		return 0, c.lost("program", off, int64(len(b)))
	}
	c.power.ops++
	if c.power.ops == c.power.cutAt {
		c.power.dead = true
		if c.power.torn && len(b) > 0 {
			// Only some of the bits that should clear do (all but one
			// with allButOne).
			q := bytes.Clone(b)
			if c.power.allButOne {
				for i := range q {
					if q[i] != 0xFF {
						q[i] |= ^q[i] & -^q[i]
						break
					}
				}
			} else {
				for i := range q {
					q[i] |= byte(c.power.rng.Uint32()) &^ b[i]
				}
			}
			_, _ = c.pokeFlash.WriteAt(q, off)
			c.pokeFlash.SetUnstable(off, int64(len(b)))
		}
		return 0, c.lost("program", off, int64(len(b)))
	}
	return c.pokeFlash.WriteAt(b, off)
}

func (c *cutFlash) Erase(off, n int64) error {
	if c.power.dead {
		return c.lost("erase", off, n)
	}
	c.power.ops++
	if c.power.ops == c.power.cutAt {
		c.power.dead = true
		if c.power.torn {
			_ = c.pokeFlash.Erase(off, n)
			junk := make([]byte, min(n, 1024))
			for i := range junk {
				junk[i] = byte(c.power.rng.Uint32())
			}
			c.pokeFlash.Poke(off+n/2, junk[:min(int64(len(junk)), n/2)])
		}
		return c.lost("erase", off, n)
	}
	return c.pokeFlash.Erase(off, n)
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

// cutRound restores the scenario, runs a round with power cut at op n
// (torn or not) and returns how many ops the round made.
func (s *cutScenario) cutRound(t testing.TB, opts Options, n int, torn bool, seed uint64) int {
	s.pair.chipA.Restore(s.snapA)
	s.pair.chipB.Restore(s.snapB)
	pw := &power{cutAt: n, torn: torn, rng: rand.New(rand.NewPCG(seed, 99))}
	e, err := Open(context.Background(), &cutFlash{s.pair.chipA, pw}, &cutFlash{s.pair.chipB, pw}, opts)
	require.NoError(t, err)
	pw.ops = 0
	_, _ = e.Round(context.Background())
	return pw.ops
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

// firstUnsafeCut counts the round's operations, then cuts the round at
// each of them, clean and torn, and returns the count and the first
// violation the check finds ("" if none).
func (s *cutScenario) firstUnsafeCut(t testing.TB, opts Options) (total int, caught string) {
	t.Helper()
	total = s.cutRound(t, opts, 0, false, 0)
	for n := 1; n <= total; n++ {
		for _, torn := range []bool{false, true} {
			s.cutRound(t, opts, n, torn, uint64(n))
			if v := s.check(t, opts); v != "" {
				return total, fmt.Sprintf("cut at op %d of %d (torn=%v): %s", n, total, torn, v)
			}
		}
	}
	return total, ""
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

// TestPowerCutDuringRecovery cuts the round, then cuts the recovery at
// each of its operations, then recovers again.
func TestPowerCutDuringRecovery(t *testing.T) {
	s := newCutScenario(t)
	opts := s.pair.opts
	total := s.cutRound(t, opts, 0, false, 0)
	cuts := []int{2, total / 2, total - 1}
	if !testing.Short() {
		cuts = nil
		for n := 1; n <= total; n++ {
			cuts = append(cuts, n)
		}
	}
	for _, n := range cuts {
		// Count the recovery's operations.
		s.cutRound(t, opts, n, true, uint64(n))
		snapA, snapB := s.pair.chipA.Snapshot(), s.pair.chipB.Snapshot()
		pw := &power{}
		_, err := Open(context.Background(), &cutFlash{s.pair.chipA, pw}, &cutFlash{s.pair.chipB, pw}, opts)
		require.NoError(t, err)
		rec := pw.ops
		for m := 1; m <= rec; m++ {
			s.pair.chipA.Restore(snapA)
			s.pair.chipB.Restore(snapB)
			pw := &power{cutAt: m, torn: true, allButOne: m%2 == 0, rng: rand.New(rand.NewPCG(uint64(m), 7))}
			_, _ = Open(context.Background(), &cutFlash{s.pair.chipA, pw}, &cutFlash{s.pair.chipB, pw}, opts)
			if v := s.check(t, opts); v != "" {
				t.Fatalf("round cut at op %d, recovery cut at op %d of %d: %s", n, m, rec, v)
			}
		}
	}
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

var _ = errors.Is

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
	var writes []int64 // the programs and erases of the round and its failover
	for _, op := range p.traceRound(t, p.opts, "%s", dies) {
		if op.Kind != faults.Read {
			writes = append(writes, op.Index)
		}
	}
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
		e, _ := p.openWithFaults(t, p.opts, "(seed %d) %s (on (at %d) %s)", n, dies, writes[n-1], cut)
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
