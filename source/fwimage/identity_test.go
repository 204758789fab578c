package fwimage

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIdentify(t *testing.T) {
	for _, tc := range []struct {
		file string
		want string
	}{
		{"uimage-kernel.bin", `uImage "Linux-5.15.0-cmc" version 5.15.0-cmc, built 2026-01-01T00:00:00Z, 97 bytes, crc32 0x8d7cd51b`},
		{"uimage-uboot.bin", `uImage "U-Boot 2019.04 for ast2600" version 2019.04, built 2026-01-01T00:00:00Z, 94 bytes, crc32 0xb01bef40`},
		{"fit-embedded.itb", `FIT "CMC firmware 2.14.0" version 2.14.0, built 2026-01-01T00:00:00Z, 1880 bytes, crc32 0xd698c632`},
		{"fit-openbmc.itb", `FIT "Kernel fitImage for Phosphor OpenBMC (Phosphor OpenBMC Project Reference Distro)/5.15.0+git/ast2600" version 5.15.0+git, built 2026-01-01T00:00:00Z, 2016 bytes, crc32 0x826e5452`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := readTestdata(t, tc.file)
			part := append(bytes.Clone(b), bytes.Repeat([]byte{0xFF}, 1<<16)...)
			id, err := Identify(bytes.NewReader(part), int64(len(part)))
			require.NoError(t, err)
			require.Equal(t, tc.want, id.String())
			again, err := Identify(bytes.NewReader(b), int64(len(b)))
			require.NoError(t, err)
			require.True(t, id.Same(again), "the partition's erased tail is not part of the image")
		})
	}
}

// TestIdentityTellsImagesApart: a rebuilt image (new time), other data and
// another format all give identities that are not the Same.
func TestIdentityTellsImagesApart(t *testing.T) {
	identify := func(b []byte) Identity {
		id, err := Identify(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		return id
	}
	a := identify(firmwareFIT([]byte("firmware 3.0.1")))
	require.Equal(t, "3.0.1", a.Version)
	require.True(t, a.Same(identify(firmwareFIT([]byte("firmware 3.0.1")))))
	require.False(t, a.Same(identify(firmwareFIT([]byte("firmware 3.0.2")))), "other data")
	k1, k2 := identify(readTestdata(t, "uimage-kernel.bin")), identify(readTestdata(t, "uimage-uboot.bin"))
	require.False(t, k1.Same(k2))
	rebuilt := k1
	rebuilt.BuildTime = rebuilt.BuildTime.Add(1)
	require.False(t, k1.Same(rebuilt), "another build time")
	require.False(t, a.Same(Identity{}))
}

func TestIdentifyErrors(t *testing.T) {
	dtb := (&fdtBuilder{}).begin("").str("compatible", "aspeed,ast2600").end().blob(nil)
	for _, tc := range []struct {
		name    string
		in      []byte
		wantErr error
		text    string
	}{
		{"erased", bytes.Repeat([]byte{0xFF}, 4096), ErrNotImage, "the first 64 bytes are 0xff (erased flash)"},
		{"zeros", make([]byte, 4096), ErrNotImage, "magic 0x00000000 at offset 0 is neither a U-Boot legacy image's (0x27051956) nor a FIT's (0xd00dfeed)"},
		{"cmcsync image header", append([]byte("CMCFWIMG"), make([]byte, 56)...), ErrNotImage, "magic 0x434d4346"},
		{"three bytes", []byte{0x27, 0x05, 0x19}, ErrNotImage, "3 bytes cannot hold a magic number"},
		{"a device tree blob", dtb, ErrNotImage, "a flattened device tree without /images nodes"},
		{"truncated uImage", readTestdata(t, "uimage-kernel.bin")[:80], ErrFormat, "truncated image?"},
		{"short FIT", readTestdata(t, "fit-embedded.itb")[:30], ErrFormat, "FDT header: 30 bytes available, want 40"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Identify(bytes.NewReader(tc.in), int64(len(tc.in)))
			require.ErrorIs(t, err, tc.wantErr)
			require.ErrorContains(t, err, tc.text)
		})
	}
}

func TestVersionIn(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"U-Boot 2019.04-00001-gabc for ast2600", "2019.04-00001-gabc"},
		{"Linux-5.15.0-cmc", "5.15.0-cmc"},
		{"obmc-phosphor-image-ast2600 v2.14.0", "2.14.0"},
		{"fw_1.2.3.", "1.2.3"},
		{"release/2.14.0+git", "2.14.0+git"},
		{"ast2600 image", ""},
		{"build 42", ""},
		{"x1.2", ""},
		{"", ""},
	} {
		require.Equal(t, tc.want, VersionIn(tc.in), "%q", tc.in)
	}
}
