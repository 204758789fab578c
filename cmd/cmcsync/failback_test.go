package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/jsonout"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestFailbackCommand: refused (exit 3) while chip A is active; after a
// failover and a blank information region on chip A, failback re-seeds it
// and chip A is active again.
func TestFailbackCommand(t *testing.T) {
	dir, chips := pairFiles(t)
	_, _, err := runCLI(append([]string{"failback"}, chips...)...)
	require.Equal(t, exitRefused, statusOf(err), "%v", err)
	require.ErrorContains(t, err, "chip A is already the active chip")

	// A failover to chip B (its role record), then chip A's information
	// region lost, as on a replaced chip.
	l := syncJSON(t, chips...).Layout
	part, err := sim.LookupPart("mx66l1g45g")
	require.NoError(t, err)
	b, err := sim.OpenFile(filepath.Join(dir, "b.img"), sim.Options{Part: part, Size: 8 << 20})
	require.NoError(t, err)
	s, err := store.Open(b, l.Store.Offset, l.Store.Size, store.Options{})
	require.NoError(t, err)
	require.NoError(t, s.SetRole(store.Role{Epoch: s.StateRef().Role.Epoch + 1, Active: 1}))
	s.Release()
	require.NoError(t, b.Close())
	a, err := sim.OpenFile(filepath.Join(dir, "a.img"), sim.Options{Part: part, Size: 8 << 20})
	require.NoError(t, err)
	require.NoError(t, a.Erase(l.Info.Offset, l.Info.Size))
	require.NoError(t, a.Close())
	require.Equal(t, 1, syncJSON(t, chips...).Status.ActiveChip)

	out, _, err := runCLI(append([]string{"failback", "--json"}, chips...)...)
	require.NoError(t, err)
	require.NoError(t, jsonout.Check([]byte(out)))
	requireSchema(t, "failback", out)
	var r failbackResult
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	require.Equal(t, 0, r.ActiveChip)
	require.NotEmpty(t, r.Types)
	res := syncJSON(t, chips...)
	require.Equal(t, 0, res.Status.ActiveChip)
	require.Contains(t, []string{"committed", "nothing-changed"}, res.Round.Outcome, "rounds run from chip A again")

	_, _, err = runCLI(append([]string{"failback"}, chips...)...)
	require.Equal(t, exitRefused, statusOf(err))
}
