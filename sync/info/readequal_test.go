package info

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// ReadEqual agrees with Read-then-compare on every record it is shown,
// with Read's flash operations, and never recomputes the payload's CRC.
func TestReadEqual(t *testing.T) {
	f := newNOR(t, 256<<10)
	r := formatted(t, f, 0, 256<<10)
	payload := bytes.Repeat([]byte("sel entry 16 B.."), 400)
	require.NoError(t, r.Write(EventLog, payload))
	off, _ := r.Extent(EventLog)
	orig := make([]byte, RecordHeaderSize+len(payload))
	_, err := f.ReadAt(orig, off)
	require.NoError(t, err)
	other := bytes.Clone(payload)
	other[len(other)-1] ^= 0x10
	h := RecordHeader{Type: EventLog, Seq: 9, PayloadLen: uint32(len(payload)), PayloadCRC: Checksum(payload)}
	flipped := func(i int) []byte { b := bytes.Clone(orig); b[i] ^= 0x04; return b }
	tests := []struct {
		name    string
		chip    []byte // the record's bytes on the chip
		want    []byte
		crc     uint32
		wantErr string
		corrupt bool
	}{
		{"equal", orig, payload, Checksum(payload), "", false},
		{"another payload", orig, other, Checksum(other), "differs from the", false},
		{"a shorter payload", orig, payload[:len(payload)-1], Checksum(payload[:len(payload)-1]), "differs from the", false},
		{"payload bit flipped", flipped(RecordHeaderSize + 100), payload, Checksum(payload), "differs from the", false},
		{"header bit flipped", flipped(3), payload, Checksum(payload), "record at", true},
		{"header crc of another payload", append(encodeRecordHeader(RecordHeader{Type: EventLog, Seq: 9, PayloadLen: h.PayloadLen, PayloadCRC: h.PayloadCRC + 1}), payload...), payload, Checksum(payload), "payload crc", true},
		{"erased", bytes.Repeat([]byte{0xFF}, RecordHeaderSize), payload, Checksum(payload), "no record (erased)", true},
	}
	for _, tc := range tests {
		f.Poke(off, tc.chip)
		rec, rerr := r.Read(EventLog)
		readSays := rerr == nil && bytes.Equal(rec.Payload, tc.want)
		before := stats(t, f)
		buf, err := r.ReadEqual(EventLog, tc.want, tc.crc, nil)
		if rerr == nil {
			require.Equal(t, stats(t, f).Sub(before).Reads, int64(2), tc.name)
		}
		require.Equal(t, readSays, err == nil, tc.name)
		if tc.wantErr == "" {
			require.NoError(t, err, tc.name)
			require.GreaterOrEqual(t, cap(buf), len(payload), tc.name)
			// The buffer is reused when it is large enough.
			again, err := r.ReadEqual(EventLog, tc.want, tc.crc, buf)
			require.NoError(t, err, tc.name)
			require.Equal(t, &buf[:1][0], &again[:1][0], tc.name)
			continue
		}
		require.ErrorContains(t, err, tc.wantErr, tc.name)
		if tc.corrupt {
			require.ErrorIs(t, err, ErrCorrupt, tc.name)
		}
		f.Poke(off, orig)
	}
}
