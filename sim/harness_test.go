package sim

import (
	"bytes"
	"testing"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/stretchr/testify/require"
)

func TestPoke(t *testing.T) {
	f := newChip(t, norName, 1<<20)
	_, err := f.WriteAt([]byte{0x00, 0x00}, 4095)
	require.NoError(t, err)
	stats, now := f.Stats(), f.Clock().Now()
	f.Poke(4095, []byte{0xAB, 0xCD}) // 0 -> 1 bits allowed, across blocks
	require.Equal(t, stats, f.Stats())
	require.Equal(t, now, f.Clock().Now())
	got := make([]byte, 2)
	_, err = f.ReadAt(got, 4095)
	require.NoError(t, err)
	require.Equal(t, []byte{0xAB, 0xCD}, got)
	require.Panics(t, func() { f.Poke(1<<20-1, []byte{1, 2}) })
	require.Panics(t, func() { f.Poke(-1, []byte{1}) })

	// NAND: poked pages count as programmed until the block is erased.
	n := newChip(t, nandName, 1<<20)
	n.Poke(page+10, []byte{0x0F}) // page 1
	_, err = n.WriteAt(fill(page, 0xF0), page)
	require.ErrorIs(t, err, hal.ErrNAND)
	_, err = n.WriteAt(fill(page, 0xF0), 0)
	require.ErrorIs(t, err, hal.ErrNAND)
	_, err = n.WriteAt(fill(page, 0xF0), 2*page)
	require.NoError(t, err)
	require.NoError(t, n.Erase(0, nblock))
	_, err = n.WriteAt(fill(page, 0xF0), page)
	require.NoError(t, err)
	n.Poke(0, nil) // empty: touches no page
	_, err = n.WriteAt(fill(page, 0xF0), 2*page)
	require.NoError(t, err)
	require.NoError(t, n.MarkBad(nblock))
	n.Poke(nblock, []byte{1}) // no bad-block check either
}

func unstableReads(t *testing.T, f *Flash, off int64, n, times int) [][]byte {
	t.Helper()
	var out [][]byte
	for range times {
		b := make([]byte, n)
		_, err := f.ReadAt(b, off)
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

func TestSetUnstable(t *testing.T) {
	newF := func(seed uint64) *Flash { return unstableChip(t, seed) }
	f := newF(1)
	stored := unstableStored()
	reads := unstableReads(t, f, 4064, 64, 20)
	differ := false
	for _, r := range reads {
		for i := range r {
			off := 4064 + i
			if off < 4070 || off >= 4110 {
				require.Equal(t, stored[i], r[i], "stable byte %d", off)
				continue
			}
			require.Equal(t, stored[i], r[i]&stored[i], "unstable byte %d lost a 1 bit", off)
		}
		differ = differ || string(r) != string(reads[0])
	}
	require.True(t, differ, "unstable bytes read the same 20 times")

	// Same seed, same history: same values. Other seed: other values.
	require.Equal(t, reads, unstableReads(t, newF(1), 4064, 64, 20))
	require.NotEqual(t, reads, unstableReads(t, newF(2), 4064, 64, 20))

	// Snapshots carry the random state: a replay after Restore reads the same.
	g := newF(3)
	s := g.Snapshot()
	first := unstableReads(t, g, 4064, 64, 5)
	g.Restore(s)
	require.Equal(t, first, unstableReads(t, g, 4064, 64, 5))

	// Programming bytes makes them stable; erasing a block does too.
	_, err := g.WriteAt(fill(10, 0xFF), 4075)
	require.NoError(t, err)
	require.NoError(t, g.Erase(4096, 4096))
	for _, r := range unstableReads(t, g, 4064, 64, 10) {
		require.Equal(t, stored[11:21], r[11:21], "programmed bytes are stable")
		require.Equal(t, fill(32, 0xFF), r[32:], "erased block is stable")
	}
	r := unstableReads(t, g, 4064, 64, 20)
	varied := false
	for _, x := range r {
		varied = varied || string(x[6:11]) != string(r[0][6:11])
	}
	require.True(t, varied, "bytes not programmed stay unstable")

	require.Panics(t, func() { g.SetUnstable(1<<20, 1) })
	require.NotPanics(t, func() { g.SetUnstable(1<<20, 0) })
}

func TestUnstableNAND(t *testing.T) {
	f := newChip(t, nandName, 1<<20)
	_, err := f.WriteAt(fill(page, 0x00), 0)
	require.NoError(t, err)
	f.SetUnstable(0, page)
	reads := unstableReads(t, f, 0, 16, 10)
	require.NotEqual(t, reads[0], reads[1])
	require.NoError(t, f.Erase(0, nblock))
	require.Equal(t, fill(16, 0xFF), unstableReads(t, f, 0, 16, 1)[0])
	_, err = hal.IsBad(f, 0)
	require.NoError(t, err)
}

func TestKnownErased(t *testing.T) {
	f := newChip(t, norName, 1<<20)
	reads := func(b int64) bool {
		p := make([]byte, 4096)
		_, err := f.ReadAt(p, b*4096)
		require.NoError(t, err)
		return hal.IsErased(p)
	}
	require.True(t, f.KnownErased(3), "never touched")
	_, err := f.WriteAt([]byte{0xFF}, 3*4096) // programs nothing, yet is a program
	require.NoError(t, err)
	require.False(t, f.KnownErased(3), "programmed since its erase: read it")
	// Erasing a block whose buffer a snapshot shares (the campaign's case)
	// leaves it known erased; one the chip owns keeps its buffer (filled
	// with 0xFF) and may answer false: unknown, read it.
	snap := f.Snapshot()
	f.Restore(snap)
	require.NoError(t, f.Erase(3*4096, 4096))
	require.True(t, f.KnownErased(3))
	_, err = f.WriteAt([]byte{0x00}, 4*4096)
	require.NoError(t, err)
	require.NoError(t, f.Erase(4*4096, 4096))
	for b := int64(0); b < 8; b++ {
		if f.KnownErased(b) {
			require.True(t, reads(b), "block %d known erased but does not read so", b)
		}
	}
	require.False(t, f.KnownErased(-1))
	require.False(t, f.KnownErased(1<<20/4096))

	n := newChip(t, nandName, 1<<20)
	require.True(t, n.KnownErased(1))
	require.NoError(t, n.MarkBad(nblock))
	require.False(t, n.KnownErased(1), "a bad block does not read")
}

// LoadBlock puts a block's bytes on the chip as erased-then-programmed: on
// NAND the pages after the last programmed one stay programmable, the
// ones up to it do not; nothing is charged.
func TestLoadBlock(t *testing.T) {
	n := newChip(t, nandName, 1<<20)
	_, err := n.WriteAt(fill(page, 0x00), 0) // every page of block 0 ...
	require.NoError(t, err)
	n.Poke(nblock-page, fill(page, 0x00)) // ... counts as programmed
	stats, now := n.Stats(), n.Clock().Now()
	img := fill(int(nblock), 0xFF)
	copy(img[page:], fill(10, 0x5A)) // page 1 programmed, pages 2.. erased
	n.LoadBlock(0, img)
	require.Equal(t, stats, n.Stats())
	require.Equal(t, now, n.Clock().Now())
	got := make([]byte, nblock)
	_, err = n.ReadAt(got, 0)
	require.NoError(t, err)
	require.Equal(t, img, got)
	_, err = n.WriteAt(fill(page, 0x11), page)
	require.ErrorIs(t, err, hal.ErrNAND, "page 1 holds data")
	_, err = n.WriteAt(fill(page, 0x11), 2*page)
	require.NoError(t, err, "page 2 reads erased and is programmable")
	require.Panics(t, func() { n.LoadBlock(page, img) })
	require.Panics(t, func() { n.LoadBlock(0, img[:page]) })
}

// TestReadSettled: ReadSettled returns the stored bytes with the unstable
// ones as 0xFF, across a block boundary and over blocks never written,
// without counting a read.
func TestReadSettled(t *testing.T) {
	f := unstableChip(t, 1)
	stored := unstableStored()
	reads := f.Stats().Reads

	got := make([]byte, 64)
	f.ReadSettled(got, 4064)
	for i := range got {
		want := stored[i]
		if off := 4064 + i; off >= 4070 && off < 4110 {
			want = 0xff
		}
		require.Equal(t, want, got[i], "byte %d", 4064+i)
	}
	blank := make([]byte, 16)
	f.ReadSettled(blank, 1<<19)
	require.Equal(t, bytes.Repeat([]byte{0xff}, 16), blank)
	require.Equal(t, reads, f.Stats().Reads, "a harness look is not a read")
	require.Panics(t, func() { f.ReadSettled(make([]byte, 2), 1<<20-1) })
}

// unstableStored is what unstableChip programs at 4064.
func unstableStored() []byte {
	stored := make([]byte, 64)
	for i := range stored {
		stored[i] = byte(i * 37)
	}
	return stored
}

// unstableChip is a 1 MiB NOR chip (unstable reads drawn from seed) with
// unstableStored programmed at 4064, across the end of block 0, and the
// 40 bytes at 4070 made unstable.
func unstableChip(t *testing.T, seed uint64) *Flash {
	t.Helper()
	f, err := New(Options{Part: mustPart(t, norName), Size: 1 << 20, Seed: seed})
	require.NoError(t, err)
	_, err = f.WriteAt(unstableStored(), 4064) // crosses into block 1
	require.NoError(t, err)
	f.SetUnstable(4070, 40)
	return f
}
