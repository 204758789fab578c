package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// failedOverPair is a pair after one committed generation and a failover
// (chip A stopped answering), with chip A then replaced by a blank chip
// carrying only its firmware image (information region and store
// erased). It returns the committed payloads.
func failedOverPair(t testing.TB) (*pair, map[info.Type][]byte) {
	t.Helper()
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	_, err := p.open(t).Round(context.Background())
	require.NoError(t, err)
	failOver(t, p)
	l := p.opts.Layout
	require.NoError(t, p.chipA.Erase(l.InfoOff, l.InfoSize))
	require.NoError(t, p.chipA.Erase(l.StoreOff, l.StoreSize))
	return p, committedPayloads(t, p, p.chipB)
}

// failOver runs a round in which chip A stops answering for ever: the
// round fails over to chip B.
func failOver(t testing.TB, p *pair) {
	t.Helper()
	_, deadA, _ := p.injector(t, false, nil, "(on (and primary read) (fail timeout))")
	e, err := Open(context.Background(), deadA, p.chipB, p.opts)
	require.NoError(t, err)
	rep, err := e.Round(context.Background())
	require.NoError(t, err)
	require.Equal(t, OutcomeFailover, rep.Outcome)
	require.Equal(t, 1, e.Status().ActiveChip)
}

// committedPayloads reads every type's payload of the newest generation of
// f's store.
func committedPayloads(t testing.TB, p *pair, f hal.Flash) map[info.Type][]byte {
	t.Helper()
	l := p.opts.Layout
	s, err := store.Open(f, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	m := map[info.Type][]byte{}
	for _, ty := range info.All() {
		b, err := s.ReadPayload(uint8(ty))
		require.NoError(t, err)
		m[ty] = b
	}
	return m
}

// regionPayloads reads every type's record of f's information region; a
// region or record that does not read is an error.
func regionPayloads(p *pair, f hal.Flash) (map[info.Type][]byte, error) {
	r, err := info.OpenRegion(f, p.opts.Layout.InfoOff, p.opts.Layout.InfoSize)
	if err != nil {
		return nil, err
	}
	m := map[info.Type][]byte{}
	for _, ty := range info.All() {
		rec, err := r.Read(ty)
		if err != nil {
			return nil, err
		}
		m[ty] = rec.Payload
	}
	return m, nil
}

func TestFailback(t *testing.T) {
	p, want := failedOverPair(t)
	ctx := context.Background()
	e := p.open(t)
	require.Equal(t, 1, e.Status().ActiveChip)
	rep, err := e.Failback(ctx)
	require.NoError(t, err)
	require.Equal(t, 0, rep.ActiveChip)
	require.Equal(t, e.Status().RoleEpoch, rep.RoleEpoch)
	got, err := regionPayloads(p, p.chipA)
	require.NoError(t, err)
	require.Equal(t, want, got, "chip A holds the committed generation")
	// The role survives a restart and rounds run from chip A again.
	e2 := p.open(t)
	require.Equal(t, 0, e2.Status().ActiveChip)
	require.NoError(t, p.cmc.Step(p.region(t, p.chipA), 3600e9))
	r, err := e2.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, r.Outcome)
	requireSynced(t, p, p.chipA, p.chipB, info.All())
}

func TestFailbackRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("already active", func(t *testing.T) {
		p := newPair(t, 8<<20, 1<<20, DefaultConfig())
		e := p.open(t)
		_, err := e.Round(ctx)
		require.NoError(t, err)
		_, err = e.Failback(ctx)
		require.ErrorIs(t, err, ErrAlreadyActive)
		require.ErrorIs(t, err, ErrFailbackRefused)
	})
	t.Run("restore pending", func(t *testing.T) {
		p, _ := failedOverPair(t)
		e := p.open(t)
		e.role.RestorePending = true
		_, err := e.Failback(ctx)
		require.ErrorIs(t, err, ErrRestorePending)
	})
	t.Run("no committed generation", func(t *testing.T) {
		p := newPair(t, 8<<20, 1<<20, DefaultConfig())
		e := p.open(t)
		require.Zero(t, e.Status().Generation)
		e.role.Active = 1
		_, err := e.Failback(ctx)
		require.ErrorIs(t, err, ErrNoGeneration)
	})
	t.Run("chip A unhealthy", func(t *testing.T) {
		p, _ := failedOverPair(t)
		before := readRange(t, p.chipA, 0, p.chipA.Geometry().Size)
		e, _ := p.openWithFaults(t, p.opts, "(on (and primary read) (fail timeout))")
		_, err := e.Failback(ctx)
		require.ErrorIs(t, err, ErrChipUnhealthy)
		require.Equal(t, 1, e.Status().ActiveChip)
		require.Equal(t, before, readRange(t, p.chipA, 0, p.chipA.Geometry().Size), "a refusal writes nothing")
	})
}

// failbackCutCheck runs Failback with a power cut at each of its programs
// and erases in turn (every other one torn), reopens the pair with power
// back, and returns what is unsafe about the state left, per cut: the old
// roles must have chip B's region and store intact, the new roles chip A's
// region fully written with the committed generation. A state with the
// old roles must then fail back.
func failbackCutCheck(t *testing.T, roleFirst bool) map[int]string {
	p, want := failedOverPair(t)
	opts := p.opts
	opts.failbackRoleFirst = roleFirst
	ctx := context.Background()
	snapA, snapB := p.chipA.Snapshot(), p.chipB.Snapshot()
	var writes []int64
	in, chipA, chipB := p.injector(t, true, func(op faults.Op) {
		if op.Kind != faults.Read {
			writes = append(writes, op.Index)
		}
	}, "none")
	e, err := Open(ctx, chipA, chipB, opts)
	require.NoError(t, err)
	in.Arm()
	_, err = e.Failback(ctx)
	require.NoError(t, err)
	require.Greater(t, len(writes), 3)
	t.Logf("%d programs and erases in the failback", len(writes))
	bad := map[int]string{}
	for n := 1; n <= len(writes); n++ {
		p.chipA.Restore(snapA)
		p.chipB.Restore(snapB)
		cut := "cut"
		if n%2 == 1 {
			cut = "(torn bits unstable)"
		}
		e, _ := p.openWithFaults(t, opts, "(seed %d) (on (at %d) %s)", n, writes[n-1], cut)
		_, err := e.Failback(ctx)
		require.Error(t, err, "cut %d", n)
		e2, err := Open(ctx, p.chipA, p.chipB, opts)
		require.NoError(t, err, "cut %d", n)
		active := e2.Status().ActiveChip
		got, rerr := regionPayloads(p, p.chips()[active])
		switch {
		case rerr != nil:
			bad[n] = fmt.Sprintf("chip %d active, its region does not read: %v", active, rerr)
			continue
		case !maps.EqualFunc(want, got, slices.Equal):
			bad[n] = fmt.Sprintf("chip %d active, its region differs from the committed generation", active)
			continue
		}
		require.Equal(t, want, committedPayloads(t, p, p.chipB), "cut %d: chip B's store holds the committed generation", n)
		if active == 1 {
			_, err := e2.Failback(ctx)
			require.NoError(t, err, "cut %d: failback after the cut", n)
			got, err := regionPayloads(p, p.chipA)
			require.NoError(t, err, "cut %d", n)
			require.Equal(t, want, got, "cut %d", n)
		}
	}
	return bad
}

// chips returns chip A and chip B.
func (p *pair) chips() [2]hal.Flash { return [2]hal.Flash{p.chipA, p.chipB} }

// TestPowerCutDuringFailback: a power cut at every program and erase of a
// failback leaves a safe state.
func TestPowerCutDuringFailback(t *testing.T) {
	require.Empty(t, failbackCutCheck(t, false))
}

// TestFailbackRoleFirstIsCaught: written before chip A's region, the role
// record makes chip A active with a half-written region at some cut.
func TestFailbackRoleFirstIsCaught(t *testing.T) {
	bad := failbackCutCheck(t, true)
	require.NotEmpty(t, bad, "the role-first failback survived every power cut")
	t.Logf("caught at %d cuts, e.g. %v", len(bad), bad[slices.Min(slices.Collect(maps.Keys(bad)))])
}

// TestUpdateActiveRegion: the region given is the active chip's, before
// and after a failback.
func TestUpdateActiveRegion(t *testing.T) {
	p, _ := failedOverPair(t)
	e := p.open(t)
	var got hal.Flash
	require.NoError(t, e.UpdateActiveRegion(func(r *info.Region) error { got = r.Flash(); return nil }))
	require.Equal(t, p.chipB.Geometry().Name, got.Geometry().Name)
	_, err := e.Failback(context.Background())
	require.NoError(t, err)
	require.NoError(t, e.UpdateActiveRegion(func(r *info.Region) error { got = r.Flash(); return nil }))
	require.Equal(t, p.chipA.Geometry().Name, got.Geometry().Name)
}
