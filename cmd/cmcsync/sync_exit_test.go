package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestSyncFailsWhenNothingWasSynced: a round the primary's misbehaviour
// ended without syncing — failed over, or interrupted — prints the round
// as usual and exits 1 with a line saying what happened, so a script
// running sync sees it; a committed round and one with nothing changed
// exit 0.
func TestSyncFailsWhenNothingWasSynced(t *testing.T) {
	dir, chips := pairFiles(t)
	out, _, err := runCLI(append([]string{"sync", "--json"}, chips...)...)
	require.NoError(t, err, "nothing changed: exit 0")
	require.Contains(t, out, `"outcome": "nothing-changed"`)

	// One bit of the primary's information region header flipped: the
	// primary answers with corrupt information until the threshold, and
	// the round fails over to the backup.
	a := filepath.Join(dir, "a.img")
	img, err := os.ReadFile(a)
	require.NoError(t, err)
	img[0x80000+8] ^= 1
	require.NoError(t, os.WriteFile(a, img, 0o600))
	out, _, err = runCLI(append([]string{"sync", "--json"}, chips...)...)
	require.Equal(t, exitFailure, statusOf(err), "%v", err)
	require.ErrorContains(t, err, "sync: round failed over: information region at 0x80000 on primary: corrupt information")
	require.ErrorContains(t, err, "the backup (chip 1) is now active")
	var res struct {
		Round struct {
			Outcome string `json:"outcome"`
		} `json:"round"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), "the round is printed before the exit")
	require.Equal(t, engine.OutcomeFailover, res.Round.Outcome)

	for _, tc := range []struct {
		outcome string
		code    int
		want    string
	}{
		{engine.OutcomeCommitted, 0, ""},
		{engine.OutcomeNothingChanged, 0, ""},
		{engine.OutcomeInterrupted, exitFailure, "sync: round interrupted, nothing synced: late (the round was purged; the next sync tries again)"},
		{engine.OutcomeFailover, exitFailure, "sync: round failed over: late; the backup (chip 1) is now active, running the last committed generation 7"},
	} {
		err := roundNotSynced(engine.RoundReport{Outcome: tc.outcome, Anomaly: "late"}, engine.Status{Active: "backup", ActiveChip: 1, Generation: 7})
		require.Equal(t, tc.code, statusOf(err), tc.outcome)
		if tc.want != "" {
			require.ErrorContains(t, err, tc.want)
		}
	}
}
