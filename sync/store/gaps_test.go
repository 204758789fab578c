package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

// TestProbeStateNames: every state has its own name, and a value outside
// the list prints as probe(N) rather than borrowing a name.
func TestProbeStateNames(t *testing.T) {
	for _, tt := range []struct {
		state ProbeState
		want  string
	}{
		{Blank, "blank"},
		{FormatInterrupted, "format-interrupted"},
		{Formatted, "formatted"},
		{Foreign, "foreign"},
		{ProbeState(len(probeNames)), fmt.Sprintf("probe(%d)", len(probeNames))},
		{ProbeState(200), "probe(200)"},
	} {
		require.Equal(t, tt.want, tt.state.String())
	}
}

// TestPurgeGivesUpOnAStuckBlock: a data block of the interrupted round
// whose erases all silently fail (it keeps its programmed bits) is erased
// three times and read back after each, then the purge stops with
// ErrPurgeFailed and writes no purged mark: it neither loops forever nor
// declares a block erased that is not. The committed generation is intact.
func TestPurgeGivesUpOnAStuckBlock(t *testing.T) {
	f, _, ps1, off := abandonedRound(t)

	// Every erase of the first block the round wrote fails silently.
	in := faults.NewInjector(mustSchedule(t, fmt.Sprintf("(on (and erase (addr %#x %#x)) (silent-erase unchanged))", off, off+4096)), faults.Options{})
	var erases int
	in2 := faults.NewInjector(faults.Schedule{}, faults.Options{Trace: func(op faults.Op) {
		if op.Kind == faults.Erase && op.Off == off {
			erases++
		}
	}})
	s2 := openTest(t, in2.Wrap(in.Wrap(f, faults.Backup), faults.Backup), Options{})
	require.NotNil(t, s2.Interrupted())
	_, err := s2.Purge()
	require.ErrorIs(t, err, ErrPurgeFailed)
	require.Equal(t, 3, erases, "three erases of the stuck block, then give up")
	require.NotNil(t, s2.Interrupted(), "no purged mark over a block that is not erased")

	s3 := openTest(t, f, Options{ReadOnly: true})
	require.Equal(t, uint64(1), s3.State().Generation)
	checkPayloads(t, s3, ps1)
}
