package fwimage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// U-Boot legacy image header (include/image.h, struct legacy_img_hdr): 64
// bytes, big-endian.
//
//	0  u32 magic 0x27051956
//	4  u32 header CRC-32 (IEEE), computed with this field zero
//	8  u32 creation time, seconds since the Unix epoch
//	12 u32 data size (the data follows the header)
//	16 u32 load address
//	20 u32 entry point
//	24 u32 data CRC-32 (IEEE)
//	28 u8  OS, u8 architecture, u8 image type, u8 compression
//	32 [32] name, NUL-padded
const (
	UImageMagic      uint32 = 0x27051956
	UImageHeaderSize        = 64
	uimageNameLen           = 32
)

// UImage is a U-Boot legacy image header.
type UImage struct {
	HeaderCRC   uint32
	Time        time.Time // creation time, UTC
	DataSize    uint32
	Load        uint32
	Entry       uint32
	DataCRC     uint32
	OS          byte
	Arch        byte
	Type        byte
	Compression byte
	Name        string // up to the first NUL
}

var be = binary.BigEndian

// ParseUImageHeader parses and checks the first 64 bytes of b as a U-Boot
// legacy image header: the magic number and the header CRC. It does not
// check the data (see [ReadUImage]). Errors wrap [ErrNotImage] (another
// magic number), [ErrFormat] (too short) or [ErrChecksum].
func ParseUImageHeader(b []byte) (UImage, error) {
	if len(b) < UImageHeaderSize {
		return UImage{}, fmt.Errorf("%w: U-Boot image header: %d bytes, want %d", ErrFormat, len(b), UImageHeaderSize)
	}
	if m := be.Uint32(b); m != UImageMagic {
		return UImage{}, fmt.Errorf("%w: magic 0x%08x at offset 0, want 0x%08x (U-Boot legacy image)", ErrNotImage, m, UImageMagic)
	}
	h := bytes.Clone(b[:UImageHeaderSize])
	stored := be.Uint32(h[4:])
	be.PutUint32(h[4:], 0)
	if got := crc32.ChecksumIEEE(h); got != stored {
		return UImage{}, fmt.Errorf("%w: U-Boot image header CRC 0x%08x (offset 4), computed 0x%08x over the 64-byte header with that field zero",
			ErrChecksum, stored, got)
	}
	name := b[32:UImageHeaderSize]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return UImage{
		HeaderCRC: stored, Time: time.Unix(int64(be.Uint32(b[8:])), 0).UTC(), DataSize: be.Uint32(b[12:]),
		Load: be.Uint32(b[16:]), Entry: be.Uint32(b[20:]), DataCRC: be.Uint32(b[24:]),
		OS: b[28], Arch: b[29], Type: b[30], Compression: b[31], Name: string(name),
	}, nil
}

// ReadUImage reads and checks the U-Boot legacy image at the start of r,
// whose readable size is size bytes (a partition's size): the header
// ([ParseUImageHeader]), that the data fits in size, and the data CRC,
// reading the data through a small buffer. Errors wrap [ErrNotImage],
// [ErrFormat] (truncated) or [ErrChecksum], or are I/O errors of r.
func ReadUImage(r io.ReaderAt, size int64) (UImage, error) {
	if size < UImageHeaderSize {
		return UImage{}, fmt.Errorf("%w: U-Boot image header: %d bytes available, want %d", ErrFormat, size, UImageHeaderSize)
	}
	b, err := readAt(r, 0, UImageHeaderSize, "U-Boot image header")
	if err != nil {
		return UImage{}, err
	}
	u, err := ParseUImageHeader(b)
	if err != nil {
		return UImage{}, err
	}
	if end := UImageHeaderSize + int64(u.DataSize); end > size {
		return UImage{}, fmt.Errorf("%w: U-Boot image data size %d (offset 12) ends at 0x%x, past the %d bytes available (truncated image?)",
			ErrFormat, u.DataSize, end, size)
	}
	h := crc32.NewIEEE()
	if err := digest(r, UImageHeaderSize, int64(u.DataSize), h, "U-Boot image data"); err != nil {
		return UImage{}, err
	}
	if got := h.Sum32(); got != u.DataCRC {
		return UImage{}, fmt.Errorf("%w: U-Boot image data CRC 0x%08x (offset 24), computed 0x%08x over %d data bytes",
			ErrChecksum, u.DataCRC, got, u.DataSize)
	}
	return u, nil
}

// Size returns the image's size: header and data.
func (u UImage) Size() int64 { return UImageHeaderSize + int64(u.DataSize) }

// Identity returns the image's identity; its version is the first
// version-like word of the name ([VersionIn]).
func (u UImage) Identity() Identity {
	return Identity{Format: FormatUImage, Name: u.Name, Version: VersionIn(u.Name), BuildTime: u.Time, Size: u.Size(), CRC32: u.DataCRC}
}

// String describes the header as mkimage -l does, on one line.
func (u UImage) String() string {
	return fmt.Sprintf("%q: %s %s %s (%s), %d data bytes, load 0x%08x entry 0x%08x, created %s",
		u.Name, osName(u.OS), archName(u.Arch), typeName(u.Type), compName(u.Compression), u.DataSize, u.Load, u.Entry,
		u.Time.Format(time.RFC3339))
}
