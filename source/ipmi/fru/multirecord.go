package fru

import "fmt"

// MultiRecord is one record of the multirecord area (FRU specification,
// section 16), kept as its type and data: 0x00 power supply, 0x01 DC
// output, 0x02 DC load, 0x03 management access, 0x04 base compatibility,
// 0x05 extended compatibility, 0xC0–0xFF OEM.
type MultiRecord struct {
	Type byte
	Data []byte // at most 255 bytes
}

// Multirecord header: type ID, end-of-list flag (bit 7) and format version
// (bits 3:0), data length, data checksum, header checksum.
const (
	multiHeaderSize = 5
	multiFormat     = 0x02
	multiEndOfList  = 0x80
	maxMultiData    = 0xFF
)

// decodeMultiRecords reads the records of the multirecord area at off up to
// and including the one flagged end of list, and returns them and the
// area's end.
func decodeMultiRecords(img []byte, off int) ([]MultiRecord, int, error) {
	var recs []MultiRecord
	for pos := off; ; {
		i := len(recs)
		if pos+multiHeaderSize > len(img) {
			return nil, 0, fmt.Errorf("%w: multirecord area at 0x%x: record %d header at 0x%x runs past the image end 0x%x (no end-of-list record before it)",
				ErrFormat, off, i, pos, len(img))
		}
		h := img[pos : pos+multiHeaderSize]
		if s := sum(h); s != 0 {
			return nil, 0, fmt.Errorf("%w: multirecord area at 0x%x: record %d header checksum 0x%02x (byte 0x%x), want 0x%02x",
				ErrChecksum, off, i, h[4], pos+4, h[4]-s)
		}
		if v := h[1] & 0x0F; v != multiFormat {
			return nil, 0, fmt.Errorf("%w: multirecord area at 0x%x: record %d format version %d (byte 0x%x, bits 3:0), want %d",
				ErrFormat, off, i, v, pos+1, multiFormat)
		}
		n := int(h[2])
		data := pos + multiHeaderSize
		if data+n > len(img) {
			return nil, 0, fmt.Errorf("%w: multirecord area at 0x%x: record %d: %d data bytes (length byte 0x%x) run past the image end 0x%x",
				ErrFormat, off, i, n, pos+2, len(img))
		}
		if s := sum(img[data:data+n]) + h[3]; s != 0 {
			return nil, 0, fmt.Errorf("%w: multirecord area at 0x%x: record %d data checksum 0x%02x (byte 0x%x), want 0x%02x",
				ErrChecksum, off, i, h[3], pos+3, h[3]-s)
		}
		recs = append(recs, MultiRecord{Type: h[0], Data: append([]byte{}, img[data:data+n]...)})
		pos = data + n
		if h[1]&multiEndOfList != 0 {
			return recs, pos, nil
		}
	}
}

// encodeMultiRecords returns the multirecord area holding recs, the last
// flagged end of list.
func encodeMultiRecords(recs []MultiRecord) ([]byte, error) {
	var a []byte
	for i, r := range recs {
		if len(r.Data) > maxMultiData {
			return nil, fmt.Errorf("%w: multirecord %d (type 0x%02x): %d data bytes, at most %d", ErrValue, i, r.Type, len(r.Data), maxMultiData)
		}
		flags := byte(multiFormat)
		if i == len(recs)-1 {
			flags |= multiEndOfList
		}
		h := []byte{r.Type, flags, byte(len(r.Data)), zeroSum(r.Data), 0}
		h[4] = zeroSum(h[:4])
		a = append(append(a, h...), r.Data...)
	}
	return a, nil
}
