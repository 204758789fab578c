package faults

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFadeReadsRightOnceThenNot: a fade rule leaves the bytes it names
// weakly held, whatever the operation it matches: the first read of them
// returns them right, each later one differently (bits stored 0 read as
// random), bytes outside the range stay stable, and a program of the range
// makes it hold again. It prints and parses back.
func TestFadeReadsRightOnceThenNot(t *testing.T) {
	const lo, hi = 0x100, 0x140
	for _, tc := range []struct {
		name  string
		sched string
		// reads of [lo, hi) after the fade that read right, in order
		// (then a program of the range and two more reads, both right).
		right []bool
	}{
		{"no fade", "none", []bool{true, true, true}},
		{"faded", "(on (at 0) (fade backup 0x100 0x140))", []bool{true, false, false}},
		{"faded, clipped to the device", "(on (at 0) (fade backup 0x100 0x1000000))", []bool{true, false, false}},
		{"another range", "(on (at 0) (fade backup 0x200 0x240))", []bool{true, true, true}},
	} {
		s, err := ParseSchedule(tc.sched)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.sched, s.String(), tc.name)
		dev := newMem("flash1", 16<<10)
		for i := range dev.data {
			dev.data[i] = 0
		}
		in := NewInjector(s, Options{})
		w := in.Wrap(dev, Backup)
		want := make([]byte, hi-lo)
		buf := make([]byte, hi-lo)
		_, err = w.ReadAt(make([]byte, 16), 0) // operation 0: the fade, beside it
		require.NoError(t, err)
		var right []bool
		for range tc.right {
			_, err := w.ReadAt(buf, lo)
			require.NoError(t, err)
			right = append(right, bytes.Equal(buf, want))
		}
		require.Equal(t, tc.right, right, tc.name)
		_, err = w.ReadAt(buf[:16], lo-16)
		require.NoError(t, err)
		require.Equal(t, want[:16], buf[:16], "%s: the bytes before the range", tc.name)
		_, err = w.WriteAt(want, lo)
		require.NoError(t, err)
		for range 2 {
			_, err := w.ReadAt(buf, lo)
			require.NoError(t, err)
			require.Equal(t, want, buf, "%s: programmed again", tc.name)
		}
		require.NoError(t, in.Err(), tc.name)
	}
}
