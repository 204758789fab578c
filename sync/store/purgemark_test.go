package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
)

// TestPurgedMarkRetriesMediaErrors: the program of the purged mark, or a
// read-back of it, fails with a media error or no response. The record is
// read again (a failed read-back: no program more) or written again in
// the next block (a failed program), so the purge completes and a restart finds the round
// purged: nothing is left for a recovery to purge, and erase, again. Only
// when every try fails does the purge fail, leaving the round to purge.
func TestPurgedMarkRetriesMediaErrors(t *testing.T) {
	tests := []struct {
		name string
		// rules returns the schedule's rules, given the index of the mark's
		// program and of its first read-back in a purge without faults.
		rules  func(program, read int64) string
		purged bool
		// readAgain: the failed read is read again, so the purge makes
		// no program more than without faults.
		readAgain bool
	}{
		{"program fails (media)", func(p, _ int64) string { return fmt.Sprintf("(on (at %d) (fail media))", p) }, true, false},
		{"program fails (timeout)", func(p, _ int64) string { return fmt.Sprintf("(on (at %d) (fail timeout))", p) }, true, false},
		{"read-back fails (media)", func(_, r int64) string { return fmt.Sprintf("(on (at %d) (fail media))", r) }, true, true},
		{"every program fails", func(p, _ int64) string {
			return fmt.Sprintf("(on (and backup program (after %d)) (fail media))", p-1)
		}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, s := newStore(t)
			ps := payloads{1: randomBytes(1, 30000)}
			runRound(t, s, 1, ps)
			r, err := s.Begin(planOf(2, payloads{1: randomBytes(7, 30000)}))
			require.NoError(t, err)
			require.NotEmpty(t, r.Writes())
			snap := f.Snapshot()

			// A purge without faults: the mark is its last program,
			// read back right after it.
			program, read := int64(-1), int64(-1)
			programs := 0
			trace := faults.NewInjector(faults.Schedule{}, faults.Options{Disarmed: true, Trace: func(op faults.Op) {
				switch op.Kind {
				case faults.Program:
					program, read = op.Index, -1
					programs++
				case faults.Read:
					if program >= 0 && read < 0 {
						read = op.Index
					}
				}
			}})
			s = openTest(t, trace.Wrap(f, faults.Backup), Options{})
			trace.Arm()
			_, err = s.Purge()
			require.NoError(t, err)
			require.Positive(t, read)

			f.Restore(snap)
			sched, err := faults.ParseSchedule(tc.rules(program, read))
			require.NoError(t, err)
			t.Logf("fault schedule: %v", sched)
			faulted := 0
			in := faults.NewInjector(sched, faults.Options{Disarmed: true, Trace: func(op faults.Op) {
				if op.Kind == faults.Program {
					faulted++
				}
			}})
			s = openTest(t, in.Wrap(f, faults.Backup), Options{})
			in.Arm()
			res, err := s.Purge()
			require.NotEmpty(t, in.Fired(), "the fault fired")
			re := openTest(t, f, Options{ReadOnly: true})
			if !tc.purged {
				require.ErrorIs(t, err, hal.ErrMedia)
				require.NotNil(t, re.Interrupted(), "the round is left to purge")
				return
			}
			require.NoError(t, err)
			require.Equal(t, len(res.Blocks), res.Erased)
			require.Nil(t, re.Interrupted(), "nothing left to purge")
			if tc.readAgain {
				require.Equal(t, programs, faulted, "the mark is read again, not written again")
			}
			require.NotNil(t, re.LastPurged())
			checkPayloads(t, re, ps)
		})
	}
}
