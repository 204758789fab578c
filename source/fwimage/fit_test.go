package fwimage

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"
)

func hexBytes(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestReadFIT(t *testing.T) {
	kernelSHA256 := hexBytes("9c94215eb52fc8f051e3f772373c0c71166e7f91404197df9133a0ea9bab35b9")
	for _, tc := range []struct {
		file        string
		description string
		version     string
		conf        string
		images      []string
		external    bool
		pad         int // bytes mkimage wrote after the last data, to a 4-byte boundary
	}{
		{"fit-embedded.itb", "CMC firmware 2.14.0", "2.14.0", "conf-1", []string{"kernel-1", "fdt-1"}, false, 0},
		{"fit-external.itb", "CMC firmware 2.14.0", "2.14.0", "conf-1", []string{"kernel-1", "fdt-1"}, true, 3},
		{"fit-openbmc.itb", "Kernel fitImage for Phosphor OpenBMC (Phosphor OpenBMC Project Reference Distro)/5.15.0+git/ast2600",
			"", "conf-aspeed-bmc-cmc.dtb", []string{"kernel-1", "fdt-aspeed-bmc-cmc.dtb"}, false, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := readTestdata(t, tc.file)
			part := append(bytes.Clone(b), bytes.Repeat([]byte{0xFF}, 8192)...)
			fit, err := ReadFIT(bytes.NewReader(part), int64(len(part)))
			require.NoError(t, err)
			require.Equal(t, tc.description, fit.Description)
			require.Equal(t, jan2026, fit.Timestamp)
			require.Equal(t, tc.version, fit.Version)
			require.Equal(t, tc.conf, fit.DefaultConfig)
			require.Equal(t, int64(len(b)-tc.pad), fit.Size, "the FIT ends where mkimage's file ends, but for padding")
			require.Equal(t, crc32IEEE(b[:fit.Size]), fit.CRC32)
			var names []string
			for _, img := range fit.Images {
				names = append(names, img.Name)
				require.Equal(t, tc.external, img.External, img.Name)
				require.NotEmpty(t, img.Hashes, img.Name)
				for _, h := range img.Hashes {
					require.True(t, h.Checked, "%s %s", img.Name, h.Node)
				}
			}
			require.Equal(t, tc.images, names)
			kernel := fit.Images[0]
			require.Equal(t, FITImage{Name: "kernel-1", Description: "Linux kernel", Type: "kernel", Arch: "arm", OS: "linux",
				Compression: "none", DataOffset: kernel.DataOffset, DataSize: 33, External: tc.external, Hashes: kernel.Hashes}, kernel)
			require.Equal(t, readTestdata(t, "kernel.bin"), b[kernel.DataOffset:kernel.DataOffset+kernel.DataSize])
			require.Equal(t, kernelSHA256, kernel.Hashes[len(kernel.Hashes)-1].Value)
		})
	}
}

func TestFITVersionSources(t *testing.T) {
	build := func(rootV, confV, fwV, kernelV string) []byte {
		b := &fdtBuilder{}
		b.begin("").str("description", "v-less description")
		if rootV != "" {
			b.str("version", rootV)
		}
		b.begin("images")
		b.begin("fw-1").str("type", "firmware").prop("data", []byte{1})
		if fwV != "" {
			b.str("version", fwV)
		}
		b.end().begin("kernel-1").str("type", "kernel").prop("data", []byte{2})
		if kernelV != "" {
			b.str("version", kernelV)
		}
		b.end().end()
		b.begin("configurations").str("default", "conf-2").begin("conf-1").end().begin("conf-2").str("firmware", "fw-1").str("kernel", "kernel-1")
		if confV != "" {
			b.str("version", confV)
		}
		b.end().end()
		return b.end().blob(nil)
	}
	for _, tc := range []struct {
		name                       string
		rootV, confV, fwV, kernelV string
		want                       string
	}{
		{"root first", "1", "2", "3", "4", "1"},
		{"default configuration", "", "2", "3", "4", "2"},
		{"its firmware image", "", "", "3", "4", "3"},
		{"its kernel image", "", "", "", "4", "4"},
		{"none", "", "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := build(tc.rootV, tc.confV, tc.fwV, tc.kernelV)
			fit, err := ReadFIT(bytes.NewReader(b), int64(len(b)))
			require.NoError(t, err)
			require.Equal(t, tc.want, fit.Version)
			require.Equal(t, "conf-2", fit.DefaultConfig)
			require.Zero(t, fit.Timestamp, "no timestamp property")
		})
	}
}

func TestReadFITErrors(t *testing.T) {
	embedded := readTestdata(t, "fit-embedded.itb")
	external := readTestdata(t, "fit-external.itb")
	set32 := func(b []byte, off int, v uint32) []byte {
		b = bytes.Clone(b)
		binary.BigEndian.PutUint32(b[off:], v)
		return b
	}
	kernelData := bytes.Index(embedded, readTestdata(t, "kernel.bin"))
	require.Positive(t, kernelData)
	corrupt := bytes.Clone(embedded)
	corrupt[kernelData] ^= 0x01
	structOff := int(binary.BigEndian.Uint32(embedded[8:]))

	tree := func(f func(b *fdtBuilder)) []byte {
		b := &fdtBuilder{}
		f(b)
		return b.blob(nil)
	}
	fw := firmwareFIT([]byte("firmware 3.0.1"))
	for _, tc := range []struct {
		name    string
		in      []byte
		wantErr error
		text    string
	}{
		{"kernel data flipped", corrupt, ErrChecksum, `FIT image "kernel-1" hash-1 (crc32): value 8d7cd51b, computed`},
		{"external data cut", external[:len(external)-10], ErrFormat, `FIT image "fdt-1": data [0x`},
		{"totalsize past the end", set32(embedded, 4, uint32(len(embedded)+1)), ErrFormat,
			"FDT totalsize 1881 (header offset 4) is outside 40 … 1880, the bytes available (truncated image?)"},
		{"version 15", set32(embedded, 20, 15), ErrFormat, "FDT version 15 (header offset 20)"},
		{"structure block unaligned", set32(embedded, 8, 0x3a), ErrFormat, "FDT structure block [0x3a,"},
		{"structure block past totalsize", set32(embedded, 36, 0x10000), ErrFormat, "FDT structure block"},
		{"strings block past totalsize", set32(embedded, 32, 0x10000), ErrFormat, "FDT strings block"},
		{"unknown token", set32(embedded, structOff, 7), ErrFormat, "unknown token 0x00000007 at 0x"},
		{"no end token", tree(func(b *fdtBuilder) { b.begin("").end(); b.strct = b.strct[:4] }), ErrFormat, "run past its end"},
		{"node left open", tree(func(b *fdtBuilder) { b.begin("").begin("images") }), ErrFormat, `end token at 0x`},
		{"end of node with none open", tree(func(b *fdtBuilder) { b.end() }), ErrFormat, "end of node at 0x38 with no node open"},
		{"property outside a node", tree(func(b *fdtBuilder) { b.str("description", "x") }), ErrFormat, "property at 0x38 outside any node"},
		{"two roots", tree(func(b *fdtBuilder) { b.begin("").end().begin("").end() }), ErrFormat, "a second root node at 0x44"},
		{"no root", tree(func(b *fdtBuilder) {}), ErrFormat, "end token at 0x38 before any node"},
		{"name offset past the strings", tree(func(b *fdtBuilder) { b.begin("").u32(tokProp); b.u32(0); b.u32(99); b.end() }), ErrFormat,
			"name offset 99 is past the 0-byte strings block"},
		{"value past the block", tree(func(b *fdtBuilder) { b.begin("").prop("x", nil); b.strct[len(b.strct)-8] = 0x7f }), ErrFormat,
			"run past the structure block's end"},
		{"too deep", tree(func(b *fdtBuilder) {
			for range maxDepth + 1 {
				b.begin("n")
			}
		}), ErrFormat, "past 64 levels or 10000 nodes"},
		{"device tree, not a FIT", tree(func(b *fdtBuilder) { b.begin("").str("model", "aspeed,ast2600").begin("cpus").end().end() }), ErrNotImage,
			"a flattened device tree without /images nodes"},
		{"description not a string", tree(func(b *fdtBuilder) {
			b.begin("").prop("description", []byte("no-nul")).begin("images").begin("x").prop("data", nil).end().end().end()
		}), ErrFormat, `property "description" of node "" at 0x`},
		{"timestamp of 8 bytes", tree(func(b *fdtBuilder) {
			b.begin("").prop("timestamp", make([]byte, 8)).begin("images").begin("x").prop("data", nil).end().end().end()
		}), ErrFormat, `property "timestamp" of node "" at 0x4c is 8 bytes, want 4`},
		{"image without data", tree(func(b *fdtBuilder) { b.begin("").begin("images").begin("fw").str("type", "firmware").end().end().end() }), ErrFormat,
			`FIT image "fw" at 0x4c has no data`},
		{"external data past the end", tree(func(b *fdtBuilder) {
			b.begin("").begin("images").begin("fw").cell("data-offset", 0).cell("data-size", 4096).end().end().end()
		}), ErrFormat, `FIT image "fw": data [0x`},
		{"default names no configuration", tree(func(b *fdtBuilder) {
			b.begin("").begin("images").begin("x").prop("data", nil).end().end()
			b.begin("configurations").str("default", "conf-9").begin("conf-1").end().end().end()
		}), ErrFormat, `FIT /configurations default "conf-9" names no configuration`},
		{"configuration names no image", tree(func(b *fdtBuilder) {
			b.begin("").begin("images").begin("x").prop("data", nil).end().end()
			b.begin("configurations").begin("conf-1").str("firmware", "fw-9").end().end().end()
		}), ErrFormat, `FIT configuration "conf-1": firmware "fw-9" names no image`},
		{"hash value of the wrong size", bytes.Replace(fw, []byte("crc32\x00\x00\x00"), []byte("sha1\x00\x00\x00\x00"), 1), ErrFormat,
			`FIT image "fw-1" hash-1 (sha1): value is 4 bytes, want 20`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadFIT(bytes.NewReader(tc.in), int64(len(tc.in)))
			require.ErrorIs(t, err, tc.wantErr)
			require.ErrorContains(t, err, tc.text)
		})
	}
}

// TestReadFITBoundedReads: a FIT with 3 MiB of image data is read and
// checked through reads of at most 64 KiB; the data is never held whole.
func TestReadFITBoundedReads(t *testing.T) {
	data := bytes.Repeat([]byte("firmware"), 3<<20/8)
	b := firmwareFIT(data)
	cr := &countingReader{r: bytes.NewReader(b)}
	fit, err := ReadFIT(cr, int64(len(b)))
	require.NoError(t, err)
	require.Equal(t, "3.0.1", fit.Version)
	require.True(t, fit.Images[0].Hashes[0].Checked)
	require.LessOrEqual(t, cr.maxRead, 64<<10)
	require.Less(t, cr.total, int64(3*len(b)), "data read once for the hash and once for the CRC, no more")

	flipped := bytes.Clone(b)
	flipped[len(b)/2] ^= 0x80
	_, err = ReadFIT(bytes.NewReader(flipped), int64(len(flipped)))
	require.ErrorIs(t, err, ErrChecksum, "the hash covers the large value too")
}
