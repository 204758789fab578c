package engine

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
)

// forgeRecordHeader returns a record header of type ty (layout of
// docs/FORMAT.md's information region) with a valid header CRC.
func forgeRecordHeader(ty info.Type, seq uint64, plen, pcrc uint32) []byte {
	b := make([]byte, info.RecordHeaderSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], info.RecordMagic)
	b[4] = 1
	b[5] = byte(ty)
	le.PutUint16(b[6:], info.RecordHeaderSize)
	le.PutUint64(b[8:], seq)
	le.PutUint32(b[16:], plen)
	le.PutUint32(b[20:], pcrc)
	le.PutUint32(b[28:], info.Checksum(b[:28]))
	return b
}

// TestRecordLengthBoundedByItsExtent: a record header (valid CRC) whose
// payload length runs past its extent is corrupt, even when the payload
// CRC it states matches the bytes there (the start of the next extent);
// a length that exactly fills the extent is read.
func TestRecordLengthBoundedByItsExtent(t *testing.T) {
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	region := p.region(t, p.chipA)
	const ty = info.Type(1)
	off, capacity := region.Extent(ty)
	chunk := p.chipA.Geometry().EraseSize
	room := capacity - info.RecordHeaderSize
	for _, tc := range []struct {
		plen int64
		want string // "" for a record that reads
	}{
		{room, ""},
		{room + 1, fmt.Sprintf("payload length %d exceeds the extent's %d", room+1, room)},
		{room + info.RecordHeaderSize, fmt.Sprintf("payload length %d exceeds the extent's %d", room+info.RecordHeaderSize, room)},
	} {
		t.Run(fmt.Sprint(tc.plen), func(t *testing.T) {
			payload := readRange(t, p.chipA, off+info.RecordHeaderSize, tc.plen)
			p.chipA.Poke(off, forgeRecordHeader(ty, 9, uint32(tc.plen), info.Checksum(payload)))
			hb := make([]byte, info.RecordHeaderSize)
			rec, checks, err := readRecordInto(region, p.chipA, ty, hb, 0, chunk)
			if tc.want == "" {
				require.NoError(t, err)
				require.Equal(t, payload, rec.Payload)
				require.Equal(t, uint64(9), rec.Seq)
				require.Len(t, checks, int((tc.plen+chunk-1)/chunk))
				putPayload(rec.Payload)
				return
			}
			require.ErrorIs(t, err, info.ErrCorrupt)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, rec.Payload)
		})
	}
}
