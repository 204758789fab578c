package campaign

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestStoppedRoundReportsItsPurge: a round stopped by its context (a
// cancel fired) after which the faults failed a backup erase, and that
// reported no verified purge, fails the purged invariant when its error is
// the context's alone; an error joined with the purge's, a verified purge,
// no failed erase after the cancel, no cancel, or a power loss leave the
// verdicts alone.
func TestStoppedRoundReportsItsPurge(t *testing.T) {
	erase := func(i int64) faults.Op {
		return faults.Op{Index: i, Role: faults.Backup, Kind: faults.Erase, Off: 0x2000, Len: 0x1000}
	}
	cancel := faults.Fired{Op: faults.Op{Index: 5, Role: faults.Backup, Kind: faults.Program}, Action: faults.Cancel{}}
	silent := faults.Fired{Op: erase(7), Action: faults.SilentErase{}}
	loud := faults.Fired{Op: erase(8), Action: faults.Fail{Kind: faults.FailMedia}}
	early := faults.Fired{Op: erase(4), Action: faults.Fail{Kind: faults.FailMedia}}
	purgeErr := errors.New("purge generation 2: purge did not verify: block 0 at 0x2000")
	stopped := fmt.Errorf("round stopped: %w", context.Canceled)
	verified := []engine.Event{{Kind: engine.EventInterrupt, Detail: "round stopped: context canceled"}, {Kind: engine.EventPurgeVerified}}
	for _, tc := range []struct {
		name   string
		t      trial
		failed bool
	}{
		{"purge error dropped, silent erase", trial{roundErr: context.Canceled, roundFired: []faults.Fired{cancel, silent}}, true},
		{"purge error dropped, failed erase", trial{roundErr: stopped, roundFired: []faults.Fired{cancel, loud}}, true},
		{"purge error joined", trial{roundErr: errors.Join(context.Canceled, purgeErr), roundFired: []faults.Fired{cancel, silent}}, false},
		{"purge error wrapped", trial{roundErr: fmt.Errorf("%w: %w", context.Canceled, purgeErr), roundFired: []faults.Fired{cancel, loud}}, false},
		{"purge verified", trial{roundErr: context.Canceled, roundFired: []faults.Fired{cancel, silent}, preEvents: verified}, false},
		{"erase failed before the cancel only", trial{roundErr: context.Canceled, roundFired: []faults.Fired{early, cancel}}, false},
		{"no cancel", trial{roundErr: context.Canceled, roundFired: []faults.Fired{silent}}, false},
		{"power lost", trial{roundErr: context.Canceled, roundFired: []faults.Fired{cancel, silent}, powerLost: true}, false},
		{"not stopped", trial{roundErr: purgeErr, roundFired: []faults.Fired{cancel, silent}}, false},
		{"committed", trial{roundFired: []faults.Fired{cancel, silent}}, false},
	} {
		vs := verdicts{}
		checkStoppedReported(vs, &tc.t)
		if !tc.failed {
			require.Empty(t, vs, tc.name)
			continue
		}
		require.Len(t, vs, 1, tc.name)
		require.False(t, vs[Purged].OK, "%s: %+v", tc.name, vs)
	}
}

// TestEraseTriesReportedTruly: a round error saying a block does not read
// erased after N erases passes when N is EraseTries and the faults made at
// least N erases of that block fail silently; another count, or fewer
// silent erases of the block (or of another block), fail bounded-wear.
func TestEraseTriesReportedTruly(t *testing.T) {
	silentAt := func(i, off int64) faults.Fired {
		return faults.Fired{Op: faults.Op{Index: i, Role: faults.Backup, Kind: faults.Erase, Off: off, Len: 0x1000}, Action: faults.SilentErase{}}
	}
	three := []faults.Fired{silentAt(1, 0x181000), silentAt(3, 0x181000), silentAt(5, 0x181000)}
	say := func(n int) error {
		return fmt.Errorf("begin round: upgrade the superblock to format version 5: read-back verify failed: 4096 bytes at 0x181000 do not read erased after %d erases that reported success", n)
	}
	for _, tc := range []struct {
		name   string
		err    error
		fired  []faults.Fired
		failed bool
	}{
		{"the bound, each erase silent", say(EraseTries), three, false},
		{"no error", nil, three, false},
		{"another error", errors.New("media error"), nil, false},
		{"a count below the bound", say(EraseTries - 2), three, true},
		{"a count above the bound", say(EraseTries + 1), append(three, silentAt(7, 0x181000)), true},
		{"fewer silent erases than said", say(EraseTries), three[:2], true},
		{"the silent erases of another block", say(EraseTries), []faults.Fired{silentAt(1, 0x182000), silentAt(3, 0x182000), silentAt(5, 0x182000)}, true},
	} {
		vs := verdicts{}
		checkEraseTriesReported(vs, &trial{roundErr: tc.err, roundFired: tc.fired})
		if !tc.failed {
			require.Empty(t, vs, tc.name)
			continue
		}
		require.Len(t, vs, 1, tc.name)
		require.False(t, vs[BoundedWear].OK, "%s: %+v", tc.name, vs)
	}
}
