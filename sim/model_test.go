package sim

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/stretchr/testify/require"
)

// model is a plain byte-array flash with the simulator's rules, written as
// simply as possible, to check the simulator against.
type model struct {
	p        Part
	t        Timing
	em       EraseModel
	es       int64 // erase unit of em
	size     int64
	mem      []byte
	unstable []bool
	wear     []int64
	bad      []bool
	next     []int64 // NAND: next programmable page per block
	stats    hal.Stats
}

func newModel(p Part, em EraseModel, size int64) *model {
	es, err := p.EraseUnit(em)
	if err != nil {
		panic(err)
	}
	nb := size / es
	m := &model{p: p, t: p.Typical, em: em, es: es, size: size, mem: bytes.Repeat([]byte{0xFF}, int(size)),
		unstable: make([]bool, size), wear: make([]int64, nb), bad: make([]bool, nb), next: make([]int64, nb)}
	return m
}

func (m *model) clone() *model {
	c := *m
	c.mem = bytes.Clone(m.mem)
	c.unstable = append([]bool(nil), m.unstable...)
	c.wear = append([]int64(nil), m.wear...)
	c.bad = append([]bool(nil), m.bad...)
	c.next = append([]int64(nil), m.next...)
	return &c
}

func (m *model) pages(off, n int64, ps int64) int64 {
	cnt := int64(0)
	for pg := off / ps; pg*ps < off+n; pg++ {
		cnt++
	}
	return cnt
}

func (m *model) bus(n int64) time.Duration {
	return time.Duration(n * int64(time.Second) / m.t.ReadBytesPerSec)
}

func (m *model) anyBad(off, n int64) bool {
	if m.p.Kind != hal.NAND {
		return false
	}
	for b := off / m.es; b*m.es < off+n; b++ {
		if m.bad[b] {
			return true
		}
	}
	return false
}

func (m *model) read(n, off int64) ([]byte, error) {
	if off < 0 || n < 0 || off+n > m.size {
		return nil, hal.ErrOutOfRange
	}
	if n == 0 {
		return nil, nil
	}
	if m.anyBad(off, n) {
		return nil, hal.ErrBadBlock
	}
	d := m.t.CommandOverhead + m.bus(n)
	if m.p.Kind == hal.NAND {
		d += time.Duration(m.pages(off, n, m.p.PageSize)) * m.t.PageRead
	}
	m.stats.Reads++
	m.stats.BytesRead += n
	m.stats.Elapsed += d
	return bytes.Clone(m.mem[off : off+n]), nil
}

func (m *model) write(p []byte, off int64) error {
	n := int64(len(p))
	if off < 0 || off+n > m.size {
		return hal.ErrOutOfRange
	}
	if off%m.p.WriteSize != 0 || n%m.p.WriteSize != 0 {
		return hal.ErrUnaligned
	}
	if n == 0 {
		return nil
	}
	if m.anyBad(off, n) {
		return hal.ErrBadBlock
	}
	if m.p.Kind == hal.NAND {
		for pg := off / m.p.PageSize; pg*m.p.PageSize < off+n; pg++ {
			b := pg * m.p.PageSize / m.es
			inBlock := pg - b*m.es/m.p.PageSize
			if inBlock < m.next[b] {
				return hal.ErrNAND
			}
		}
		for pg := off / m.p.PageSize; pg*m.p.PageSize < off+n; pg++ {
			b := pg * m.p.PageSize / m.es
			m.next[b] = pg - b*m.es/m.p.PageSize + 1
		}
	}
	for i := range n {
		m.mem[off+i] &= p[i]
		m.unstable[off+i] = false
	}
	pages := m.pages(off, n, m.p.PageSize)
	m.stats.Programs++
	m.stats.PagesProgrammed += pages
	m.stats.BytesProgrammed += n
	m.stats.Elapsed += time.Duration(pages)*(m.t.CommandOverhead+m.t.PageProgram) + m.bus(n)
	return nil
}

func (m *model) erase(off, n int64) error {
	es := m.es
	if off < 0 || n < 0 || off+n > m.size {
		return hal.ErrOutOfRange
	}
	if n == 0 || off%es != 0 || n%es != 0 {
		return hal.ErrUnaligned
	}
	if m.anyBad(off, n) {
		return hal.ErrBadBlock
	}
	for b := off / es; b < (off+n)/es; b++ {
		if m.wear[b] >= int64(m.p.Endurance) {
			return hal.ErrWornOut
		}
	}
	for b := off / es; b < (off+n)/es; b++ {
		m.wear[b]++
		m.next[b] = 0
		m.stats.Erases++
	}
	for i := off; i < off+n; i++ {
		m.mem[i] = 0xFF
		m.unstable[i] = false
	}
	// One command per erase unit, whatever the span.
	m.stats.Elapsed += time.Duration(n/es) * (m.t.CommandOverhead + m.t.UnitErase(m.em))
	return nil
}

func (m *model) markBad(off int64) error {
	if off < 0 || off >= m.size {
		return hal.ErrOutOfRange
	}
	if m.p.Kind != hal.NAND {
		return hal.ErrUnsupported
	}
	m.bad[off/m.es] = true
	return nil
}

func (m *model) isBad(off int64) (bool, error) {
	if off < 0 || off >= m.size {
		return false, hal.ErrOutOfRange
	}
	return m.bad[off/m.es], nil
}

// sentinels are the error classes compared between simulator and model.
var sentinels = []error{hal.ErrOutOfRange, hal.ErrUnaligned, hal.ErrBadBlock, hal.ErrWornOut, hal.ErrNAND, hal.ErrUnsupported, hal.ErrClosed}

func errClass(err error) string {
	if err == nil {
		return "nil"
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "other: " + err.Error()
}

// Small parts so differential runs stay fast and reach every rule: a NOR
// with a block erase and a NAND with 8 pages per block, both with low
// endurance.
var (
	tinyNOR = Part{Name: "tinynor", Kind: hal.NOR, Size: 8 << 10, EraseSize: 512, BlockEraseSize: 2048, PageSize: 64, WriteSize: 1,
		Typical: Timing{PageProgram: 700 * time.Microsecond, SectorErase: 50 * time.Millisecond, BlockErase: 150 * time.Millisecond,
			ReadBytesPerSec: 25_000_000, CommandOverhead: 960 * time.Nanosecond},
		Endurance: 5}
	tinyNAND = Part{Name: "tinynand", Kind: hal.NAND, Size: 8 << 10, EraseSize: 2048, PageSize: 256, WriteSize: 256,
		Typical: Timing{PageProgram: 220 * time.Microsecond, SectorErase: 2 * time.Millisecond, PageRead: 25 * time.Microsecond,
			ReadBytesPerSec: 25_000_000, CommandOverhead: 1280 * time.Nanosecond},
		Endurance: 5}
)

func init() {
	tinyNOR.Max, tinyNAND.Max = tinyNOR.Typical, tinyNAND.Typical
}

// opReader decodes operations from fuzz bytes.
type opReader struct{ b []byte }

func (r *opReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *opReader) u16() int64 { return int64(r.byte())<<8 | int64(r.byte()) }

// offset picks an offset: usually aligned to unit, sometimes arbitrary,
// sometimes out of range.
func (r *opReader) offset(size, unit int64) int64 {
	v := r.u16()
	switch r.byte() % 8 {
	case 0:
		return v - 32768 + size // near or past the end
	case 1:
		return v % (size + 1)
	default:
		return (v % (size/unit + 1)) * unit
	}
}

func (r *opReader) length(size, unit int64) int64 {
	v := r.u16()
	switch r.byte() % 8 {
	case 0:
		return v % (size + 1)
	case 1:
		return v%64 + 1
	default:
		return (v % 5) * unit
	}
}

// runDifferential runs the operations encoded in data on a simulator and
// the model, failing on the first difference.
func runDifferential(t *testing.T, p Part, em EraseModel, data []byte) {
	t.Helper()
	f, err := New(Options{Part: p, Seed: 7, EraseModel: em})
	require.NoError(t, err)
	m := newModel(p, em, p.Size)
	type snap struct {
		s *Snapshot
		m *model
	}
	var snaps []snap
	seen := map[[2]uint64]uint64{} // (block, version) -> contents hash
	r := &opReader{b: data}
	es, ws := m.es, p.WriteSize
	for step := 0; len(r.b) > 0 && step < 400; step++ {
		op := r.byte() % 10
		where := fmt.Sprintf("%s step %d op %d", p.Name, step, op)
		switch op {
		case 0, 1: // read
			off, n := r.offset(p.Size, 1), r.length(p.Size, p.PageSize)
			if n < 0 {
				n = 0
			}
			buf := make([]byte, n)
			got, gerr := f.ReadAt(buf, off)
			want, werr := m.read(n, off)
			require.Equal(t, errClass(werr), errClass(gerr), where)
			if werr == nil {
				require.Equal(t, int(n), got, where)
				for i := range want {
					if m.unstable[off+int64(i)] {
						require.Equal(t, want[i], buf[i]&want[i], "%s: unstable byte %d lost a 1 bit", where, off+int64(i))
					} else if want[i] != buf[i] {
						require.Equal(t, want, buf, "%s: read [%#x+%#x]", where, off, n)
					}
				}
			} else {
				require.Zero(t, got, where)
			}
		case 2, 3: // program
			off, n := r.offset(p.Size, ws), r.length(p.Size, ws)
			pat, mask := r.byte(), r.byte()
			if n < 0 {
				n = 0
			}
			buf := make([]byte, n)
			for i := range buf {
				buf[i] = pat ^ byte(i)*mask
			}
			_, gerr := f.WriteAt(buf, off)
			werr := m.write(buf, off)
			require.Equal(t, errClass(werr), errClass(gerr), "%s: program [%#x+%#x]", where, off, n)
		case 4: // erase
			off, n := r.offset(p.Size, es), r.length(p.Size, es)
			gerr := f.Erase(off, n)
			werr := m.erase(off, n)
			require.Equal(t, errClass(werr), errClass(gerr), "%s: erase [%#x+%#x]", where, off, n)
		case 5: // mark bad / is bad
			off := r.offset(p.Size, es)
			if r.byte()%4 == 0 {
				require.Equal(t, errClass(m.markBad(off)), errClass(f.MarkBad(off)), where)
			} else {
				gb, gerr := f.IsBad(off)
				wb, werr := m.isBad(off)
				require.Equal(t, errClass(werr), errClass(gerr), where)
				require.Equal(t, wb, gb, where)
			}
		case 6: // snapshot
			snaps = append(snaps, snap{f.Snapshot(), m.clone()})
		case 7: // restore
			if len(snaps) > 0 {
				s := snaps[int(r.byte())%len(snaps)]
				f.Restore(s.s)
				m = s.m.clone()
			}
		case 8: // poke
			off := r.offset(p.Size, 1)
			n := int64(r.byte() % 16)
			v := r.byte()
			if off >= 0 && off+n <= p.Size {
				buf := bytes.Repeat([]byte{v}, int(n))
				f.Poke(off, buf)
				copy(m.mem[off:], buf)
				if p.Kind == hal.NAND && n > 0 { // poked pages count as programmed
					for pg := off / p.PageSize; pg*p.PageSize < off+n; pg++ {
						b := pg * p.PageSize / es
						m.next[b] = max(m.next[b], pg-b*es/p.PageSize+1)
					}
				}
			}
		case 9: // unstable
			off := r.offset(p.Size, 1)
			n := int64(r.byte() % 32)
			if off >= 0 && off+n <= p.Size {
				f.SetUnstable(off, n)
				for i := off; i < off+n; i++ {
					m.unstable[i] = true
				}
			}
		}
		// Statistics, wear and block versions agree after every step.
		require.Equal(t, m.stats, f.Stats(), where)
		for b := int64(0); b < p.Size/es; b++ {
			require.Equal(t, m.wear[b], f.Wear(b), "%s: wear of block %d", where, b)
			h := fnv.New64a()
			h.Write(m.mem[b*es : (b+1)*es])
			for i := b * es; i < (b+1)*es; i++ {
				if m.unstable[i] {
					h.Write([]byte{byte(i), byte(i >> 8)})
				}
			}
			if m.bad[b] {
				h.Write([]byte("bad"))
			}
			key := [2]uint64{uint64(b), f.BlockVersion(b)}
			sum := h.Sum64()
			if prev, ok := seen[key]; ok {
				require.Equal(t, prev, sum, "%s: block %d changed but kept version %d", where, b, key[1])
			}
			seen[key] = sum
		}
	}
	// Final contents agree, read in one go (unstable bytes masked).
	buf := make([]byte, p.Size)
	for b := int64(0); b < p.Size/es; b++ {
		if m.bad[b] {
			continue
		}
		_, err := f.ReadAt(buf[b*es:(b+1)*es], b*es)
		require.NoError(t, err)
		for i := b * es; i < (b+1)*es; i++ {
			if m.unstable[i] {
				buf[i] = m.mem[i]
			}
			if buf[i] != m.mem[i] {
				require.Equal(t, m.mem[b*es:(b+1)*es], buf[b*es:(b+1)*es], "final contents of block %d", b)
			}
		}
	}
}

// differentialSeeds are hand-written operation sequences that reach every
// rule; FuzzDifferential starts from them.
var differentialSeeds = [][]byte{
	// program, read back, reprogram (NOR: AND; NAND: ErrNAND), erase, read.
	{2, 0, 0, 2, 0, 1, 2, 0xA5, 0x11, 0, 0, 0, 2, 0, 1, 2, 2, 0, 0, 2, 0, 1, 2, 0x0F, 0, 4, 0, 0, 2, 0, 1, 2, 0, 0, 0, 2, 1, 0, 1, 0},
	// snapshot, program everywhere, restore, read.
	{6, 2, 0, 0, 2, 0, 0, 0, 0, 0, 7, 0, 0, 0x20, 0, 0, 0},
	// mark bad then program / erase / read it; out-of-range, unaligned.
	{5, 0, 0, 2, 0, 2, 0, 0, 2, 0, 1, 2, 1, 2, 4, 0, 0, 2, 0, 0, 2, 0, 0, 0, 2, 0, 0, 2, 0, 1, 3, 0, 0, 0},
	// wear a block out: erase it six times.
	{4, 0, 0, 2, 0, 1, 2, 4, 0, 0, 2, 0, 1, 2, 4, 0, 0, 2, 0, 1, 2, 4, 0, 0, 2, 0, 1, 2, 4, 0, 0, 2, 0, 1, 2, 4, 0, 0, 2, 0, 1, 2},
	// unstable bytes, poke, read, program over them.
	{9, 0, 10, 1, 20, 8, 0, 12, 1, 4, 0x3C, 0, 0, 0, 1, 0, 64, 1, 2, 0, 0, 2, 0, 1, 2, 0, 0xFF, 0, 0, 0, 1, 0, 64, 1},
	// NAND order: program page 3 then page 1 of the same block.
	{2, 3, 0, 2, 0, 1, 2, 0, 0, 2, 1, 0, 2, 0, 1, 2, 0, 0},
	// an erase spanning several block-erase units: one command per unit.
	{4, 0, 0, 2, 0, 4, 2, 4, 0, 1, 2, 0, 3, 2, 6, 4, 0, 0, 2, 0, 2, 2, 7, 0},
}

type differentialChip struct {
	part Part
	em   EraseModel
}

// differentialChips returns the part and erase model pairs every
// differential run covers: the tiny NOR under both erase models, the tiny
// NAND. (A function: the parts get their Max timings in init.)
func differentialChips() []differentialChip {
	return []differentialChip{{tinyNOR, Erase4K}, {tinyNOR, Erase64K}, {tinyNAND, Erase4K}}
}

func TestDifferentialSeeds(t *testing.T) {
	for _, c := range differentialChips() {
		for i, seed := range differentialSeeds {
			t.Run(fmt.Sprintf("%s-%v/%d", c.part.Name, c.em, i), func(t *testing.T) { runDifferential(t, c.part, c.em, seed) })
		}
	}
}

// FuzzDifferential decodes a random operation sequence (reads, programs,
// erases, bad blocks, snapshots, restores, pokes, unstable ranges) and runs
// it on a simulated NOR chip (both erase models) and NAND chip and on a plain byte-array model with
// the same rules; contents, errors, statistics, virtual time, wear and
// block versions must agree. Replay a failure with
// go test -run FuzzDifferential/NAME ./sim/.
func FuzzDifferential(f *testing.F) {
	for _, s := range differentialSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range differentialChips() {
			runDifferential(t, c.part, c.em, data)
		}
	})
}

// TestDifferentialRandom runs seeded random operation sequences through the
// differential check. Replay one with the printed seed.
func TestDifferentialRandom(t *testing.T) {
	runs := 300
	if testing.Short() {
		runs = 40
	}
	for seed := uint64(1); seed <= uint64(runs); seed++ {
		rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
		data := make([]byte, 200+rng.IntN(1800))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		for _, c := range differentialChips() {
			name := fmt.Sprintf("%s-%v/seed=%d", c.part.Name, c.em, seed)
			ok := t.Run(name, func(t *testing.T) { runDifferential(t, c.part, c.em, data) })
			if !ok {
				t.Fatalf("replay: go test -run 'TestDifferentialRandom/%s$' ./sim/", name)
			}
		}
	}
}
