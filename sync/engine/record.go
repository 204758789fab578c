package engine

import (
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// readRecord reads t's record and re-reads its header to make sure a CMC
// service did not rewrite it meanwhile (retrying a few times if so). It
// also returns the checks (store.ChunkCheck) of the payload's chunks at
// phase, from which it checked the payload CRC (nil for the no-crc-check
// mutant).
func (e *Engine) readRecord(region *info.Region, primary hal.Flash, t info.Type, phase, chunk int64) (info.Record, []uint64, error) {
	off, _ := region.Extent(t)
	hb := make([]byte, info.RecordHeaderSize)
	if e.opts.Mutant == NoCRCCheck { // MUTANT: trust the primary's record without its payload CRC
		rec, err := readRecordUnchecked(primary, off, hb, t)
		return rec, nil, err
	}
	for range 3 {
		rec, checks, err := readRecordInto(region, primary, t, hb, phase, chunk)
		if err != nil {
			return rec, nil, err
		}
		if _, err := primary.ReadAt(hb, off); err != nil {
			putPayload(rec.Payload)
			return info.Record{}, nil, err
		}
		h, err := info.DecodeRecordHeader(hb)
		if err == nil && h.Seq == rec.Seq && h.PayloadCRC == rec.CRC {
			return rec, checks, nil
		}
		putPayload(rec.Payload)
	}
	return info.Record{}, nil, fmt.Errorf("%v record keeps changing while read", t)
}

// readRecordInto is info.Region.Read with the payload in a pooled buffer
// (see getPayload): the same reads in the same order (the 32-byte header,
// then the payload) and the same checks (header magic, version, type and
// CRC, payload length within the extent, payload CRC). The payload CRC is
// combined from the checks of its chunks at phase (see payloadCRC), which
// it returns. On error no buffer is held. hb is scratch for the header.
func readRecordInto(region *info.Region, primary hal.Flash, t info.Type, hb []byte, phase, chunk int64) (info.Record, []uint64, error) {
	if !t.Valid() {
		return info.Record{}, nil, fmt.Errorf("unknown information type %d (want 1..%d)", uint8(t), info.NumTypes)
	}
	off, capacity := region.Extent(t)
	if _, err := primary.ReadAt(hb, off); err != nil {
		return info.Record{}, nil, fmt.Errorf("read %v record: %w", t, err)
	}
	h, err := info.DecodeRecordHeader(hb)
	if err != nil {
		return info.Record{}, nil, fmt.Errorf("%v record at %#x: %w", t, off, err)
	}
	if h.Type != t {
		return info.Record{}, nil, fmt.Errorf("%v record at %#x: %w: header says type %v", t, off, info.ErrCorrupt, h.Type)
	}
	if int64(h.PayloadLen) > capacity-info.RecordHeaderSize {
		return info.Record{}, nil, fmt.Errorf("%v record at %#x: %w: payload length %d exceeds the extent's %d", t, off, info.ErrCorrupt, h.PayloadLen, capacity-info.RecordHeaderSize)
	}
	p := getPayload(int(h.PayloadLen))
	size := int64(len(p))
	checks := make([]uint64, store.ChunkCount(size, phase, chunk))
	// Each chunk's check is computed as soon as the device has filled it,
	// while it is still in the CPU's cache (hal.PieceReader).
	next := 0
	sum := func(filled int) {
		for ; next < len(checks); next++ {
			lo, hi := store.ChunkBounds(size, phase, chunk, next)
			if hi > int64(filled) {
				return
			}
			checks[next] = store.ChunkCheck(p[lo:hi])
		}
	}
	if _, err := hal.ReadAtPieces(primary, p, off+info.RecordHeaderSize, sum); err != nil {
		putPayload(p)
		return info.Record{}, nil, fmt.Errorf("read %v record: %w", t, err)
	}
	sum(len(p))
	if c := payloadCRC(checks, size, phase, chunk); c != h.PayloadCRC {
		putPayload(p)
		return info.Record{}, nil, fmt.Errorf("%v record at %#x: %w: payload crc %#08x, header says %#08x", t, off, info.ErrCorrupt, c, h.PayloadCRC)
	}
	return info.Record{Type: t, Seq: h.Seq, Payload: p, CRC: h.PayloadCRC}, checks, nil
}
