package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRecordDamagedNamesTheLaterRecord: a record in the middle of a
// journal block that is erased or fails its CRC, with a valid record
// after it in the same block, is reported as RecordDamaged at its own
// offset and sequence number, the detail naming the later valid record
// by kind, sequence number and offset.
func TestRecordDamagedNamesTheLaterRecord(t *testing.T) {
	for _, erase := range []bool{true, false} {
		f, s := newStore(t)
		e := f.Geometry().EraseSize
		for gen := uint64(1); gen <= 3; gen++ {
			runRound(t, s, gen, payloads{1: randomBytes(gen, 3000), 2: randomBytes(gen+1000, 500)})
		}
		rep, err := Inspect(f, testStoreOff, testStoreSize, false)
		require.NoError(t, err)
		log := rep.Journal.Log
		// A record with one before it and one after it in its block.
		k := -1
		for i := 1; i+1 < len(log) && k < 0; i++ {
			if log[i-1].Off/e == log[i].Off/e && log[i+1].Off/e == log[i].Off/e && log[i].Kind == "commit" {
				k = i
			}
		}
		require.Positive(t, k, "no record between two others in a block: %v", log)
		bad, later := log[k], log[k+1]
		what := "an erased slot"
		if erase {
			blankInBlock(t, f, e, bad.Off, bad.Size)
		} else {
			what = "an invalid record"
			flipBit(f, bad.Off+8) // the header's length: its CRC fails
		}
		got := findingsOf(t, f, RecordDamaged)
		require.Len(t, got, 1)
		require.Equal(t, bad.Off, got[0].Off, what)
		require.Equal(t, bad.Seq, got[0].Seq, what)
		require.Equal(t, fmt.Sprintf("%s where seq %d was expected, followed by a valid %s record of seq %d at %#x in the same block; later records ignored",
			what, bad.Seq, later.Kind, later.Seq, later.Off), got[0].Detail)
	}
}
