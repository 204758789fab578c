package fwimage

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var jan2026 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestReadUImage(t *testing.T) {
	for _, tc := range []struct {
		file string
		want UImage
		text string
	}{
		{"uimage-kernel.bin", UImage{HeaderCRC: 0xaa88b10d, Time: jan2026, DataSize: 33, Load: 0x80008000, Entry: 0x80008000,
			DataCRC: 0x8d7cd51b, OS: 5, Arch: 2, Type: 2, Compression: 0, Name: "Linux-5.15.0-cmc"},
			`"Linux-5.15.0-cmc": linux arm kernel (none), 33 data bytes, load 0x80008000 entry 0x80008000, created 2026-01-01T00:00:00Z`},
		{"uimage-uboot.bin", UImage{Time: jan2026, DataSize: 30, DataCRC: 0xb01bef40, OS: 17, Arch: 2, Type: 5, Name: "U-Boot 2019.04 for ast2600"},
			`"U-Boot 2019.04 for ast2600": u-boot arm firmware (none), 30 data bytes, load 0x00000000 entry 0x00000000, created 2026-01-01T00:00:00Z`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := readTestdata(t, tc.file)
			// On a partition: the image, then erased flash.
			part := append(bytes.Clone(b), bytes.Repeat([]byte{0xFF}, 4096)...)
			u, err := ReadUImage(bytes.NewReader(part), int64(len(part)))
			require.NoError(t, err)
			if tc.want.HeaderCRC == 0 {
				tc.want.HeaderCRC = u.HeaderCRC
			}
			require.Equal(t, tc.want, u)
			require.Equal(t, int64(len(b)), u.Size())
			require.Equal(t, tc.text, u.String())
		})
	}
}

func TestReadUImageErrors(t *testing.T) {
	good := readTestdata(t, "uimage-kernel.bin")
	flip := func(off int) []byte { b := bytes.Clone(good); b[off] ^= 0x01; return b }
	for _, tc := range []struct {
		name    string
		in      []byte
		size    int64 // 0: len(in)
		wantErr error
		text    string
	}{
		{"name byte flipped", flip(40), 0, ErrChecksum,
			"U-Boot image header CRC 0xaa88b10d (offset 4), computed 0x"},
		{"header CRC flipped", flip(7), 0, ErrChecksum, "U-Boot image header CRC 0xaa88b10c (offset 4)"},
		{"data byte flipped", flip(70), 0, ErrChecksum,
			"U-Boot image data CRC 0x8d7cd51b (offset 24), computed 0x"},
		{"truncated data", good[:90], 0, ErrFormat,
			"U-Boot image data size 33 (offset 12) ends at 0x61, past the 90 bytes available (truncated image?)"},
		{"partition smaller than the header", good, 60, ErrFormat, "U-Boot image header: 60 bytes available, want 64"},
		{"other magic", flip(0), 0, ErrNotImage, "magic 0x26051956 at offset 0, want 0x27051956"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size := tc.size
			if size == 0 {
				size = int64(len(tc.in))
			}
			_, err := ReadUImage(bytes.NewReader(tc.in), size)
			require.ErrorIs(t, err, tc.wantErr)
			require.ErrorContains(t, err, tc.text)
			if tc.wantErr == ErrChecksum {
				require.ErrorIs(t, err, ErrFormat, "a checksum mismatch is malformed input")
			}
		})
	}
	_, err := ParseUImageHeader(good[:63])
	require.ErrorIs(t, err, ErrFormat)
	require.ErrorContains(t, err, "63 bytes, want 64")
}

func TestUImageCodeNames(t *testing.T) {
	require.Equal(t, "x86_64", archName(24))
	require.Equal(t, "riscv", archName(26))
	require.Equal(t, "unknown-200", archName(200))
	require.Equal(t, "u-boot", osName(17))
	require.Equal(t, "flat_dt", typeName(8))
	require.Equal(t, "zstd", compName(6))
}
