package store

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

// TestEraseAheadErrorNamesTheBlocksItErased: when an erase ahead fails,
// its error names the data blocks of the erase that failed — the first
// and the last, as the erase the flash saw covers them (one block or a
// whole window) — so that a user reading the log finds the block.
func TestEraseAheadErrorNamesTheBlocksItErased(t *testing.T) {
	for _, window := range []bool{true, false} {
		t.Run(fmt.Sprintf("window=%v", window), func(t *testing.T) {
			_, chip, _ := wrappedStore(t)
			sched, err := faults.ParseSchedule("(on (and backup erase) (fail media))")
			require.NoError(t, err)
			var erases []faults.Op
			opts := faults.Options{Disarmed: true, SplitPages: true, Trace: func(op faults.Op) {
				if op.Kind == faults.Erase {
					erases = append(erases, op)
				}
			}}
			if window {
				opts.BlockEraseSize = eraseWindow
			}
			in := faults.NewInjector(sched, opts)
			s := openTest(t, in.Wrap(chip, faults.Backup), Options{})
			in.Arm()
			erases = nil
			_, err = s.EraseAhead(1 << 20)
			require.Error(t, err)
			require.NotEmpty(t, erases)
			m := regexp.MustCompile(`erase ahead: data blocks (\d+)\.\.(\d+):`).FindStringSubmatch(err.Error())
			require.NotNil(t, m, err.Error())
			lo, _ := strconv.ParseInt(m[1], 10, 64)
			hi, _ := strconv.ParseInt(m[2], 10, 64)
			require.GreaterOrEqual(t, hi, lo, err.Error())
			// The failed erase is the last one the flash saw: the store's
			// erase itself, or (a device with 4 KiB erases under the MTD
			// layer) its first piece.
			last := erases[len(erases)-1]
			require.Equal(t, s.dataOff(uint32(lo)), last.Off, "first block named: %s", err)
			require.LessOrEqual(t, last.Off+last.Len, s.dataOff(uint32(hi))+s.eraseSize, "last block named: %s", err)
			if window {
				require.Equal(t, (hi-lo+1)*s.eraseSize, last.Len, "last block named: %s", err)
			}
		})
	}
}
