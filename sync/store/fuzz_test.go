package store

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
)

// FuzzParseRecord: the record parser never panics and only accepts records
// whose CRCs hold.
func FuzzParseRecord(f *testing.F) {
	f.Add(encodeRecord(kindCommit, 7, []byte("hello"), 256))
	f.Add(encodeRecord(kindIntent, 1, make([]byte, 300), 256))
	f.Add([]byte{0xFF, 0xFF, 0xFF})
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, trust := range []bool{false, true} {
			r, st := parseRecord(b, 256, trust)
			if st != parseOK {
				continue
			}
			if r.size <= 0 || r.size > int64(len(b)) || len(r.body) > len(b) {
				t.Fatalf("record size %d body %d of %d bytes", r.size, len(r.body), len(b))
			}
			if !trust && crc(b[:recordHeader+len(r.body)]) != le.Uint32(b[recordHeader+len(r.body):]) {
				t.Fatal("accepted a record with a bad CRC")
			}
		}
	})
}

// FuzzDecodeBodies: every body decoder survives garbage.
func FuzzDecodeBodies(f *testing.F) {
	sb := Superblock{Version: 1, EraseSize: 4096, SlotSize: 256, StoreSize: 1 << 20, JournalBlocks: 8, Journal: [2]uint32{2, 10}, DataFirst: 18, DataBlocks: 238}
	f.Add(sb.encode())
	st := State{Generation: 3, Config: Config{Types: []uint8{1, 2}, Interval: time.Second}, Types: []TypeState{{Type: 1, Size: 10, Chunks: []Chunk{{Block: 1}}}}}
	for _, r := range checkpointRecords(&sb, 1, 1, &st, nil, 0, 0) {
		f.Add(r[recordHeader:])
	}
	in := &intent{generation: 4, types: []TypeState{{Type: 1, Size: 9000}}, chunkCounts: []int{3}, entries: []IntentEntry{{Type: 1, Index: 2, Block: 5}}}
	for _, r := range intentRecords(&sb, 9, in) {
		f.Add(r[recordHeader:])
	}
	f.Add(encodeCommit(9, 1, &st))
	db := deltaBlock{block: 7, entries: []deltaEntry{{Type: 1, Index: 2, Off: 0, Len: 30}, {Type: 1, Index: 3, Off: 30, Len: 12}}}
	f.Add(intentDeltasBody(4, &db, false))
	f.Add(intentDeltasBody(4, &db, true))
	run := []IntentEntry{{Type: 1, Index: 2, Block: 5, Check: 9}, {Type: 1, Index: 3, Block: 6}}
	for _, b := range intentRunsBodies(4, [][]IntentEntry{run}, 4096) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if gen, p, err := expandRuns(b); err == nil {
			if len(p)%intentEntrySize != 0 {
				t.Fatalf("generation %d: %d bytes of entries", gen, len(p))
			}
		}
		_, _ = decodeSuperblock(b)
		_, _, _ = decodeIntentDeltas(b, false)
		_, _, _ = decodeIntentDeltas(b, true)
		_, _ = decodeIntentHead(b)
		_, _, _ = decodeIntentChunks(b, nil)
		_, _ = decodeCommit(b)
		d := dec{buf: b}
		d.stateHead()
		d.config()
		d.typeMeta()
	})
}

// FuzzOpenDamaged writes fuzz bytes over a formatted store's metadata
// (superblocks and journal) after a few rounds: Open and the read API never
// panic; a store that opens is self-consistent; a committed chunk that
// fails its digest is never there without damage reported at Open (the
// data area is intact: only damage to the journal can make the store
// trust data it should not); and a store opened for writing runs a round
// after the purge that commits a generation which reads back whole.
func FuzzOpenDamaged(f *testing.F) {
	chip := newChip(f)
	formatTest(f, chip)
	s := openTest(f, chip, Options{})
	ps := payloads{1: randomBytes(1, 20000), 2: randomBytes(2, 3000)}
	runRound(f, s, 1, ps)
	ps[1][5000] ^= 1
	runRound(f, s, 2, ps)
	r, err := s.Begin(planOf(3, payloads{1: randomBytes(3, 20000)}))
	if err != nil {
		f.Fatal(err)
	}
	_ = r
	snap := chip.Snapshot()
	meta := int64(s.layout.DataFirst) * s.eraseSize
	f.Add(uint32(0), []byte{0})
	f.Add(uint32(2*4096+300), []byte("garbage in the journal"))
	f.Add(uint32(2*4096), make([]byte, 600))
	f.Add(uint32(4096), []byte{0x43, 0x4d, 0x4a, 0x31, 0x02})
	f.Add(uint32(2*4096+256), []byte{0x00, 0x01})
	f.Fuzz(func(t *testing.T, at uint32, junk []byte) {
		chip.Restore(snap)
		if len(junk) > 8192 {
			junk = junk[:8192]
		}
		off := int64(at) % meta
		if off+int64(len(junk)) > meta {
			junk = junk[:meta-off]
		}
		chip.Poke(testStoreOff+off, junk)
		for _, ro := range []bool{true, false} {
			st, err := Open(chip, testStoreOff, testStoreSize, Options{ReadOnly: ro})
			if err != nil {
				continue
			}
			state := st.StateRef()
			for _, ty := range state.Types {
				if len(ty.Chunks) != ChunkCount(ty.Size, int64(ty.Phase), st.ChunkSize()) {
					t.Fatalf("type %d: %d chunks for %d bytes", ty.Type, len(ty.Chunks), ty.Size)
				}
				for _, c := range ty.Chunks {
					if c.Block >= st.layout.DataBlocks {
						t.Fatalf("chunk in block %d of %d", c.Block, st.layout.DataBlocks)
					}
				}
			}
			rep := st.Report(true)
			if len(rep.BadChunks) > 0 && len(st.Damage()) == 0 {
				t.Fatalf("generation %d opened without damage reported, but %d committed chunk(s) fail their digests (first: %s)", rep.Generation, len(rep.BadChunks), rep.BadChunks[0].Error)
			}
			if !ro {
				runAfterDamage(t, chip, st, uint64(at))
			}
		}
	})
}

// runAfterDamage purges st's interrupted round (if any) and runs a round
// of new payloads (seeded by seed) on it; the round must commit and read
// back whole after a reopen. A store whose metadata damage leaves no room
// to write (a purge or a compaction that fails with an error) is left
// alone: an error loses nothing.
func runAfterDamage(t *testing.T, chip *sim.Flash, st *Store, seed uint64) {
	t.Helper()
	if _, err := st.Purge(); err != nil {
		return
	}
	gen := st.State().Generation + 1
	np := payloads{1: randomBytes(seed|1, 20000), 2: randomBytes(seed|2, 3000)}
	r, err := st.Begin(planOf(gen, np))
	if err != nil {
		return
	}
	for i, w := range r.Writes() {
		b := np[w.Type]
		lo, hi := ChunkBounds(int64(len(b)), testPhase, 4096, w.Index)
		if _, _, err := r.Write(i, b[lo:hi]); err != nil {
			t.Fatalf("round %d after damage: write chunk %d of type %d into block %d: %v", gen, w.Index, w.Type, w.Block, err)
		}
	}
	if err := r.Commit(State{Generation: gen, Config: planOf(gen, np).Config}); err != nil {
		t.Fatalf("round %d after damage: commit: %v", gen, err)
	}
	again, err := Open(chip, testStoreOff, testStoreSize, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("reopen after the round: %v", err)
	}
	if g := again.State().Generation; g != gen {
		t.Fatalf("reopened at generation %d, the round committed %d (damage: %v)", g, gen, again.Damage())
	}
	if bad := again.VerifyChunks(); len(bad) > 0 {
		t.Fatalf("round %d after damage: %d chunk(s) fail their digests (first: %v)", gen, len(bad), bad[0].Err)
	}
	checkPayloads(t, again, np)
}

var _ = binary.LittleEndian
var _ = sim.NewClock

// FuzzProbe writes fuzz bytes over a blank range or over a formatted
// store's superblocks: Probe never panics, calls a range blank only if it
// reads erased, and agrees with Open on whether a store is there.
func FuzzProbe(f *testing.F) {
	chip := newChip(f)
	blank := chip.Snapshot()
	formatTest(f, chip)
	formatted := chip.Snapshot()
	f.Add(false, uint32(0), []byte{0})
	f.Add(true, uint32(300), []byte("user data"))
	f.Add(false, uint32(4096+20), []byte{0xFF, 0x00})
	f.Add(true, uint32(0), encodeRecord(kindFormatIntent, 0, make([]byte, 64), 256))
	f.Fuzz(func(t *testing.T, onBlank bool, at uint32, junk []byte) {
		chip.Restore(formatted)
		if onBlank {
			chip.Restore(blank)
		}
		junk = junk[:min(len(junk), 4096)]
		off := int64(at) % (2*4096 - int64(len(junk)) + 1)
		chip.Poke(testStoreOff+off, junk)
		res, err := Probe(chip, testStoreOff, testStoreSize)
		if err != nil {
			t.Fatal(err)
		}
		_, oerr := Open(chip, testStoreOff, testStoreSize, Options{ReadOnly: true})
		switch res.State {
		case Blank:
			if onBlank && !hal.IsErased(junk) {
				t.Fatalf("blank after writing %x", junk)
			}
			fallthrough
		case Foreign:
			if !errors.Is(oerr, ErrNotFormatted) {
				t.Fatalf("%v, and Open says %v", res.State, oerr)
			}
		case FormatInterrupted:
			if !errors.Is(oerr, ErrNotFormatted) {
				t.Fatalf("%v, and Open says %v", res.State, oerr)
			}
		case Formatted:
			if errors.Is(oerr, ErrNotFormatted) {
				t.Fatalf("%v, and Open says %v", res.State, oerr)
			}
		default:
			t.Fatalf("state %v", res.State)
		}
	})
}
