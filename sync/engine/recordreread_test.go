package engine

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
)

// rewritingFlash is a primary on which a CMC service rewrites one
// record's header while the engine reads it: the re-reads of the header
// at off (every second read of it, the check after the payload) whose
// number is in bumped see the sequence number one higher (a valid
// header).
type rewritingFlash struct {
	hal.Flash
	off    int64
	reads  int // reads of the header so far
	bumped func(reread int) bool
}

func (f *rewritingFlash) ReadAt(b []byte, off int64) (int, error) {
	n, err := f.Flash.ReadAt(b, off)
	if err != nil || off != f.off || len(b) != info.RecordHeaderSize {
		return n, err
	}
	f.reads++
	if f.reads%2 == 0 && f.bumped(f.reads/2) {
		h, derr := info.DecodeRecordHeader(b)
		if derr == nil {
			copy(b, forgeRecordHeader(h.Type, h.Seq+1, h.PayloadLen, h.PayloadCRC))
		}
	}
	return n, err
}

// TestRecordRereadUntilStable: readRecord re-reads the header after the
// payload; a header that changed meanwhile makes it read the record
// again, at most three times, then the round gets "keeps changing".
func TestRecordRereadUntilStable(t *testing.T) {
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	e := p.open(t)
	region := p.region(t, p.chipA)
	const ty = info.Fan
	off, _ := region.Extent(ty)
	want, err := region.Read(ty)
	require.NoError(t, err)
	chunk := p.chipA.Geometry().EraseSize
	phase := (off + info.RecordHeaderSize) % chunk
	for _, tc := range []struct {
		name   string
		bumped func(int) bool
		reads  int // header reads
		err    string
	}{
		{"stable", func(int) bool { return false }, 2, ""},
		{"changed once", func(i int) bool { return i == 1 }, 4, ""},
		{"changed twice", func(i int) bool { return i <= 2 }, 6, ""},
		{"keeps changing", func(int) bool { return true }, 6, "fan record keeps changing while read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &rewritingFlash{Flash: p.chipA, off: off, bumped: tc.bumped}
			rec, checks, err := e.readRecord(region, f, ty, phase, chunk)
			require.Equal(t, tc.reads, f.reads)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				require.Nil(t, rec.Payload)
				require.Nil(t, checks)
				return
			}
			require.NoError(t, err)
			require.Equal(t, want.Payload, rec.Payload)
			require.Equal(t, want.Seq, rec.Seq)
			require.NotEmpty(t, checks)
			putPayload(rec.Payload)
		})
	}
}
