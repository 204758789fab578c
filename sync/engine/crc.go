package engine

// CRC-32C arithmetic for checking a record's payload CRC from its chunks'
// CRCs: a round computes every chunk's check (store.ChunkCheck, whose high
// 32 bits are the chunk's CRC-32C) anyway, and the payload's CRC-32C is
// exactly the combination of its chunks' CRCs, so the payload need not be
// run through CRC-32C a second time. This is zlib's crc32_combine (GF(2)
// polynomial arithmetic modulo the reflected Castagnoli polynomial).

import (
	"sync"

	"github.com/cmcsync/cmcsync/sync/store"
)

const castagnoliPoly = 0x82F63B78 // reflected

// multModP returns a·b modulo the polynomial (reflected bit order).
func multModP(a, b uint32) uint32 {
	m := uint32(1) << 31
	var p uint32
	for {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				break
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ castagnoliPoly
		} else {
			b >>= 1
		}
	}
	return p
}

// x2nTable[k] is x^(2^k) modulo the polynomial.
var x2nTable = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	t[0] = p
	for k := 1; k < 32; k++ {
		p = multModP(p, p)
		t[k] = p
	}
	return t
}()

// crcShift returns the operator that appends n zero bytes to a CRC:
// x^(8n) modulo the polynomial.
func crcShift(n int64) uint32 {
	p := uint32(1) << 31 // x^0
	k := 3
	for u := uint64(n); u != 0; u >>= 1 {
		if u&1 != 0 {
			p = multModP(x2nTable[k&31], p)
		}
		k++
	}
	return p
}

// crcCombine returns the CRC-32C of A‖B given crcA = CRC-32C(A),
// crcB = CRC-32C(B) and shiftB = crcShift(len(B)).
func crcCombine(crcA, crcB, shiftB uint32) uint32 {
	return multModP(shiftB, crcA) ^ crcB
}

// shiftTable applies one shift operator by table lookup: multiplying by a
// fixed polynomial is linear, so the product of a CRC is the XOR of the
// products of its four bytes.
type shiftTable [4][256]uint32

// newShiftTable tabulates the shift operator shift.
func newShiftTable(shift uint32) *shiftTable {
	var t shiftTable
	for k := range 4 {
		for b := range 256 {
			t[k][b] = multModP(shift, uint32(b)<<(8*k))
		}
	}
	return &t
}

// combine is crcCombine(crcA, crcB, shift) for the table's shift.
func (t *shiftTable) combine(crcA, crcB uint32) uint32 {
	return t[0][byte(crcA)] ^ t[1][byte(crcA>>8)] ^ t[2][byte(crcA>>16)] ^ t[3][crcA>>24] ^ crcB
}

// shiftTables caches a table per chunk size (the full chunks of a payload
// all have the chunk size).
var shiftTables sync.Map // int64 → *shiftTable

// shiftTableFor returns the table of crcShift(n), made once per n.
func shiftTableFor(n int64) *shiftTable {
	if t, ok := shiftTables.Load(n); ok {
		return t.(*shiftTable)
	}
	t, _ := shiftTables.LoadOrStore(n, newShiftTable(crcShift(n)))
	return t.(*shiftTable)
}

// payloadCRC returns the CRC-32C of a payload of size bytes cut at phase
// into chunks whose checks (store.ChunkCheck) are given: the high 32 bits
// of a check are the chunk's CRC-32C, and combining them in order gives
// the payload's, exactly.
func payloadCRC(checks []uint64, size, phase, chunk int64) uint32 {
	var crc uint32
	full := shiftTableFor(chunk)
	for i, c := range checks {
		lo, hi := store.ChunkBounds(size, phase, chunk, i)
		if hi-lo == chunk {
			crc = full.combine(crc, uint32(c>>32))
		} else {
			crc = crcCombine(crc, uint32(c>>32), crcShift(hi-lo))
		}
	}
	return crc
}
