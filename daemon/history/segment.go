package history

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Segment format constants (see the package documentation).
const (
	// Magic opens every segment file.
	Magic = "cmchist1"
	// headerSize is the length and CRC before each payload.
	headerSize = 8
	// MaxRecord bounds a record's payload; a longer length field is
	// damage, not a record.
	MaxRecord = 64 << 10
)

// ErrNotSegment is wrapped by Decode's error when data does not begin with
// Magic.
var ErrNotSegment = errors.New("not a history segment")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeRecord returns payload framed as a record.
func encodeRecord(payload []byte) []byte {
	rec := make([]byte, headerSize+len(payload))
	binary.LittleEndian.PutUint32(rec, uint32(len(payload)))
	copy(rec[headerSize:], payload)
	binary.LittleEndian.PutUint32(rec[4:], recordCRC(rec[:4], payload))
	return rec
}

// recordCRC is the CRC-32C of a record's length bytes and payload.
func recordCRC(length, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(length, castagnoli), castagnoli, payload)
}

// Decode decodes a segment file's contents: the payloads of its whole,
// intact records, oldest first (each a slice of data), and good, the
// length of the prefix of data they and the magic fill. A record that is
// cut short, fails its CRC or has an impossible length ends the decoding:
// when good < len(data), data[good:] is a torn tail or damage, and tail
// says what it is. The error (wrapping ErrNotSegment) is only for data
// that does not begin with Magic.
func Decode(data []byte) (payloads [][]byte, good int64, tail string, err error) {
	if len(data) < len(Magic) || string(data[:len(Magic)]) != Magic {
		return nil, 0, "", fmt.Errorf("%w: it does not begin with %q", ErrNotSegment, Magic)
	}
	pos := len(Magic)
	for pos < len(data) {
		rest := data[pos:]
		if len(rest) < headerSize {
			return payloads, int64(pos), fmt.Sprintf("a record header cut short at byte %d", pos), nil
		}
		n := binary.LittleEndian.Uint32(rest)
		if n == 0 || n > MaxRecord {
			return payloads, int64(pos), fmt.Sprintf("an impossible record length %d at byte %d", n, pos), nil
		}
		if int64(len(rest)) < headerSize+int64(n) {
			return payloads, int64(pos), fmt.Sprintf("a record cut short at byte %d", pos), nil
		}
		payload := rest[headerSize : headerSize+int(n)]
		if recordCRC(rest[:4], payload) != binary.LittleEndian.Uint32(rest[4:]) {
			return payloads, int64(pos), fmt.Sprintf("a record failing its CRC at byte %d", pos), nil
		}
		payloads = append(payloads, payload)
		pos += headerSize + int(n)
	}
	return payloads, int64(pos), "", nil
}
