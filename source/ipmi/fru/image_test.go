package fru

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The areas fru-tool's basic-*.toml files describe.
var (
	fruToolChassis = &Chassis{Type: 0x17, PartNumber: text("chassis-part"), SerialNumber: text("chassis-serial"),
		Custom: []Field{text("chassis-extra1"), text("chassis-extra2"), text("chassis-extra3"), text("chassis-extra4")}}
	fruToolBoard = &Board{MfgTime: time.Date(2017, 7, 10, 16, 30, 0, 0, time.UTC),
		Manufacturer: text("board-manufacturer"), ProductName: text("board-product"), SerialNumber: text("board-serial"),
		PartNumber: text("board-part"), FRUFileID: text("board-fileid"), Custom: []Field{text("board-extra1"), text("board-extra2")}}
	fruToolProduct = &Product{Manufacturer: text("product-manufacturer"), Name: text("product-product"),
		PartNumber: text("product-part"), Version: text("product-version"), SerialNumber: text("product-serial"),
		AssetTag: text("product-asset"), FRUFileID: text("product-fileid"),
		Custom: []Field{text("product-extra1"), text("product-extra2"), text("product-extra3")}}
)

// TestDecodeFruToolImages decodes the images of an independent FRU writer
// (testdata/README.md) and re-encodes each to the same bytes.
func TestDecodeFruToolImages(t *testing.T) {
	internal := append([]byte("interal-data"), 0, 0) // sic: fru-tool's fixture
	for _, tc := range []struct {
		file string
		want *Image
		used int // bytes up to the end of the last area
	}{
		{"basic-all.bin", &Image{InternalUse: []byte("data123"), Chassis: fruToolChassis, Board: fruToolBoard, Product: fruToolProduct}, 376},
		{"basic-chassis.bin", &Image{Chassis: fruToolChassis}, 104},
		{"basic-board.bin", &Image{Board: fruToolBoard}, 112},
		{"basic-product.bin", &Image{Product: fruToolProduct}, 168},
		{"basic-empty.bin", &Image{}, 8},
		// The internal use area is last: it runs to the end of the image.
		{"basic-internal.bin", &Image{InternalUse: append(internal, make([]byte, 1024-8-1-len(internal))...)}, 1024},
		// Language 0xd5 (no language the specification lists) with empty
		// binary fields, chosen so that the board area's checksum byte is 0.
		{"checksum-zero.bin", &Image{Board: &Board{Language: 0xd5, MfgTime: fruToolBoard.MfgTime}}, 24},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := readTestdata(t, tc.file)
			img, err := Decode(b)
			require.NoError(t, err)
			if tc.file == "checksum-zero.bin" {
				for _, f := range []Field{img.Board.Manufacturer, img.Board.ProductName, img.Board.SerialNumber, img.Board.PartNumber, img.Board.FRUFileID} {
					require.Equal(t, Field{Encoding: Binary}, f)
				}
				require.Equal(t, byte(0), b[8+15], "the board area checksum")
				img.Board.Manufacturer, img.Board.ProductName, img.Board.SerialNumber, img.Board.PartNumber, img.Board.FRUFileID =
					Field{}, Field{}, Field{}, Field{}, Field{}
			}
			require.Equal(t, tc.want, img)

			enc, err := Encode(img)
			require.NoError(t, err)
			if tc.file == "checksum-zero.bin" {
				return // fru-tool wrote the empty fields as binary (0x00); Encode writes what Decode returned
			}
			require.Equal(t, b[:tc.used], enc, "re-encodes to the same bytes")
			require.True(t, bytes.Equal(b[tc.used:], make([]byte, len(b)-tc.used)), "zeros after the last area")
		})
	}
}

// inventecLike is a server board FRU as real ones are laid out: fields
// space-padded to fixed widths, an empty FRU file ID, language English
// (25), a multirecord area with a power supply record and an OEM record.
func inventecLike() *Image {
	pad := func(s string, n int) Field { return text(s + string(bytes.Repeat([]byte{' '}, n-len(s)))) }
	return &Image{
		Chassis: &Chassis{Type: 0x17, PartNumber: pad("WC3319015001", 12), SerialNumber: pad("CLDZ30CG003", 11)},
		Board: &Board{Language: LanguageEnglish, MfgTime: time.Date(2019, 4, 1, 8, 15, 0, 0, time.UTC),
			Manufacturer: pad("Inventec", 12), ProductName: pad("ARBOK", 16), SerialNumber: text("AC1CPP2554"),
			PartNumber: text("1395T3244102"), FRUFileID: Field{Encoding: Text}},
		Product: &Product{Language: LanguageEnglish, Manufacturer: pad("Inventec", 12), Name: text("RM761-IV"),
			PartNumber: Field{BCDPlus, "1395-3244.10"}, Version: Field{ASCII6, "REV1"}, SerialNumber: text("SLYW31CE013"),
			AssetTag: Field{Encoding: Text}, FRUFileID: Field{Encoding: Text}, Custom: []Field{{Binary, "\x01\x02"}}},
		MultiRecords: []MultiRecord{
			{Type: 0x00, Data: []byte{0x26, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
			{Type: 0xC0, Data: []byte{0x57, 0x01, 0x00, 0xAA}},
		},
	}
}

func TestEncodeDecode(t *testing.T) {
	for _, tc := range []struct {
		name string
		img  *Image
	}{
		{"server board", inventecLike()},
		{"internal use and chassis", &Image{InternalUse: []byte("cfg-0001"), Chassis: &Chassis{Type: 1}}},
		{"non-English product", &Image{Product: &Product{Language: 43, Manufacturer: text("Müller GmbH"), Name: text("Gehäuse")}}},
		{"multirecords only", &Image{MultiRecords: []MultiRecord{{Type: 0x01, Data: []byte{}}}}},
		{"no areas", &Image{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(tc.img)
			require.NoError(t, err)
			require.Zero(t, len(b)%8, "whole 8-byte units")
			img, err := Decode(b)
			require.NoError(t, err)
			again, err := Encode(img)
			require.NoError(t, err)
			require.Equal(t, b, again, "Encode(Decode(Encode(img))) == Encode(img)")
		})
	}
	// Decode gives back the values.
	img, err := Decode(must(Encode(inventecLike())))
	require.NoError(t, err)
	require.Equal(t, inventecLike(), img)
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestEncodeErrors(t *testing.T) {
	long := text(string(bytes.Repeat([]byte("x"), 63)))
	for _, tc := range []struct {
		name    string
		img     *Image
		wantErr string
	}{
		{"field not encodable", &Image{Board: &Board{SerialNumber: Field{ASCII6, "sn-1"}}},
			"board info area: serial number field: value not encodable as FRU data: 's' is not a 6-bit ASCII character"},
		{"custom field", &Image{Chassis: &Chassis{Custom: []Field{text("ok"), text("€")}}},
			"chassis info area: custom field 2: value not encodable"},
		{"date before 1996", &Image{Board: &Board{MfgTime: time.Date(1995, 12, 31, 0, 0, 0, 0, time.UTC)}},
			"manufacturing time 1995-12-31 00:00:00 is outside 1996-01-01 00:01 … 2027-11-24 20:15:00 UTC"},
		{"date after 24-bit minutes", &Image{Board: &Board{MfgTime: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}},
			"manufacturing time 2030-01-01 00:00:00 is outside"},
		{"area over 2040 bytes", &Image{Product: &Product{Custom: []Field{long, long, long, long, long, long, long, long, long, long,
			long, long, long, long, long, long, long, long, long, long, long, long, long, long, long, long, long, long, long, long, long, long}}},
			"product info area is 2064 bytes, more than 255×8"},
		{"multirecord over 255 bytes", &Image{MultiRecords: []MultiRecord{{Type: 0xC0, Data: make([]byte, 256)}}},
			"multirecord 0 (type 0xc0): 256 data bytes, at most 255"},
		{"area past the last offset", &Image{InternalUse: make([]byte, 2100), Chassis: &Chassis{}},
			"chassis info area would start at 0x840, past the last offset the common header can hold (0x7f8)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Encode(tc.img)
			require.ErrorIs(t, err, ErrValue)
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	good := must(Encode(inventecLike()))
	// Areas in good: chassis [0x08, 0x28), board [0x28, 0x68), product
	// [0x68, 0xa0), multirecord [0xa0, 0xc6) and padding to 0xc8.
	require.Equal(t, []byte{0x01, 0x00, 0x01, 0x05, 0x0d, 0x14}, good[:6])
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	set := func(off int, v byte, fix bool) []byte {
		return mutate(func(b []byte) []byte {
			b[off] = v
			if fix {
				fixChecksums(b)
			}
			return b
		})
	}
	multi := int(good[5]) * 8
	for _, tc := range []struct {
		name     string
		in       []byte
		checksum bool
		wantErr  string
	}{
		{"short", good[:7], false, "7 bytes, shorter than the 8-byte common header"},
		{"erased", bytes.Repeat([]byte{0xFF}, 256), false, "no FRU data: all 256 bytes are 0xff"},
		{"blank", make([]byte, 256), false, "no FRU data: all 256 bytes are 0x00"},
		{"header version", set(0, 0x02, true), false, "common header: format version 0x02 (byte 0), want 0x01"},
		{"header checksum", set(7, good[7]+1, false), true, fmt.Sprintf("common header: checksum 0x%02x (byte 7), want 0x%02x", good[7]+1, good[7])},
		{"offset past the end", set(4, 0x40, true), false, "common header: product info area offset 64×8 = 0x200 (byte 4) is past the image end"},
		{"area version", set(0x28, 0x11, true), false, "board info area at 0x28: format version 0x11 (byte 0x28), want 0x01"},
		{"area length 0", set(0x29, 0, false), false, "board info area at 0x28: length 0 (byte 0x29)"},
		{"area too long", set(0x29, 0xF0, false), false, "board info area at 0x28: length 240×8 = 1920 bytes (byte 0x29) runs past the image end"},
		{"area checksum", set(0x0a, good[0x0a]^0x20, false), true, "chassis info area at 0x8: checksum"},
		{"field past the area", set(0x0b, 0xDF, true), false,
			"chassis info area at 0x8: part number field at 0xb (type/length 0xdf): 31 data bytes run past the checksum byte at 0x27"},
		{"end marker too early", set(0x2e, endOfFields, true), false,
			"board info area at 0x28: end-of-fields marker at 0x2e in place of the manufacturer field (the area has 5 predefined fields)"},
		{"no end marker", mutate(func(b []byte) []byte {
			i := bytes.LastIndexByte(b[0x08:0x28], endOfFields) + 0x08
			b[i] = 0x00
			fixChecksums(b)
			return b
		}), false, "chassis info area at 0x8: no end-of-fields marker (0xc1) before the checksum byte at 0x27"},
		{"reserved BCD plus digit", mutate(func(b []byte) []byte {
			i := bytes.Index(b, []byte{0x13, 0x95}) // "1395" of the product part number
			b[i] = 0x1F
			fixChecksums(b)
			return b
		}), false, "product info area at 0x68: part/model number field at 0x81 (type/length 0x46): BCD plus digit 0xf in data byte 0 is reserved"},
		{"overlapping areas", set(0x29, 9, true), false, "board info area [0x28, 0x70) overlaps the product info area at 0x68"},
		{"internal use version", mutate(func(b []byte) []byte {
			b = append(b, 0x02, 1, 2, 3, 4, 5, 6, 7)
			b[1] = byte((len(b) - 8) / 8)
			fixChecksums(b)
			return b
		}), false, "internal use area at 0xc8: format version 0x02 (byte 0xc8), want 0x01"},
		{"multirecord header checksum", set(multi+4, good[multi+4]+1, false), true, "multirecord area at 0xa0: record 0 header checksum 0x0f (byte 0xa4), want 0x0e"},
		{"multirecord version", mutate(func(b []byte) []byte {
			b[multi+1] = 0x03
			b[multi+4] = zeroSum(b[multi : multi+4])
			return b
		}), false, "multirecord area at 0xa0: record 0 format version 3 (byte 0xa1, bits 3:0), want 2"},
		{"multirecord data checksum", set(multi+5, 0x27, false), true, "multirecord area at 0xa0: record 0 data checksum 0xd8 (byte 0xa3), want 0xd7"},
		{"multirecord without end of list", mutate(func(b []byte) []byte {
			second := multi + 5 + int(b[multi+2])
			b[second+1] &^= multiEndOfList
			b[second+4] = zeroSum(b[second : second+4])
			return b
		}), false, "record 2 header at 0xc6 runs past the image end 0xc8 (no end-of-list record before it)"},
		{"multirecord data past the end", mutate(func(b []byte) []byte {
			second := multi + 5 + int(b[multi+2])
			b[second+2] = 0xF0
			b[second+4] = zeroSum(b[second : second+4])
			return b
		}), false, "record 1: 240 data bytes (length byte 0xbf) run past the image end 0xc8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Decode(tc.in)
			require.Nil(t, img)
			require.ErrorIs(t, err, ErrFormat)
			if tc.checksum {
				require.ErrorIs(t, err, ErrChecksum)
			} else {
				require.NotErrorIs(t, err, ErrChecksum)
			}
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}
