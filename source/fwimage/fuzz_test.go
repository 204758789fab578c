package fwimage

import (
	"bytes"
	"testing"
)

// FuzzUImage: ReadUImage and Identify never panic, and whatever ReadUImage
// accepts lies inside the input and has the CRCs it claims.
func FuzzUImage(f *testing.F) {
	f.Add(readTestdata(f, "uimage-kernel.bin"))
	f.Add(readTestdata(f, "uimage-uboot.bin"))
	f.Add(bytes.Repeat([]byte{0xFF}, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Identify(bytes.NewReader(b), int64(len(b)))
		u, err := ReadUImage(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if u.Size() > int64(len(b)) {
			t.Fatalf("accepted an image of %d bytes in %d", u.Size(), len(b))
		}
		if got := crc32IEEE(b[UImageHeaderSize:u.Size()]); got != u.DataCRC {
			t.Fatalf("accepted data CRC 0x%08x, data has 0x%08x", u.DataCRC, got)
		}
		_ = u.String()
	})
}

// FuzzFIT: ReadFIT never panics, and whatever it accepts lies inside the
// input, every image's data too, with the CRC it reports.
func FuzzFIT(f *testing.F) {
	for _, name := range []string{"fit-embedded.itb", "fit-external.itb", "fit-openbmc.itb"} {
		f.Add(readTestdata(f, name))
	}
	f.Add(firmwareFIT([]byte("firmware 3.0.1")))
	f.Add((&fdtBuilder{}).begin("").end().blob(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		fit, err := ReadFIT(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if fit.Size > int64(len(b)) || fit.Size < fdtHeaderSize {
			t.Fatalf("accepted a FIT of %d bytes in %d", fit.Size, len(b))
		}
		for _, img := range fit.Images {
			if img.DataOffset < 0 || img.DataSize < 0 || img.DataOffset+img.DataSize > int64(len(b)) {
				t.Fatalf("image %q data [%d, +%d) outside %d bytes", img.Name, img.DataOffset, img.DataSize, len(b))
			}
		}
		if got := crc32IEEE(b[:fit.Size]); got != fit.CRC32 {
			t.Fatalf("CRC 0x%08x, bytes have 0x%08x", fit.CRC32, got)
		}
		_ = fit.Identity().String()
	})
}
