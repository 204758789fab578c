package fwimage

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSourceImageID(t *testing.T) {
	uboot := readTestdata(t, "uimage-uboot.bin")
	fit := readTestdata(t, "fit-embedded.itb")
	pad := func(b []byte, at int) []byte { // b at offset at of a 64 KiB partition-like device
		dev := bytes.Repeat([]byte{0xFF}, 64<<10)
		copy(dev[at:], b)
		return dev
	}
	badCRC := bytes.Clone(uboot)
	badCRC[len(badCRC)-1] ^= 1
	tests := []struct {
		name string
		s    Source
		dev  []byte
		want string // prefix of the identity, or of the error
		err  error
	}{
		{"uImage at 0", Source{Size: 64 << 10}, pad(uboot, 0), "uImage ", nil},
		{"uImage at an offset", Source{Off: 4096, Size: 32 << 10}, pad(uboot, 4096), "uImage ", nil},
		{"FIT", Source{Size: 64 << 10}, pad(fit, 0), "FIT ", nil},
		{"FIT when uImage wanted", Source{Size: 64 << 10, Kind: FormatUImage}, pad(fit, 0), "", ErrFormat},
		{"erased", Source{Size: 64 << 10}, pad(nil, 0), "", ErrNotImage},
		{"data CRC", Source{Size: 64 << 10}, pad(badCRC, 0), "", ErrChecksum},
		{"data CRC, header only", Source{Size: 64 << 10, HeaderOnly: true}, pad(badCRC, 0), "uImage ", nil},
		{"no size", Source{}, pad(uboot, 0), "", ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := tc.s.ImageID(0, bytes.NewReader(tc.dev))
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Contains(t, id, tc.want)
			require.Equal(t, tc.want, id[:len(tc.want)])
		})
	}
	// Devices override the engine's flash, by chip id.
	s := Source{Size: 64 << 10, Devices: [2]io.ReaderAt{nil, bytes.NewReader(pad(fit, 0))}}
	a, err := s.ImageID(0, bytes.NewReader(pad(uboot, 0)))
	require.NoError(t, err)
	b, err := s.ImageID(1, bytes.NewReader(pad(uboot, 0)))
	require.NoError(t, err)
	require.Contains(t, a, "uImage")
	require.Contains(t, b, "FIT")
}
