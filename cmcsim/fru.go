package cmcsim

// fruInfo holds the fields of one IPMI FRU image (board and product areas).
type fruInfo struct {
	MfgMinutes  uint32 // manufacturing date, minutes since 1996-01-01 00:00 UTC (24 bits)
	BoardMfr    string
	BoardName   string
	BoardSerial string
	BoardPart   string
	ProdMfr     string
	ProdName    string
	ProdModel   string
	ProdVersion string
	ProdSerial  string
	AssetTag    string
}

// maxFRUField is the longest string a FRU field holds here, so that a whole
// image always fits its 256-byte slot.
const maxFRUField = 16

// encodeFRU writes an IPMI Platform Management FRU image into b (info.FRUSize
// bytes): common header, board info area, product info area, each with its
// zero checksum; the rest of b is zero.
func encodeFRU(b []byte, fi fruInfo) {
	clear(b)
	board := fruArea([]byte{0x01, 0, 0x00, byte(fi.MfgMinutes), byte(fi.MfgMinutes >> 8), byte(fi.MfgMinutes >> 16)},
		fi.BoardMfr, fi.BoardName, fi.BoardSerial, fi.BoardPart, "")
	prod := fruArea([]byte{0x01, 0, 0x00},
		fi.ProdMfr, fi.ProdName, fi.ProdModel, fi.ProdVersion, fi.ProdSerial, fi.AssetTag, "")
	hdr := []byte{0x01, 0, 0, 1, byte(1 + len(board)/8), 0, 0, 0}
	hdr[7] = zeroSum(hdr[:7])
	n := copy(b, hdr)
	n += copy(b[n:], board)
	copy(b[n:], prod)
}

// fruArea encodes an info area: the given prefix (format version, length
// placeholder at [1], language, ...), type/length-coded ASCII fields, the end
// marker 0xC1, zero padding to a multiple of 8 and the checksum.
func fruArea(prefix []byte, fields ...string) []byte {
	a := append([]byte(nil), prefix...)
	for _, f := range fields {
		if len(f) > maxFRUField {
			f = f[:maxFRUField]
		}
		a = append(a, 0xC0|byte(len(f)))
		a = append(a, f...)
	}
	a = append(a, 0xC1)
	for (len(a)+1)%8 != 0 {
		a = append(a, 0)
	}
	a[1] = byte((len(a) + 1) / 8)
	return append(a, zeroSum(a))
}

// zeroSum returns the byte that makes the sum of b and it zero modulo 256.
func zeroSum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return -s
}
