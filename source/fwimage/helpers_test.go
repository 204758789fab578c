package fwimage

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// fdtBuilder writes a flattened device tree token by token (test helper),
// so that tests can build trees mkimage would not.
type fdtBuilder struct {
	strct, strs []byte
	names       map[string]uint32
}

func (b *fdtBuilder) u32(v uint32) { b.strct = binary.BigEndian.AppendUint32(b.strct, v) }

func (b *fdtBuilder) pad() {
	for len(b.strct)%4 != 0 {
		b.strct = append(b.strct, 0)
	}
}

func (b *fdtBuilder) begin(name string) *fdtBuilder {
	b.u32(tokBeginNode)
	b.strct = append(append(b.strct, name...), 0)
	b.pad()
	return b
}

func (b *fdtBuilder) end() *fdtBuilder { b.u32(tokEndNode); return b }

func (b *fdtBuilder) prop(name string, v []byte) *fdtBuilder {
	if b.names == nil {
		b.names = map[string]uint32{}
	}
	off, ok := b.names[name]
	if !ok {
		off = uint32(len(b.strs))
		b.names[name] = off
		b.strs = append(append(b.strs, name...), 0)
	}
	b.u32(tokProp)
	b.u32(uint32(len(v)))
	b.u32(off)
	b.strct = append(b.strct, v...)
	b.pad()
	return b
}

func (b *fdtBuilder) str(name, v string) *fdtBuilder { return b.prop(name, append([]byte(v), 0)) }

func (b *fdtBuilder) cell(name string, v uint32) *fdtBuilder {
	return b.prop(name, binary.BigEndian.AppendUint32(nil, v))
}

// blob ends the structure block and returns the blob: header, an empty
// memory reservation block, structure block, strings block, then external
// (4-byte aligned after the blob).
func (b *fdtBuilder) blob(external []byte) []byte {
	b.u32(tokEnd)
	const rsv = fdtHeaderSize
	offStruct := rsv + 16
	offStrings := offStruct + len(b.strct)
	total := offStrings + len(b.strs)
	h := make([]byte, fdtHeaderSize)
	for i, v := range []uint32{fdtMagic, uint32(total), uint32(offStruct), uint32(offStrings), rsv, 17, 16, 0, uint32(len(b.strs)), uint32(len(b.strct))} {
		binary.BigEndian.PutUint32(h[4*i:], v)
	}
	out := append(append(append(h, make([]byte, 16)...), b.strct...), b.strs...)
	if external != nil {
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		out = append(out, external...)
	}
	return out
}

// firmwareFIT returns a FIT with one firmware image holding data, hashed
// with crc32, in configuration conf-1.
func firmwareFIT(data []byte) []byte {
	crc := binary.BigEndian.AppendUint32(nil, crc32IEEE(data))
	b := &fdtBuilder{}
	b.begin("").str("description", "CMC firmware").cell("timestamp", 1767225600)
	b.begin("images").begin("fw-1").str("description", "firmware").str("type", "firmware").str("version", "3.0.1").
		prop("data", data).begin("hash-1").str("algo", "crc32").prop("value", crc).end().end().end()
	b.begin("configurations").str("default", "conf-1").begin("conf-1").str("firmware", "fw-1").end().end()
	return b.end().blob(nil)
}

func crc32IEEE(b []byte) uint32 {
	h := crc32.NewIEEE()
	h.Write(b)
	return h.Sum32()
}

// countingReader records the largest single read (test helper).
type countingReader struct {
	r       *bytes.Reader
	maxRead int
	total   int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.maxRead = max(c.maxRead, len(p))
	n, err := c.r.ReadAt(p, off)
	c.total += int64(n)
	return n, err
}
