package sim

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/stretchr/testify/require"
)

func mustPart(t testing.TB, name string) Part {
	t.Helper()
	p, err := LookupPart(name)
	require.NoError(t, err)
	return p
}

func newChip(t testing.TB, part string, size int64) *Flash {
	t.Helper()
	f, err := New(Options{Part: mustPart(t, part), Size: size, Name: "chip"})
	require.NoError(t, err)
	return f
}

func readAll(t testing.TB, f *Flash) []byte {
	t.Helper()
	buf := make([]byte, f.Geometry().Size)
	g := f.Geometry()
	for off := int64(0); off < g.Size; off += g.EraseSize {
		if bad, _ := f.IsBad(off); bad {
			continue // left zero
		}
		_, err := f.ReadAt(buf[off:off+g.EraseSize], off)
		require.NoError(t, err)
	}
	return buf
}

func fill(n int, v byte) []byte { return bytes.Repeat([]byte{v}, n) }

const (
	norName  = "w25q256jv"
	nandName = "mt29f2g01"
	page     = 2048 // mt29f2g01 page
	nblock   = 128 << 10
)

// TestRules runs each operation on a chip prepared by setup and checks its
// error; when the operation is rejected, the chip's contents and statistics
// must not have changed.
func TestRules(t *testing.T) {
	type op func(f *Flash) error
	read := func(off, n int64) op {
		return func(f *Flash) error { _, err := f.ReadAt(make([]byte, n), off); return err }
	}
	prog := func(off int64, p []byte) op {
		return func(f *Flash) error { _, err := f.WriteAt(p, off); return err }
	}
	erase := func(off, n int64) op { return func(f *Flash) error { return f.Erase(off, n) } }
	markBad := func(off int64) op { return func(f *Flash) error { return f.MarkBad(off) } }
	isBad := func(off int64) op { return func(f *Flash) error { _, err := f.IsBad(off); return err } }
	steps := func(ops ...op) op {
		return func(f *Flash) error {
			for _, o := range ops {
				if err := o(f); err != nil {
					return err
				}
			}
			return nil
		}
	}
	closeIt := func(f *Flash) error { return f.Close() }
	const mb = 1 << 20
	cases := []struct {
		name   string
		part   string
		setup  op
		op     op
		want   error // nil: success
		wantOp string
	}{
		{name: "nor read whole chip", part: norName, op: read(0, mb)},
		{name: "nor read past end", part: norName, op: read(mb-1, 2), want: hal.ErrOutOfRange, wantOp: "read"},
		{name: "nor read negative offset", part: norName, op: read(-1, 1), want: hal.ErrOutOfRange, wantOp: "read"},
		{name: "nor read at end, empty", part: norName, op: read(mb, 0)},
		{name: "nor program any byte range across pages and blocks", part: norName, op: prog(4095, fill(300, 0))},
		{name: "nor program twice", part: norName, setup: prog(10, fill(5, 0xF0)), op: prog(10, fill(5, 0x0F))},
		{name: "nor program past end", part: norName, op: prog(mb-2, fill(3, 0)), want: hal.ErrOutOfRange, wantOp: "program"},
		{name: "nor program negative offset", part: norName, op: prog(-4, fill(3, 0)), want: hal.ErrOutOfRange, wantOp: "program"},
		{name: "nor erase sector", part: norName, op: erase(4096, 4096)},
		{name: "nor erase unaligned offset", part: norName, setup: prog(0, fill(8192, 0)), op: erase(512, 4096), want: hal.ErrUnaligned, wantOp: "erase"},
		{name: "nor erase unaligned length", part: norName, setup: prog(0, fill(8192, 0)), op: erase(0, 4097), want: hal.ErrUnaligned, wantOp: "erase"},
		{name: "nor erase zero length", part: norName, op: erase(0, 0), want: hal.ErrUnaligned, wantOp: "erase"},
		{name: "nor erase past end", part: norName, op: erase(mb-4096, 8192), want: hal.ErrOutOfRange, wantOp: "erase"},
		{name: "nor has no bad blocks", part: norName, op: markBad(0), want: hal.ErrUnsupported, wantOp: "markbad"},
		{name: "nor isbad in range", part: norName, op: isBad(mb - 1)},
		{name: "nor isbad out of range", part: norName, op: isBad(mb), want: hal.ErrOutOfRange, wantOp: "isbad"},
		{name: "closed read", part: norName, setup: closeIt, op: read(0, 1), want: hal.ErrClosed, wantOp: "read"},
		{name: "closed program", part: norName, setup: closeIt, op: prog(0, fill(1, 0)), want: hal.ErrClosed, wantOp: "program"},
		{name: "closed erase", part: norName, setup: closeIt, op: erase(0, 4096), want: hal.ErrClosed, wantOp: "erase"},
		{name: "closed twice", part: norName, setup: closeIt, op: closeIt},

		{name: "nand program pages", part: nandName, op: prog(0, fill(3*page, 0x55))},
		{name: "nand program across blocks", part: nandName, op: prog(nblock-page, fill(2*page, 0x55))},
		{name: "nand program unaligned offset", part: nandName, op: prog(512, fill(page, 0)), want: hal.ErrUnaligned, wantOp: "program"},
		{name: "nand program partial page", part: nandName, op: prog(0, fill(page/2, 0)), want: hal.ErrUnaligned, wantOp: "program"},
		{name: "nand program page twice", part: nandName, setup: prog(page, fill(page, 0xF0)), op: prog(page, fill(page, 0x00)), want: hal.ErrNAND, wantOp: "program"},
		{name: "nand program out of order", part: nandName, setup: prog(3*page, fill(page, 0)), op: prog(page, fill(page, 0)), want: hal.ErrNAND, wantOp: "program"},
		{name: "nand program skipping pages", part: nandName, setup: prog(0, fill(page, 0)), op: prog(5*page, fill(page, 0))},
		{name: "nand order is per block", part: nandName, setup: prog(nblock+10*page, fill(page, 0)), op: prog(2*page, fill(page, 0))},
		{name: "nand multi-page program rejected whole when its second block breaks order", part: nandName,
			setup: prog(nblock+page, fill(page, 0)), op: prog(nblock-page, fill(2*page, 0x11)), want: hal.ErrNAND, wantOp: "program"},
		{name: "nand program again after erase", part: nandName, setup: steps(prog(0, fill(page, 0)), erase(0, nblock)), op: prog(0, fill(page, 0))},
		{name: "nand erase unaligned", part: nandName, op: erase(4096, nblock), want: hal.ErrUnaligned, wantOp: "erase"},
		{name: "nand mark bad", part: nandName, op: markBad(nblock + 5)},
		{name: "nand mark bad twice", part: nandName, setup: markBad(0), op: markBad(0)},
		{name: "nand mark bad out of range", part: nandName, op: markBad(-1), want: hal.ErrOutOfRange, wantOp: "markbad"},
		{name: "nand read bad block", part: nandName, setup: markBad(nblock), op: read(nblock-1, 2), want: hal.ErrBadBlock, wantOp: "read"},
		{name: "nand program bad block", part: nandName, setup: markBad(nblock), op: prog(0, fill(nblock+page, 0)), want: hal.ErrBadBlock, wantOp: "program"},
		{name: "nand erase range with a bad block", part: nandName, setup: steps(prog(0, fill(page, 0)), markBad(nblock)), op: erase(0, 2*nblock), want: hal.ErrBadBlock, wantOp: "erase"},
		{name: "nand ops beside a bad block", part: nandName, setup: markBad(nblock), op: steps(prog(0, fill(page, 0)), read(0, nblock), erase(2*nblock, nblock))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newChip(t, tc.part, 1<<20)
			if tc.setup != nil {
				require.NoError(t, tc.setup(f))
			}
			var before []byte
			if !f.closed {
				before = readAll(t, f)
			}
			stats := f.Stats()
			clock := f.Clock().Now()
			err := tc.op(f)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			var oe *hal.OpError
			require.True(t, errors.As(err, &oe), "error %v is not a *hal.OpError", err)
			require.Equal(t, tc.wantOp, oe.Op)
			require.Equal(t, "chip", oe.Dev)
			require.Equal(t, stats, f.Stats(), "a rejected operation was counted")
			require.Equal(t, clock, f.Clock().Now(), "a rejected operation was charged")
			if before != nil {
				require.Equal(t, before, readAll(t, f), "a rejected operation changed the contents")
			}
		})
	}
}

func TestNORProgramIsAND(t *testing.T) {
	f := newChip(t, norName, 64<<10)
	_, err := f.WriteAt([]byte{0xF0, 0x3C, 0xFF}, 100)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0x0F, 0xFF, 0xAA}, 100)
	require.NoError(t, err)
	got := make([]byte, 4)
	_, err = f.ReadAt(got, 99)
	require.NoError(t, err)
	require.Equal(t, []byte{0xFF, 0x00, 0x3C, 0xAA}, got)

	// Long programs take the word-at-a-time path; compare with a bytewise AND.
	a, b := make([]byte, 1001), make([]byte, 1001)
	for i := range a {
		a[i], b[i] = byte(i*7), byte(i*13+5)
	}
	_, err = f.WriteAt(a, 8191)
	require.NoError(t, err)
	_, err = f.WriteAt(b, 8191)
	require.NoError(t, err)
	got = make([]byte, len(a))
	_, err = f.ReadAt(got, 8191)
	require.NoError(t, err)
	for i := range a {
		require.Equal(t, a[i]&b[i], got[i], "byte %d", i)
	}
}

func TestEraseSetsFFAndCountsWear(t *testing.T) {
	f := newChip(t, norName, 256<<10)
	_, err := f.WriteAt(fill(128<<10, 0), 0)
	require.NoError(t, err)
	require.NoError(t, f.Erase(64<<10, 64<<10))
	require.NoError(t, f.Erase(4096, 4096))
	got := readAll(t, f)
	for i, v := range got {
		want := byte(0)
		if (i >= 4096 && i < 8192) || (i >= 64<<10) {
			want = 0xFF
		}
		if v != want {
			t.Fatalf("byte %#x = %#x, want %#x", i, v, want)
		}
	}
	require.Equal(t, int64(0), f.Wear(0))
	require.Equal(t, int64(1), f.Wear(1))
	require.Equal(t, int64(1), f.Wear(16))
	require.Equal(t, int64(1), f.Wear(31))
	require.Equal(t, int64(0), f.Wear(32))
	require.Equal(t, int64(0), f.Wear(-1))
	require.Equal(t, int64(0), f.Wear(1000))
	require.NoError(t, f.Erase(4096, 4096))
	require.Equal(t, int64(2), f.MaxWear())
	require.Equal(t, int64(18), f.Stats().Erases)
}

func TestWornOut(t *testing.T) {
	for _, name := range []string{norName, nandName} {
		t.Run(name, func(t *testing.T) {
			p := mustPart(t, name)
			p.Endurance = 3
			f, err := New(Options{Part: p, Size: 4 * p.EraseSize})
			require.NoError(t, err)
			es := p.EraseSize
			for range 3 {
				require.NoError(t, f.Erase(es, es))
			}
			_, err = f.WriteAt(fill(int(p.WriteSize), 0), es)
			require.NoError(t, err)
			err = f.Erase(0, 2*es) // block 0 fine, block 1 worn out: nothing erased
			require.ErrorIs(t, err, hal.ErrWornOut)
			require.Equal(t, int64(0), f.Wear(0))
			require.Equal(t, int64(3), f.Wear(1))
			got := make([]byte, 1)
			_, err = f.ReadAt(got, es)
			require.NoError(t, err)
			require.Equal(t, byte(0), got[0], "a failed erase changed the block")
			require.NoError(t, f.Erase(2*es, es), "other blocks still erase")
		})
	}
}

func TestNANDIsBad(t *testing.T) {
	f := newChip(t, nandName, 1<<20)
	bad, err := f.IsBad(3 * nblock)
	require.NoError(t, err)
	require.False(t, bad)
	require.NoError(t, f.MarkBad(3*nblock+100))
	bad, err = f.IsBad(3*nblock + nblock - 1)
	require.NoError(t, err)
	require.True(t, bad)
	bad, err = hal.IsBad(f, 2*nblock)
	require.NoError(t, err)
	require.False(t, bad)
}

func TestOptions(t *testing.T) {
	nor := mustPart(t, norName)
	noBlock := nor
	noBlock.BlockEraseSize, noBlock.Typical.BlockErase, noBlock.Max.BlockErase = 0, 0, 0
	cases := []struct {
		name    string
		o       Options
		wantErr string
	}{
		{name: "no part", o: Options{}, wantErr: "part is required"},
		{name: "size not a multiple of erase size", o: Options{Part: nor, Size: 5000}, wantErr: "multiple of the erase size 4KiB"},
		{name: "size larger than part", o: Options{Part: nor, Size: 64 << 20}, wantErr: "at most 32MiB"},
		{name: "negative size", o: Options{Part: nor, Size: -4096}, wantErr: "positive multiple"},
		{name: "bad part", o: Options{Part: Part{Name: "x", Kind: hal.NOR, Size: 100, EraseSize: 3, PageSize: 1, WriteSize: 1}}, wantErr: "erase size 3"},
		{name: "64k model: size not a multiple of 64 KiB", o: Options{Part: nor, Size: 4096, EraseModel: Erase64K}, wantErr: "multiple of the erase size 64KiB (erase model 64k)"},
		{name: "64k model on NAND", o: Options{Part: mustPart(t, nandName), EraseModel: Erase64K}, wantErr: "the 64k erase model is for SPI NOR parts"},
		{name: "64k model on a NOR part without block erase", o: Options{Part: noBlock, EraseModel: Erase64K}, wantErr: "has no block erase: use the 4k erase model"},
		{name: "unknown erase model", o: Options{Part: nor, EraseModel: 7}, wantErr: "unknown erase model erasemodel(7)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.o)
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
	f, err := New(Options{Part: nor})
	require.NoError(t, err)
	require.Equal(t, hal.Geometry{Name: "w25q256jv", Kind: hal.NOR, Size: 32 << 20, EraseSize: 4096, WriteSize: 1, PageSize: 256}, f.Geometry())
	require.NoError(t, f.Geometry().Validate())
	require.Equal(t, nor, f.Part())
}

func TestParts(t *testing.T) {
	sizes := map[string]int64{"w25q256jv": 32 << 20, "w25q512jv": 64 << 20, "mx66l1g45g": 128 << 20, "mt25ql256": 32 << 20, "mt29f2g01": 256 << 20}
	ps := Parts()
	require.Len(t, ps, 5)
	nand := 0
	for _, p := range ps {
		require.NoError(t, p.Validate(), p.Name)
		require.Equal(t, sizes[p.Name], p.Size, p.Name)
		require.Equal(t, 100_000, p.Endurance)
		require.Equal(t, int64(25_000_000), p.Typical.ReadBytesPerSec)
		if p.Kind == hal.NOR {
			require.Equal(t, []int64{4096, 64 << 10, 256, 1}, []int64{p.EraseSize, p.BlockEraseSize, p.PageSize, p.WriteSize})
		} else {
			nand++
			require.Equal(t, hal.NAND, p.Kind)
			require.Equal(t, p.PageSize, p.WriteSize)
		}
		got, err := LookupPart(p.Name)
		require.NoError(t, err)
		require.Equal(t, p, got)
	}
	require.Equal(t, 1, nand)
	got, err := LookupPart("MX66L1G45G")
	require.NoError(t, err)
	require.Equal(t, "mx66l1g45g", got.Name)

	ps[0].Name = "changed"
	require.Equal(t, "w25q256jv", Parts()[0].Name, "Parts returns a copy")

	_, err = LookupPart("nope")
	require.ErrorIs(t, err, ErrUnknownPart)
	require.EqualError(t, err, `unknown flash part "nope" (known parts: w25q256jv, w25q512jv, mx66l1g45g, mt25ql256, mt29f2g01)`)
}
