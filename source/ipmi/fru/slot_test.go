package fru

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFitSlot(t *testing.T) {
	server := must(Encode(inventecLike())) // 200 bytes, the last area ending at 198
	eeprom := append(bytes.Clone(server), bytes.Repeat([]byte{0xFF}, 2048-len(server))...)
	mixed := append(bytes.Clone(server), 0x00, 0xFF, 0x00)
	stray := append(bytes.Clone(server), 0x00, 0x55, 0xFF)
	internalLast := must(Encode(&Image{Board: fruToolBoard, InternalUse: append([]byte("cfg"), make([]byte, 1000)...)}))
	internalFull := must(Encode(&Image{InternalUse: bytes.Repeat([]byte{0x5A}, 300)}))
	for _, tc := range []struct {
		name     string
		in       []byte
		size     int
		wantUsed int
		wantErr  error
		errText  string
	}{
		{"image as encoded", server, 256, 198, nil, ""},
		{"EEPROM dump padded with 0xff", eeprom, 256, 198, nil, ""},
		{"0x00 and 0xff padding", mixed, 256, 198, nil, ""},
		{"fru-tool's 1024-byte image", readTestdata(t, "basic-board.bin"), 256, 112, nil, ""},
		{"internal use last, trailing padding cut", readTestdata(t, "basic-internal.bin"), 256, 8 + 1 + len("interal-data"), nil, ""},
		{"internal use before the board area", internalLast, 256, 0, ErrTooLarge, "its areas end at 0x"},
		{"internal use data over the slot", internalFull, 256, 0, ErrTooLarge, "its areas end at 0x135 (309 bytes), past the 256-byte slot"},
		{"areas past the slot", readTestdata(t, "basic-all.bin"), 256, 0, ErrTooLarge, "its areas end at 0x178 (376 bytes), past the 256-byte slot"},
		{"a larger slot", readTestdata(t, "basic-all.bin"), 512, 376, nil, ""},
		{"data after the last area", stray, 256, 0, ErrFormat,
			"byte 0x55 at 0xc9, after the last area (which ends at 0xc6), is not padding (0x00 or 0xff): fitting the image to a slot would lose it"},
		{"malformed image", server[:100], 256, 0, ErrFormat, "product info area offset 13×8 = 0x68 (byte 4) is past the image end 0x64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			slot, err := FitSlot(tc.in, tc.size)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.ErrorContains(t, err, tc.errText)
				require.Nil(t, slot)
				return
			}
			require.NoError(t, err)
			require.Len(t, slot, tc.size)
			require.Equal(t, tc.in[:tc.wantUsed], slot[:tc.wantUsed])
			require.Equal(t, make([]byte, tc.size-tc.wantUsed), slot[tc.wantUsed:], "zero-padded")
			want, err := Decode(tc.in)
			require.NoError(t, err)
			got, err := Decode(slot)
			require.NoError(t, err)
			if want.InternalUse != nil {
				require.Equal(t, trimPadding(want.InternalUse), trimPadding(got.InternalUse))
				want.InternalUse, got.InternalUse = nil, nil
			}
			require.Equal(t, want, got, "the slot holds the same FRU information")
		})
	}
}
