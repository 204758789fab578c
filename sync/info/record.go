package info

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/cmcsync/cmcsync/hal"
)

// ErrCorrupt is wrapped by every error about malformed contents on flash: a
// bad magic, version, length or checksum in a region header, a record or an
// image header. The message says what is wrong and where.
var ErrCorrupt = errors.New("corrupt information")

// ErrTooLarge is wrapped by Write when a payload exceeds its type's extent.
var ErrTooLarge = errors.New("payload too large for its extent")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C (Castagnoli) of b, the checksum every
// structure of this package uses.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Record header layout (RecordHeaderSize bytes, little-endian), at the start
// of a type's extent, followed by the payload:
//
//	0  uint32 magic RecordMagic ("IREC")
//	4  uint8  version (1)
//	5  uint8  type
//	6  uint16 header size (32)
//	8  uint64 sequence number (1 for the first record, +1 per change)
//	16 uint32 payload length
//	20 uint32 CRC-32C of the payload
//	24 uint32 reserved, 0
//	28 uint32 CRC-32C of bytes 0..27
const (
	RecordHeaderSize = 32
	RecordMagic      = 0x43455249 // "IREC" little-endian
	recordVersion    = 1
)

// Record is one information type's current contents, as a CMC service last
// wrote them.
type Record struct {
	Type    Type
	Seq     uint64 // bumped by every Write that changes the payload
	Payload []byte // owned by the caller
	CRC     uint32 // CRC-32C of Payload
}

// RecordHeader is a decoded record header.
type RecordHeader struct {
	Type       Type
	Seq        uint64
	PayloadLen uint32
	PayloadCRC uint32
}

// encodeRecordHeader returns the 32-byte header of h.
func encodeRecordHeader(h RecordHeader) []byte {
	b := make([]byte, RecordHeaderSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], RecordMagic)
	b[4] = recordVersion
	b[5] = byte(h.Type)
	le.PutUint16(b[6:], RecordHeaderSize)
	le.PutUint64(b[8:], h.Seq)
	le.PutUint32(b[16:], h.PayloadLen)
	le.PutUint32(b[20:], h.PayloadCRC)
	le.PutUint32(b[28:], Checksum(b[:28]))
	return b
}

// DecodeRecordHeader parses a record header from the first
// RecordHeaderSize bytes of b. Every error wraps ErrCorrupt and says which
// field is wrong; an erased header (all 0xFF) is reported as "no record".
func DecodeRecordHeader(b []byte) (RecordHeader, error) {
	if len(b) < RecordHeaderSize {
		return RecordHeader{}, fmt.Errorf("%w: record header is %d bytes, want %d", ErrCorrupt, len(b), RecordHeaderSize)
	}
	b = b[:RecordHeaderSize]
	le := binary.LittleEndian
	if hal.IsErased(b) {
		return RecordHeader{}, fmt.Errorf("%w: no record (erased)", ErrCorrupt)
	}
	if m := le.Uint32(b[0:]); m != RecordMagic {
		return RecordHeader{}, fmt.Errorf("%w: record magic %#08x, want %#08x", ErrCorrupt, m, uint32(RecordMagic))
	}
	if got, want := le.Uint32(b[28:]), Checksum(b[:28]); got != want {
		return RecordHeader{}, fmt.Errorf("%w: record header crc %#08x, computed %#08x", ErrCorrupt, got, want)
	}
	if b[4] != recordVersion {
		return RecordHeader{}, fmt.Errorf("%w: record version %d, want %d", ErrCorrupt, b[4], recordVersion)
	}
	if n := le.Uint16(b[6:]); n != RecordHeaderSize {
		return RecordHeader{}, fmt.Errorf("%w: record header size %d, want %d", ErrCorrupt, n, RecordHeaderSize)
	}
	if r := le.Uint32(b[24:]); r != 0 {
		return RecordHeader{}, fmt.Errorf("%w: record reserved field %#x, want 0", ErrCorrupt, r)
	}
	h := RecordHeader{Type: Type(b[5]), Seq: le.Uint64(b[8:]), PayloadLen: le.Uint32(b[16:]), PayloadCRC: le.Uint32(b[20:])}
	if !h.Type.Valid() {
		return RecordHeader{}, fmt.Errorf("%w: record type %d unknown", ErrCorrupt, b[5])
	}
	return h, nil
}
