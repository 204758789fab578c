package guest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// runLines runs c on the chips and returns the lines it printed.
func runLines(t *testing.T, c Command, pf, bf hal.Flash, hold string) ([]Line, error) {
	t.Helper()
	var out strings.Builder
	err := Run(context.Background(), c, pf, bf, NewWriter(&out), strings.NewReader(hold))
	lines, perr := Parse(out.String())
	require.NoError(t, perr)
	return lines, err
}

func events(lines []Line) []Event {
	var evs []Event
	for _, l := range lines {
		evs = append(evs, l.Event)
	}
	return evs
}

func TestRunFormatsAndSyncs(t *testing.T) {
	pf, bf := newChip(t, "mx66l1g45g", 8<<20), newChip(t, "mx66l1g45g", 8<<20)
	c := Command{Rounds: 2, Seed: 7, Activity: 10 * time.Minute, Format: true}
	lines, err := runLines(t, c, pf, bf, "")
	require.NoError(t, err)
	require.Equal(t, []Event{EventFormat, EventOpen, EventRoundStart, EventRound, EventRoundStart, EventRound, EventDone}, events(lines))
	for _, l := range lines {
		if l.Event == EventRound {
			require.Equal(t, engine.OutcomeCommitted, l.Report.Outcome, "round %d", l.Round)
			require.Equal(t, uint64(l.Round), l.Generation)
			require.Len(t, l.Types, 6)
		}
	}
	last := lines[len(lines)-1]
	require.Equal(t, uint64(2), last.Generation)
	require.Len(t, last.Status.Types, 6)

	// Again on the same chips, held, tracing: the engine opens the
	// committed state and continues; the round's first backup write is
	// reported once, between its start and its end.
	c = Command{Rounds: 1, Seed: 8, Activity: 10 * time.Minute, Hold: true, TraceWrites: true}
	lines, err = runLines(t, c, pf, bf, "go\n")
	require.NoError(t, err)
	require.Equal(t, []Event{EventOpen, EventRoundStart, EventBackupWrite, EventRound, EventDone}, events(lines))
	require.Equal(t, uint64(2), lines[0].Generation)
	require.True(t, lines[2].Is(EventBackupWrite, 1))
	require.Equal(t, uint64(3), lines[len(lines)-1].Generation)
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name      string
		cmd       Command
		hold      string
		format    bool // format the chips first
		wantErr   string
		wantLines []Event
	}{
		{"blank chips", Command{Rounds: 1}, "", false, "open engine", []Event{EventError}},
		{"negative rounds", Command{Rounds: -1}, "", false, "want 0 (until killed) or more", nil},
		{"nor has no bad blocks", Command{Rounds: 1, Format: true, MarkBad: []BadBlock{{Backup, 9}}}, "", false, "mark backup block 9 bad",
			[]Event{EventFormat, EventError}},
		{"hold without a go-ahead", Command{Rounds: 1, Hold: true}, "", true, "waiting for the go-ahead", []Event{EventOpen}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf, bf := newChip(t, "mx66l1g45g", 8<<20), newChip(t, "mx66l1g45g", 8<<20)
			if tt.format {
				_, err := runLines(t, Command{Format: true, Rounds: 0, Hold: true}, pf, bf, "")
				require.Error(t, err)
			}
			lines, err := runLines(t, tt.cmd, pf, bf, tt.hold)
			require.ErrorContains(t, err, tt.wantErr)
			require.Equal(t, tt.wantLines, events(lines))
			if n := len(lines); n > 0 && lines[n-1].Event == EventError {
				require.Contains(t, lines[n-1].Error, tt.wantErr)
			}
		})
	}
}

// TestRunLastRoundFailed: a round that fails (every program of the backup
// fails) is reported on its line and by Run's error.
func TestRunLastRoundFailed(t *testing.T) {
	pf, bf := newChip(t, "mx66l1g45g", 8<<20), newChip(t, "mx66l1g45g", 8<<20)
	_, err := runLines(t, Command{Format: true, Rounds: 1}, pf, bf, "")
	require.NoError(t, err)
	sched, err := faults.ParseSchedule("(on (and backup program) (fail media))")
	require.NoError(t, err)
	failing := faults.NewInjector(sched, faults.Options{}).Wrap(bf, faults.Backup)
	lines, err := runLines(t, Command{Rounds: 1, Activity: time.Minute}, pf, failing, "")
	require.ErrorIs(t, err, ErrRoundFailed)
	require.Equal(t, []Event{EventOpen, EventRoundStart, EventRound, EventDone}, events(lines))
	require.Equal(t, engine.OutcomeError, lines[2].Report.Outcome)
	require.Contains(t, lines[2].Error, "injected")
	require.Contains(t, err.Error(), lines[3].Status.LastError)
}
