package info

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestImageRoundTrip(t *testing.T) {
	built := time.Date(2026, 3, 4, 5, 6, 7, 890, time.UTC)
	for _, size := range []int64{0, 1, 63, 64 << 10, 64<<10 + 1, 300000} {
		f := newNOR(t, 1<<20)
		require.NoError(t, WriteImage(f, ImageHeader{Version: "2.10.1", Size: size, CRC: 0xdead, Built: built}, 42))
		h, err := ReadImageHeader(f)
		require.NoError(t, err, size)
		require.Equal(t, "2.10.1", h.Version)
		require.Equal(t, size, h.Size)
		require.Equal(t, built.Truncate(time.Second), h.Built)
		body := make([]byte, size)
		_, err = f.ReadAt(body, ImageHeaderSize)
		require.NoError(t, err)
		require.Equal(t, Checksum(body), h.CRC, "WriteImage computes the CRC")
		require.NoError(t, VerifyImage(f), size)
	}
}

func TestImageDeterministicBySeed(t *testing.T) {
	crc := func(seed uint64) uint32 {
		f := newNOR(t, 1<<20)
		require.NoError(t, WriteImage(f, ImageHeader{Version: "1", Size: 200000}, seed))
		h, err := ReadImageHeader(f)
		require.NoError(t, err)
		return h.CRC
	}
	require.Equal(t, crc(1), crc(1))
	require.NotEqual(t, crc(1), crc(2))
}

func TestImageCorruption(t *testing.T) {
	f := newNOR(t, 1<<20)
	_, err := ReadImageHeader(f)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "no firmware image (erased)")
	require.ErrorIs(t, VerifyImage(f), ErrCorrupt)

	require.NoError(t, WriteImage(f, ImageHeader{Version: "v1", Size: 100000}, 3))
	orig := make([]byte, ImageHeaderSize+100000)
	_, err = f.ReadAt(orig, 0)
	require.NoError(t, err)
	// Every header bit.
	for i := 0; i < ImageHeaderSize; i++ {
		for bit := 0; bit < 8; bit++ {
			bad := bytes.Clone(orig[:ImageHeaderSize])
			bad[i] ^= 1 << bit
			f.Poke(0, bad)
			_, err := ReadImageHeader(f)
			require.ErrorIs(t, err, ErrCorrupt, "byte %d bit %d", i, bit)
			require.ErrorIs(t, VerifyImage(f), ErrCorrupt)
		}
	}
	f.Poke(0, orig[:ImageHeaderSize])
	// Body bytes: the header still reads, the full check fails.
	for _, i := range []int{0, 1, 65535, 65536, 99999} {
		f.Poke(int64(ImageHeaderSize+i), []byte{orig[ImageHeaderSize+i] ^ 0x10})
		_, err := ReadImageHeader(f)
		require.NoError(t, err)
		err = VerifyImage(f)
		require.ErrorIs(t, err, ErrCorrupt, i)
		require.ErrorContains(t, err, "body crc")
		f.Poke(int64(ImageHeaderSize+i), orig[ImageHeaderSize+i:ImageHeaderSize+i+1])
	}
	require.NoError(t, VerifyImage(f))
	// A body size that cannot fit the chip.
	h, err := DecodeImageHeader(orig)
	require.NoError(t, err)
	h.Size = 2 << 20
	f.Poke(0, h.Encode())
	_, err = ReadImageHeader(f)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "does not fit the device")
}

func TestDecodeImageHeaderFields(t *testing.T) {
	good := ImageHeader{Version: "3.0.0-rc1", Size: 4096, CRC: 7, Built: time.Unix(1700000000, 0).UTC()}.Encode()
	h, err := DecodeImageHeader(good)
	require.NoError(t, err)
	require.Equal(t, ImageHeader{Version: "3.0.0-rc1", Size: 4096, CRC: 7, Built: time.Unix(1700000000, 0).UTC()}, h)
	le := binary.LittleEndian
	tests := []struct {
		name string
		edit func(b []byte)
		want string
	}{
		{"magic", func(b []byte) { b[3] = 'x' }, "image magic"},
		{"version", func(b []byte) { le.PutUint16(b[8:], 9) }, "image header version 9"},
		{"header size", func(b []byte) { le.PutUint16(b[10:], 128) }, "image header size 128"},
		{"reserved 12", func(b []byte) { b[12] = 1 }, "reserved"},
		{"reserved 28", func(b []byte) { b[31] = 1 }, "reserved"},
		{"size", func(b []byte) { le.PutUint64(b[16:], 1<<50) }, "implausible"},
		{"version padding", func(b []byte) { b[50] = 'x' }, "NUL-padded"},
		{"version empty", func(b []byte) { clear(b[40:60]) }, "must be 1 to 20 bytes"},
		{"version control char", func(b []byte) { b[41] = '\n' }, "printable ASCII"},
	}
	for _, tc := range tests {
		b := bytes.Clone(good)
		tc.edit(b)
		le.PutUint32(b[60:], Checksum(b[:60]))
		_, err := DecodeImageHeader(b)
		require.ErrorIs(t, err, ErrCorrupt, tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
	_, err = DecodeImageHeader(good[:63])
	require.ErrorContains(t, err, "image header is 63 bytes")
	// A full 20-byte version has no NUL.
	full := ImageHeader{Version: strings.Repeat("9", 20)}.Encode()
	h, err = DecodeImageHeader(full)
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("9", 20), h.Version)
}

func TestWriteImageBadArgsChangeNothing(t *testing.T) {
	f := newNOR(t, 256<<10)
	tests := []struct {
		h    ImageHeader
		want string
	}{
		{ImageHeader{Version: "", Size: 10}, "must be 1 to 20 bytes"},
		{ImageHeader{Version: strings.Repeat("x", 21), Size: 10}, "must be 1 to 20 bytes"},
		{ImageHeader{Version: "v\x00", Size: 10}, "printable ASCII"},
		{ImageHeader{Version: "v", Size: 256 << 10}, "does not fit"},
		{ImageHeader{Version: "v", Size: -1}, "does not fit"},
	}
	for _, tc := range tests {
		require.ErrorContains(t, WriteImage(f, tc.h, 1), tc.want)
	}
	s := stats(t, f)
	require.Zero(t, s.Erases+s.Programs)
	require.NoError(t, WriteImage(f, ImageHeader{Version: "v", Size: 256<<10 - ImageHeaderSize}, 1), "an image may fill the chip")
	require.NoError(t, VerifyImage(f))
}

func TestImageOnNAND(t *testing.T) {
	f := newNAND(t, 1<<20)
	require.NoError(t, WriteImage(f, ImageHeader{Version: "nand-1", Size: 200001}, 9))
	require.NoError(t, VerifyImage(f))
	h, err := ReadImageHeader(f)
	require.NoError(t, err)
	require.Equal(t, int64(200001), h.Size)
}
