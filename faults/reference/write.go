package reference

import "encoding/binary"

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
