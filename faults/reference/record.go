package reference

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Record framing (docs/FORMAT.md, 4.2).
const (
	recordMagic  = 0x314A4D43 // "CMJ1"
	headerSize   = 24
	trailerSize  = 4
	headerCRCEnd = 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc32c(p []byte) uint32 { return crc32.Checksum(p, castagnoli) }

// Kind is a record kind (docs/FORMAT.md, 4.3).
type Kind uint8

// Record kinds.
const (
	KindSuperblock       Kind = 0x01
	KindCheckpointBegin  Kind = 0x02
	KindCheckpointChunks Kind = 0x03
	KindCheckpointEnd    Kind = 0x04
	KindFormatIntent     Kind = 0x05 // format version 2
	KindIntent           Kind = 0x10
	KindIntentChunks     Kind = 0x11
	KindCommit           Kind = 0x12
	KindPurged           Kind = 0x13
	KindConfigStaged     Kind = 0x14
	KindRole             Kind = 0x15
	KindConfigCommit     Kind = 0x16 // format version 2
	KindCheckpointDeltas Kind = 0x06 // format version 3
	KindIntentDeltas     Kind = 0x17 // format version 3
	KindIntentDeltas5    Kind = 0x18 // format version 5: compact entries
	KindIntentRuns       Kind = 0x19 // format version 5
)

var kindNames = map[Kind]string{
	KindSuperblock:       "superblock",
	KindCheckpointBegin:  "checkpoint-begin",
	KindCheckpointChunks: "checkpoint-chunks",
	KindCheckpointEnd:    "checkpoint-end",
	KindFormatIntent:     "format-intent",
	KindIntent:           "intent",
	KindIntentChunks:     "intent-chunks",
	KindCommit:           "commit",
	KindPurged:           "purged",
	KindConfigStaged:     "config-staged",
	KindRole:             "role",
	KindConfigCommit:     "config-commit",
	KindCheckpointDeltas: "checkpoint-deltas",
	KindIntentDeltas:     "intent-deltas",
	KindIntentDeltas5:    "intent-deltas-5",
	KindIntentRuns:       "intent-runs",
}

// String returns the kind's name in docs/FORMAT.md, 4.3.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%#02x)", uint8(k))
}

// slotState is what a slot holds.
type slotState uint8

const (
	slotErased  slotState = iota + 1 // its first 24 bytes are all 0xFF
	slotValid                        // a valid record starts there
	slotInvalid                      // anything else
)

// frame is one valid record as it lies in an erase block.
type frame struct {
	kind Kind
	seq  uint64
	body []byte
	// reserved: bytes 5..7 of the header are not zero (the document says
	// 0, but leaves them out of validity).
	reserved bool
	// length is the record's length without padding: 24 + n + 4.
	length int
}

// parseSlot looks at the slot at offset at of block (one erase block's
// bytes): erased, a valid record, or invalid (why says why). A record is
// valid when the magic, both CRCs and 24+n+4 <= bytes left in the erase
// block hold.
func parseSlot(block []byte, at int) (st slotState, fr frame, why string) {
	left := len(block) - at
	if left < headerSize {
		return slotInvalid, fr, "no room for a header before the end of the block"
	}
	h := block[at : at+headerSize]
	if allErased(h) {
		return slotErased, fr, ""
	}
	if binary.LittleEndian.Uint32(h[0:4]) != recordMagic {
		return slotInvalid, fr, "bad magic"
	}
	if crc32c(h[:headerCRCEnd]) != binary.LittleEndian.Uint32(h[20:24]) {
		return slotInvalid, fr, "bad header crc"
	}
	n := int64(binary.LittleEndian.Uint32(h[8:12]))
	if headerSize+n+trailerSize > int64(left) {
		return slotInvalid, fr, fmt.Sprintf("body length %d does not fit in the erase block", n)
	}
	end := at + headerSize + int(n)
	if crc32c(block[at:end]) != binary.LittleEndian.Uint32(block[end:end+trailerSize]) {
		return slotInvalid, fr, "bad record crc"
	}
	fr = frame{
		kind:     Kind(h[4]),
		seq:      binary.LittleEndian.Uint64(h[12:20]),
		body:     block[at+headerSize : end],
		reserved: h[5] != 0 || h[6] != 0 || h[7] != 0,
		length:   headerSize + int(n) + trailerSize,
	}
	return slotValid, fr, ""
}

func allErased(p []byte) bool {
	for _, c := range p {
		if c != 0xFF {
			return false
		}
	}
	return true
}

// roundUp returns n rounded up to a multiple of m (m > 0).
func roundUp(n, m int) int { return (n + m - 1) / m * m }
