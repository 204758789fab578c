package campaign

import (
	"encoding/binary"
	"errors"
	"hash/crc32"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
)

// policyTampers are the self-test's wrong states for the writer-policy
// check: a round whose data is right but whose choices are not the
// policy's (docs/FORMAT.md 4.14), which every other invariant keeps.
func policyTampers() []tamper {
	return []tamper{
		{invariant: Policy, wrong: "the round's last delta record re-encoded with its first run split in two", run: cleanRound,
			afterRecovery: func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error {
				return w.splitLastDelta()
			}},
	}
}

// splitLastDelta rewrites the last delta record the committed round wrote
// on chip 1 (the last entry of its last intent-deltas-5 record) with its
// first run of two bytes or more split into a run of its first byte and
// one of the rest: the same chunk, 3 bytes longer, runs the policy would
// have merged. The entry's length and the journal record's CRC follow.
func (w *worker) splitLastDelta() error {
	b, err := w.decodeQuiet(1)
	if err != nil {
		return err
	}
	in := b.CommittedIntent
	if in == nil || len(in.Deltas) == 0 {
		return errors.New("the committed round wrote no delta record")
	}
	db := in.Deltas[len(in.Deltas)-1]
	x := db.Entries[len(db.Entries)-1]
	recOff := b.BlockOffset(db.Block) + int64(x.Off)
	old := make([]byte, x.Len)
	var jrec *reference.Record
	for i := range b.Journal {
		if r := b.Journal[i]; r.Kind == reference.KindIntentDeltas5 {
			jrec = &b.Journal[i]
		}
	}
	if jrec == nil {
		return errors.New("no intent-deltas-5 record in the journal")
	}
	frame := make([]byte, jrec.Size)
	w.quiet(func() {
		if _, err = w.chips[1].ReadAt(old, recOff); err == nil {
			_, err = w.chips[1].ReadAt(frame, jrec.Off)
		}
	})
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	if old[0] != 0xD5 {
		return errors.New("the last delta record is not compact")
	}
	// Split the first run of 2 bytes or more.
	out := append([]byte(nil), old[:6]...)
	q, split := old[6:len(old)-4], false
	for len(q) >= 3 {
		off, n := le.Uint16(q), int(q[2])+1
		data := q[3 : 3+n]
		if !split && n >= 2 {
			out = le.AppendUint16(out, off)
			out = append(out, 0, data[0])
			out = le.AppendUint16(out, off+1)
			out = append(out, byte(n-2))
			out = append(out, data[1:]...)
			split = true
		} else {
			out = append(out, q[:3+n]...)
		}
		q = q[3+n:]
	}
	if !split {
		return errors.New("the last delta record has no run of two bytes or more")
	}
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	out = le.AppendUint32(out, crc32.Checksum(out, castagnoli))
	if x.Off+uint32(len(out)) > uint32(w.bench.eraseSize) {
		return errors.New("no room after the last delta record")
	}
	// The intent-deltas-5 record: header (24), u64 generation, u32 block,
	// u16 c, c × 47-byte entries (u8 type, u32 index, u16 length, ...).
	n := le.Uint32(frame[8:])
	body := frame[24 : 24+n]
	c := int(le.Uint16(body[12:]))
	if le.Uint32(body[8:]) != db.Block || c != len(db.Entries) {
		return errors.New("the last intent-deltas-5 record is not the last delta block's")
	}
	le.PutUint16(body[14+(c-1)*47+5:], uint16(len(out)))
	le.PutUint32(frame[24+n:], crc32.Checksum(frame[:24+n], castagnoli))
	w.chips[1].Poke(recOff, out)
	w.chips[1].Poke(jrec.Off, frame[:24+n+4])
	return nil
}
