package campaign

import (
	"hash/maphash"
	"slices"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/info"
)

// payloadKey names a committed payload the reference decoder read back
// from a chip: the view whose committed state says where its chunks and
// deltas lie, the type, and a hash of the versions of the erase blocks
// those occupy on the chip (payloadEntry holds the versions themselves).
type payloadKey struct {
	view     uint64
	chip     int
	typ      uint8
	versions uint64
}

type payloadEntry struct {
	versions []uint64
	payload  []byte
	crc      uint32 // info.Checksum(payload)
}

// maxPayloadBytes bounds the payloads a worker's payload memo holds; beyond
// it the memo starts afresh.
const maxPayloadBytes = 32 << 20

// payload returns what v's reference decoder reads back of type t's
// committed payload on chip (reference.Backup.Payload, every chunk and
// delta checked against its digest), reading it only once per contents of
// the blocks it comes from: the simulator gives a block a new version
// whenever its contents, bad or unstable state change and never reuses a
// version, and a view is never modified, so the same view, type and block
// versions read the same bytes. Every case that fails over reads the
// committed payloads back (checkFailoverRestored, lastCommitted), most of
// them from blocks the case never wrote. Without stable cells (reads may
// differ from read to read) it reads every time; errors are not kept.
func (w *worker) payload(v *storeView, chip int, t uint8) ([]byte, error) {
	if !w.stable {
		return v.backup.Payload(w.chips[chip], t)
	}
	p, _, err := w.payloadCRC(v, chip, t)
	return p, err
}

// payloadCRC is payload with the payload's info.Checksum (kept with it
// in the memo).
func (w *worker) payloadCRC(v *storeView, chip int, t uint8) ([]byte, uint32, error) {
	b := v.backup
	ts, ok := b.Committed.Type(t)
	if !ok || !w.stable {
		p, err := b.Payload(w.chips[chip], t)
		return p, info.Checksum(p), err
	}
	vers := w.payloadVers[:0]
	e := b.Superblock.EraseSize
	span := func(off, n int64) {
		for blk := off / e; blk <= (off+n-1)/e; blk++ {
			vers = append(vers, uint64(blk), w.chips[chip].BlockVersion(blk))
		}
	}
	for i, c := range ts.Chunks {
		lo, hi := reference.ChunkBounds(ts.Size, int64(ts.Phase), e, int64(i))
		if hi > lo {
			span(b.BlockOffset(c.Block), hi-lo)
		}
		for _, d := range c.Deltas {
			if d.Len > 0 {
				span(b.BlockOffset(d.Block)+int64(d.Off), int64(d.Len))
			}
		}
	}
	w.payloadVers = vers
	var h maphash.Hash
	h.SetSeed(hashSeed)
	for _, x := range vers {
		var buf [8]byte
		for i := range buf {
			buf[i] = byte(x >> (8 * i))
		}
		h.Write(buf[:])
	}
	k := payloadKey{view: v.id, chip: chip, typ: t, versions: h.Sum64()}
	if en, ok := w.payloads[k]; ok && slices.Equal(en.versions, vers) {
		return en.payload, en.crc, nil
	}
	p, err := b.Payload(w.chips[chip], t)
	if err != nil {
		return p, info.Checksum(p), err
	}
	if w.payloads == nil || w.payloadBytes+len(p) > maxPayloadBytes {
		w.payloads, w.payloadBytes = map[payloadKey]payloadEntry{}, 0
	}
	crc := info.Checksum(p)
	w.payloads[k] = payloadEntry{versions: slices.Clone(vers), payload: p, crc: crc}
	w.payloadBytes += len(p)
	return p, crc, nil
}
