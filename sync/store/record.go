// Journal records: kinds, framing, parsing.

package store

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

// Journal record framing, at a slot boundary (docs/FORMAT.md, Record
// framing): a header of recordHeader bytes (magic, kind, body length,
// sequence number, header CRC), the body, the record CRC, then 0xFF up to
// the next slot boundary (left erased).
const (
	recordMagic    uint32 = 0x314A4D43 // "CMJ1" little-endian
	recordHeader          = 24
	recordOverhead        = recordHeader + 4
)

// Record kinds.
const (
	kindSuperblock   uint8 = 0x01
	kindCkptBegin    uint8 = 0x02
	kindCkptChunks   uint8 = 0x03
	kindCkptEnd      uint8 = 0x04
	kindFormatIntent uint8 = 0x05 // format version 2
	kindIntent       uint8 = 0x10
	kindIntentChunk  uint8 = 0x11
	kindCommit       uint8 = 0x12
	kindPurged       uint8 = 0x13
	kindStaged       uint8 = 0x14
	kindRole         uint8 = 0x15
	kindConfigCommit uint8 = 0x16 // format version 2
)

func kindName(k uint8) string {
	switch k {
	case kindSuperblock:
		return "superblock"
	case kindCkptBegin:
		return "checkpoint-begin"
	case kindCkptChunks:
		return "checkpoint-chunks"
	case kindCkptEnd:
		return "checkpoint-end"
	case kindFormatIntent:
		return "format-intent"
	case kindIntent:
		return "intent"
	case kindIntentChunk:
		return "intent-chunks"
	case kindCommit:
		return "commit"
	case kindPurged:
		return "purged"
	case kindStaged:
		return "config-staged"
	case kindRole:
		return "role"
	case kindConfigCommit:
		return "config-commit"
	case kindCkptDeltas:
		return "checkpoint-deltas"
	case kindIntentDeltas:
		return "intent-deltas"
	case kindIntentDeltas5:
		return "intent-deltas-5"
	case kindIntentRuns:
		return "intent-runs"
	}
	return fmt.Sprintf("kind(%#x)", k)
}

// ErrCorrupt marks malformed store contents: a bad magic, CRC, length or
// field. Errors wrapping it name what is damaged.
var ErrCorrupt = errors.New("corrupt store")

// record is one decoded journal record.
type record struct {
	kind uint8
	seq  uint64
	body []byte
	size int64 // bytes occupied on flash, padded to the slot size
	off  int64 // chip offset (set by scanners)
	// reserved: header bytes 5..7 are not zero. The record is valid (its
	// CRCs hold) but malformed: the replay rejects it.
	reserved bool
}

// encodeRecord frames body as a record of the given kind and sequence
// number, padded with 0xFF to a multiple of slot.
func encodeRecord(kind uint8, seq uint64, body []byte, slot int64) []byte {
	n := int64(recordOverhead + len(body))
	padded := (n + slot - 1) / slot * slot
	b := make([]byte, recordHeader, padded)
	le.PutUint32(b[0:], recordMagic)
	b[4] = kind
	le.PutUint32(b[8:], uint32(len(body)))
	le.PutUint64(b[12:], seq)
	le.PutUint32(b[20:], crc(b[:20]))
	b = append(b, body...)
	b = le.AppendUint32(b, crc(b))
	for int64(len(b)) < padded {
		b = append(b, 0xFF)
	}
	return b
}

// recordSize returns the padded on-flash size of a record with an n-byte body.
func recordSize(n int, slot int64) int64 {
	return (int64(recordOverhead+n) + slot - 1) / slot * slot
}

// parse results.
const (
	parseOK = iota
	parseErased
	parseBad
)

// parseRecord decodes the record at the start of b (b runs to the end of
// the erase block, so a record never crosses a block). trust skips the CRC
// checks (the no-crc-check mutant). It never panics.
func parseRecord(b []byte, slot int64, trust bool) (record, int) {
	if len(b) < recordHeader {
		return record{}, parseBad
	}
	if hal.IsErased(b[:recordHeader]) {
		return record{}, parseErased
	}
	if le.Uint32(b[0:]) != recordMagic {
		return record{}, parseBad
	}
	if !trust && le.Uint32(b[20:]) != crc(b[:20]) {
		return record{}, parseBad
	}
	n := int64(le.Uint32(b[8:]))
	if n > int64(len(b))-recordOverhead {
		return record{}, parseBad
	}
	end := recordHeader + n
	if !trust && le.Uint32(b[end:]) != crc(b[:end]) {
		return record{}, parseBad
	}
	size := (end + 4 + slot - 1) / slot * slot
	if size > int64(len(b)) {
		size = int64(len(b))
	}
	return record{kind: b[4], seq: le.Uint64(b[12:]), body: b[recordHeader:end], size: size, reserved: b[5]|b[6]|b[7] != 0}, parseOK
}
