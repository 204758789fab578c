package crosscheck_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/faults/reference/crosscheck"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// syncedPair formats two simulated chips, fills the primary from the
// seeded CMC generator and runs one round: chip 1's store holds
// generation 1.
func syncedPair() (*sim.Flash, engine.Layout, error) {
	part, err := sim.LookupPart("mx66l1g45g")
	if err != nil {
		return nil, engine.Layout{}, err
	}
	clock := sim.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var chips [2]*sim.Flash
	for i := range chips {
		if chips[i], err = sim.New(sim.Options{Part: part, Size: 8 << 20, Clock: clock, Name: fmt.Sprintf("flash%d", i)}); err != nil {
			return nil, engine.Layout{}, err
		}
	}
	l, err := engine.DefaultLayout(chips[0].Geometry(), 1<<20)
	if err != nil {
		return nil, l, err
	}
	opts := engine.Options{Clock: clock, Layout: l, Config: engine.DefaultConfig()}
	if _, err := engine.FormatAndFill(chips[0], chips[1], opts, cmcsim.New(1).Populate); err != nil {
		return nil, l, err
	}
	e, err := engine.Open(context.Background(), chips[0], chips[1], opts)
	if err != nil {
		return nil, l, err
	}
	_, err = e.Round(context.Background())
	return chips[1], l, err
}

// TestDisagreementsAreFound: the comparison passes the two readings of a
// store, and fails when the reference's reading is wrong in any of the
// ways it compares.
func TestDisagreementsAreFound(t *testing.T) {
	chip, l, err := syncedPair()
	require.NoError(t, err)
	ref, st, err := crosscheck.Read(chip, l.StoreOff, l.StoreSize)
	require.NoError(t, err)
	require.Empty(t, crosscheck.State(ref, st))
	require.Empty(t, crosscheck.Damage(ref, st))
	for _, tc := range []struct {
		name   string
		wrong  func(b *reference.Backup)
		damage bool
	}{
		{"generation", func(b *reference.Backup) { b.Committed.Generation++ }, false},
		{"role", func(b *reference.Backup) { b.Committed.Role.Epoch++ }, false},
		{"chunk digest", func(b *reference.Backup) { b.Committed.Types[1].Chunks[0].Digest[3] ^= 1 }, false},
		{"chunk block", func(b *reference.Backup) { b.Committed.Types[0].Chunks[0].Block++ }, false},
		{"payload digest", func(b *reference.Backup) { b.Committed.Types[2].Digest[0] ^= 1 }, false},
		{"configuration", func(b *reference.Backup) { b.Committed.Config.Interval++ }, false},
		{"staged configuration", func(b *reference.Backup) { b.Staged = &reference.Config{} }, false},
		{"pending round", func(b *reference.Backup) { b.Pending = &reference.Intent{Generation: 2} }, false},
		{"area", func(b *reference.Backup) { b.Area = 1 }, false},
		{"journal", func(b *reference.Backup) { b.Journal = b.Journal[1:] }, false},
		{"damage", func(b *reference.Backup) {
			b.Findings = append(b.Findings, reference.Finding{Kind: reference.SequenceGap})
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wrong, err := reference.Decode(chip, l.StoreOff, l.StoreSize)
			require.NoError(t, err)
			tc.wrong(wrong)
			if tc.damage {
				require.NotEmpty(t, crosscheck.Damage(wrong, st))
				return
			}
			require.NotEmpty(t, crosscheck.State(wrong, st))
		})
	}
}

// The two readers agree on a store the engine wrote.
func Example() {
	chip, l, err := syncedPair()
	if err != nil {
		fmt.Println(err)
		return
	}
	_, diffs, err := crosscheck.Agree(chip, l.StoreOff, l.StoreSize)
	fmt.Println(len(diffs), err)
	// Output:
	// 0 <nil>
}
