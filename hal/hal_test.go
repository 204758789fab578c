package hal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
)

func norGeometry() hal.Geometry {
	return hal.Geometry{Name: "flash1", Kind: hal.NOR, Size: 128 << 20, EraseSize: 4 << 10, WriteSize: 1, PageSize: 256}
}

func TestKindStringAndParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    hal.Kind
		wantErr bool
	}{
		{"nor", hal.NOR, false},
		{"NAND", hal.NAND, false},
		{"Nor", hal.NOR, false},
		{"", 0, true},
		{"emmc", 0, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			k, err := hal.ParseKind(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				require.Contains(t, err.Error(), "want nor or nand")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, k)
			back, err := hal.ParseKind(k.String())
			require.NoError(t, err)
			require.Equal(t, k, back)
		})
	}
	require.Equal(t, "kind(9)", hal.Kind(9).String())
}

func TestGeometryValidate(t *testing.T) {
	mod := func(f func(g *hal.Geometry)) hal.Geometry {
		g := norGeometry()
		f(&g)
		return g
	}
	for _, tc := range []struct {
		name    string
		g       hal.Geometry
		wantErr string // "" = valid
	}{
		{"nor 128MiB", norGeometry(), ""},
		{"nand", hal.Geometry{Name: "nand0", Kind: hal.NAND, Size: 64 << 20, EraseSize: 128 << 10, WriteSize: 2048, PageSize: 2048}, ""},
		{"one block", mod(func(g *hal.Geometry) { g.Size = g.EraseSize }), ""},
		{"no kind", mod(func(g *hal.Geometry) { g.Kind = 0 }), "unknown kind"},
		{"erase not pow2", mod(func(g *hal.Geometry) { g.EraseSize = 3000 }), "erase size 3000 is not a positive power of two"},
		{"erase zero", mod(func(g *hal.Geometry) { g.EraseSize = 0 }), "erase size 0"},
		{"erase negative", mod(func(g *hal.Geometry) { g.EraseSize = -4096 }), "erase size -4096"},
		{"write zero", mod(func(g *hal.Geometry) { g.WriteSize = 0 }), "write size 0"},
		{"page not pow2", mod(func(g *hal.Geometry) { g.PageSize = 528 }), "page size 528"},
		{"size zero", mod(func(g *hal.Geometry) { g.Size = 0 }), "size 0 is not a positive multiple"},
		{"size not multiple", mod(func(g *hal.Geometry) { g.Size = 4096*3 + 1 }), "not a positive multiple of the erase size 4096"},
		{"write larger than erase", mod(func(g *hal.Geometry) { g.WriteSize = 8192 }), "erase size 4096 is not a multiple of write size 8192"},
		{"page larger than erase", mod(func(g *hal.Geometry) { g.PageSize = 8192 }), "page size 8192"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.g.Validate()
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.wantErr)
			require.Contains(t, err.Error(), fmt.Sprintf("%q", tc.g.Name))
		})
	}
}

func TestGeometryBlocksAndString(t *testing.T) {
	g := norGeometry()
	require.Equal(t, int64(32768), g.Blocks())
	require.Equal(t, "flash1 nor 128MiB erase=4KiB write=1 page=256", g.String())
	require.Equal(t, int64(0), hal.Geometry{Size: 4096}.Blocks(), "no erase size: no blocks, no panic")
}

func TestFormatSize(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{1000, "1000"},
		{1024, "1KiB"},
		{1536, "1536"},
		{4 << 10, "4KiB"},
		{1 << 20, "1MiB"},
		{3 << 20, "3MiB"},
		{(1 << 20) + 1024, "1025KiB"},
		{128 << 20, "128MiB"},
		{1 << 30, "1GiB"},
		{5 << 30, "5GiB"},
		{-4096, "-4KiB"},
	} {
		require.Equal(t, tc.want, hal.FormatSize(tc.n), "FormatSize(%d)", tc.n)
	}
}

func TestCheckRange(t *testing.T) {
	g := norGeometry()
	for _, tc := range []struct {
		off, n int64
		ok     bool
	}{
		{0, 0, true},
		{0, g.Size, true},
		{g.Size, 0, true},
		{g.Size - 1, 1, true},
		{g.Size - 1, 2, false},
		{g.Size, 1, false},
		{-1, 1, false},
		{-1, 0, false},
		{0, -1, false},
		{1, g.Size, false},
		{1 << 62, 1 << 62, false}, // off+n overflows int64
	} {
		err := hal.CheckRange(g, "read", tc.off, tc.n)
		if tc.ok {
			require.NoError(t, err, "off=%d n=%d", tc.off, tc.n)
			continue
		}
		require.ErrorIs(t, err, hal.ErrOutOfRange, "off=%d n=%d", tc.off, tc.n)
		var oe *hal.OpError
		require.ErrorAs(t, err, &oe)
		require.Equal(t, "read", oe.Op)
		require.Equal(t, "flash1", oe.Dev)
		require.Equal(t, tc.off, oe.Off)
		require.Equal(t, tc.n, oe.Len)
	}
}

func TestCheckProgram(t *testing.T) {
	nand := hal.Geometry{Name: "nand0", Kind: hal.NAND, Size: 1 << 20, EraseSize: 64 << 10, WriteSize: 2048, PageSize: 2048}
	for _, tc := range []struct {
		name   string
		g      hal.Geometry
		off, n int64
		want   error // nil = accepted
	}{
		{"nor any byte", norGeometry(), 3, 5, nil},
		{"nor zero length", norGeometry(), 7, 0, nil},
		{"nor past end", norGeometry(), norGeometry().Size - 1, 2, hal.ErrOutOfRange},
		{"nand page", nand, 2048, 4096, nil},
		{"nand offset", nand, 1, 2048, hal.ErrUnaligned},
		{"nand length", nand, 0, 100, hal.ErrUnaligned},
		{"nand range before alignment", nand, nand.Size + 1, 1, hal.ErrOutOfRange},
		{"nand negative", nand, -2048, 2048, hal.ErrOutOfRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireOpError(t, hal.CheckProgram(tc.g, tc.off, tc.n), tc.want, "program")
		})
	}
}

func TestCheckErase(t *testing.T) {
	g := norGeometry()
	for _, tc := range []struct {
		name   string
		off, n int64
		want   error
	}{
		{"one block", 4096, 4096, nil},
		{"whole device", 0, g.Size, nil},
		{"zero length", 0, 0, hal.ErrUnaligned},
		{"half block", 0, 2048, hal.ErrUnaligned},
		{"unaligned offset", 512, 4096, hal.ErrUnaligned},
		{"past end", g.Size - 4096, 8192, hal.ErrOutOfRange},
		{"negative", -4096, 4096, hal.ErrOutOfRange},
		{"negative length", 0, -4096, hal.ErrOutOfRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if oe := requireOpError(t, hal.CheckErase(g, tc.off, tc.n), tc.want, "erase"); oe != nil {
				require.Equal(t, tc.off, oe.Off)
			}
		})
	}
}

// requireOpError requires err to be nil if want is, else to wrap want in
// an OpError of operation op, which it returns.
func requireOpError(t *testing.T, err, want error, op string) *hal.OpError {
	t.Helper()
	if want == nil {
		require.NoError(t, err)
		return nil
	}
	require.ErrorIs(t, err, want)
	var oe *hal.OpError
	require.ErrorAs(t, err, &oe)
	require.Equal(t, op, oe.Op)
	return oe
}

func TestOpError(t *testing.T) {
	cause := fmt.Errorf("%w: ecc", hal.ErrMedia)
	for _, tc := range []struct {
		name string
		e    *hal.OpError
		want string
	}{
		{"with length", &hal.OpError{Op: "program", Dev: "flash1", Off: 0x1000, Len: 0x100, Err: hal.ErrUnaligned}, "program flash1 [0x1000+0x100]: unaligned"},
		{"no length", &hal.OpError{Op: "isbad", Dev: "nand0", Off: 0x20000, Err: hal.ErrBadBlock}, "isbad nand0 [0x20000]: bad block"},
		{"no device", &hal.OpError{Op: "erase", Off: 0, Len: 4096, Err: hal.ErrTimeout}, "erase [0x0+0x1000]: no response"},
		{"wrapped cause", &hal.OpError{Op: "read", Dev: "flash0", Off: 16, Len: 4, Err: cause}, "read flash0 [0x10+0x4]: media error: ecc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.e.Error())
			require.Equal(t, tc.e.Err, tc.e.Unwrap())
			require.ErrorIs(t, tc.e, tc.e.Err)
			wrapped := fmt.Errorf("sync round 7: %w", tc.e)
			var oe *hal.OpError
			require.ErrorAs(t, wrapped, &oe)
			require.Same(t, tc.e, oe)
		})
	}
	e := &hal.OpError{Op: "read", Err: cause}
	require.ErrorIs(t, e, hal.ErrMedia)
	require.NotErrorIs(t, e, hal.ErrUnaligned)
	// An injected fault wraps both sentinels.
	inj := &hal.OpError{Op: "program", Err: fmt.Errorf("%w: %w", hal.ErrInjected, hal.ErrPowerLoss)}
	require.ErrorIs(t, inj, hal.ErrInjected)
	require.ErrorIs(t, inj, hal.ErrPowerLoss)
	require.ErrorIs(t, hal.ErrUnsupported, errors.ErrUnsupported)
}

func TestSentinelsDistinct(t *testing.T) {
	all := []error{hal.ErrUnaligned, hal.ErrOutOfRange, hal.ErrBadBlock, hal.ErrWornOut, hal.ErrMedia,
		hal.ErrPowerLoss, hal.ErrTimeout, hal.ErrNAND, hal.ErrInjected, hal.ErrClosed, hal.ErrUnsupported}
	for i, a := range all {
		for j, b := range all {
			require.Equal(t, i == j, errors.Is(a, b), "%v vs %v", a, b)
		}
	}
}

func TestStatsAddSub(t *testing.T) {
	a := hal.Stats{Reads: 1, BytesRead: 2, Programs: 3, PagesProgrammed: 4, BytesProgrammed: 5, Erases: 6, Elapsed: 7}
	b := hal.Stats{Reads: 10, BytesRead: 20, Programs: 30, PagesProgrammed: 40, BytesProgrammed: 50, Erases: 60, Elapsed: 70}
	require.Equal(t, hal.Stats{Reads: 11, BytesRead: 22, Programs: 33, PagesProgrammed: 44, BytesProgrammed: 55, Erases: 66, Elapsed: 77}, a.Add(b))
	require.Equal(t, b, a.Add(b).Sub(a))
	require.Equal(t, hal.Stats{}, a.Sub(a))
}

// memFlash is a minimal flash without optional abilities, to test the
// ability helpers' fallbacks.
type memFlash struct{ g hal.Geometry }

func (m memFlash) ReadAt(p []byte, off int64) (int, error)  { return 0, nil }
func (m memFlash) WriteAt(p []byte, off int64) (int, error) { return 0, nil }
func (m memFlash) Erase(off, n int64) error                 { return nil }
func (m memFlash) Geometry() hal.Geometry                   { return m.g }

type abledFlash struct {
	memFlash
	bad    map[int64]bool
	closed int
}

func (a *abledFlash) IsBad(off int64) (bool, error) { return a.bad[off/a.g.EraseSize], nil }
func (a *abledFlash) MarkBad(off int64) error       { a.bad[off/a.g.EraseSize] = true; return nil }
func (a *abledFlash) Close() error                  { a.closed++; return nil }
func (a *abledFlash) Stats() hal.Stats              { return hal.Stats{Erases: 42} }

func TestAbilityHelpers(t *testing.T) {
	plain := memFlash{g: norGeometry()}
	bad, err := hal.IsBad(plain, 4096)
	require.NoError(t, err)
	require.False(t, bad)
	_, err = hal.IsBad(plain, plain.g.Size)
	require.ErrorIs(t, err, hal.ErrOutOfRange)
	_, err = hal.IsBad(plain, -1)
	require.ErrorIs(t, err, hal.ErrOutOfRange)
	err = hal.MarkBad(plain, 0)
	require.ErrorIs(t, err, hal.ErrUnsupported)
	require.ErrorIs(t, err, errors.ErrUnsupported)
	require.Contains(t, err.Error(), "markbad flash1")
	require.NoError(t, hal.Close(plain))
	_, ok := hal.StatsOf(plain)
	require.False(t, ok)

	abled := &abledFlash{memFlash: memFlash{g: norGeometry()}, bad: map[int64]bool{}}
	require.NoError(t, hal.MarkBad(abled, 8192))
	bad, err = hal.IsBad(abled, 8192+100)
	require.NoError(t, err)
	require.True(t, bad)
	require.NoError(t, hal.Close(abled))
	require.Equal(t, 1, abled.closed)
	st, ok := hal.StatsOf(abled)
	require.True(t, ok)
	require.Equal(t, int64(42), st.Erases)
}

func TestSystemClock(t *testing.T) {
	var c hal.Clock = hal.SystemClock{}
	before := c.Now()
	require.NoError(t, c.Sleep(context.Background(), time.Millisecond))
	require.False(t, c.Now().Before(before))
	require.NoError(t, c.Sleep(context.Background(), 0))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, c.Sleep(ctx, time.Hour), context.Canceled)
	require.ErrorIs(t, c.Sleep(ctx, 0), context.Canceled)
}

func BenchmarkIsErased(b *testing.B) {
	p := bytes.Repeat([]byte{0xFF}, 64<<10)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if !hal.IsErased(p) {
			b.Fatal("not erased")
		}
	}
}

func TestIsErased(t *testing.T) {
	ff := func(n int) []byte { return bytes.Repeat([]byte{0xFF}, n) }
	with := func(n, at int, v byte) []byte { p := ff(n); p[at] = v; return p }
	cases := []struct {
		name string
		p    []byte
		want bool
	}{
		{"empty", nil, true},
		{"short erased", ff(7), true},
		{"block erased", ff(4096), true},
		{"odd length erased", ff(4096 + 5), true},
		{"first byte programmed", with(4096, 0, 0xFE), false},
		{"word tail programmed", with(64, 31, 0x7F), false},
		{"byte tail programmed", with(4096+5, 4096+4, 0x00), false},
		{"middle programmed", with(4096, 2049, 0xEF), false},
		{"two blocks erased", ff(8192), true},
		{"long erased", ff(3*4096 + 100), true},
		{"third block programmed", with(3*4096+100, 2*4096+7, 0xFD), false},
		{"last byte of a long run programmed", with(3*4096+100, 3*4096+99, 0x00), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, hal.IsErased(c.p))
		})
	}
}

// wrapperFlash forwards Stats to what it wraps, as a fault injector or a
// tracer does.
type wrapperFlash struct{ hal.Flash }

func (w wrapperFlash) Unwrap() hal.Flash { return w.Flash }
func (w wrapperFlash) Stats() hal.Stats {
	s, _ := hal.StatsOf(w.Flash)
	return s
}

// TestStatsOfWrapper: a wrapper keeps statistics only if the device it
// wraps does, though it has a Stats method either way.
func TestStatsOfWrapper(t *testing.T) {
	plain := memFlash{g: norGeometry()}
	abled := &abledFlash{memFlash: memFlash{g: norGeometry()}, bad: map[int64]bool{}}
	for _, tc := range []struct {
		name  string
		f     hal.Flash
		keeps bool
		want  hal.Stats
	}{
		{"a wrapped plain device", wrapperFlash{plain}, false, hal.Stats{}},
		{"a wrapped device that counts", wrapperFlash{abled}, true, hal.Stats{Erases: 42}},
		{"two wrappers over a plain device", wrapperFlash{wrapperFlash{plain}}, false, hal.Stats{}},
		{"two wrappers over one that counts", wrapperFlash{wrapperFlash{abled}}, true, hal.Stats{Erases: 42}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := hal.StatsOf(tc.f)
			require.Equal(t, tc.keeps, ok)
			require.Equal(t, tc.want, s)
		})
	}
}
