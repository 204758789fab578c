// Little-endian field encoding and decoding of record bodies, and the
// records' CRC.

package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc returns the CRC-32C (Castagnoli) of b.
func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

var le = binary.LittleEndian

// enc appends little-endian fields to a byte slice.
type enc struct{ buf []byte }

func (e *enc) u8(v uint8)   { e.buf = append(e.buf, v) }
func (e *enc) u16(v uint16) { e.buf = le.AppendUint16(e.buf, v) }
func (e *enc) u32(v uint32) { e.buf = le.AppendUint32(e.buf, v) }
func (e *enc) u64(v uint64) { e.buf = le.AppendUint64(e.buf, v) }
func (e *enc) i64(v int64)  { e.buf = le.AppendUint64(e.buf, uint64(v)) }
func (e *enc) raw(p []byte) { e.buf = append(e.buf, p...) }
func (e *enc) time(t time.Time) {
	if t.IsZero() {
		e.i64(0)
		return
	}
	e.i64(t.UnixNano())
}

// str writes a string of at most 255 bytes as a length byte and the bytes.
func (e *enc) str(s string) {
	if len(s) > 255 {
		s = s[:255]
	}
	e.u8(uint8(len(s)))
	e.buf = append(e.buf, s...)
}

// dec reads little-endian fields; reading past the end sets bad and yields
// zeros, so decoders never panic on short or garbage input. A decoder that
// finds a field out of range calls fail, which sets bad too; err says why.
type dec struct {
	buf []byte
	pos int
	bad bool
	err error // why bad is set (nil: only a short read)
}

// errShort is a body that ends before its fields do.
var errShort = errors.New("body too short")

// fail marks the body bad for the reason given, unless it is bad already.
func (d *dec) fail(format string, args ...any) {
	if !d.bad {
		d.bad = true
		d.err = fmt.Errorf(format, args...)
	}
}

// end returns why the body is bad: a field out of range, a body shorter
// than its fields, or bytes after the last field (a body is exactly its
// fields, docs/FORMAT.md "Record framing"); nil if it is good.
func (d *dec) end() error {
	switch {
	case d.bad && d.err != nil:
		return d.err
	case d.bad:
		return errShort
	case d.pos != len(d.buf):
		return fmt.Errorf("%d bytes after the last field", len(d.buf)-d.pos)
	}
	return nil
}

func (d *dec) take(n int) []byte {
	if d.bad || n < 0 || n > len(d.buf)-d.pos {
		d.bad = true
		return nil
	}
	p := d.buf[d.pos : d.pos+n]
	d.pos += n
	return p
}

func (d *dec) u8() uint8 {
	p := d.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (d *dec) u16() uint16 {
	p := d.take(2)
	if p == nil {
		return 0
	}
	return le.Uint16(p)
}

func (d *dec) u32() uint32 {
	p := d.take(4)
	if p == nil {
		return 0
	}
	return le.Uint32(p)
}

func (d *dec) u64() uint64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return le.Uint64(p)
}

func (d *dec) i64() int64 { return int64(d.u64()) }

func (d *dec) time() time.Time {
	v := d.i64()
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}

// flag reads a u8 that must be 0 or 1.
func (d *dec) flag(what string) bool {
	v := d.u8()
	if v > 1 {
		d.fail("%s is %d, want 0 or 1", what, v)
	}
	return v == 1
}

func (d *dec) str() string {
	n := int(d.u8())
	p := d.take(n)
	return string(p)
}

func (d *dec) digest() Digest {
	var g Digest
	copy(g[:], d.take(DigestSize))
	return g
}
