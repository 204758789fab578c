package store

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

var probeFormat = FormatOptions{ChipID: 1, PairID: 42, Time: time.Unix(1000, 0), MaxChunks: testMaxChunks,
	Config: Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second}}

// TestProbe: a blank range, foreign data, a formatted store (with its
// identity), and a format cut by power loss at each of its operations
// (torn or not): a cut format is never taken for foreign data — Probe says
// FormatInterrupted (Open refuses it with ErrFormatInterrupted) until a
// format succeeds, or Formatted when it was cut at its last step (Open
// repairs it) — and a format run again over it succeeds.
func TestProbe(t *testing.T) {
	f := newChip(t)
	probe := func() ProbeResult {
		t.Helper()
		res, err := Probe(f, testStoreOff, testStoreSize)
		require.NoError(t, err)
		return res
	}
	require.Equal(t, Blank, probe().State)
	blank := f.Snapshot()

	f.Poke(testStoreOff+100*4096+17, []byte("user data"))
	res := probe()
	require.Equal(t, Foreign, res.State)
	require.Contains(t, res.Detail, fmt.Sprintf("store block 100 at %#x ", testStoreOff+100*4096), "the foreign block and its chip offset")

	f.Restore(blank)
	require.NoError(t, Format(f, testStoreOff, testStoreSize, probeFormat))
	res = probe()
	require.Equal(t, Formatted, res.State)
	require.Equal(t, Identity{ChipID: 1, PairID: 42, Version: FormatVersion}, res.Identity)

	// Format cut at every operation, on a blank range and over user data.
	seen := map[ProbeState]int{}
	for _, start := range []string{"blank", "user data"} {
		f.Restore(blank)
		if start == "user data" {
			for b := int64(0); b < testStoreSize/4096; b += 7 {
				f.Poke(testStoreOff+b*4096, randomBytes(uint64(b), 300))
			}
		}
		base := f.Snapshot()
		// The format's programs and erases: a cut at each (and torn), and
		// just after each (at the next operation).
		var writes []faults.Op
		count := faults.NewInjector(faults.Schedule{}, faults.Options{SplitPages: true, Trace: func(op faults.Op) {
			if op.Kind != faults.Read {
				writes = append(writes, op)
			}
		}})
		require.NoError(t, Format(count.Wrap(f, faults.Backup), testStoreOff, testStoreSize, probeFormat))
		intent := writes[slices.IndexFunc(writes, func(op faults.Op) bool { return op.Kind == faults.Program })].Index
		for _, op := range writes {
			for _, point := range []struct {
				at     int64
				action string
			}{{op.Index, "cut"}, {op.Index, "(torn random)"}, {op.Index + 1, "cut"}} {
				what := fmt.Sprintf("%s: %s at operation %d", start, point.action, point.at)
				f.Restore(base)
				in := faults.NewInjector(mustSchedule(t, fmt.Sprintf("(seed %d) (on (at %d) %s)", point.at, point.at, point.action)), faults.Options{SplitPages: true})
				if Format(in.Wrap(f, faults.Backup), testStoreOff, testStoreSize, probeFormat) == nil {
					continue // after the format's last operation
				}
				res := probe()
				seen[res.State]++
				switch res.State {
				case FormatInterrupted:
					_, err := Open(f, testStoreOff, testStoreSize, Options{ReadOnly: true})
					require.ErrorIs(t, err, ErrNotFormatted, what)
					if res.Identity.PairID != 0 {
						require.ErrorIs(t, err, ErrFormatInterrupted, what)
					}
				case Formatted:
					require.Equal(t, Identity{ChipID: 1, PairID: 42, Version: FormatVersion}, res.Identity, what)
					s, err := Open(f, testStoreOff, testStoreSize, Options{})
					require.NoError(t, err, what)
					for _, d := range s.Findings() {
						require.Equal(t, SuperblockDamaged, d.Kind, "%s: %v", what, d)
					}
					s = openTest(t, f, Options{ReadOnly: true})
					require.Empty(t, s.Damage(), "%s: repaired", what)
				case Blank:
					require.Equal(t, "blank", start, what)
				default:
					// Over user data, a cut before the format intent is
					// durable leaves foreign data: the format has not begun.
					require.True(t, start == "user data" && point.at <= intent, "a cut format taken for foreign data: %s: %+v", what, res)
				}
				require.NoError(t, Format(f, testStoreOff, testStoreSize, probeFormat), what)
				s := openTest(t, f, Options{ReadOnly: true})
				require.Empty(t, s.Damage(), what)
				require.Equal(t, Formatted, probe().State, what)
			}
		}
	}
	t.Logf("probe after a cut format: %v", seen)
	require.Positive(t, seen[FormatInterrupted])
	require.Positive(t, seen[Formatted], "cut at the last step")
}
