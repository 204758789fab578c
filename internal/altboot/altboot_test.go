package altboot

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestArmWritesTheUBootSequence(t *testing.T) {
	for _, tc := range []struct {
		name      string
		timeout   time.Duration
		status    uint32
		want      []Write
		alternate bool
	}{
		{"30 s from the primary flash", 30 * time.Second, 0, []Write{{0x64, 0}, {0x68, 300}, {0x6C, 0x4755}, {0x64, 1}}, false},
		{"0.1 s from the alternate flash", 100 * time.Millisecond, 1 << 4, []Write{{0x64, 0}, {0x68, 1}, {0x6C, 0x4755}, {0x64, 1}}, true},
		{"the longest", 819100 * time.Millisecond, 0, []Write{{0x64, 0}, {0x68, 8191}, {0x6C, 0x4755}, {0x64, 1}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &Fake{Values: map[uint32]uint32{RegWDT2Ctrl: tc.status}}
			alt, err := Arm(f, tc.timeout)
			require.NoError(t, err)
			require.Equal(t, tc.want, f.Writes)
			require.Equal(t, tc.alternate, alt)
			require.Equal(t, uint32(CtrlEnable), f.Values[RegWDT2Ctrl], "armed last")
		})
	}
}

func TestArmRejectsTimeouts(t *testing.T) {
	for _, d := range []time.Duration{0, 50 * time.Millisecond, 150 * time.Millisecond, 820 * time.Second, -time.Second} {
		f := &Fake{}
		_, err := Arm(f, d)
		require.ErrorIs(t, err, ErrTimeout, "%v", d)
		require.Empty(t, f.Writes, "%v: nothing written", d)
	}
}

func TestArmReportsAFailedWrite(t *testing.T) {
	f := &Fake{FailAt: 2}
	_, err := Arm(f, DefaultTimeout)
	require.ErrorContains(t, err, "write FMC068=0x12c")
	require.Equal(t, []Write{{0x64, 0}}, f.Writes, "stops at the failure: the watchdog stays disabled")
}
