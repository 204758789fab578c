package reference_test

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
)

// image is a store image in memory with edits laid over it; it counts the
// bytes read, which bounds the decoder's work.
type image struct {
	base  []byte
	edits map[int64]byte
	read  int64
}

func (m *image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(m.base)) || int64(len(p)) > int64(len(m.base))-off {
		return 0, fmt.Errorf("read [%#x+%#x] outside the %#x-byte image", off, len(p), len(m.base))
	}
	m.read += int64(len(p))
	copy(p, m.base[off:])
	for at, v := range m.edits {
		if at >= off && at < off+int64(len(p)) {
			p[at-off] = v
		}
	}
	return len(p), nil
}

// fuzzBase is a store image produced by the engine: rounds after restarts,
// a staged configuration and a round cut by power (an intent pending). It
// returns the store range's bytes and the length of its metadata (the
// superblocks and both journal areas).
func fuzzBase(f *testing.F) ([]byte, int64) {
	p := newPair(f, 13)
	for range 3 {
		p.round(10 * time.Minute)
		p.open()
	}
	p.setInterval(time.Minute)
	p.faultedRound(10*time.Minute, "(on (and backup program (after 60)) cut)")
	l := p.layout
	img := make([]byte, l.StoreSize)
	_, err := p.chips[1].ReadAt(img, l.StoreOff)
	require.NoError(f, err)
	b, err := reference.Decode(&image{base: img}, 0, int64(len(img)))
	require.NoError(f, err)
	require.NotNil(f, b.Pending)
	meta := int64(b.Superblock.DataFirst) * b.Superblock.EraseSize
	return img, meta
}

// FuzzDecode feeds damaged and random store images to Decode and to the
// Backup's methods: no panic, and work bounded by the store size (Decode
// reads at most the metadata once, plus a few superblock probes). The
// input's first byte picks how it makes the image:
//
//	0: the rest are 5-byte edits of the produced store's metadata:
//	   u32 offset (modulo the metadata size), a byte to XOR there;
//	1: a u32 offset (modulo the metadata size), then bytes written there;
//	2: the rest is the whole image.
func FuzzDecode(f *testing.F) {
	base, meta := fuzzBase(f)
	edit := func(off uint32, x byte) []byte {
		e := []byte{0, 0, 0, 0, x}
		binary.LittleEndian.PutUint32(e, off)
		return e
	}
	e := uint32(4096)
	f.Add([]byte{0})
	f.Add(append([]byte{0}, edit(40, 1)...))                                                // superblock copy 0
	f.Add(append(append([]byte{0}, edit(40, 1)...), edit(e+40, 1)...))                      // both copies
	f.Add(append([]byte{0}, edit(2*e+30, 0x80)...))                                         // area 0's checkpoint-begin
	f.Add(append([]byte{0}, edit(3*e+100, 4)...))                                           // the first intent
	f.Add(append([]byte{1, 0, 0x30, 0, 0}, make([]byte, 300)...))                           // zeros over a journal block
	f.Add(append([]byte{2}, base[:2*e]...))                                                 // only the superblocks
	f.Add(append([]byte{1, 0, 0, 0, 0}, []byte("CMJ1\x01\x00\x00\x00\x40\x00\x00\x00")...)) // a bad superblock header
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		m := &image{base: base, edits: map[int64]byte{}}
		switch in[0] % 3 {
		case 0:
			for k := 1; k+5 <= len(in); k += 5 {
				off := int64(binary.LittleEndian.Uint32(in[k:])) % meta
				v, ok := m.edits[off]
				if !ok {
					v = base[off]
				}
				m.edits[off] = v ^ in[k+4]
			}
		case 1:
			if len(in) < 5 {
				return
			}
			off := int64(binary.LittleEndian.Uint32(in[1:])) % meta
			for i, v := range in[5:] {
				if off+int64(i) < int64(len(base)) {
					m.edits[off+int64(i)] = v
				}
			}
		case 2:
			m.base = in[1:]
		}
		size := int64(len(m.base))
		if size == 0 {
			return
		}
		b, err := reference.Decode(m, 0, size)
		require.LessOrEqual(t, m.read, size+16<<10, "Decode read %d bytes of a %d-byte store", m.read, size)
		if err != nil {
			require.Nil(t, b)
			return
		}
		for _, f := range b.Findings {
			_ = f.String()
		}
		_ = b.BlocksOfPending()
		_ = b.CommittedBlocks()
		if len(b.Committed.Types) > 0 {
			_, _ = b.Payload(m, b.Committed.Types[0].Type)
		}
	})
}
