package fru

import (
	"fmt"
	"time"
)

// Chassis is the chassis info area: no language code (English).
type Chassis struct {
	Type         byte // SMBIOS chassis type, e.g. 0x17 rack mount chassis
	PartNumber   Field
	SerialNumber Field
	Custom       []Field
}

// Board is the board info area.
type Board struct {
	Language byte
	// MfgTime is the manufacturing date and time, whole minutes since
	// 1996-01-01 00:00 UTC; the zero Time means unspecified.
	MfgTime      time.Time
	Manufacturer Field
	ProductName  Field
	SerialNumber Field
	PartNumber   Field
	FRUFileID    Field
	Custom       []Field
}

// Product is the product info area.
type Product struct {
	Language     byte
	Manufacturer Field
	Name         Field
	PartNumber   Field // part/model number
	Version      Field
	SerialNumber Field
	AssetTag     Field
	FRUFileID    Field
	Custom       []Field
}

// mfgEpoch is the zero of the board area's manufacturing date.
var mfgEpoch = time.Date(1996, 1, 1, 0, 0, 0, 0, time.UTC)

const maxMfgMinutes = 1<<24 - 1

// Predefined fields of each info area, in order.
var (
	chassisFields = []string{"part number", "serial number"}
	boardFields   = []string{"manufacturer", "product name", "serial number", "part number", "FRU file ID"}
	productFields = []string{"manufacturer", "product name", "part/model number", "version", "serial number", "asset tag", "FRU file ID"}
)

// Info area layout: format version, length in multiples of 8, the area's
// own bytes, fields, end marker, padding, checksum.
const (
	areaFormat      = 0x01
	areaPrefixBytes = 2
	areaUnit        = 8
	maxAreaUnits    = 0xFF
)

// openInfoArea checks the info area at off of img (format version, length,
// checksum) and returns its bytes.
func openInfoArea(img []byte, name string, off int) ([]byte, error) {
	if off+areaPrefixBytes > len(img) {
		return nil, fmt.Errorf("%w: %s area at 0x%x: its 2-byte header runs past the image end 0x%x", ErrFormat, name, off, len(img))
	}
	if v := img[off]; v != areaFormat {
		return nil, fmt.Errorf("%w: %s area at 0x%x: format version 0x%02x (byte 0x%x), want 0x%02x", ErrFormat, name, off, v, off, areaFormat)
	}
	n := int(img[off+1]) * areaUnit
	if n == 0 {
		return nil, fmt.Errorf("%w: %s area at 0x%x: length 0 (byte 0x%x)", ErrFormat, name, off, off+1)
	}
	if off+n > len(img) {
		return nil, fmt.Errorf("%w: %s area at 0x%x: length %d×8 = %d bytes (byte 0x%x) runs past the image end 0x%x",
			ErrFormat, name, off, n/areaUnit, n, off+1, len(img))
	}
	area := img[off : off+n] // at least 8 bytes: room for every area's own bytes, the end marker and the checksum
	if s := sum(area); s != 0 {
		return nil, fmt.Errorf("%w: %s area at 0x%x: checksum 0x%02x (byte 0x%x), want 0x%02x",
			ErrChecksum, name, off, area[n-1], off+n-1, area[n-1]-s)
	}
	return area, nil
}

// readFields decodes the fields of area (at image offset off) from pos:
// the predefined fields named, then custom fields up to the end-of-fields
// marker, which must come before the checksum byte.
func readFields(area []byte, name string, off, pos int, names []string, language byte) (fixed, custom []Field, err error) {
	last := len(area) - 1 // the checksum byte
	for i := 0; ; i++ {
		if pos >= last {
			return nil, nil, fmt.Errorf("%w: %s area at 0x%x: no end-of-fields marker (0xc1) before the checksum byte at 0x%x",
				ErrFormat, name, off, off+last)
		}
		tl := area[pos]
		if tl == endOfFields {
			if i < len(names) {
				return nil, nil, fmt.Errorf("%w: %s area at 0x%x: end-of-fields marker at 0x%x in place of the %s field (the area has %d predefined fields)",
					ErrFormat, name, off, off+pos, names[i], len(names))
			}
			return fixed, custom, nil
		}
		fieldName := fmt.Sprintf("custom field %d", i-len(names)+1)
		if i < len(names) {
			fieldName = names[i] + " field"
		}
		enc, n := Encoding(tl>>6), int(tl&maxFieldBytes)
		if pos+1+n > last {
			return nil, nil, fmt.Errorf("%w: %s area at 0x%x: %s at 0x%x (type/length 0x%02x): %d data bytes run past the checksum byte at 0x%x",
				ErrFormat, name, off, fieldName, off+pos, tl, n, off+last)
		}
		v, err := decodeValue(enc, area[pos+1:pos+1+n], language)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s area at 0x%x: %s at 0x%x (type/length 0x%02x): %v",
				ErrFormat, name, off, fieldName, off+pos, tl, err)
		}
		if i < len(names) {
			fixed = append(fixed, Field{Encoding: enc, Value: v})
		} else {
			custom = append(custom, Field{Encoding: enc, Value: v})
		}
		pos += 1 + n
	}
}

func decodeChassis(img []byte, off int) (*Chassis, int, error) {
	area, err := openInfoArea(img, "chassis info", off)
	if err != nil {
		return nil, 0, err
	}
	f, custom, err := readFields(area, "chassis info", off, 3, chassisFields, LanguageEnglishDefault)
	if err != nil {
		return nil, 0, err
	}
	return &Chassis{Type: area[2], PartNumber: f[0], SerialNumber: f[1], Custom: custom}, off + len(area), nil
}

func decodeBoard(img []byte, off int) (*Board, int, error) {
	area, err := openInfoArea(img, "board info", off)
	if err != nil {
		return nil, 0, err
	}
	b := &Board{Language: area[2]}
	if m := int(area[3]) | int(area[4])<<8 | int(area[5])<<16; m != 0 {
		b.MfgTime = mfgEpoch.Add(time.Duration(m) * time.Minute)
	}
	f, custom, err := readFields(area, "board info", off, 6, boardFields, b.Language)
	if err != nil {
		return nil, 0, err
	}
	b.Manufacturer, b.ProductName, b.SerialNumber, b.PartNumber, b.FRUFileID, b.Custom = f[0], f[1], f[2], f[3], f[4], custom
	return b, off + len(area), nil
}

func decodeProduct(img []byte, off int) (*Product, int, error) {
	area, err := openInfoArea(img, "product info", off)
	if err != nil {
		return nil, 0, err
	}
	p := &Product{Language: area[2]}
	f, custom, err := readFields(area, "product info", off, 3, productFields, p.Language)
	if err != nil {
		return nil, 0, err
	}
	p.Manufacturer, p.Name, p.PartNumber, p.Version, p.SerialNumber, p.AssetTag, p.FRUFileID, p.Custom =
		f[0], f[1], f[2], f[3], f[4], f[5], f[6], custom
	return p, off + len(area), nil
}

// encodeInfoArea returns an info area: format version, length, the area's
// own bytes (after the length), the fields, the end marker, zero padding to
// a multiple of 8 bytes and the checksum.
func encodeInfoArea(name string, own []byte, language byte, names []string, fields []Field) ([]byte, error) {
	a := append([]byte{areaFormat, 0}, own...)
	for i, f := range fields {
		data, err := encodeValue(f, language)
		if err != nil {
			fieldName := fmt.Sprintf("custom field %d", i-len(names)+1)
			if i < len(names) {
				fieldName = names[i] + " field"
			}
			return nil, fmt.Errorf("%s area: %s: %w", name, fieldName, err)
		}
		a = append(a, byte(f.Encoding)<<6|byte(len(data)))
		a = append(a, data...)
	}
	a = append(a, endOfFields)
	for (len(a)+1)%areaUnit != 0 {
		a = append(a, 0)
	}
	units := (len(a) + 1) / areaUnit
	if units > maxAreaUnits {
		return nil, fmt.Errorf("%w: %s area is %d bytes, more than %d×8", ErrValue, name, len(a)+1, maxAreaUnits)
	}
	a[1] = byte(units)
	return append(a, zeroSum(a)), nil
}

func encodeChassis(c *Chassis) ([]byte, error) {
	return encodeInfoArea("chassis info", []byte{c.Type}, LanguageEnglishDefault, chassisFields,
		append([]Field{c.PartNumber, c.SerialNumber}, c.Custom...))
}

func encodeBoard(b *Board) ([]byte, error) {
	m := 0
	if !b.MfgTime.IsZero() {
		d := b.MfgTime.Sub(mfgEpoch)
		m = int(d / time.Minute)
		if d < time.Minute || m > maxMfgMinutes {
			return nil, fmt.Errorf("%w: board info area: manufacturing time %s is outside 1996-01-01 00:01 … %s UTC (24-bit minutes)",
				ErrValue, b.MfgTime.UTC().Format(time.DateTime), mfgEpoch.Add(maxMfgMinutes*time.Minute).Format(time.DateTime))
		}
	}
	return encodeInfoArea("board info", []byte{b.Language, byte(m), byte(m >> 8), byte(m >> 16)}, b.Language, boardFields,
		append([]Field{b.Manufacturer, b.ProductName, b.SerialNumber, b.PartNumber, b.FRUFileID}, b.Custom...))
}

func encodeProduct(p *Product) ([]byte, error) {
	return encodeInfoArea("product info", []byte{p.Language}, p.Language, productFields,
		append([]Field{p.Manufacturer, p.Name, p.PartNumber, p.Version, p.SerialNumber, p.AssetTag, p.FRUFileID}, p.Custom...))
}

// sum returns the sum of b modulo 256.
func sum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

// zeroSum returns the byte that makes the sum of b and it zero modulo 256.
func zeroSum(b []byte) byte { return -sum(b) }
