package guest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		ok      bool
		wantErr bool
		event   Event
		round   int
	}{
		{"open", `GUEST {"event":"open","elapsed_seconds":0.0125,"generation":3}`, true, false, EventOpen, 0},
		{"open of an older guest", `GUEST {"event":"open","elapsed_ms":12.5,"generation":3}`, true, false, EventOpen, 0},
		{"both elapsed members", `GUEST {"event":"open","elapsed_ms":12.5,"elapsed_seconds":0.0125}`, true, true, "", 0},
		{"elapsed not a number", `GUEST {"event":"open","elapsed_seconds":"12ms"}`, true, true, "", 0},
		// Field order does not matter: values are matched, not text.
		{"fields in another order", `GUEST {"generation":4,"round":2,"event":"round-start"}`, true, false, EventRoundStart, 2},
		{"kernel message", `[   12.345] mtd: partition "flash1"`, false, false, "", 0},
		{"shell echo", `cmc# cmcsync guest --rounds 1`, false, false, "", 0},
		{"prompt before the prefix", `cmc# GUEST {"event":"open"}`, false, false, "", 0},
		{"cut short", `GUEST {"event":`, false, false, "", 0},
		{"no object", `GUEST hello`, false, false, "", 0},
		{"wrong type", `GUEST {"event":1}`, true, true, "", 0},
		{"not json", `GUEST {event}`, true, true, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, ok, err := ParseLine(tt.in)
			require.Equal(t, tt.ok, ok)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrLine)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.event, l.Event)
			require.Equal(t, tt.round, l.Round)
		})
	}
}

func TestParse(t *testing.T) {
	out := "cmc# echo\nGUEST {\"event\":\"open\",\"elapsed_seconds\":0.0125,\"generation\":3}\nkernel noise\n" +
		"GUEST {\"event\":\"round\",\"round\":1,\"generation\":4,\"report\":{\"outcome\":\"committed\",\"bytes_written\":4096},\"types\":[{\"type\":2,\"digest\":\"ab\"}]}\n" +
		"GUEST {\"event\":\"done\"" // no newline yet: not a line
	lines, err := Parse(out)
	require.NoError(t, err)
	require.Len(t, lines, 2)
	require.Equal(t, EventOpen, lines[0].Event)
	require.Equal(t, uint64(3), lines[0].Generation)
	require.Equal(t, 12500*time.Microsecond, lines[0].Elapsed())
	require.Equal(t, "committed", lines[1].Report.Outcome)
	require.Equal(t, int64(4096), lines[1].Report.BytesWritten)
	require.Equal(t, info.Fan, lines[1].Types[0].Type)
	require.Equal(t, "ab", lines[1].Types[0].Digest)

	lines, err = Parse("GUEST {\"event\":\"open\"}\nGUEST {\"event\":1}\nGUEST {\"event\":\"done\"}\n")
	require.ErrorIs(t, err, ErrLine)
	require.Len(t, lines, 1, "the lines before the bad one")
}

func FuzzParse(f *testing.F) {
	f.Add("GUEST {\"event\":\"open\",\"generation\":1}\n")
	f.Add("GUEST {}\nGUEST {\"report\":{\"duration\":5}}\n")
	f.Add("GUEST {\"event\":\"round\",\"round\":1,\"types\":[{\"type\":3}],\"status\":{\"config\":{\"types\":[1]}}}\n")
	f.Add("noise")
	f.Fuzz(func(t *testing.T, s string) {
		lines, err := Parse(s)
		require.LessOrEqual(t, len(lines), strings.Count(s, Prefix+"{"))
		if err != nil {
			require.ErrorIs(t, err, ErrLine)
			return
		}
		// What the host parsed, the guest writes back as guest lines; when
		// those parse again (engine.TypeList decodes type numbers it
		// cannot name back), they write the same text again.
		var first strings.Builder
		for _, l := range lines {
			require.NoError(t, NewWriter(&first).Emit(l))
		}
		require.Equal(t, len(lines), strings.Count(first.String(), "\n"))
		again, err := Parse(first.String())
		if err != nil {
			require.ErrorIs(t, err, ErrLine)
			return
		}
		require.Len(t, again, len(lines))
		var second strings.Builder
		for _, l := range again {
			require.NoError(t, NewWriter(&second).Emit(l))
		}
		require.Equal(t, first.String(), second.String())
	})
}

// TestParseLineElapsed: a line's step time is elapsed_seconds; the
// elapsed_ms of a guest built before it reads as the same time, never as
// no time.
func TestParseLineElapsed(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     time.Duration
	}{
		{"seconds", `GUEST {"event":"done","elapsed_seconds":0.8125}`, 812500 * time.Microsecond},
		{"milliseconds of an older guest", `GUEST {"event":"done","elapsed_ms":812.5}`, 812500 * time.Microsecond},
		{"microsecond", `GUEST {"event":"done","elapsed_seconds":0.000001}`, time.Microsecond},
		{"none", `GUEST {"event":"round-start","round":1}`, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, ok, err := ParseLine(tt.in)
			require.True(t, ok)
			require.NoError(t, err)
			require.Equal(t, tt.want, l.Elapsed())
		})
	}
}
