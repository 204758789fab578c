package engine

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		bad  bool
	}{
		{"default", func(*Config) {}, false},
		{"no types", func(c *Config) { c.Types = nil }, true},
		{"unknown type", func(c *Config) { c.Types = TypeList{info.Type(9)} }, true},
		{"duplicate type", func(c *Config) { c.Types = TypeList{info.Fan, info.Fan} }, true},
		{"interval too short", func(c *Config) { c.Interval = time.Millisecond }, true},
		{"interval too long", func(c *Config) { c.Interval = 365 * 24 * time.Hour }, true},
		{"no threshold", func(c *Config) { c.Threshold = 0 }, true},
		{"negative group", func(c *Config) { c.GroupSize = -1 }, true},
		{"group too large", func(c *Config) { c.GroupSize = 7 }, true},
		{"group of two", func(c *Config) { c.GroupSize = 2 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok.Clone()
			tc.mod(&c)
			err := c.Validate()
			if tc.bad {
				require.ErrorIs(t, err, ErrConfig)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

func TestSetConfigRejectsAndStores(t *testing.T) {
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	e := p.open(t)
	bad := DefaultConfig()
	bad.Threshold = 0
	before := p.chipB.Stats()
	require.ErrorIs(t, e.SetConfig(bad), ErrConfig)
	d := p.chipB.Stats().Sub(before)
	require.Zero(t, d.Programs+d.Erases, "a rejected config changes nothing")
	good := DefaultConfig()
	good.Types = TypeList{info.Fan, info.Power}
	good.Interval = time.Hour
	require.NoError(t, e.SetConfig(good))
	require.True(t, p.open(t).Config().Equal(good), "a saved config survives a restart")
	s, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.True(t, FromStoreConfig(s.StateRef().Config).Equal(good), "committed at once, before any round")
	before = p.chipB.Stats()
	require.NoError(t, e.SetConfig(good))
	d = p.chipB.Stats().Sub(before)
	require.Zero(t, d.Programs+d.Erases, "the committed config again writes nothing")
	_, err = e.Round(context.Background())
	require.NoError(t, err)
	s, err = store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.True(t, FromStoreConfig(s.StateRef().Config).Equal(good), "and with the generation")
}

// TestSavedConfigSurvivesReinit: a configuration SetConfig saved is the
// one a purge-then-reinit returns to; one StageConfig staged is dropped
// for the last committed one (the method's reinit).
func TestSavedConfigSurvivesReinit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		durable bool
	}{{"saved", true}, {"staged", false}} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, 8<<20, 1<<20, DefaultConfig())
			e := p.open(t)
			_, err := e.Round(context.Background())
			require.NoError(t, err)
			next := DefaultConfig()
			next.Types = TypeList{info.Fan, info.EventLog}
			next.Interval = 17 * time.Minute
			if tc.durable {
				require.NoError(t, e.SetConfig(next))
			} else {
				require.NoError(t, e.StageConfig(next))
			}
			require.NoError(t, p.cmc.Step(p.region(t, p.chipA), 30*time.Minute))
			// Record the next round's operations, then run it again from
			// the same state cut just before its second-to-last backup
			// program (its chunks are written, its commit not), and
			// restart: recovery purges and reinits.
			snapA, snapB := p.chipA.Snapshot(), p.chipB.Snapshot()
			var programs []int64
			rec := faults.NewInjector(faults.Schedule{}, faults.Options{Trace: func(op faults.Op) {
				if op.Role == faults.Backup && op.Kind == faults.Program {
					programs = append(programs, op.Index)
				}
			}})
			er, err := Open(context.Background(), rec.Wrap(p.chipA, faults.Primary), rec.Wrap(p.chipB, faults.Backup), p.opts)
			require.NoError(t, err)
			_, err = er.Round(context.Background())
			require.NoError(t, err)
			require.Greater(t, len(programs), 4)
			p.chipA.Restore(snapA)
			p.chipB.Restore(snapB)
			in := faults.NewInjector(faults.CutAt(programs[len(programs)-2]), faults.Options{})
			e2, err := Open(context.Background(), in.Wrap(p.chipA, faults.Primary), in.Wrap(p.chipB, faults.Backup), p.opts)
			require.NoError(t, err)
			_, err = e2.Round(context.Background())
			require.ErrorIs(t, err, hal.ErrPowerLoss, "the round was cut")
			after := p.open(t)
			if tc.durable {
				require.True(t, after.Config().Equal(next), "reinit keeps the saved configuration: %s", describeConfig(after.Config()))
			} else {
				require.True(t, after.Config().Equal(DefaultConfig()), "reinit drops the staged configuration: %s", describeConfig(after.Config()))
			}
		})
	}
}

func TestScheduleAndGroups(t *testing.T) {
	cfg := DefaultConfig()
	cfg.GroupSize = 4
	cfg.Interval = 10 * time.Minute
	p := newPair(t, 8<<20, 1<<20, cfg)
	e := p.open(t)
	ctx := context.Background()
	all := info.All()
	wantGroups := [][]info.Type{all[0:4], {all[4], all[5], all[0], all[1]}, all[2:6], all[0:4]}
	for i, want := range wantGroups {
		require.Equal(t, TypeList(want), e.Status().NextGroup, "round %d", i)
		rep, err := e.Round(ctx)
		require.NoError(t, err)
		require.Equal(t, TypeList(want), rep.Types, "round %d", i)
		st := e.Status()
		require.Equal(t, st.LastSync.Add(cfg.Interval), st.NextSync)
		require.False(t, st.LastSync.After(p.clock.Now()))
		require.True(t, st.LastSync.After(rep.Started), "the sync time is the round's")
		// The polling position survives a restart.
		require.Equal(t, st.NextGroup, p.open(t).Status().NextGroup)
		p.clock.Advance(cfg.Interval)
	}
	requireSynced(t, p, p.chipA, p.chipB, all)
}

// stopClock is a clock that cancels a context after n sleeps.
type stopClock struct {
	hal.Clock
	sleepsLeft int
	cancel     func()
}

func (c *stopClock) Sleep(ctx context.Context, d time.Duration) error {
	c.sleepsLeft--
	if c.sleepsLeft < 0 {
		c.cancel()
		return context.Canceled
	}
	return c.Clock.Sleep(ctx, d)
}

func TestRunFollowsTheSchedule(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Interval = 5 * time.Minute
	p := newPair(t, 8<<20, 1<<20, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := p.opts
	opts.Clock = &stopClock{Clock: p.clock, sleepsLeft: 4, cancel: cancel}
	e, err := Open(ctx, p.chipA, p.chipB, opts)
	require.NoError(t, err)
	require.ErrorIs(t, e.Run(ctx), context.Canceled)
	// A round starts at the next sync its predecessor's commit announced
	// (one interval after that round took its commit time, before it
	// wrote its commit record); the commit events follow a round's start
	// by its duration, and the first round's event also by the journal
	// erase its commit record may need, so the events are compared with
	// the announced times (RFC 3339, whole seconds) and with each other
	// within that erase.
	var commits, next []time.Time
	for _, ev := range e.Events() {
		if ev.Kind == EventCommit {
			commits = append(commits, ev.Time)
			_, at, ok := strings.Cut(ev.Detail, "next sync ")
			require.True(t, ok, ev.Detail)
			ns, err := time.Parse(time.RFC3339, at)
			require.NoError(t, err)
			next = append(next, ns)
		}
	}
	require.GreaterOrEqual(t, len(commits), 4)
	for i := 1; i < len(commits); i++ {
		require.False(t, commits[i].Before(next[i-1]), "round %d started before its time", i)
		gap := commits[i].Sub(commits[i-1])
		require.GreaterOrEqual(t, gap, cfg.Interval-100*time.Millisecond, "round %d started before its time", i)
		require.Less(t, gap, cfg.Interval+2*time.Second, "round %d started late", i)
	}
}

func upgradePrimary(t *testing.T, p *pair, version string) {
	t.Helper()
	l := p.opts.Layout
	require.NoError(t, info.WriteImage(p.chipA, info.ImageHeader{Version: version, Size: l.ImageSize - info.ImageHeaderSize, Built: p.clock.Now()}, 3))
}

func TestUpgradeChoices(t *testing.T) {
	for _, choice := range []UpgradeChoice{KeepUpgraded, RestoreDefaults} {
		t.Run(choice.String(), func(t *testing.T) {
			p := newPair(t, 8<<20, 1<<20, DefaultConfig())
			e := p.open(t)
			ctx := context.Background()
			_, err := e.Round(ctx)
			require.NoError(t, err)
			upgradePrimary(t, p, "2.0.0")
			require.NoError(t, p.cmc.Step(p.region(t, p.chipA), time.Hour))
			rep, err := e.Round(ctx)
			require.ErrorIs(t, err, ErrUpgradePending)
			require.Equal(t, OutcomeUpgradePending, rep.Outcome)
			require.True(t, e.Status().UpgradePending)
			require.Equal(t, "2.0.0", e.Status().PrimaryVersion)

			require.NoError(t, e.Upgrade(choice))
			st := e.Status()
			require.False(t, st.UpgradePending)
			require.Equal(t, "2.0.0", st.CommittedVersion)
			require.Equal(t, choice, st.UpgradeChoice)
			require.Contains(t, eventKinds(e), EventUpgradeChoice)
			requireSynced(t, p, p.chipA, p.chipB, info.All())
			if choice == RestoreDefaults {
				r := p.region(t, p.chipA)
				for _, ty := range info.All() {
					rec, err := r.Read(ty)
					require.NoError(t, err)
					require.Equal(t, info.Default(ty), rec.Payload, "%v", ty)
				}
			}
			// The choice is stored.
			e2 := p.open(t)
			require.Equal(t, choice, e2.Status().UpgradeChoice)
			rep, err = e2.Round(ctx)
			require.NoError(t, err)
			require.Equal(t, OutcomeNothingChanged, rep.Outcome)
		})
	}
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	require.Error(t, p.open(t).Upgrade(NoChoice))
}

// TestPropertySyncedEqualsPrimary: any seeded sequence of CMC activity,
// selection changes and rounds leaves the backup's committed information
// equal to the primary's for the selected types, and the others as they
// were last synced.
func TestPropertySyncedEqualsPrimary(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		rng := rand.New(rand.NewPCG(seed, seed^0xC0FFEE))
		p := newPair(t, 8<<20, 1<<20, DefaultConfig())
		e := p.open(t)
		ctx := context.Background()
		lastSynced := map[info.Type][]byte{}
		for step := range 12 {
			if rng.IntN(3) == 0 {
				var sel TypeList
				for _, ty := range info.All() {
					if rng.IntN(2) == 0 {
						sel = append(sel, ty)
					}
				}
				if len(sel) == 0 {
					sel = TypeList{info.EventLog}
				}
				c := e.Config()
				c.Types = sel
				require.NoError(t, e.SetConfig(c))
			}
			require.NoError(t, p.cmc.Step(p.region(t, p.chipA), time.Duration(1+rng.IntN(60))*time.Minute))
			rep, err := e.Round(ctx)
			require.NoError(t, err, "seed %d step %d", seed, step)
			primary := payloadsOf(t, p, p.chipA)
			for _, ty := range rep.Types {
				lastSynced[ty] = primary[ty]
			}
			s, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
			require.NoError(t, err)
			for ty, want := range lastSynced {
				got, err := s.ReadPayload(uint8(ty))
				require.NoError(t, err)
				require.Equal(t, want, got, "seed %d step %d type %v", seed, step, ty)
			}
		}
	}
}

func TestOpenErrors(t *testing.T) {
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	opts := p.opts
	opts.Clock = nil
	_, err := Open(context.Background(), p.chipA, p.chipB, opts)
	require.Error(t, err)
	_, err = Open(context.Background(), p.chipA, nil, p.opts)
	require.Error(t, err)
	// Two blank chips: no store.
	a, b := simtest.Pair(t, "mx66l1g45g", sim.Options{Size: 8 << 20})
	_, err = Open(context.Background(), a, b, p.opts)
	require.ErrorIs(t, err, store.ErrNotFormatted)
	_, err = ParseMutant("nope")
	require.Error(t, err)
	for _, mi := range Mutants() {
		m, err := ParseMutant(mi.Name)
		require.NoError(t, err)
		require.Equal(t, mi.Mutant, m)
	}
	require.True(t, errors.Is(Config{}.Validate(), ErrConfig))
}

// TestEmptySelectionMessage: the message names what to do in words, not
// the list it was formatted from.
func TestEmptySelectionMessage(t *testing.T) {
	c := DefaultConfig()
	c.Types = nil
	require.EqualError(t, c.Validate(), "invalid sync configuration: select at least one information type")
}

// TestNAND runs rounds, an interrupted round and recovery on a NAND pair
// (pages programmed whole, once, in order; 128 KiB erase blocks).
func TestNAND(t *testing.T) {
	clock := simtest.NewClock()
	a, b := simtest.Pair(t, "mt29f2g01", sim.Options{Size: 32 << 20, Clock: clock, Name: "nand"})
	p := newPairOf(t, a, b, clock, 2<<20, DefaultConfig(), 3)
	e := p.open(t)
	ctx := context.Background()
	var err error
	for range 3 {
		_, err := e.Round(ctx)
		require.NoError(t, err)
		requireSynced(t, p, a, b, info.All())
		require.NoError(t, p.cmc.Step(p.region(t, a), time.Hour))
	}
	// A power cut in the middle of a round, then recovery.
	snapA, snapB := a.Snapshot(), b.Snapshot()
	writes := writesOf(p.traceRound(t, p.opts, "none"))
	total := len(writes)
	for _, n := range []int{1, total / 2, total} {
		a.Restore(snapA)
		b.Restore(snapB)
		e, _ = p.openWithFaults(t, p.opts, "(on (at %d) cut)", writes[n-1].Index)
		_, _ = e.Round(ctx)
		e = p.open(t)
		_, err = e.Round(ctx)
		require.NoError(t, err, "cut at %d of %d", n, total)
		requireSynced(t, p, a, b, info.All())
	}
}

// TestStatusDuringRounds reads Status, Events and Config while rounds run
// (run it with -race).
func TestStatusDuringRounds(t *testing.T) {
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	e := p.open(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 3 {
			_, _ = e.Round(context.Background())
		}
	}()
	for {
		select {
		case <-done:
			require.Equal(t, uint64(3), e.Status().Generation)
			return
		default:
			st := e.Status()
			require.Len(t, st.Types, 6)
			_ = e.Events()
			_ = e.Config()
			_ = e.Primary()
		}
	}
}

func TestVerifyCatchesBadProgram(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Verify = true
	p := newPair(t, 8<<20, 1<<20, cfg)
	ctx := context.Background()
	l := p.opts.Layout
	s, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	dataOff, dataSize := s.DataRange()
	// The first chunk the round programs reads back with one bit wrong: the
	// bit flips just before the verify read. The store erases the block and
	// programs the chunk again, which reads back right: the round commits.
	base := p.traceRound(t, p.opts, "none")
	verify := firstVerifyRead(t, base, dataOff, dataOff+dataSize)
	e, in := p.openWithFaults(t, p.opts, "(on (at %d) (flip backup %#x %#x 1))", verify.Index, verify.Off, verify.Off+verify.Len)
	rep, err := e.Round(ctx)
	require.NotEmpty(t, in.Fired(), "the flip hit the verify read")
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Equal(t, uint64(1), e.Status().Generation)
	require.GreaterOrEqual(t, rep.BytesRead, int64(rep.ChangedChunks)*1000, "read back")
	requireSynced(t, p, p.chipA, p.chipB, info.All())
	s, err = store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.Empty(t, s.VerifyChunks(), "every committed chunk matches its digest")
}

// TestNANDBadBlocks formats a NAND pair whose backup has factory bad blocks
// in the store's data area, then marks more blocks bad between rounds (as
// the kernel does when a block fails): rounds skip them and stay synced.
// A bad block where the store keeps its superblocks is a clear error.
func TestNANDBadBlocks(t *testing.T) {
	clock := simtest.NewClock()
	a, b := simtest.Pair(t, "mt29f2g01", sim.Options{Size: 32 << 20, Clock: clock, Name: "nand"})
	l, err := DefaultLayout(a.Geometry(), 2<<20)
	require.NoError(t, err)
	e := b.Geometry().EraseSize
	data := l.StoreOff + l.StoreSize - 40*e // inside the data area, which ends the store
	for k := range int64(3) {               // factory bad blocks
		require.NoError(t, b.MarkBad(data+k*2*e))
	}
	p := newPairOf(t, a, b, clock, 2<<20, DefaultConfig(), 5)
	en := p.open(t)
	ctx := context.Background()
	for round := range 4 {
		_, err := en.Round(ctx)
		require.NoError(t, err, "round %d", round)
		requireSynced(t, p, a, b, info.All())
		// Every block of the store that is erased now (a spare the next
		// round may take) goes bad: the next round must not use it.
		marked := 0
		buf := make([]byte, e)
		for off := l.StoreOff + l.StoreSize - 8*e; off < l.StoreOff+l.StoreSize && marked < 2; off += e {
			if bad, _ := b.IsBad(off); bad {
				continue
			}
			_, err := b.ReadAt(buf, off)
			require.NoError(t, err)
			if bytes.Count(buf, []byte{0xff}) == len(buf) {
				require.NoError(t, b.MarkBad(off))
				marked++
			}
		}
		require.NoError(t, p.cmc.Step(p.region(t, a), time.Hour))
	}

	// A bad block among the superblocks cannot be formatted around.
	c := simtest.Chip(t, "mt29f2g01", sim.Options{Size: 32 << 20, Clock: clock, Name: "nand2"})
	require.NoError(t, c.MarkBad(l.StoreOff))
	err = Format(a, c, p.opts)
	require.ErrorContains(t, err, "is bad")
}

// blockingClock tells when Run sleeps and never wakes by itself: only a
// cancelled context (a kick) ends a sleep.
type blockingClock struct {
	*sim.Clock
	sleeping chan time.Duration
}

func (c *blockingClock) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeping <- d
	<-ctx.Done()
	return ctx.Err()
}

// TestRunWakesOnAShorterInterval: Run waiting for the next sync wakes when
// the configuration changes; a shorter interval that is already over since
// the last sync starts a round at once, which OnRound reports.
func TestRunWakesOnAShorterInterval(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Interval = time.Hour
	p := newPair(t, 8<<20, 1<<20, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &blockingClock{Clock: p.clock, sleeping: make(chan time.Duration, 1)}
	opts := p.opts
	opts.Clock = clock
	rounds := make(chan RoundReport, 4)
	opts.OnRound = func(r RoundReport, err error) {
		require.NoError(t, err)
		rounds <- r
	}
	e, err := Open(ctx, p.chipA, p.chipB, opts)
	require.NoError(t, err)
	_, err = e.Round(ctx) // the first sync, outside Run: not reported
	require.NoError(t, err)

	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	d := <-clock.sleeping
	require.InDelta(t, float64(time.Hour), float64(d), float64(time.Minute), "Run waits one interval")
	p.clock.Advance(10 * time.Minute)
	require.NoError(t, p.cmc.Step(p.region(t, p.chipA), 10*time.Minute))
	short := e.Config()
	short.Interval = 5 * time.Minute
	require.NoError(t, e.SetConfig(short))
	select {
	case r := <-rounds:
		require.Equal(t, OutcomeCommitted, r.Outcome)
	case err := <-done:
		t.Fatalf("Run returned %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not wake after the interval was shortened")
	}
	// Then it waits one new interval.
	d = <-clock.sleeping
	require.InDelta(t, float64(5*time.Minute), float64(d), float64(time.Minute))
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

// heldLock is a sync.Locker that records whether it is held.
type heldLock struct {
	held  bool
	locks int
}

func (l *heldLock) Lock()   { l.held = true; l.locks++ }
func (l *heldLock) Unlock() { l.held = false }

// lockCheckFlash fails the test if the primary is read without the lock.
type lockCheckFlash struct {
	hal.Flash
	test *testing.T
	lock *heldLock
}

func (f lockCheckFlash) ReadAt(b []byte, off int64) (int, error) {
	require.True(f.test, f.lock.held, "the primary was read at %#x without Options.PrimaryLock", off)
	return f.Flash.ReadAt(b, off)
}

func TestPrimaryLockHeldByRounds(t *testing.T) {
	ctx := context.Background()
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	lock := &heldLock{}
	opts := p.opts
	opts.PrimaryLock = lock
	lock.Lock() // Open reads the primary too; the lock is for rounds only
	e, err := Open(ctx, lockCheckFlash{p.chipA, t, lock}, p.chipB, opts)
	require.NoError(t, err)
	lock.Unlock()
	lock.locks = 0
	_, err = e.Round(ctx)
	require.NoError(t, err)
	require.NoError(t, p.cmc.Step(p.region(t, p.chipA), cmcsim.TypicalInterval))
	prep, _, err := e.Prepare(ctx)
	require.NoError(t, err)
	_, err = e.Apply(ctx, prep)
	require.NoError(t, err)
	require.Equal(t, 3, lock.locks)
	require.False(t, lock.held)
}
