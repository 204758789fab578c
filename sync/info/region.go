package info

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

// Region header layout (little-endian), at the start of the region's first
// erase block; the rest of that block is erased (0xFF):
//
//	0   [8]byte magic RegionMagic ("CMCSINFO")
//	8   uint16  version (2; 1 for a region without change tables)
//	10  uint16  extent count n (6)
//	12  uint32  erase size the layout was planned for
//	16  uint64  region size
//	24  n × 24-byte extent entries:
//	        0 uint8 type, 1..3 reserved 0,
//	        4 uint32 first erase block of the type's change table (version 2;
//	          0 in version 1), counted from the region start,
//	        8 uint64 offset from the region start, 16 uint64 capacity
//	24+24n uint32 CRC-32C of bytes 0 .. 24+24n-1
//
// The change tables (version 2, change.go) sit between the header block
// and the first extent, one per type in layout order, each starting on an
// erase block of its own.
const (
	RegionMagic = "CMCSINFO"
	// RegionVersion is the version FormatRegion writes: regions with
	// change tables.
	RegionVersion = 2
	// RegionVersionPlain is the earlier version without change tables:
	// still opened, read and written (without tables), never upgraded
	// behind its owner's back.
	RegionVersionPlain = 1
	extentEntry        = 24
	regionFixed        = 24
)

// RegionHeaderSize is the encoded size of a region header with all six
// extents.
const RegionHeaderSize = regionFixed + NumTypes*extentEntry + 4

// ExtentInfo says where one type's record lives: Off is relative to the
// region start, Capacity counts the record header and the payload. Both are
// multiples of the erase size.
type ExtentInfo struct {
	Type     Type
	Off      int64
	Capacity int64
	// Table is the region offset of the type's change table (an erase
	// block boundary); 0 in a version 1 region, which has none.
	Table int64
}

// RegionHeader is a decoded (or planned) region header.
type RegionHeader struct {
	Version   uint16
	EraseSize int64
	Size      int64
	Extents   []ExtentInfo // one per type, in layout order
}

// extent weights: how the blocks beyond each type's minimum are shared out.
// The logs get the most room.
var extentWeight = [...]int64{Power: 12, Fan: 12, Node: 7, EventLog: 36, FaultLog: 24, Asset: 2}

// PlanRegion lays out a region of size bytes on a device with the given
// erase size: one header block, one change table per type (each on erase
// blocks of its own, ChangeEntrySize bytes per erase block of the type's
// extent), then one erase-block-aligned extent per type in layout order.
// Each type gets the blocks its fixed contents and 64 ring entries need;
// the remaining blocks are shared by weight (event log 36, fault log 24,
// power 12, fan 12, node 7, asset 2), the remainder going to the event
// log. size must be a positive multiple of eraseSize (a power of two) and
// large enough (60 KiB with 4 KiB blocks, 832 KiB with 64 KiB blocks).
func PlanRegion(size, eraseSize int64) (RegionHeader, error) {
	if eraseSize <= 0 || eraseSize&(eraseSize-1) != 0 || eraseSize > 1<<30 {
		return RegionHeader{}, fmt.Errorf("erase size %d is not a power of two up to 1 GiB", eraseSize)
	}
	if size <= 0 || size%eraseSize != 0 {
		return RegionHeader{}, fmt.Errorf("region size %d is not a positive multiple of the erase size %d", size, eraseSize)
	}
	blocks := size / eraseSize
	var minBlocks [NumTypes + 1]int64
	need := int64(1 + NumTypes) // header and one table block per type at least
	for _, t := range All() {
		minBlocks[t] = (int64(RecordHeaderSize+minPayload(t)) + eraseSize - 1) / eraseSize
		need += minBlocks[t]
	}
	if blocks < need {
		return RegionHeader{}, fmt.Errorf("region of %s (%d erase blocks of %s) is too small: need at least %s", hal.FormatSize(size), blocks, hal.FormatSize(eraseSize), hal.FormatSize(need*eraseSize))
	}
	if size/eraseSize > 1<<31 || size > 1<<40 {
		return RegionHeader{}, fmt.Errorf("region of %d bytes is too large (at most 1 TiB)", size)
	}
	// The header area (header block and tables) and the extents depend on
	// each other: grow the header area until its tables cover the extents
	// planned after it. Extents only shrink as it grows, so this ends.
	head := int64(1 + NumTypes)
	for {
		h, err := planExtents(blocks, head, eraseSize, &minBlocks)
		if err != nil {
			return RegionHeader{}, err
		}
		tb := int64(1)
		for i := range h.Extents {
			h.Extents[i].Table = tb * eraseSize
			tb += tableBlocks(h.Extents[i].Capacity, eraseSize)
		}
		if tb <= head {
			return h, nil
		}
		head = tb
	}
}

// planExtents shares the blocks after the first head blocks among the
// types (see PlanRegion).
func planExtents(blocks, head, eraseSize int64, minBlocks *[NumTypes + 1]int64) (RegionHeader, error) {
	rest := blocks - head
	for _, t := range All() {
		rest -= minBlocks[t]
	}
	if rest < 0 {
		return RegionHeader{}, fmt.Errorf("region of %d erase blocks is too small for its change tables and extents", blocks)
	}
	var wsum int64
	for _, t := range All() {
		wsum += extentWeight[t]
	}
	h := RegionHeader{Version: RegionVersion, EraseSize: eraseSize, Size: blocks * eraseSize}
	give := make([]int64, NumTypes+1)
	var given int64
	for _, t := range All() {
		give[t] = rest * extentWeight[t] / wsum
		given += give[t]
	}
	give[EventLog] += rest - given
	off := head * eraseSize
	for _, t := range All() {
		c := (minBlocks[t] + give[t]) * eraseSize
		// A payload length is a uint32: cap the extent, leave the rest unused.
		if c > 1<<31 {
			c = 1 << 31
		}
		h.Extents = append(h.Extents, ExtentInfo{Type: t, Off: off, Capacity: c})
		off += c
	}
	return h, nil
}

// Encode returns the encoded header (RegionHeaderSize bytes with six
// extents).
func (h RegionHeader) Encode() []byte {
	le := binary.LittleEndian
	b := make([]byte, regionFixed+len(h.Extents)*extentEntry+4)
	copy(b, RegionMagic)
	le.PutUint16(b[8:], h.Version)
	le.PutUint16(b[10:], uint16(len(h.Extents)))
	le.PutUint32(b[12:], uint32(h.EraseSize))
	le.PutUint64(b[16:], uint64(h.Size))
	for i, e := range h.Extents {
		x := b[regionFixed+i*extentEntry:]
		x[0] = byte(e.Type)
		if h.Version >= RegionVersion && h.EraseSize > 0 {
			le.PutUint32(x[4:], uint32(e.Table/h.EraseSize))
		}
		le.PutUint64(x[8:], uint64(e.Off))
		le.PutUint64(x[16:], uint64(e.Capacity))
	}
	n := len(b) - 4
	le.PutUint32(b[n:], Checksum(b[:n]))
	return b
}

// ErrRegionErased is wrapped, together with ErrCorrupt, by the error of
// DecodeRegionHeader (and so of OpenRegion) for a region whose header is
// erased: a region never formatted, or erased since. That error's text is
// "corrupt information: " followed by ErrRegionErased's own text, "no
// region header (erased); format the region first". A caller that knows
// which command formats the region tests for it with errors.Is and says
// so; a caller that has only the text of such an error (a report) finds
// ErrRegionErased's text in it.
var ErrRegionErased = errors.New("no region header (erased); format the region first")

// DecodeRegionHeader parses and validates a region header from the start of
// b: magic, version, checksum, and an extent table with each of the six
// types exactly once, in layout order, erase-block aligned, inside the
// region, after the header block and not overlapping. Every error wraps
// ErrCorrupt; an erased header's also wraps ErrRegionErased.
func DecodeRegionHeader(b []byte) (RegionHeader, error) {
	le := binary.LittleEndian
	if len(b) < regionFixed {
		return RegionHeader{}, fmt.Errorf("%w: region header is %d bytes, want %d", ErrCorrupt, len(b), RegionHeaderSize)
	}
	if hal.IsErased(b[:regionFixed]) {
		return RegionHeader{}, fmt.Errorf("%w: %w", ErrCorrupt, ErrRegionErased)
	}
	if string(b[:8]) != RegionMagic {
		return RegionHeader{}, fmt.Errorf("%w: region magic %q, want %q", ErrCorrupt, b[:8], RegionMagic)
	}
	n := int(le.Uint16(b[10:]))
	if n != NumTypes {
		return RegionHeader{}, fmt.Errorf("%w: region header lists %d extents, want %d", ErrCorrupt, n, NumTypes)
	}
	end := regionFixed + n*extentEntry
	if len(b) < end+4 {
		return RegionHeader{}, fmt.Errorf("%w: region header is %d bytes, want %d", ErrCorrupt, len(b), end+4)
	}
	if got, want := le.Uint32(b[end:]), Checksum(b[:end]); got != want {
		return RegionHeader{}, fmt.Errorf("%w: region header crc %#08x, computed %#08x", ErrCorrupt, got, want)
	}
	h := RegionHeader{Version: le.Uint16(b[8:]), EraseSize: int64(le.Uint32(b[12:])), Size: int64(le.Uint64(b[16:]))}
	if h.Version != RegionVersion && h.Version != RegionVersionPlain {
		return RegionHeader{}, fmt.Errorf("%w: region version %d, want %d or %d", ErrCorrupt, h.Version, RegionVersionPlain, RegionVersion)
	}
	if es := h.EraseSize; es <= 0 || es&(es-1) != 0 {
		return RegionHeader{}, fmt.Errorf("%w: region erase size %d is not a power of two", ErrCorrupt, es)
	}
	if h.Size <= 0 || h.Size%h.EraseSize != 0 || h.Size > 1<<40 {
		return RegionHeader{}, fmt.Errorf("%w: region size %d is not a positive multiple of the erase size %d", ErrCorrupt, h.Size, h.EraseSize)
	}
	next := h.EraseSize
	nextTable := h.EraseSize
	for i := 0; i < n; i++ {
		x := b[regionFixed+i*extentEntry:]
		e := ExtentInfo{Type: Type(x[0]), Off: int64(le.Uint64(x[8:])), Capacity: int64(le.Uint64(x[16:]))}
		want := All()[i]
		reserved := x[1:8]
		if h.Version >= RegionVersion {
			reserved = x[1:4]
			e.Table = int64(le.Uint32(x[4:])) * h.EraseSize
		}
		switch {
		case e.Type != want:
			return RegionHeader{}, fmt.Errorf("%w: extent %d is type %v, want %v", ErrCorrupt, i, e.Type, want)
		case !allZero(reserved):
			return RegionHeader{}, fmt.Errorf("%w: %v extent reserved bytes are not zero", ErrCorrupt, e.Type)
		case h.Version >= RegionVersion && e.Table != nextTable:
			return RegionHeader{}, fmt.Errorf("%w: %v change table at %#x, want %#x (after the previous table)", ErrCorrupt, e.Type, e.Table, nextTable)
		case e.Off < next || e.Off%h.EraseSize != 0:
			return RegionHeader{}, fmt.Errorf("%w: %v extent at %#x overlaps the previous one or is not aligned to %#x", ErrCorrupt, e.Type, e.Off, h.EraseSize)
		case e.Capacity <= 0 || e.Capacity%h.EraseSize != 0 || e.Capacity > 1<<31:
			return RegionHeader{}, fmt.Errorf("%w: %v extent capacity %#x is not a positive multiple of %#x up to 2 GiB", ErrCorrupt, e.Type, e.Capacity, h.EraseSize)
		case e.Off > h.Size || e.Capacity > h.Size-e.Off:
			return RegionHeader{}, fmt.Errorf("%w: %v extent [%#x+%#x] ends past the region's %#x bytes", ErrCorrupt, e.Type, e.Off, e.Capacity, h.Size)
		case e.Capacity < int64(RecordHeaderSize+minPayload(e.Type)):
			return RegionHeader{}, fmt.Errorf("%w: %v extent capacity %d is below its minimum %d", ErrCorrupt, e.Type, e.Capacity, RecordHeaderSize+minPayload(e.Type))
		}
		if h.Version >= RegionVersion {
			nextTable = e.Table + tableBlocks(e.Capacity, h.EraseSize)*h.EraseSize
		}
		next = e.Off + e.Capacity
		h.Extents = append(h.Extents, e)
	}
	if h.Version >= RegionVersion && h.Extents[0].Off < nextTable {
		return RegionHeader{}, fmt.Errorf("%w: change tables end at %#x, past the first extent at %#x", ErrCorrupt, nextTable, h.Extents[0].Off)
	}
	return h, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Region is an opened primary information region: where the CMC's services
// keep the live information, on the primary chip. It reads and writes
// through its hal.Flash and keeps no cached contents, so it always sees what
// the chip holds. A Region is used by one goroutine at a time (like the
// hal.Flash under it).
type Region struct {
	f      hal.Flash
	geo    hal.Geometry
	off    int64
	size   int64
	header RegionHeader
	ext    [NumTypes + 1]ExtentInfo
}

// checkPlace validates that [off, off+size) is an erase-aligned range of f.
func checkPlace(f hal.Flash, off, size int64) (hal.Geometry, error) {
	g := f.Geometry()
	if g.EraseSize <= 0 {
		return g, fmt.Errorf("device %q reports erase size %d", g.Name, g.EraseSize)
	}
	if off < 0 || size <= 0 || off%g.EraseSize != 0 || size%g.EraseSize != 0 {
		return g, fmt.Errorf("information region [%#x+%#x] on %s: offset and size must be positive multiples of the erase size %#x", off, size, g.Name, g.EraseSize)
	}
	if off > g.Size || size > g.Size-off {
		return g, fmt.Errorf("information region [%#x+%#x] does not fit %s (%s)", off, size, g.Name, hal.FormatSize(g.Size))
	}
	return g, nil
}

// FormatRegion lays out an empty information region of size bytes at off on
// f (both multiples of the erase size), version RegionVersion (with change
// tables): it erases the region's blocks that are not already erased,
// writes every type's Default record (sequence 1) and its change table,
// and writes the region header last, so that a region whose format was cut
// short does not open. Bad arguments return an error before f is touched.
func FormatRegion(f hal.Flash, off, size int64) error {
	g, err := checkPlace(f, off, size)
	if err != nil {
		return err
	}
	h, err := PlanRegion(size, g.EraseSize)
	if err != nil {
		return fmt.Errorf("information region [%#x+%#x] on %s: %w", off, size, g.Name, err)
	}
	buf := make([]byte, g.EraseSize)
	for b := off; b < off+size; b += g.EraseSize {
		if _, err := f.ReadAt(buf, b); err != nil {
			return fmt.Errorf("format information region: %w", err)
		}
		if !hal.IsErased(buf) {
			if err := f.Erase(b, g.EraseSize); err != nil {
				return fmt.Errorf("format information region: %w", err)
			}
		}
	}
	r := &Region{f: f, geo: g, off: off, size: size, header: h}
	for _, e := range h.Extents {
		r.ext[e.Type] = e
	}
	for _, t := range All() {
		p := Default(t)
		rec := append(encodeRecordHeader(RecordHeader{Type: t, Seq: 1, PayloadLen: uint32(len(p)), PayloadCRC: Checksum(p)}), p...)
		if _, err := r.program(off+r.ext[t].Off, rec, nil); err != nil {
			return fmt.Errorf("format information region: write %v defaults: %w", t, err)
		}
		if _, err := r.writeTable(t, p); err != nil {
			return fmt.Errorf("format information region: write %v defaults: %w", t, err)
		}
	}
	if _, err := r.program(off, h.Encode(), nil); err != nil {
		return fmt.Errorf("format information region: write header: %w", err)
	}
	return nil
}

// OpenRegion opens the information region at off (size bytes) on f and
// validates its header: it must have been formatted for this size and the
// device's erase size. Errors about the contents wrap ErrCorrupt.
func OpenRegion(f hal.Flash, off, size int64) (*Region, error) {
	g, err := checkPlace(f, off, size)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, RegionHeaderSize)
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil, fmt.Errorf("open information region: %w", err)
	}
	h, err := DecodeRegionHeader(buf)
	if err != nil {
		return nil, fmt.Errorf("information region at %#x on %s: %w", off, g.Name, err)
	}
	if h.Size != size {
		return nil, fmt.Errorf("information region at %#x on %s: %w: formatted for %s, opened as %s", off, g.Name, ErrCorrupt, hal.FormatSize(h.Size), hal.FormatSize(size))
	}
	if h.EraseSize%g.EraseSize != 0 {
		return nil, fmt.Errorf("information region at %#x on %s: %w: laid out for erase size %s, device has %s", off, g.Name, ErrCorrupt, hal.FormatSize(h.EraseSize), hal.FormatSize(g.EraseSize))
	}
	r := &Region{f: f, geo: g, off: off, size: size, header: h}
	for _, e := range h.Extents {
		r.ext[e.Type] = e
	}
	return r, nil
}

// Flash returns the device the region lives on.
func (r *Region) Flash() hal.Flash { return r.f }

// Offset returns the region's chip offset; Size its size in bytes.
func (r *Region) Offset() int64 { return r.off }

// Size returns the region's size in bytes.
func (r *Region) Size() int64 { return r.size }

// Header returns the region's decoded header (a copy).
func (r *Region) Header() RegionHeader {
	h := r.header
	h.Extents = append([]ExtentInfo(nil), h.Extents...)
	return h
}

// Extent returns where t's record (header and payload) lives: its chip
// offset and its capacity in bytes, both erase-block aligned. The payload
// starts RecordHeaderSize bytes after off. An invalid type returns 0, 0.
func (r *Region) Extent(t Type) (off, size int64) {
	if !t.Valid() {
		return 0, 0
	}
	return r.off + r.ext[t].Off, r.ext[t].Capacity
}

// Capacity returns the largest payload t's extent holds; 0 for an invalid
// type.
func (r *Region) Capacity(t Type) int {
	if !t.Valid() {
		return 0
	}
	return int(r.ext[t].Capacity - RecordHeaderSize)
}

func (r *Region) checkType(t Type) error {
	if !t.Valid() {
		return fmt.Errorf("unknown information type %d (want 1..%d)", uint8(t), NumTypes)
	}
	return nil
}

// Read returns t's current record after verifying it: header magic,
// version, type, header CRC, payload length within the extent, and the
// payload CRC. Malformed contents return an error wrapping ErrCorrupt that
// names the type, the offset and the field; flash errors are returned
// wrapped as they are.
func (r *Region) Read(t Type) (Record, error) {
	return r.ReadInto(t, nil)
}

// ReadInto is Read with the payload read into buf's storage when it has
// the capacity (else, or if buf is nil, into a new slice): the returned Record's Payload
// aliases buf then. The flash operations are Read's.
func (r *Region) ReadInto(t Type, buf []byte) (Record, error) {
	return r.readInto(t, buf, nil, 0)
}

// ReadEqual reads t's record with ReadInto's flash operations (the
// header, then the payload into buf's storage when it has the capacity)
// and returns nil if Read would return a valid record whose payload is
// exactly want. crc must be Checksum(want): a payload equal to want has
// that CRC, so the payload read is compared with want byte for byte and
// its CRC is not computed again (the header's must be crc). Otherwise the
// error says why (ErrCorrupt for malformed contents, as Read's). It
// returns the payload buffer (buf, or a larger one it allocated) for
// reuse.
func (r *Region) ReadEqual(t Type, want []byte, crc uint32, buf []byte) ([]byte, error) {
	if want == nil {
		want = []byte{}
	}
	rec, err := r.readInto(t, buf, want, crc)
	if cap(rec.Payload) > cap(buf) {
		buf = rec.Payload[:0]
	}
	return buf, err
}

// readInto is ReadInto, or with want not nil ReadEqual's check of the
// record against want (whose CRC is wantCRC).
func (r *Region) readInto(t Type, buf, want []byte, wantCRC uint32) (Record, error) {
	if err := r.checkType(t); err != nil {
		return Record{}, err
	}
	off, capacity := r.Extent(t)
	hb := make([]byte, RecordHeaderSize)
	if _, err := r.f.ReadAt(hb, off); err != nil {
		return Record{}, fmt.Errorf("read %v record: %w", t, err)
	}
	h, err := DecodeRecordHeader(hb)
	if err != nil {
		return Record{}, fmt.Errorf("%v record at %#x: %w", t, off, err)
	}
	if h.Type != t {
		return Record{}, fmt.Errorf("%v record at %#x: %w: header says type %v", t, off, ErrCorrupt, h.Type)
	}
	if int64(h.PayloadLen) > capacity-RecordHeaderSize {
		return Record{}, fmt.Errorf("%v record at %#x: %w: payload length %d exceeds the extent's %d", t, off, ErrCorrupt, h.PayloadLen, capacity-RecordHeaderSize)
	}
	var p []byte
	if buf != nil && cap(buf) >= int(h.PayloadLen) {
		p = buf[:h.PayloadLen]
	} else {
		p = make([]byte, h.PayloadLen)
	}
	if _, err := r.f.ReadAt(p, off+RecordHeaderSize); err != nil {
		return Record{}, fmt.Errorf("read %v record: %w", t, err)
	}
	if want != nil {
		rec := Record{Type: t, Seq: h.Seq, Payload: p, CRC: h.PayloadCRC}
		switch {
		case !bytes.Equal(p, want):
			return rec, fmt.Errorf("%v record at %#x: its %d-byte payload differs from the %d bytes expected", t, off, len(p), len(want))
		case h.PayloadCRC != wantCRC:
			return rec, fmt.Errorf("%v record at %#x: %w: payload crc %#08x, header says %#08x", t, off, ErrCorrupt, wantCRC, h.PayloadCRC)
		}
		return rec, nil
	}
	if c := Checksum(p); c != h.PayloadCRC {
		return Record{}, fmt.Errorf("%v record at %#x: %w: payload crc %#08x, header says %#08x", t, off, ErrCorrupt, c, h.PayloadCRC)
	}
	return Record{Type: t, Seq: h.Seq, Payload: p, CRC: h.PayloadCRC}, nil
}

// Write stores payload as t's record, as a CMC service does: it builds the
// new record (sequence number = the previous record's + 1, or 1 if the
// previous header is unreadable) and, erase block by erase block over the
// new record's length, reads what the chip holds, skips blocks that are
// equal, programs without erasing where only 1→0 bit changes are needed
// (NOR: e.g. log entries appended into erased space), and erases and
// programs the rest. Blocks of other types' extents, and blocks of this
// extent past the new record's end, are never touched; bytes past the record
// end are unspecified. Writing a payload equal to the stored one (valid
// record) changes nothing, not even the sequence number. Writing the
// payload the stored header already describes (same type, length and
// payload CRC) over a payload the chip does not hold exactly (damaged, or
// weakly programmed and read differently) is a repair, not a change: the
// sequence number is kept, so only the blocks whose bytes differ are
// written, not the header's block too (a restore's retry after a weak
// program then erases no block the fault did not touch).
//
// A payload longer than Capacity(t) returns an error wrapping ErrTooLarge
// and changes nothing. payload is not retained. A flash failure part-way
// may leave the record corrupt (Read then reports ErrCorrupt), as on a real
// CMC.
func (r *Region) Write(t Type, payload []byte) error {
	_, err := r.write(t, payload, nil)
	return err
}

// WriteStats is what one write did on the flash.
type WriteStats struct {
	Erases          int64 // erase blocks erased
	BytesProgrammed int64
	BlocksTouched   int64 // erase blocks erased or programmed
}

// WriteCounted is Write, also returning the flash work it did.
func (r *Region) WriteCounted(t Type, payload []byte) (WriteStats, error) {
	return r.write(t, payload, nil)
}

// Rewrite is Write of prev.Type's record for a caller that has just read
// it: prev must be the Record that Read returned for that type, with its
// Payload unmodified, and the record must not have been written since
// (through this or any other Region on the chip). Erase blocks whose bytes
// equal prev's in memory are then skipped without reading them back, which
// saves reading the whole record from the chip. The result on the chip,
// the sequence number and the errors are Write's. If prev is stale the
// skipped blocks may not hold what the new record needs and the record can
// read back as ErrCorrupt; use Write when in doubt. Neither prev.Payload
// nor payload is retained.
func (r *Region) Rewrite(prev Record, payload []byte) error {
	known := append(encodeRecordHeader(RecordHeader{Type: prev.Type, Seq: prev.Seq, PayloadLen: uint32(len(prev.Payload)), PayloadCRC: prev.CRC}), prev.Payload...)
	_, err := r.write(prev.Type, payload, known)
	return err
}

func (r *Region) write(t Type, payload, known []byte) (WriteStats, error) {
	if err := r.checkType(t); err != nil {
		return WriteStats{}, err
	}
	if len(payload) > r.Capacity(t) {
		return WriteStats{}, fmt.Errorf("write %v: %w: %d bytes, the extent holds %d (reformat with a larger region)", t, ErrTooLarge, len(payload), r.Capacity(t))
	}
	off, _ := r.Extent(t)
	hb := make([]byte, RecordHeaderSize)
	if _, err := r.f.ReadAt(hb, off); err != nil {
		return WriteStats{}, fmt.Errorf("write %v: %w", t, err)
	}
	seq := uint64(1)
	crc := Checksum(payload)
	if old, err := DecodeRecordHeader(hb); err == nil && old.Type == t {
		seq = old.Seq + 1
		if old.PayloadLen == uint32(len(payload)) && old.PayloadCRC == crc {
			seq = old.Seq // the same record: a repair keeps its number
			same, err := r.holds(off+RecordHeaderSize, payload)
			if err != nil {
				return WriteStats{}, fmt.Errorf("write %v: %w", t, err)
			}
			if same {
				// Unchanged; a table left stale (a writer cut short
				// before it, or one that keeps none) is brought up to date.
				return r.writeTable(t, payload)
			}
		}
	}
	head := encodeRecordHeader(RecordHeader{Type: t, Seq: seq, PayloadLen: uint32(len(payload)), PayloadCRC: crc})
	st, err := r.programParts(off, head, payload, known)
	if err != nil {
		return st, fmt.Errorf("write %v: %w", t, err)
	}
	// The record first, then its change table: a table is never ahead of
	// the record it describes.
	tst, err := r.writeTable(t, payload)
	st.Erases += tst.Erases
	st.BytesProgrammed += tst.BytesProgrammed
	st.BlocksTouched += tst.BlocksTouched
	if err != nil {
		return st, fmt.Errorf("write %v: %w", t, err)
	}
	return st, nil
}

// holds reports whether the chip holds exactly want at off, reading it an
// erase block at a time (the operations are reads only).
func (r *Region) holds(off int64, want []byte) (bool, error) {
	eb := r.geo.EraseSize
	cur := make([]byte, min(eb, int64(len(want))))
	for lo := int64(0); lo < int64(len(want)); lo += eb {
		hi := min(lo+eb, int64(len(want)))
		c := cur[:hi-lo]
		if _, err := r.f.ReadAt(c, off+lo); err != nil {
			return false, err
		}
		if !bytes.Equal(c, want[lo:hi]) {
			return false, nil
		}
	}
	return true, nil
}

// program makes the chip hold data at off (erase-block aligned), touching
// only the erase blocks whose bytes differ: program-only when the change
// only clears bits on NOR, else erase and program. known, if not nil, is
// what the chip holds at [off, off+len(known)): blocks inside it that equal
// data are skipped without a read.
func (r *Region) program(off int64, data, known []byte) (WriteStats, error) {
	return r.programParts(off, data, nil, known)
}

// programParts is program of the bytes of head followed by those of body,
// without joining them into one buffer (a record's payload runs to
// megabytes): an erase block that lies wholly in body is programmed
// from body's own storage, the one where head ends is assembled in a
// buffer of one erase block. The operations on the chip are program's.
func (r *Region) programParts(off int64, head, body, known []byte) (WriteStats, error) {
	var st WriteStats
	eb := r.geo.EraseSize
	ws := r.geo.WriteSize
	if ws <= 0 {
		ws = 1
	}
	hl := int64(len(head))
	total := hl + int64(len(body))
	cur := make([]byte, eb)
	var join []byte // the erase block where head ends and body begins
	for lo := int64(0); lo < total; lo += eb {
		hi := min(lo+eb, total)
		var want []byte
		switch {
		case lo >= hl:
			want = body[lo-hl : hi-hl]
		case hi <= hl:
			want = head[lo:hi]
		default:
			if join == nil {
				join = make([]byte, eb)
			}
			want = join[:hi-lo]
			n := copy(want, head[lo:])
			copy(want[n:], body[:hi-hl])
		}
		if hi <= int64(len(known)) && bytes.Equal(known[lo:hi], want) {
			continue
		}
		c := cur[:hi-lo]
		if _, err := r.f.ReadAt(c, off+lo); err != nil {
			return st, err
		}
		if bytes.Equal(c, want) {
			continue
		}
		st.BlocksTouched++
		if r.geo.Kind == hal.NOR && ws == 1 && hal.ProgramsOver(c, want) {
			first, last := diffSpan(c, want)
			if _, err := r.f.WriteAt(want[first:last+1], off+lo+first); err != nil {
				return st, err
			}
			st.BytesProgrammed += last + 1 - first
			continue
		}
		if err := r.f.Erase(off+lo, eb); err != nil {
			return st, err
		}
		st.Erases++
		n := (int64(len(want)) + ws - 1) / ws * ws
		buf := want
		if n != int64(len(want)) {
			buf = make([]byte, n)
			copy(buf, want)
			for i := len(want); i < len(buf); i++ {
				buf[i] = 0xFF
			}
		}
		if _, err := r.f.WriteAt(buf, off+lo); err != nil {
			return st, err
		}
		st.BytesProgrammed += int64(len(buf))
	}
	return st, nil
}

// diffSpan returns the first and last index where a and b differ (-1, -1
// if they are equal).
func diffSpan(a, b []byte) (first, last int64) {
	n := len(b)
	f := 0
	for f+8 <= n && binary.LittleEndian.Uint64(a[f:]) == binary.LittleEndian.Uint64(b[f:]) {
		f += 8
	}
	for f < n && a[f] == b[f] {
		f++
	}
	if f == n {
		return -1, -1
	}
	l := n - 1
	for l-7 > f && binary.LittleEndian.Uint64(a[l-7:]) == binary.LittleEndian.Uint64(b[l-7:]) {
		l -= 8
	}
	for a[l] == b[l] {
		l--
	}
	return int64(f), int64(l)
}
