package campaign

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
)

// TestSuperblockVerified: a round that returned no error after a weak
// program of a superblock copy that reads invalid after the round (the
// writer did not read it back and program it again) fails atomic; a
// round error, a copy that reads valid, a weak program elsewhere or of
// the other copy, a copy the harness flipped, or a "copies differ"
// finding leave the verdicts alone.
func TestSuperblockVerified(t *testing.T) {
	const storeOff, e = 0x100000, 0x1000
	weak := func(off int64) faults.Fired {
		return faults.Fired{Op: faults.Op{Index: 9, Role: faults.Backup, Kind: faults.Program, Off: off, Len: 256}, Action: faults.Weak{}}
	}
	invalid := func(off int64) reference.Finding {
		return reference.Finding{Kind: reference.SuperblockDamaged, Area: -1, Off: off, Detail: "copy 1 is not valid (crc mismatch); copy 0 used"}
	}
	view := func(fs ...reference.Finding) *storeView {
		return &storeView{backup: &reference.Backup{StoreOff: storeOff, Superblock: reference.Superblock{EraseSize: e}, Findings: fs}}
	}
	flipped := damage{chip: 1, off: storeOff + e + 8, n: 1, at: -1, because: "flipped or scribbled"}
	for _, tc := range []struct {
		name   string
		t      trial
		pre    *storeView
		failed bool
	}{
		{"weak copy 1 left invalid", trial{roundFired: []faults.Fired{weak(storeOff + e)}}, view(invalid(storeOff + e)), true},
		{"weak copy 0 left invalid", trial{roundFired: []faults.Fired{weak(storeOff)}}, view(invalid(storeOff)), true},
		{"round error", trial{roundErr: errors.New("upgrade failed"), roundFired: []faults.Fired{weak(storeOff + e)}}, view(invalid(storeOff + e)), false},
		{"weak copy rewritten, valid", trial{roundFired: []faults.Fired{weak(storeOff + e)}}, view(), false},
		{"the other copy invalid", trial{roundFired: []faults.Fired{weak(storeOff)}}, view(invalid(storeOff + e)), false},
		{"weak journal program", trial{roundFired: []faults.Fired{weak(storeOff + 2*e)}}, view(invalid(storeOff + e)), false},
		{"primary's program", trial{roundFired: []faults.Fired{{Op: faults.Op{Role: faults.Primary, Kind: faults.Program, Off: storeOff + e, Len: 256}, Action: faults.Weak{}}}}, view(invalid(storeOff + e)), false},
		{"copy flipped by the harness", trial{roundFired: []faults.Fired{weak(storeOff + e)}, damage: []damage{flipped}}, view(invalid(storeOff + e)), false},
		{"copies differ", trial{roundFired: []faults.Fired{weak(storeOff + e)}}, view(reference.Finding{Kind: reference.SuperblockDamaged, Area: -1, Off: storeOff + e, Detail: "the two valid copies differ; copy 0 used"}), false},
		{"no view", trial{roundFired: []faults.Fired{weak(storeOff + e)}}, &storeView{err: errors.New("no store")}, false},
	} {
		vs := verdicts{}
		checkSuperblockVerified(vs, &tc.t, tc.pre)
		if !tc.failed {
			require.Empty(t, vs, tc.name)
			continue
		}
		require.Len(t, vs, 1, tc.name)
		require.False(t, vs[Atomic].OK, "%s: %+v", tc.name, vs)
	}
}
