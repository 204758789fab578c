package guest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
)

func TestWriterEmit(t *testing.T) {
	tests := []struct {
		name string
		line Line
		want Line // as the host parses it back
	}{
		{"open", Line{Event: EventOpen, ElapsedSeconds: 0.0125, Generation: 3},
			Line{Event: EventOpen, ElapsedSeconds: 0.0125, Generation: 3}},
		{"round", Line{Event: EventRound, Round: 2, Generation: 4, Report: &engine.RoundReport{Outcome: engine.OutcomeCommitted, BytesWritten: 4096}},
			Line{Event: EventRound, Round: 2, Generation: 4, Report: &engine.RoundReport{Outcome: engine.OutcomeCommitted, BytesWritten: 4096,
				Types: engine.TypeList{}, ChangedTypes: engine.TypeList{}}}}, // lists encode as []
		// A time json cannot encode (year 10000): the host still gets a
		// line, saying what went wrong, with the round it was about.
		{"unencodable", Line{Event: EventRound, Round: 3, Report: &engine.RoundReport{Started: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
			Line{Event: EventError, Round: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, NewWriter(&b).Emit(tt.line))
			out := b.String()
			require.True(t, strings.HasPrefix(out, Prefix), out)
			require.Equal(t, 1, strings.Count(out, "\n"), "one line")
			lines, err := Parse(out)
			require.NoError(t, err)
			require.Len(t, lines, 1)
			got := lines[0]
			if tt.want.Event == EventError {
				require.Contains(t, got.Error, "encode the round line")
				got.Error = ""
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestLineHelpers(t *testing.T) {
	require.Equal(t, 0.001234, SecondsOf(1234567*time.Nanosecond))
	require.Equal(t, 1234*time.Microsecond, Line{ElapsedSeconds: 0.001234}.Elapsed())
	for _, d := range []time.Duration{0, time.Microsecond, 812500 * time.Microsecond, 3*time.Hour + 7*time.Microsecond} {
		require.Equal(t, d, Line{ElapsedSeconds: SecondsOf(d)}.Elapsed(), "%v", d)
	}
	l := Line{Event: EventRoundStart, Round: 2}
	require.True(t, l.Is(EventRoundStart, 2))
	require.False(t, l.Is(EventRoundStart, 3))
	require.False(t, l.Is(EventRound, 2))
	require.True(t, Line{Event: EventOpen}.Is(EventOpen, 0))
}

// TestWireNames pins the JSON names of the protocol: the guest binary in a
// cached image and the host may come from different builds.
func TestWireNames(t *testing.T) {
	b, err := json.Marshal(Line{Event: EventRound, Round: 1, ElapsedSeconds: 2, Generation: 3, Report: &engine.RoundReport{},
		Status: &engine.Status{}, Events: []engine.Event{{}}, Error: "e", Types: []engine.TypeStatus{{}}, Detail: "d"})
	require.NoError(t, err)
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &fields))
	var names []string
	for k := range fields {
		names = append(names, k)
	}
	require.ElementsMatch(t, []string{"event", "round", "elapsed_seconds", "generation", "report", "status", "events", "error", "types", "detail"}, names)
}
