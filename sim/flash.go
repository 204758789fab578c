package sim

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// Options configure a simulated chip.
type Options struct {
	// Part is the chip profile (required; see LookupPart).
	Part Part
	// Size is the simulated size: 0 means Part.Size; otherwise a positive
	// multiple of the erase unit (Part.EraseUnit(EraseModel)), at most
	// Part.Size (a smaller chip of the same family, for fast tests).
	Size int64
	// MaxTiming charges Part.Max instead of Part.Typical.
	MaxTiming bool
	// Spread draws each array operation's time (page program, erase unit,
	// NAND page read) between Part.Typical and Part.Max instead of
	// charging the typical figure (see spread.go for the distribution).
	// Off by default; not with MaxTiming.
	Spread bool
	// EraseModel is the erase unit Linux's MTD layer uses (see
	// EraseModel): the chip's geometry reports it as its EraseSize, and
	// each unit erased costs one command. The zero value is Erase4K.
	EraseModel EraseModel
	// Clock is the virtual clock operations advance; chips that work
	// together share one. nil: the chip gets its own, starting at the Unix
	// epoch.
	Clock *Clock
	// Name is the geometry name used in errors, e.g. "flash0"; "" means the
	// part name.
	Name string
	// Seed drives the random values of unstable reads (see SetUnstable)
	// and, on its own stream, the timing spread.
	Seed uint64
}

// chunkBlocks is how many erase blocks share one copy-on-write chunk of the
// block table. A first write after a snapshot copies one chunk (about 5 KiB)
// and the top-level table (Size/EraseSize/chunkBlocks pointers: 4 KiB for a
// 128 MiB NOR chip).
const (
	chunkShift  = 6
	chunkBlocks = 1 << chunkShift
	// maxSpare bounds the recycled chunks a chip keeps, and its recycled
	// block buffers together with maxSpareBytes: a chip keeps up to
	// maxSpareBytes of them (at least maxSpare buffers), so that a run
	// that rewrites megabytes between two restores (a failover restoring
	// a whole information region) reuses its buffers instead of
	// allocating them again each time.
	maxSpare      = 64
	maxSpareBytes = 8 << 20
)

// span is a byte range [lo, hi) inside one erase block.
type span struct{ lo, hi int64 }

// block is the state of one erase block. Blocks live by value in chunks;
// data buffers are shared with snapshots and written in place only by the
// epoch that owns them.
type block struct {
	data     []byte // nil: erased (all 0xFF)
	owner    uint64 // epoch allowed to modify data in place
	version  uint64 // see BlockVersion
	wear     int64  // successful erases
	next     int64  // NAND: first page (index in block) that may still be programmed
	unstable []span // never modified in place (shared with snapshots)
	bad      bool
}

type chunk struct {
	epoch  uint64 // epoch allowed to modify this chunk in place
	blocks [chunkBlocks]block
}

// epochs and versions are process-wide, so state shared between flashes (a
// snapshot of one restored into another) can never be mistaken for owned
// state, and a block version is never reused for different contents.
var (
	epochs   atomic.Uint64
	versions atomic.Uint64
)

// Flash is a simulated flash chip. It implements hal.Flash, hal.Stater,
// hal.BadBlocker and io.Closer, and is safe for concurrent use (operations
// are serialized, as on a real chip's bus).
//
// It is stricter than hardware: a NOR program stores old AND new; a NAND
// program must cover whole pages, each programmed at most once per erase
// and in increasing page order within its block; erase sets 0xFF and counts
// wear per erase block, and fails with hal.ErrWornOut once a block has
// been erased Part.Endurance times. Every operation is checked in full
// before anything is touched: a rejected operation changes nothing and
// charges no time. Errors are *hal.OpError values wrapping hal sentinels.
//
// Each operation advances the virtual Clock and Stats().Elapsed by the
// part's timing (Part.Typical or Part.Max): reads CommandOverhead +
// bytes/ReadBytesPerSec (+ PageRead per NAND page touched); programs, per
// program page touched, CommandOverhead + PageProgram, plus the bytes' bus
// transfer; erases, per erase unit of the geometry (Options.EraseModel),
// one command: CommandOverhead + Timing.UnitErase, as Linux's spi-nor core
// issues them (see EraseModel).
type Flash struct {
	mu        sync.Mutex
	part      Part
	geo       hal.Geometry
	timing    Timing
	unitErase time.Duration // erase time of one erase unit (geo.EraseSize)
	spread    *spread       // nil: every operation takes the corner's figure
	clock     *Clock
	blkShift  uint // log2 EraseSize
	pageShift uint // log2 PageSize
	nblocks   int64

	chunks    []*chunk
	topShared bool   // chunks slice is shared with a snapshot
	epoch     uint64 // current epoch (see chunk.epoch, block.owner)
	stats     hal.Stats
	rng       rand.PCG
	closed    bool

	// Recycling: chunks and block buffers made since the last freeze belong
	// to the live state only (a snapshot freezes everything), so Restore can
	// reuse them instead of leaving them to the garbage collector.
	ownedChunks []int64  // indexes of chunks copied in the current epoch
	spareTop    []*chunk // a block table no one references
	spareChunks []*chunk // chunks no one references
	spareData   [][]byte // block buffers no one references

	file *imageFile // nil: in memory only
}

var (
	_ hal.Flash      = (*Flash)(nil)
	_ hal.Stater     = (*Flash)(nil)
	_ hal.BadBlocker = (*Flash)(nil)
	_ io.Closer      = (*Flash)(nil)
	_ hal.Clock      = (*Clock)(nil)
)

// New returns an erased simulated chip.
func New(o Options) (*Flash, error) { return newFlash(o) }

func newFlash(o Options) (*Flash, error) {
	p := o.Part
	if p.Name == "" {
		return nil, fmt.Errorf("options: a part is required (use sim.LookupPart; known parts: %s)", strings.Join(PartNames(), ", "))
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	geo, err := p.GeometryFor(o.EraseModel)
	if err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	size := o.Size
	if size == 0 {
		size = p.Size
	}
	if size < 0 || size%geo.EraseSize != 0 || size > p.Size {
		return nil, fmt.Errorf("size %d for part %s: want a positive multiple of the erase size %s (erase model %v), at most %s",
			o.Size, p.Name, hal.FormatSize(geo.EraseSize), o.EraseModel, hal.FormatSize(p.Size))
	}
	geo.Size = size
	if o.Name != "" {
		geo.Name = o.Name
	}
	clock := o.Clock
	if clock == nil {
		clock = NewClock(time.Unix(0, 0).UTC())
	}
	timing := p.Typical
	if o.MaxTiming {
		if o.Spread {
			return nil, fmt.Errorf("options: MaxTiming charges the maximum on every operation and Spread draws between typical and maximum: choose one")
		}
		timing = p.Max
	}
	f := &Flash{
		part:      p,
		geo:       geo,
		timing:    timing,
		unitErase: timing.UnitErase(o.EraseModel),
		clock:     clock,
		blkShift:  uint(bits.TrailingZeros64(uint64(geo.EraseSize))),
		pageShift: uint(bits.TrailingZeros64(uint64(p.PageSize))),
		nblocks:   size / geo.EraseSize,
		epoch:     epochs.Add(1),
	}
	f.rng.Seed(o.Seed, o.Seed^0x9e3779b97f4a7c15)
	if o.Spread {
		f.spread = newSpread(p, o.EraseModel, o.Seed)
	}
	nchunks := (f.nblocks + chunkBlocks - 1) >> chunkShift
	f.chunks = make([]*chunk, nchunks)
	for i := range f.chunks {
		f.chunks[i] = &chunk{epoch: f.epoch}
	}
	return f, nil
}

// Geometry returns the chip's geometry.
func (f *Flash) Geometry() hal.Geometry { return f.geo }

// Part returns the chip's part profile.
func (f *Flash) Part() Part { return f.part }

// Clock returns the virtual clock the chip advances.
func (f *Flash) Clock() *Clock { return f.clock }

// Stats returns the work done so far; Elapsed is virtual time.
func (f *Flash) Stats() hal.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// blk returns block b for reading.
func (f *Flash) blk(b int64) *block {
	return &f.chunks[b>>chunkShift].blocks[b&(chunkBlocks-1)]
}

// mut returns block b for writing: the top-level table and b's chunk are
// copied first if a snapshot shares them.
func (f *Flash) mut(b int64) *block {
	if f.topShared {
		if top := f.spareTop; top != nil {
			f.spareTop = nil
			copy(top, f.chunks)
			f.chunks = top
		} else {
			f.chunks = append([]*chunk(nil), f.chunks...)
		}
		f.topShared = false
	}
	ci := b >> chunkShift
	c := f.chunks[ci]
	if c.epoch != f.epoch {
		var nc *chunk
		if k := len(f.spareChunks); k > 0 {
			nc = f.spareChunks[k-1]
			f.spareChunks = f.spareChunks[:k-1]
		} else {
			nc = new(chunk)
		}
		*nc = *c
		nc.epoch = f.epoch
		f.chunks[ci] = nc
		f.ownedChunks = append(f.ownedChunks, ci)
		c = nc
	}
	return &c.blocks[b&(chunkBlocks-1)]
}

// mutData returns bl's data for writing in place, copying it (or
// materializing the erased state) if a snapshot shares it.
func (f *Flash) mutData(bl *block) []byte {
	if bl.data != nil && bl.owner == f.epoch {
		return bl.data
	}
	var d []byte
	if k := len(f.spareData); k > 0 {
		d = f.spareData[k-1]
		f.spareData = f.spareData[:k-1]
	} else {
		d = make([]byte, f.geo.EraseSize)
	}
	if bl.data == nil {
		fillFF(d)
	} else {
		copy(d, bl.data)
	}
	bl.data = d
	bl.owner = f.epoch
	return d
}

func (f *Flash) touched(bl *block) { bl.version = versions.Add(1) }

func (f *Flash) charge(d time.Duration) {
	f.stats.Elapsed += d
	f.clock.Advance(d)
}

// busTime is the transfer time of n bytes on the bus.
func (f *Flash) busTime(n int64) time.Duration {
	return time.Duration(n * int64(time.Second) / f.timing.ReadBytesPerSec)
}

func (f *Flash) opErr(op string, off, n int64, err error) error {
	return &hal.OpError{Op: op, Dev: f.geo.Name, Off: off, Len: n, Err: err}
}

// closedErr returns the error of an operation on a closed chip, or on a
// chip whose image file failed a write that could not be reported.
func (f *Flash) closedErr(op string, off, n int64) error {
	if f.closed {
		return f.opErr(op, off, n, hal.ErrClosed)
	}
	if f.file != nil {
		if err := f.file.check(); err != nil {
			return f.opErr(op, off, n, err)
		}
	}
	return nil
}

// checkBad fails if any block of [off, off+n) is bad (n > 0).
func (f *Flash) checkBad(op string, off, n int64) error {
	if f.geo.Kind != hal.NAND || n <= 0 {
		return nil
	}
	for b := off >> f.blkShift; b <= (off+n-1)>>f.blkShift; b++ {
		if f.blk(b).bad {
			return f.opErr(op, off, n, fmt.Errorf("%w: erase block %d at %#x", hal.ErrBadBlock, b, b<<f.blkShift))
		}
	}
	return nil
}

// ReadAt reads len(p) bytes at off. A read that crosses the end of the chip
// fails with ErrOutOfRange and reads nothing (no io.EOF); a read that
// touches a bad block fails with ErrBadBlock. Bytes made unstable by
// SetUnstable may read differently each time. A zero-length read in range
// does nothing and is not counted.
func (f *Flash) ReadAt(p []byte, off int64) (int, error) {
	return f.ReadAtPieces(p, off, nil)
}

// ReadAtPieces is ReadAt that calls piece (if not nil) after each erase
// block's part of p is copied (see hal.PieceReader). piece runs with the
// device locked: it must not call the device.
func (f *Flash) ReadAtPieces(p []byte, off int64, piece func(filled int)) (int, error) {
	n := int64(len(p))
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.closedErr("read", off, n); err != nil {
		return 0, err
	}
	if err := hal.CheckRange(f.geo, "read", off, n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	if err := f.checkBad("read", off, n); err != nil {
		return 0, err
	}
	es := f.geo.EraseSize
	for done := int64(0); done < n; {
		pos := off + done
		bl := f.blk(pos >> f.blkShift)
		in := pos & (es - 1)
		k := min(es-in, n-done)
		dst := p[done : done+k]
		if bl.data == nil {
			fillFF(dst)
		} else {
			copy(dst, bl.data[in:in+k])
		}
		if bl.unstable != nil {
			f.scramble(bl, dst, in)
		}
		done += k
		if piece != nil {
			piece(int(done))
		}
	}
	f.stats.Reads++
	f.stats.BytesRead += n
	f.charge(f.readCost(off, n))
	return int(n), nil
}

// scramble sets random bits among the 0 bits of dst (which holds block
// bytes starting at in) wherever the block is unstable.
func (f *Flash) scramble(bl *block, dst []byte, in int64) {
	end := in + int64(len(dst))
	for _, s := range bl.unstable {
		lo, hi := max(s.lo, in), min(s.hi, end)
		for i := lo; i < hi; {
			r := f.rng.Uint64()
			for j := 0; j < 8 && i < hi; j++ {
				b := &dst[i-in]
				*b |= byte(r) &^ *b
				r >>= 8
				i++
			}
		}
	}
}

// WriteAt programs p at off (never erases). On NOR any byte range may be
// programmed any number of times and the result is old AND p. On NAND off
// and len(p) must be page-aligned (ErrUnaligned), and each page must not
// have been programmed since its block's last erase nor come before a page
// already programmed in that block (ErrNAND). Bad blocks: ErrBadBlock.
// The whole request is checked before anything is programmed; on error
// nothing changed and 0 is returned. A zero-length write in range does
// nothing and is not counted.
func (f *Flash) WriteAt(p []byte, off int64) (int, error) {
	n := int64(len(p))
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.closedErr("program", off, n); err != nil {
		return 0, err
	}
	if err := hal.CheckProgram(f.geo, off, n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	if f.geo.Kind == hal.NAND {
		if err := f.checkBad("program", off, n); err != nil {
			return 0, err
		}
		if err := f.checkNANDOrder(off, n); err != nil {
			return 0, err
		}
	}
	es := f.geo.EraseSize
	for done := int64(0); done < n; {
		pos := off + done
		b := pos >> f.blkShift
		in := pos & (es - 1)
		k := min(es-in, n-done)
		bl := f.mut(b)
		d := f.mutData(bl)
		andInto(d[in:in+k], p[done:done+k])
		if bl.unstable != nil {
			bl.unstable = removeSpan(bl.unstable, in, in+k)
		}
		if f.geo.Kind == hal.NAND {
			bl.next = (in + k) >> f.pageShift
		}
		f.touched(bl)
		done += k
	}
	if f.file != nil {
		if err := f.file.writeRange(f, off, n); err != nil {
			return 0, f.opErr("program", off, n, err)
		}
	}
	f.stats.Programs++
	f.stats.PagesProgrammed += (off+n-1)>>f.pageShift - off>>f.pageShift + 1
	f.stats.BytesProgrammed += n
	f.charge(f.programCost(off, n))
	return int(n), nil
}

func (f *Flash) checkNANDOrder(off, n int64) error {
	es := f.geo.EraseSize
	for pos := off; pos < off+n; {
		b := pos >> f.blkShift
		in := pos & (es - 1)
		page := in >> f.pageShift
		if next := f.blk(b).next; page < next {
			return f.opErr("program", off, n, fmt.Errorf("%w: page %d of erase block %d (at %#x) is programmed or before a programmed page; next programmable page is %d (erase the block first)",
				hal.ErrNAND, page, b, pos, next))
		}
		pos = (b + 1) << f.blkShift
	}
	return nil
}

// Erase sets n bytes at off to 0xFF. off and n must be positive multiples of
// the erase size (ErrUnaligned). Every block is checked first: if one is
// bad (ErrBadBlock) or has already been erased Part.Endurance times
// (ErrWornOut), nothing is erased and no time is charged. Each erased block's
// wear goes up by one, and each costs one erase command of the erase unit,
// however the request is aligned (see EraseModel).
func (f *Flash) Erase(off, n int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.closedErr("erase", off, n); err != nil {
		return err
	}
	if err := hal.CheckErase(f.geo, off, n); err != nil {
		return err
	}
	if err := f.checkBad("erase", off, n); err != nil {
		return err
	}
	first, last := off>>f.blkShift, (off+n-1)>>f.blkShift
	for b := first; b <= last; b++ {
		if w := f.blk(b).wear; w >= int64(f.part.Endurance) {
			return f.opErr("erase", off, n, fmt.Errorf("%w: erase block %d at %#x has had %d erases (endurance %d)",
				hal.ErrWornOut, b, b<<f.blkShift, w, f.part.Endurance))
		}
	}
	for b := first; b <= last; b++ {
		bl := f.mut(b)
		if bl.data != nil && bl.owner == f.epoch {
			fillFF(bl.data) // keep the owned buffer: the next program needs no allocation
		} else {
			bl.data = nil
		}
		bl.unstable = nil
		bl.next = 0
		bl.wear++
		f.touched(bl)
	}
	if f.file != nil {
		if err := f.file.eraseRange(f, first, last); err != nil {
			return f.opErr("erase", off, n, err)
		}
	}
	// One command per erase unit, as spi_nor_erase issues them (see
	// EraseModel).
	f.stats.Erases += last - first + 1
	f.charge(f.eraseCost(first, last))
	return nil
}

// IsBad reports whether the erase block containing off is bad. NOR chips
// never have bad blocks.
func (f *Flash) IsBad(off int64) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.closedErr("isbad", off, 0); err != nil {
		return false, err
	}
	if off < 0 || off >= f.geo.Size {
		return false, f.opErr("isbad", off, 0, fmt.Errorf("%w: device is %#x bytes", hal.ErrOutOfRange, f.geo.Size))
	}
	return f.blk(off >> f.blkShift).bad, nil
}

// MarkBad marks the erase block containing off bad; later reads, programs
// and erases touching it fail with ErrBadBlock. Its contents and wear are
// kept. Marking a bad block again is not an error. On NOR it fails with
// ErrUnsupported (NOR has no bad-block management).
func (f *Flash) MarkBad(off int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.closedErr("markbad", off, 0); err != nil {
		return err
	}
	if off < 0 || off >= f.geo.Size {
		return f.opErr("markbad", off, 0, fmt.Errorf("%w: device is %#x bytes", hal.ErrOutOfRange, f.geo.Size))
	}
	if f.geo.Kind != hal.NAND {
		return f.opErr("markbad", off, 0, fmt.Errorf("%w: nor flash has no bad-block management", hal.ErrUnsupported))
	}
	b := off >> f.blkShift
	bl := f.mut(b)
	bl.bad = true
	f.touched(bl)
	if f.file != nil {
		if err := f.file.writeMeta(f, b); err != nil {
			return f.opErr("markbad", off, 0, err)
		}
	}
	return nil
}

// Wear returns how many times erase block block has been erased (0 for a
// block number out of range).
func (f *Flash) Wear(block int64) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if block < 0 || block >= f.nblocks {
		return 0
	}
	return f.blk(block).wear
}

// MaxWear returns the highest wear of any erase block.
func (f *Flash) MaxWear() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var m int64
	for b := int64(0); b < f.nblocks; b++ {
		m = max(m, f.blk(b).wear)
	}
	return m
}

// BlockVersion returns a number that changes whenever erase block block's
// contents (or its bad or unstable state) change, and that is never reused
// for other contents, even across Restore and across chips: a harness may
// cache a digest per (block, version). A never-touched block has version 0
// (erased). Out of range: 0.
func (f *Flash) BlockVersion(block int64) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if block < 0 || block >= f.nblocks {
		return 0
	}
	return f.blk(block).version
}

// KnownErased reports whether erase block block reads all 0xFF for sure
// without reading it: it holds no data (never programmed, or erased since
// and its buffer dropped, as when a snapshot shares it) and is not bad. A
// harness may take it instead of reading the block; false means unknown
// (read it). Out of range: false.
func (f *Flash) KnownErased(block int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if block < 0 || block >= f.nblocks {
		return false
	}
	bl := f.blk(block)
	return bl.data == nil && !bl.bad
}

// Close closes the chip (and its image file, after syncing it); later
// operations fail with ErrClosed. Closing twice is not an error.
func (f *Flash) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	if f.file != nil {
		if err := f.file.close(); err != nil {
			return f.opErr("close", 0, 0, fmt.Errorf("%w: %w", hal.ErrMedia, err))
		}
	}
	return nil
}

// Sync flushes an image file to stable storage (fsync). In-memory chips:
// nothing to do. WriteAt and Erase already wrote through to the file, so
// a killed process loses nothing they acknowledged; Sync also survives a
// host crash.
func (f *Flash) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.closedErr("sync", 0, 0); err != nil {
		return err
	}
	if f.file != nil {
		if err := f.file.sync(); err != nil {
			return f.opErr("sync", 0, 0, fmt.Errorf("%w: %w", hal.ErrMedia, err))
		}
	}
	return nil
}

var ffPage = bytes.Repeat([]byte{0xFF}, 64<<10)

func fillFF(p []byte) {
	for len(p) > 0 {
		p = p[copy(p, ffPage):]
	}
}

// andInto sets dst[i] &= src[i].
func andInto(dst, src []byte) {
	src = src[:len(dst)]
	for len(dst) >= 32 {
		d, s := dst[:32:32], src[:32:32]
		le := binary.LittleEndian
		le.PutUint64(d[0:], le.Uint64(d[0:])&le.Uint64(s[0:]))
		le.PutUint64(d[8:], le.Uint64(d[8:])&le.Uint64(s[8:]))
		le.PutUint64(d[16:], le.Uint64(d[16:])&le.Uint64(s[16:]))
		le.PutUint64(d[24:], le.Uint64(d[24:])&le.Uint64(s[24:]))
		dst, src = dst[32:], src[32:]
	}
	for i := range dst {
		dst[i] &= src[i]
	}
}

// removeSpan returns ss without [lo, hi), as a new slice (nil if empty).
func removeSpan(ss []span, lo, hi int64) []span {
	var out []span
	for _, s := range ss {
		if s.hi <= lo || s.lo >= hi {
			out = append(out, s)
			continue
		}
		if s.lo < lo {
			out = append(out, span{s.lo, lo})
		}
		if s.hi > hi {
			out = append(out, span{hi, s.hi})
		}
	}
	return out
}
