package fru

import (
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Encoding is the type code of a field's type/length byte (bits 7:6).
type Encoding uint8

// Field encodings (FRU specification, section 13).
const (
	// Binary: binary or unspecified data; Value holds the bytes as they are.
	Binary Encoding = 0
	// BCDPlus: two characters a byte, high nibble first, from
	// "0123456789 -." (nibbles 0xD–0xF are reserved).
	BCDPlus Encoding = 1
	// ASCII6: 6-bit ASCII (characters 0x20–0x5F) packed four to three
	// bytes, least significant bits first. A field of n bytes holds
	// n*8/6 characters, so a string may gain trailing spaces (code 0).
	ASCII6 Encoding = 2
	// Text: 8-bit ASCII + Latin-1 when the area's language is English;
	// 2-byte Unicode (UTF-16, LS byte first) otherwise. Value is UTF-8.
	Text Encoding = 3
)

func (e Encoding) String() string {
	switch e {
	case Binary:
		return "binary"
	case BCDPlus:
		return "BCD plus"
	case ASCII6:
		return "6-bit ASCII"
	}
	return "text"
}

// Language codes that mean English (FRU specification, section 15).
const (
	LanguageEnglishDefault = 0
	LanguageEnglish        = 25
)

const (
	endOfFields   = 0xC1 // type 11b, length 1: not a field, the end marker
	maxFieldBytes = 0x3F // the length bits of a type/length byte
	bcdPlusDigits = "0123456789 -."
)

// Field is one type/length-coded field of an info area: its encoding and
// its decoded value.
type Field struct {
	Encoding Encoding
	Value    string
}

// TextField returns s as a field of 8-bit text, or, for a one-character s
// that 6-bit ASCII holds, of 6-bit ASCII: a one-byte 8-bit text field would
// be the end-of-fields marker 0xC1.
func TextField(s string) Field {
	if len(s) == 1 && s[0] >= 0x20 && s[0] <= 0x5F {
		return Field{Encoding: ASCII6, Value: s}
	}
	return Field{Encoding: Text, Value: s}
}

// String returns the value, as hex digits for a binary field.
func (f Field) String() string {
	if f.Encoding == Binary {
		return hex.EncodeToString([]byte(f.Value))
	}
	return f.Value
}

func isEnglish(language byte) bool {
	return language == LanguageEnglishDefault || language == LanguageEnglish
}

// decodeValue decodes the data bytes of a field of encoding enc in an area
// of the given language.
func decodeValue(enc Encoding, data []byte, language byte) (string, error) {
	switch enc {
	case Binary:
		return string(data), nil
	case BCDPlus:
		out := make([]byte, 0, 2*len(data))
		for i, c := range data {
			for _, d := range [2]byte{c >> 4, c & 0x0F} {
				if int(d) >= len(bcdPlusDigits) {
					return "", fmt.Errorf("BCD plus digit 0x%x in data byte %d is reserved", d, i)
				}
				out = append(out, bcdPlusDigits[d])
			}
		}
		return string(out), nil
	case ASCII6:
		n := len(data) * 8 / 6
		out := make([]byte, n)
		for i := range out {
			bit := i * 6
			v := uint(data[bit/8]) >> (bit % 8)
			if bit%8 > 2 {
				v |= uint(data[bit/8+1]) << (8 - bit%8)
			}
			out[i] = byte(v&0x3F) + 0x20
		}
		return string(out), nil
	}
	if isEnglish(language) {
		runes := make([]rune, len(data))
		for i, c := range data {
			runes[i] = rune(c)
		}
		return string(runes), nil
	}
	if len(data)%2 != 0 {
		return "", fmt.Errorf("%d bytes of 2-byte Unicode (language %d is not English) is an odd length", len(data), language)
	}
	units := make([]uint16, len(data)/2)
	for i := range units {
		units[i] = uint16(data[2*i]) | uint16(data[2*i+1])<<8
	}
	return string(utf16.Decode(units)), nil
}

// encodeValue returns the data bytes of f in an area of the given language.
func encodeValue(f Field, language byte) ([]byte, error) {
	var out []byte
	switch f.Encoding {
	case Binary:
		out = []byte(f.Value)
	case BCDPlus:
		out = make([]byte, (len(f.Value)+1)/2)
		for i := 0; i < len(f.Value); i++ {
			d := strings.IndexByte(bcdPlusDigits, f.Value[i])
			if d < 0 {
				return nil, fmt.Errorf("%w: %q is not a BCD plus character (%q)", ErrValue, f.Value[i], bcdPlusDigits)
			}
			out[i/2] |= byte(d) << (4 * (1 - i%2))
		}
		if len(f.Value)%2 != 0 {
			out[len(out)-1] |= 0x0A // pad with a space
		}
	case ASCII6:
		out = make([]byte, (len(f.Value)*6+7)/8)
		for i := 0; i < len(f.Value); i++ {
			c := f.Value[i]
			if c < 0x20 || c > 0x5F {
				return nil, fmt.Errorf("%w: %q is not a 6-bit ASCII character (0x20–0x5f: no lower case)", ErrValue, c)
			}
			v, bit := uint(c-0x20), i*6
			out[bit/8] |= byte(v << (bit % 8))
			if bit%8 > 2 {
				out[bit/8+1] |= byte(v >> (8 - bit%8))
			}
		}
	case Text:
		var err error
		if out, err = encodeText(f.Value, language); err != nil {
			return nil, err
		}
		if len(out) == 1 {
			return nil, fmt.Errorf("%w: a one-byte 8-bit text field would read as the end-of-fields marker 0xc1: use two or more characters, or 6-bit ASCII (TextField picks it)", ErrValue)
		}
	default:
		return nil, fmt.Errorf("%w: encoding %d is not a 2-bit type code", ErrValue, f.Encoding)
	}
	if len(out) > maxFieldBytes {
		return nil, fmt.Errorf("%w: %d bytes encoded, a field holds at most %d", ErrValue, len(out), maxFieldBytes)
	}
	return out, nil
}

// encodeText encodes s as Latin-1 (English) or UTF-16LE (any other
// language).
func encodeText(s string, language byte) ([]byte, error) {
	var out []byte
	if isEnglish(language) {
		for _, r := range s {
			if r > 0xFF {
				return nil, fmt.Errorf("%w: %q is not Latin-1 (the area's language is English)", ErrValue, r)
			}
			out = append(out, byte(r))
		}
		return out, nil
	}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out, nil
}
