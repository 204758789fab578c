package fwimage

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Flattened device tree (Devicetree Specification, chapter 5): a 40-byte
// big-endian header, a memory reservation block, a structure block of
// 4-byte-aligned tokens and a strings block of NUL-terminated property
// names.
//
//	0  u32 magic 0xd00dfeed
//	4  u32 totalsize
//	8  u32 off_dt_struct
//	12 u32 off_dt_strings
//	16 u32 off_mem_rsvmap
//	20 u32 version (17)
//	24 u32 last_comp_version (16)
//	28 u32 boot_cpuid_phys
//	32 u32 size_dt_strings
//	36 u32 size_dt_struct (version 17)
const (
	fdtMagic      uint32 = 0xd00dfeed
	fdtHeaderSize        = 40

	tokBeginNode = 1
	tokEndNode   = 2
	tokProp      = 3
	tokNop       = 4
	tokEnd       = 9
)

// Bounds on what reading a tree keeps in memory, whatever the input says.
const (
	maxStringsBlock = 1 << 20 // strings block bytes
	maxPropValue    = 4 << 10 // a larger value is kept by position only
	maxStoredValues = 1 << 20 // property value bytes kept in all
	maxNodes        = 10000
	maxDepth        = 64
	maxNodeName     = 1024
)

// fdtHeader is a checked FDT header.
type fdtHeader struct {
	totalSize   int64
	offStruct   int64
	sizeStruct  int64
	offStrings  int64
	sizeStrings int64
}

// fdtNode is one node of a tree: its name, its properties and children.
type fdtNode struct {
	name     string
	offset   int64 // of its FDT_BEGIN_NODE token
	props    []fdtProp
	children []*fdtNode
}

// fdtProp is one property: its name, where its value is and, when the value
// is at most maxPropValue bytes, the value.
type fdtProp struct {
	name   string
	offset int64 // of the value, from the start of the blob
	size   int64
	value  []byte // nil when not kept
}

func (n *fdtNode) prop(name string) *fdtProp {
	for i := range n.props {
		if n.props[i].name == name {
			return &n.props[i]
		}
	}
	return nil
}

func (n *fdtNode) child(name string) *fdtNode {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// readFDTHeader reads and checks the FDT header at the start of r, whose
// readable size is size bytes.
func readFDTHeader(r io.ReaderAt, size int64) (fdtHeader, error) {
	if size < fdtHeaderSize {
		return fdtHeader{}, fmt.Errorf("%w: FDT header: %d bytes available, want %d", ErrFormat, size, fdtHeaderSize)
	}
	b, err := readAt(r, 0, fdtHeaderSize, "FDT header")
	if err != nil {
		return fdtHeader{}, err
	}
	if m := be.Uint32(b); m != fdtMagic {
		return fdtHeader{}, fmt.Errorf("%w: magic 0x%08x at offset 0, want 0x%08x (flattened device tree)", ErrNotImage, m, fdtMagic)
	}
	u := func(off int) int64 { return int64(be.Uint32(b[off:])) }
	h := fdtHeader{totalSize: u(4), offStruct: u(8), offStrings: u(12), sizeStrings: u(32)}
	version, lastComp, offRsv := u(20), u(24), u(16)
	if h.totalSize < fdtHeaderSize || h.totalSize > size {
		return fdtHeader{}, fmt.Errorf("%w: FDT totalsize %d (header offset 4) is outside %d … %d, the bytes available (truncated image?)",
			ErrFormat, h.totalSize, fdtHeaderSize, size)
	}
	if version < 16 || lastComp > 17 {
		return fdtHeader{}, fmt.Errorf("%w: FDT version %d (header offset 20), last compatible version %d (offset 24): want version 16 or later, readable as 17",
			ErrFormat, version, lastComp)
	}
	h.sizeStruct = h.totalSize - h.offStruct
	if version >= 17 {
		h.sizeStruct = u(36)
	}
	for _, blk := range []struct {
		name      string
		field     int
		off, size int64
		align     int64
	}{
		{"memory reservation block", 16, offRsv, 16, 8},
		{"structure block", 8, h.offStruct, h.sizeStruct, 4},
		{"strings block", 12, h.offStrings, h.sizeStrings, 1},
	} {
		if blk.off < fdtHeaderSize || blk.off%blk.align != 0 || blk.size < 0 || blk.off+blk.size > h.totalSize {
			return fdtHeader{}, fmt.Errorf("%w: FDT %s [0x%x, 0x%x) (header offset %d) is not %d-byte aligned inside [0x%x, 0x%x)",
				ErrFormat, blk.name, blk.off, blk.off+blk.size, blk.field, blk.align, fdtHeaderSize, h.totalSize)
		}
	}
	if h.sizeStrings > maxStringsBlock {
		return fdtHeader{}, fmt.Errorf("%w: FDT strings block of %d bytes (header offset 32), more than the %d this reader takes",
			ErrFormat, h.sizeStrings, maxStringsBlock)
	}
	return h, nil
}

// fdtReader walks a structure block through a buffer.
type fdtReader struct {
	in      *bufio.Reader
	pos     int64 // offset of the next byte, from the start of the blob
	end     int64 // end of the structure block
	strings []byte
	stored  int64 // property value bytes kept so far
	nodes   int
}

// readFDT reads the tree of the blob at the start of r: every node and
// property, keeping values of at most maxPropValue bytes.
func readFDT(r io.ReaderAt, h fdtHeader) (*fdtNode, error) {
	strs, err := readAt(r, h.offStrings, int(h.sizeStrings), "FDT strings block")
	if err != nil {
		return nil, err
	}
	fr := &fdtReader{
		in:  bufio.NewReaderSize(io.NewSectionReader(r, h.offStruct, h.sizeStruct), 64<<10),
		pos: h.offStruct, end: h.offStruct + h.sizeStruct, strings: strs,
	}
	var root *fdtNode
	var open []*fdtNode
	for {
		at := fr.pos
		tok, err := fr.u32()
		if err != nil {
			return nil, err
		}
		switch tok {
		case tokBeginNode:
			if len(open) == 0 && root != nil {
				return nil, fmt.Errorf("%w: FDT structure block: a second root node at 0x%x", ErrFormat, at)
			}
			if len(open) == maxDepth || fr.nodes == maxNodes {
				return nil, fmt.Errorf("%w: FDT structure block: node at 0x%x is past %d levels or %d nodes", ErrFormat, at, maxDepth, maxNodes)
			}
			name, err := fr.name()
			if err != nil {
				return nil, err
			}
			n := &fdtNode{name: name, offset: at}
			fr.nodes++
			if len(open) == 0 {
				root = n
			} else {
				parent := open[len(open)-1]
				parent.children = append(parent.children, n)
			}
			open = append(open, n)
		case tokEndNode:
			if len(open) == 0 {
				return nil, fmt.Errorf("%w: FDT structure block: end of node at 0x%x with no node open", ErrFormat, at)
			}
			open = open[:len(open)-1]
		case tokProp:
			if len(open) == 0 {
				return nil, fmt.Errorf("%w: FDT structure block: property at 0x%x outside any node", ErrFormat, at)
			}
			p, err := fr.prop(at)
			if err != nil {
				return nil, err
			}
			n := open[len(open)-1]
			n.props = append(n.props, p)
		case tokNop:
		case tokEnd:
			if len(open) != 0 {
				return nil, fmt.Errorf("%w: FDT structure block: end token at 0x%x inside node %q", ErrFormat, at, open[len(open)-1].name)
			}
			if root == nil {
				return nil, fmt.Errorf("%w: FDT structure block: end token at 0x%x before any node", ErrFormat, at)
			}
			return root, nil
		default:
			return nil, fmt.Errorf("%w: FDT structure block: unknown token 0x%08x at 0x%x", ErrFormat, tok, at)
		}
	}
}

func (fr *fdtReader) u32() (uint32, error) {
	var b [4]byte
	if err := fr.read(b[:]); err != nil {
		return 0, err
	}
	return be.Uint32(b[:]), nil
}

// read fills b from the structure block.
func (fr *fdtReader) read(b []byte) error {
	if fr.pos+int64(len(b)) > fr.end {
		return fmt.Errorf("%w: FDT structure block: %d bytes at 0x%x run past its end 0x%x (no end token)", ErrFormat, len(b), fr.pos, fr.end)
	}
	if _, err := io.ReadFull(fr.in, b); err != nil {
		return fmt.Errorf("reading FDT structure block at 0x%x: %w", fr.pos, err)
	}
	fr.pos += int64(len(b))
	return nil
}

// skip passes n bytes of the structure block.
func (fr *fdtReader) skip(n int64) error {
	if fr.pos+n > fr.end {
		return fmt.Errorf("%w: FDT structure block: %d bytes at 0x%x run past its end 0x%x", ErrFormat, n, fr.pos, fr.end)
	}
	for n > 0 {
		step := min(n, 1<<30)
		d, err := fr.in.Discard(int(step))
		fr.pos += int64(d)
		if err != nil {
			return fmt.Errorf("reading FDT structure block at 0x%x: %w", fr.pos, err)
		}
		n -= step
	}
	return nil
}

// align passes the padding to the next 4-byte boundary.
func (fr *fdtReader) align() error { return fr.skip((4 - fr.pos%4) % 4) }

// name reads a node's NUL-terminated name and its padding.
func (fr *fdtReader) name() (string, error) {
	start := fr.pos
	var name []byte
	for {
		var c [1]byte
		if err := fr.read(c[:]); err != nil {
			return "", err
		}
		if c[0] == 0 {
			break
		}
		if len(name) == maxNodeName {
			return "", fmt.Errorf("%w: FDT structure block: node name at 0x%x is longer than %d bytes", ErrFormat, start, maxNodeName)
		}
		name = append(name, c[0])
	}
	return string(name), fr.align()
}

// prop reads a property's length, name offset and value (kept when small
// enough) and its padding; at is the offset of its token.
func (fr *fdtReader) prop(at int64) (fdtProp, error) {
	size, err := fr.u32()
	if err != nil {
		return fdtProp{}, err
	}
	nameOff, err := fr.u32()
	if err != nil {
		return fdtProp{}, err
	}
	name, err := fr.stringAt(int64(nameOff), at)
	if err != nil {
		return fdtProp{}, err
	}
	p := fdtProp{name: name, offset: fr.pos, size: int64(size)}
	if p.offset+p.size > fr.end {
		return fdtProp{}, fmt.Errorf("%w: FDT property %q at 0x%x: %d value bytes run past the structure block's end 0x%x",
			ErrFormat, name, at, size, fr.end)
	}
	if p.size <= maxPropValue && fr.stored+p.size <= maxStoredValues {
		p.value = make([]byte, size)
		if err := fr.read(p.value); err != nil {
			return fdtProp{}, err
		}
		fr.stored += p.size
	} else if err := fr.skip(p.size); err != nil {
		return fdtProp{}, err
	}
	return p, fr.align()
}

// stringAt returns the NUL-terminated string at off of the strings block.
func (fr *fdtReader) stringAt(off, at int64) (string, error) {
	if off >= int64(len(fr.strings)) {
		return "", fmt.Errorf("%w: FDT property at 0x%x: name offset %d is past the %d-byte strings block", ErrFormat, at, off, len(fr.strings))
	}
	s := fr.strings[off:]
	i := bytes.IndexByte(s, 0)
	if i < 0 {
		return "", fmt.Errorf("%w: FDT property at 0x%x: name at strings offset %d has no NUL before the block's end", ErrFormat, at, off)
	}
	return string(s[:i]), nil
}

// propString returns the string value of property name of n ("" when n has
// none); of a string list, the first string.
func propString(n *fdtNode, name string) (string, error) {
	p := n.prop(name)
	if p == nil {
		return "", nil
	}
	if p.value == nil {
		return "", fmt.Errorf("%w: property %q of node %q at 0x%x: %d bytes, longer than the %d this reader keeps of a string",
			ErrFormat, name, n.name, p.offset, p.size, maxPropValue)
	}
	i := bytes.IndexByte(p.value, 0)
	if i < 0 {
		return "", fmt.Errorf("%w: property %q of node %q at 0x%x is not a NUL-terminated string", ErrFormat, name, n.name, p.offset)
	}
	return string(p.value[:i]), nil
}

// propU32 returns the 4-byte value of property name of n; ok is false when
// n has none.
func propU32(n *fdtNode, name string) (v uint32, ok bool, err error) {
	p := n.prop(name)
	if p == nil {
		return 0, false, nil
	}
	if len(p.value) != 4 {
		return 0, false, fmt.Errorf("%w: property %q of node %q at 0x%x is %d bytes, want 4", ErrFormat, name, n.name, p.offset, p.size)
	}
	return be.Uint32(p.value), true, nil
}
