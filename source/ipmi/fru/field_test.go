package fru

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFieldEncodings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		field    Field
		language byte
		data     []byte
	}{
		// fru-tool's test vector: "DELL" in 6-bit ASCII.
		{"6-bit ASCII DELL", Field{ASCII6, "DELL"}, 0, []byte("d\xc9\xb2")},
		{"6-bit ASCII five characters", Field{ASCII6, "IPMI1"}, 0, []byte{0x29, 0xdc, 0xa6, 0x11}},
		{"6-bit ASCII empty", Field{ASCII6, ""}, 0, []byte{}},
		{"BCD plus", Field{BCDPlus, "1996-01.01  "}, 0, []byte{0x19, 0x96, 0xb0, 0x1c, 0x01, 0xaa}},
		{"binary", Field{Binary, "\x00\x01\xfe\xff"}, 0, []byte{0x00, 0x01, 0xfe, 0xff}},
		{"English text", text("Acme Corp"), LanguageEnglishDefault, []byte("Acme Corp")},
		{"English (25) Latin-1", text("Café"), LanguageEnglish, []byte("Caf\xe9")},
		{"German is 2-byte Unicode", text("Grün"), 43, []byte{'G', 0, 'r', 0, 0xfc, 0, 'n', 0}},
		{"Japanese is 2-byte Unicode", text("日本"), 72, []byte{0xe5, 0x65, 0x2c, 0x67}},
		{"empty text", text(""), 0, []byte{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := encodeValue(tc.field, tc.language)
			require.NoError(t, err)
			if len(tc.data) == 0 {
				require.Empty(t, data)
			} else {
				require.Equal(t, tc.data, data)
			}
			v, err := decodeValue(tc.field.Encoding, data, tc.language)
			require.NoError(t, err)
			require.Equal(t, tc.field.Value, v)
		})
	}
}

func TestFieldCanonicalForms(t *testing.T) {
	// Seven 6-bit characters take 6 bytes, which hold 8: the eighth
	// decodes as a space (code 0).
	data, err := encodeValue(Field{ASCII6, "ABCDEFG"}, 0)
	require.NoError(t, err)
	require.Len(t, data, 6)
	v, err := decodeValue(ASCII6, data, 0)
	require.NoError(t, err)
	require.Equal(t, "ABCDEFG ", v)
	// An odd number of BCD plus characters is padded with a space.
	data, err = encodeValue(Field{BCDPlus, "123"}, 0)
	require.NoError(t, err)
	require.Equal(t, []byte{0x12, 0x3a}, data)

	require.Equal(t, Field{ASCII6, "A"}, TextField("A"))
	require.Equal(t, Field{Text, "a"}, TextField("a"))
	require.Equal(t, Field{Text, "AB"}, TextField("AB"))
	require.Equal(t, "00ff", Field{Binary, "\x00\xff"}.String())
	require.Equal(t, "x y", text("x y").String())
}

func TestFieldErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		field    Field
		language byte
		wantErr  string
	}{
		{"lower case in 6-bit", Field{ASCII6, "abc"}, 0, `'a' is not a 6-bit ASCII character`},
		{"letter in BCD plus", Field{BCDPlus, "12a"}, 0, `'a' is not a BCD plus character`},
		{"not Latin-1", text("€100"), 0, `'€' is not Latin-1`},
		{"one-byte text", text("x"), 0, "would read as the end-of-fields marker 0xc1"},
		{"64 bytes", text(string(make([]byte, 64))), 0, "64 bytes encoded, a field holds at most 63"},
		{"64 bytes of Unicode", text("12345678901234567890123456789012"), 7, "64 bytes encoded"},
		{"bad encoding", Field{Encoding: 4, Value: "x"}, 0, "encoding 4 is not a 2-bit type code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := encodeValue(tc.field, tc.language)
			require.ErrorIs(t, err, ErrValue)
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
	_, err := decodeValue(BCDPlus, []byte{0x1d}, 0)
	require.ErrorContains(t, err, "BCD plus digit 0xd in data byte 0 is reserved")
	_, err = decodeValue(Text, []byte{'a', 0, 'b'}, 7)
	require.ErrorContains(t, err, "3 bytes of 2-byte Unicode (language 7 is not English) is an odd length")
}
