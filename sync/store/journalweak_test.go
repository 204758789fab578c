package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

// TestJournalRecordsThatNeverReadBack: when every program of the journal
// area is weak (reads right once, then not), appending a record is tried
// at the start of a block maxReprograms+1 times in all and then fails with
// ErrVerify, saying how many programs it made; the committed state is
// untouched.
func TestJournalRecordsThatNeverReadBack(t *testing.T) {
	f, s := newStore(t)
	runRound(t, s, 1, payloads{1: randomBytes(1, 20000)})
	jOff, jSize := s.JournalRange()
	in := faults.NewInjector(mustSchedule(t, fmt.Sprintf("(seed 1) (on (and program (addr %#x %#x)) weak)", jOff, jOff+jSize)),
		faults.Options{Disarmed: true, SplitPages: true})
	s = openTest(t, in.Wrap(f, faults.Backup), Options{})
	in.Arm()
	err := s.StageConfig(Config{Types: []uint8{1}, Interval: 2 * time.Minute, Threshold: time.Second})
	require.ErrorIs(t, err, ErrVerify)
	require.ErrorContains(t, err, fmt.Sprintf("after %d programs", maxReprograms+1))
	require.NotEmpty(t, in.Fired())
	require.Equal(t, uint64(1), s.State().Generation)
}
