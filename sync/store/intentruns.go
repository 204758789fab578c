// Intent-runs records (format version 5): the entries of an intent whose
// chunks go whole into consecutive data blocks (chunk first+k of a type
// into block first+k), as runs that state the type, the first index and
// the first block once (docs/FORMAT.md, Record kinds).

package store

import (
	"fmt"
)

// kindIntentRuns is the intent-runs record kind (format version 5).
const kindIntentRuns uint8 = 0x19

// Sizes in an intent-runs record: a run's head (u8 type, u32 first chunk
// index, u32 first data block, u16 n) and each of its n entries (u64
// check, 32 bytes digest). The body starts with u64 generation, u16 runs.
const (
	runHead      = 1 + 4 + 4 + 2
	runEntrySize = 8 + DigestSize
)

// splitRuns returns the entries that go into intent-chunks records
// (spares, and chunks that start no run of two) and the runs: maximal
// sequences of at least two consecutive entries of one type whose indices
// and blocks each go up by one.
func splitRuns(entries []IntentEntry) (singles []IntentEntry, runs [][]IntentEntry) {
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[i].Type != SpareType && entries[j].Type == entries[i].Type &&
			entries[j].Index == entries[j-1].Index+1 && entries[j].Block == entries[j-1].Block+1 {
			j++
		}
		if j-i >= 2 {
			runs = append(runs, entries[i:j])
		} else {
			singles = append(singles, entries[i])
		}
		i = j
	}
	return singles, runs
}

// intentRunsBodies encodes runs as intent-runs bodies of generation gen,
// each at most room bytes (room holds the body's head, a run's head and
// one entry at least); a run that does not fit is split.
func intentRunsBodies(gen uint64, runs [][]IntentEntry, room int64) [][]byte {
	var bb countedBodies
	for _, run := range runs {
		for len(run) > 0 {
			used := int64(len(bb.b.buf))
			if bb.n == 0 {
				used = 10
			}
			fit := (room - used - runHead) / runEntrySize
			if fit < 1 && bb.n > 0 {
				bb.flush()
				continue
			}
			k := min(max(int(fit), 1), len(run))
			b := bb.entry(gen)
			b.u8(run[0].Type)
			b.u32(run[0].Index)
			b.u32(run[0].Block)
			b.u16(uint16(k))
			for _, x := range run[:k] {
				b.u64(x.Check)
				b.raw(x.Digest[:])
			}
			run = run[k:]
		}
	}
	return bb.done()
}

// expandRuns checks the framing of an intent-runs body and returns its
// generation and its entries in the encoding of intent-chunks entries
// (intentEntrySize bytes each), which the replay checks as it checks
// those. A run of type 0 (spares are listed by intent-chunks records
// only), of no entries, or whose indices or blocks pass 2^32 − 1 is
// malformed.
func expandRuns(body []byte) (uint64, []byte, error) {
	d := dec{buf: body}
	gen, runs := d.u64(), int(d.u16())
	var p []byte
	for k := 0; k < runs && !d.bad; k++ {
		t, first, block, n := d.u8(), d.u32(), d.u32(), int(d.u16())
		if d.bad {
			break
		}
		switch {
		case t == SpareType:
			return 0, nil, fmt.Errorf("%w: intent-runs record: a run of spares", ErrCorrupt)
		case n == 0:
			return 0, nil, fmt.Errorf("%w: intent-runs record: a run of no chunks", ErrCorrupt)
		case uint64(first)+uint64(n) > 1<<32 || uint64(block)+uint64(n) > 1<<32:
			return 0, nil, fmt.Errorf("%w: intent-runs record: a run of %d from chunk %d, block %d", ErrCorrupt, n, first, block)
		}
		for i := range n {
			q := d.take(runEntrySize)
			if q == nil {
				break
			}
			var e enc
			e.u8(t)
			e.u32(first + uint32(i))
			e.u32(block + uint32(i))
			e.raw(q)
			p = append(p, e.buf...)
		}
	}
	if err := d.end(); err != nil {
		return 0, nil, fmt.Errorf("%w: intent-runs record: %v", ErrCorrupt, err)
	}
	return gen, p, nil
}

// useRuns reports whether the runs encoding of entries (intent-chunks
// records for the singles, intent-runs records for the runs) takes fewer
// journal bytes, counted in slots, than intent-chunks records alone.
func useRuns(sb *Superblock, entries, singles []IntentEntry, runs [][]IntentEntry) bool {
	if len(runs) == 0 {
		return false
	}
	slots := func(bodies ...int64) int64 {
		n := int64(0)
		for _, b := range bodies {
			n += (recordOverhead + b + sb.SlotSize - 1) / sb.SlotSize
		}
		return n
	}
	chunkSlots := func(n int) int64 {
		per := int((sb.EraseSize - recordOverhead - 16) / intentEntrySize)
		total := int64(0)
		for first := 0; first < n; first += per {
			total += slots(10 + int64(min(per, n-first))*intentEntrySize)
		}
		return total
	}
	withRuns := chunkSlots(len(singles))
	for _, b := range intentRunsBodies(0, runs, sb.EraseSize-recordOverhead) {
		withRuns += slots(int64(len(b)))
	}
	return withRuns < chunkSlots(len(entries))
}
