package reference

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Writing records: the package reads stores; it writes only what a harness
// needs to put a wrong state on flash on purpose (the oracle's self-test).

// frameBytes returns a whole record: header, body, record CRC.
func frameBytes(kind Kind, seq uint64, body []byte) []byte {
	h := binary.LittleEndian.AppendUint32(nil, recordMagic)
	h = append(h, byte(kind), 0, 0, 0)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(body)))
	h = binary.LittleEndian.AppendUint64(h, seq)
	h = binary.LittleEndian.AppendUint32(h, crc32c(h))
	r := append(h, body...)
	return binary.LittleEndian.AppendUint32(r, crc32c(r))
}

// RoleRecord returns the bytes of a role record (docs/FORMAT.md, 4.2 and
// 4.3) with sequence number seq, unpadded: programmed at a slot boundary
// after a journal's last record, with seq the next sequence number, it
// makes role the store's role.
func RoleRecord(seq uint64, role Role) []byte {
	pending := uint8(0)
	if role.RestorePending {
		pending = 1
	}
	body := binary.LittleEndian.AppendUint64(nil, role.Epoch)
	body = append(body, role.Active, pending)
	return frameBytes(KindRole, seq, body)
}

// SuperblockAsVersion returns the superblock record at the start of
// block (a superblock copy's erase block, docs/FORMAT.md, 4.4) framed
// again with format version v, unpadded: the superblock an older writer
// of the same layout would have written (versions 2 to 4 share the
// version 5 layout, "4.11 Format versions"). The harness programs it in place
// of the copy to make an older store.
func SuperblockAsVersion(block []byte, v uint32) ([]byte, error) {
	st, fr, why := parseSlot(block, 0)
	switch {
	case st != slotValid:
		return nil, fmt.Errorf("no valid record at the block's start: %s", why)
	case fr.kind != KindSuperblock || fr.seq != 0:
		return nil, fmt.Errorf("record kind %s sequence %d, want a superblock", fr.kind, fr.seq)
	case v < 2 || v > maxFormatVersion:
		return nil, fmt.Errorf("format version %d does not share the layout of versions 2 to %d", v, maxFormatVersion)
	}
	body := slices.Clone(fr.body)
	binary.LittleEndian.PutUint32(body, v)
	return frameBytes(KindSuperblock, 0, body), nil
}
