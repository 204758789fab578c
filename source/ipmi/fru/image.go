package fru

import (
	"fmt"
	"slices"
)

// HeaderSize is the size of the common header.
const HeaderSize = 8

// Common header: format version, five area offsets in multiples of 8 bytes
// (0: area absent), pad, checksum.
const (
	headerFormat   = 0x01
	internalFormat = 0x01
	maxAreaOffset  = 0xFF * areaUnit
)

// Area indexes, in common header order (header byte 1+index).
const (
	areaInternal = iota
	areaChassis
	areaBoard
	areaProduct
	areaMulti
	numAreas
)

var areaNames = [numAreas]string{"internal use", "chassis info", "board info", "product info", "multirecord"}

// Image is a decoded FRU image. A nil area is absent.
type Image struct {
	// InternalUse holds the internal use area after its format version
	// byte, up to the next area (or the end of the image): its length
	// includes any padding, which Decode cannot tell from data.
	InternalUse  []byte
	Chassis      *Chassis
	Board        *Board
	Product      *Product
	MultiRecords []MultiRecord
}

// extent is the byte range of one area.
type extent struct {
	area       int
	start, end int
}

// Decode parses and checks a FRU image: the common header (format version
// 1, checksum, offsets inside the image), each area present (format
// version, length, checksum, every type/length field inside the area, the
// predefined fields before the end-of-fields marker; multirecord headers
// and data checksums up to the end-of-list record), and that no two areas
// overlap. Bytes after the last area are ignored. Every error wraps
// [ErrFormat] ([ErrChecksum] for checksums) and names the area, the field
// and the byte offset.
func Decode(b []byte) (*Image, error) {
	img, _, err := decode(b)
	return img, err
}

func decode(b []byte) (*Image, []extent, error) {
	if len(b) < HeaderSize {
		return nil, nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte common header", ErrFormat, len(b), HeaderSize)
	}
	if blank, c := uniform(b); blank {
		return nil, nil, fmt.Errorf("%w: no FRU data: all %d bytes are 0x%02x (an erased or unprogrammed device)", ErrFormat, len(b), c)
	}
	if v := b[0]; v != headerFormat {
		return nil, nil, fmt.Errorf("%w: common header: format version 0x%02x (byte 0), want 0x%02x", ErrFormat, v, headerFormat)
	}
	if s := sum(b[:HeaderSize]); s != 0 {
		return nil, nil, fmt.Errorf("%w: common header: checksum 0x%02x (byte 7), want 0x%02x", ErrChecksum, b[7], b[7]-s)
	}
	var starts [numAreas]int
	for i := range starts {
		starts[i] = int(b[1+i]) * areaUnit
		if starts[i] != 0 && starts[i] >= len(b) {
			return nil, nil, fmt.Errorf("%w: common header: %s area offset %d×8 = 0x%x (byte %d) is past the image end 0x%x",
				ErrFormat, areaNames[i], b[1+i], starts[i], 1+i, len(b))
		}
	}
	img := &Image{}
	var exts []extent
	var err error
	add := func(area, end int) { exts = append(exts, extent{area: area, start: starts[area], end: end}) }
	if off := starts[areaChassis]; off != 0 {
		var end int
		if img.Chassis, end, err = decodeChassis(b, off); err != nil {
			return nil, nil, err
		}
		add(areaChassis, end)
	}
	if off := starts[areaBoard]; off != 0 {
		var end int
		if img.Board, end, err = decodeBoard(b, off); err != nil {
			return nil, nil, err
		}
		add(areaBoard, end)
	}
	if off := starts[areaProduct]; off != 0 {
		var end int
		if img.Product, end, err = decodeProduct(b, off); err != nil {
			return nil, nil, err
		}
		add(areaProduct, end)
	}
	if off := starts[areaMulti]; off != 0 {
		var end int
		if img.MultiRecords, end, err = decodeMultiRecords(b, off); err != nil {
			return nil, nil, err
		}
		add(areaMulti, end)
	}
	if off := starts[areaInternal]; off != 0 {
		if v := b[off]; v != internalFormat {
			return nil, nil, fmt.Errorf("%w: internal use area at 0x%x: format version 0x%02x (byte 0x%x), want 0x%02x",
				ErrFormat, off, v, off, internalFormat)
		}
		end := len(b)
		for i, s := range starts {
			if i != areaInternal && s > off && s < end {
				end = s
			}
		}
		img.InternalUse = append([]byte{}, b[off+1:end]...)
		add(areaInternal, end)
	}
	slices.SortFunc(exts, func(x, y extent) int { return x.start - y.start })
	for i := 1; i < len(exts); i++ {
		if prev, next := exts[i-1], exts[i]; prev.end > next.start {
			return nil, nil, fmt.Errorf("%w: %s area [0x%x, 0x%x) overlaps the %s area at 0x%x",
				ErrFormat, areaNames[prev.area], prev.start, prev.end, areaNames[next.area], next.start)
		}
	}
	return img, exts, nil
}

// uniform reports whether every byte of b is 0x00 or every byte 0xFF, and
// which.
func uniform(b []byte) (bool, byte) {
	c := b[0]
	if c != 0x00 && c != 0xFF {
		return false, c
	}
	for _, x := range b {
		if x != c {
			return false, c
		}
	}
	return true, c
}

// Encode returns the FRU image of img: the common header, then the areas
// present in header order (internal use, chassis, board, product,
// multirecord), each a multiple of 8 bytes, info areas zero-padded after
// their end-of-fields marker; the multirecord area's last record is flagged
// end of list. Values the format cannot hold are errors wrapping
// [ErrValue]. Encode(Decode(b)) returns b for an image laid out this way.
func Encode(img *Image) ([]byte, error) {
	var areas [numAreas][]byte
	var err error
	if img.InternalUse != nil {
		areas[areaInternal] = padTo8(append([]byte{internalFormat}, img.InternalUse...))
	}
	if img.Chassis != nil {
		if areas[areaChassis], err = encodeChassis(img.Chassis); err != nil {
			return nil, err
		}
	}
	if img.Board != nil {
		if areas[areaBoard], err = encodeBoard(img.Board); err != nil {
			return nil, err
		}
	}
	if img.Product != nil {
		if areas[areaProduct], err = encodeProduct(img.Product); err != nil {
			return nil, err
		}
	}
	if len(img.MultiRecords) > 0 {
		mr, err := encodeMultiRecords(img.MultiRecords)
		if err != nil {
			return nil, err
		}
		areas[areaMulti] = padTo8(mr)
	}
	out := make([]byte, HeaderSize, HeaderSize+256)
	out[0] = headerFormat
	for i, a := range areas {
		if a == nil {
			continue
		}
		if len(out) > maxAreaOffset {
			return nil, fmt.Errorf("%w: %s area would start at 0x%x, past the last offset the common header can hold (0x%x)",
				ErrValue, areaNames[i], len(out), maxAreaOffset)
		}
		out[1+i] = byte(len(out) / areaUnit)
		out = append(out, a...)
	}
	out[7] = zeroSum(out[:7])
	return out, nil
}

func padTo8(b []byte) []byte {
	for len(b)%areaUnit != 0 {
		b = append(b, 0)
	}
	return b
}
