package info

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// Firmware image header layout (ImageHeaderSize bytes, little-endian) at
// chip offset 0; the image body (Size bytes) follows it directly:
//
//	0  [8]byte magic ImageMagic ("CMCFWIMG")
//	8  uint16  header version (1)
//	10 uint16  header size (64)
//	12 uint32  reserved, 0
//	16 uint64  body size in bytes
//	24 uint32  CRC-32C of the body
//	28 uint32  reserved, 0
//	32 int64   build time, seconds since the Unix epoch (UTC)
//	40 [20]byte version string, ASCII, NUL-padded
//	60 uint32  CRC-32C of bytes 0..59
const (
	ImageMagic      = "CMCFWIMG"
	ImageHeaderSize = 64
	imageVersion    = 1
	maxVersionLen   = 20
)

// ImageHeader describes the firmware image at chip offset 0: the engine's
// primary health probe reads it (ReadImageHeader) and checks the body
// (VerifyImage).
type ImageHeader struct {
	Version string    // e.g. "2.10.1"; printable ASCII, at most 20 bytes
	Size    int64     // body size in bytes (the header is not counted)
	CRC     uint32    // CRC-32C of the body
	Built   time.Time // build time, stored in whole seconds (UTC)
}

// Encode returns the 64-byte header.
func (h ImageHeader) Encode() []byte {
	le := binary.LittleEndian
	b := make([]byte, ImageHeaderSize)
	copy(b, ImageMagic)
	le.PutUint16(b[8:], imageVersion)
	le.PutUint16(b[10:], ImageHeaderSize)
	le.PutUint64(b[16:], uint64(h.Size))
	le.PutUint32(b[24:], h.CRC)
	le.PutUint64(b[32:], uint64(h.Built.Unix()))
	copy(b[40:60], h.Version)
	le.PutUint32(b[60:], Checksum(b[:60]))
	return b
}

// DecodeImageHeader parses and checks an image header from the first
// ImageHeaderSize bytes of b. Every error wraps ErrCorrupt.
func DecodeImageHeader(b []byte) (ImageHeader, error) {
	le := binary.LittleEndian
	if len(b) < ImageHeaderSize {
		return ImageHeader{}, fmt.Errorf("%w: image header is %d bytes, want %d", ErrCorrupt, len(b), ImageHeaderSize)
	}
	if hal.IsErased(b[:ImageHeaderSize]) {
		return ImageHeader{}, fmt.Errorf("%w: no firmware image (erased)", ErrCorrupt)
	}
	if string(b[:8]) != ImageMagic {
		return ImageHeader{}, fmt.Errorf("%w: image magic %q, want %q", ErrCorrupt, b[:8], ImageMagic)
	}
	if got, want := le.Uint32(b[60:]), Checksum(b[:60]); got != want {
		return ImageHeader{}, fmt.Errorf("%w: image header crc %#08x, computed %#08x", ErrCorrupt, got, want)
	}
	if v := le.Uint16(b[8:]); v != imageVersion {
		return ImageHeader{}, fmt.Errorf("%w: image header version %d, want %d", ErrCorrupt, v, imageVersion)
	}
	if n := le.Uint16(b[10:]); n != ImageHeaderSize {
		return ImageHeader{}, fmt.Errorf("%w: image header size %d, want %d", ErrCorrupt, n, ImageHeaderSize)
	}
	if le.Uint32(b[12:]) != 0 || le.Uint32(b[28:]) != 0 {
		return ImageHeader{}, fmt.Errorf("%w: image header reserved fields are not zero", ErrCorrupt)
	}
	size := le.Uint64(b[16:])
	if size > 1<<40 {
		return ImageHeader{}, fmt.Errorf("%w: image body size %d is implausible", ErrCorrupt, size)
	}
	v := b[40:60]
	if i := strings.IndexByte(string(v), 0); i >= 0 {
		if !allZero(v[i:]) {
			return ImageHeader{}, fmt.Errorf("%w: image version field is not NUL-padded", ErrCorrupt)
		}
		v = v[:i]
	}
	if err := checkVersion(string(v)); err != nil {
		return ImageHeader{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return ImageHeader{
		Version: string(v),
		Size:    int64(size),
		CRC:     le.Uint32(b[24:]),
		Built:   time.Unix(int64(le.Uint64(b[32:])), 0).UTC(),
	}, nil
}

func checkVersion(v string) error {
	if v == "" || len(v) > maxVersionLen {
		return fmt.Errorf("image version %q must be 1 to %d bytes", v, maxVersionLen)
	}
	for _, c := range []byte(v) {
		if c < 0x20 || c > 0x7e {
			return fmt.Errorf("image version %q must be printable ASCII", v)
		}
	}
	return nil
}

// imageBody fills p with the body bytes at body offset off for seed.
// The body is a PCG stream: block i of 64 KiB uses its own generator, so any
// range can be produced without producing what comes before.
type imageBody struct{ seed uint64 }

const bodyChunk = 64 << 10

func (ib imageBody) chunk(i int64, p []byte) {
	rng := rand.New(rand.NewPCG(ib.seed, ib.seed^0x9e3779b97f4a7c15^uint64(i)))
	for j := 0; j < len(p); j += 8 {
		v := rng.Uint64()
		for k := 0; k < 8 && j+k < len(p); k++ {
			p[j+k] = byte(v >> (8 * k))
		}
	}
}

// WriteImage writes a firmware image at chip offset 0: the header h and a
// pseudo-random body of h.Size bytes drawn from seed. It computes h.CRC
// itself (the given value is ignored). It erases the blocks the image covers
// first. h.Version must be 1..20 printable ASCII bytes and the image must
// fit the device; bad arguments return an error before f is touched.
func WriteImage(f hal.Flash, h ImageHeader, seed uint64) error {
	g := f.Geometry()
	if err := checkVersion(h.Version); err != nil {
		return fmt.Errorf("write image: %w", err)
	}
	if h.Size < 0 || h.Size > g.Size-ImageHeaderSize {
		return fmt.Errorf("write image: body of %d bytes does not fit %s (%s)", h.Size, g.Name, hal.FormatSize(g.Size))
	}
	total := ImageHeaderSize + h.Size
	ext := (total + g.EraseSize - 1) / g.EraseSize * g.EraseSize
	if err := f.Erase(0, ext); err != nil {
		return fmt.Errorf("write image: %w", err)
	}
	ib := imageBody{seed}
	crc := uint32(0)
	buf := make([]byte, bodyChunk)
	for i := int64(0); i*bodyChunk < h.Size; i++ {
		p := buf[:min(int64(bodyChunk), h.Size-i*bodyChunk)]
		ib.chunk(i, p)
		crc = crc32.Update(crc, castagnoli, p)
	}
	h.CRC = crc
	hdr := h.Encode()
	// On NOR the body goes first and the header last, so a cut write leaves
	// no valid header. Devices with a larger write unit (NAND pages, once
	// each, in order) get one sequential stream instead.
	w := &seqWriter{f: f, ws: g.WriteSize}
	if g.WriteSize <= 1 {
		w.off = ImageHeaderSize
	} else if err := w.write(hdr); err != nil {
		return fmt.Errorf("write image: %w", err)
	}
	for i := int64(0); i*bodyChunk < h.Size; i++ {
		p := buf[:min(int64(bodyChunk), h.Size-i*bodyChunk)]
		ib.chunk(i, p)
		if err := w.write(p); err != nil {
			return fmt.Errorf("write image: %w", err)
		}
	}
	if err := w.flush(); err != nil {
		return fmt.Errorf("write image: %w", err)
	}
	if g.WriteSize <= 1 {
		if _, err := f.WriteAt(hdr, 0); err != nil {
			return fmt.Errorf("write image: %w", err)
		}
	}
	return nil
}

// seqWriter programs a byte stream at increasing offsets in whole write
// units; flush pads the last unit with 0xFF.
type seqWriter struct {
	f       hal.Flash
	ws      int64
	off     int64 // device offset of pending[0]
	pending []byte
}

func (w *seqWriter) write(p []byte) error {
	if w.ws <= 1 {
		if _, err := w.f.WriteAt(p, w.off); err != nil {
			return err
		}
		w.off += int64(len(p))
		return nil
	}
	w.pending = append(w.pending, p...)
	n := int64(len(w.pending)) / w.ws * w.ws
	if n == 0 {
		return nil
	}
	if _, err := w.f.WriteAt(w.pending[:n], w.off); err != nil {
		return err
	}
	w.off += n
	w.pending = append(w.pending[:0], w.pending[n:]...)
	return nil
}

func (w *seqWriter) flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	for int64(len(w.pending))%w.ws != 0 {
		w.pending = append(w.pending, 0xFF)
	}
	_, err := w.f.WriteAt(w.pending, w.off)
	w.off += int64(len(w.pending))
	w.pending = w.pending[:0]
	return err
}

// ReadImageHeader reads and checks the image header at chip offset 0.
// Malformed contents return an error wrapping ErrCorrupt, including a body
// size that does not fit the device.
func ReadImageHeader(f hal.Flash) (ImageHeader, error) {
	b := make([]byte, ImageHeaderSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		return ImageHeader{}, fmt.Errorf("read image header: %w", err)
	}
	h, err := DecodeImageHeader(b)
	if err != nil {
		return ImageHeader{}, fmt.Errorf("image header on %s: %w", f.Geometry().Name, err)
	}
	if h.Size > f.Geometry().Size-ImageHeaderSize {
		return ImageHeader{}, fmt.Errorf("image header on %s: %w: body of %d bytes does not fit the device", f.Geometry().Name, ErrCorrupt, h.Size)
	}
	return h, nil
}

// VerifyImage reads the image header and the whole body and checks the
// body's CRC-32C; a mismatch returns an error wrapping ErrCorrupt.
func VerifyImage(f hal.Flash) error {
	h, err := ReadImageHeader(f)
	if err != nil {
		return err
	}
	crc := uint32(0)
	buf := make([]byte, bodyChunk)
	for off := int64(0); off < h.Size; off += bodyChunk {
		p := buf[:min(int64(bodyChunk), h.Size-off)]
		if _, err := f.ReadAt(p, ImageHeaderSize+off); err != nil {
			return fmt.Errorf("verify image: %w", err)
		}
		crc = crc32.Update(crc, castagnoli, p)
	}
	if crc != h.CRC {
		return fmt.Errorf("image on %s: %w: body crc %#08x, header says %#08x", f.Geometry().Name, ErrCorrupt, crc, h.CRC)
	}
	return nil
}
