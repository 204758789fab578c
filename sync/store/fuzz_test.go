package store

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/cmcsync/cmcsync/faults/reference"
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
// (superblocks and journal) after a few rounds, or with the top bit of at
// set over its data area: Open and the read API never panic; a store that
// opens is self-consistent; a committed chunk that fails its digest is
// never there without damage reported at Open when the data area is
// intact (only damage to the journal can make the store trust data it
// should not; Open does not read the data area); and a store opened for
// writing runs a round after the purge that commits a generation which
// reads back whole, by this package and by the reference decoder
// (package faults/reference: every committed chunk matches its digest).
// The store is opened without an expected identity and, as the engine
// opens it, expecting chip 1 of pair 42 (Options.Expect: of two
// superblock copies that differ in identity, the expected one is used).
//
// Seeded damage shapes beside the simple ones: another pair's superblock
// over copy 0 only; the journal block of an older generation spliced in;
// a data block of another chunk copied over a committed chunk. (A
// truncated image file and one of the wrong size for its part are shapes
// of the image file, not of the chip: cmd/cmcsync's
// TestDamageShapesEndToEnd runs them, with these, through the CLI.)
func FuzzOpenDamaged(f *testing.F) {
	chip := newChip(f)
	formatTest(f, chip)
	s := openTest(f, chip, Options{})
	ps := payloads{1: randomBytes(1, 20000), 2: randomBytes(2, 3000)}
	runCheckedRound(f, s, 1, ps)
	older := chip.Snapshot()
	ps[1][5000] ^= 1
	runCheckedRound(f, s, 2, ps)
	r, err := s.Begin(checkedPlan(3, payloads{1: randomBytes(3, 20000)}))
	if err != nil {
		f.Fatal(err)
	}
	_ = r
	snap := chip.Snapshot()
	meta := int64(s.layout.DataFirst) * s.eraseSize
	data := int64(s.layout.DataBlocks) * s.eraseSize
	f.Add(uint32(0), []byte{0})
	f.Add(uint32(2*4096+300), []byte("garbage in the journal"))
	f.Add(uint32(2*4096), make([]byte, 600))
	f.Add(uint32(4096), []byte{0x43, 0x4d, 0x4a, 0x31, 0x02})
	f.Add(uint32(2*4096+256), []byte{0x00, 0x01})

	// Another pair's superblock over copy 0 only.
	other := newChip(f)
	if err := Format(other, testStoreOff, testStoreSize, FormatOptions{
		ChipID: 1, PairID: 43, Time: time.Unix(2000, 0), MaxChunks: testMaxChunks,
		Config: Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second},
	}); err != nil {
		f.Fatal(err)
	}
	f.Add(uint32(0), readBytes(f, other, testStoreOff, 4096))
	// The journal block of an older generation (after round 1) spliced in.
	chip.Restore(older)
	for off := 2 * s.eraseSize; off < meta; off += s.eraseSize {
		old := readBytes(f, chip, testStoreOff+off, s.eraseSize)
		chip.Restore(snap)
		now := readBytes(f, chip, testStoreOff+off, s.eraseSize)
		chip.Restore(older)
		if string(old) != string(now) {
			f.Add(uint32(off), old)
			break
		}
	}
	chip.Restore(snap)
	// A data block of another chunk copied over a committed chunk.
	if ts, ok := s.StateRef().Type(1); ok && len(ts.Chunks) >= 2 {
		from, to := s.BlockOffset(ts.Chunks[0].Block), s.BlockOffset(ts.Chunks[1].Block)
		f.Add(uint32(1<<31)|uint32(to-testStoreOff-meta), readBytes(f, chip, from, s.eraseSize))
	}

	f.Fuzz(func(t *testing.T, at uint32, junk []byte) {
		if len(junk) > 8192 {
			junk = junk[:8192]
		}
		inData := at&(1<<31) != 0
		base, span := int64(0), meta
		if inData {
			base, span = meta, data
		}
		off := int64(at&^(1<<31)) % span
		if off+int64(len(junk)) > span {
			junk = junk[:span-off]
		}
		expect := &Identity{ChipID: 1, PairID: 42}
		for _, o := range []Options{{ReadOnly: true}, {}, {ReadOnly: true, Expect: expect}, {Expect: expect}} {
			chip.Restore(snap)
			chip.Poke(testStoreOff+base+off, junk)
			st, err := Open(chip, testStoreOff, testStoreSize, o)
			if err != nil {
				// Damage within one superblock copy's block leaves the
				// other copy, this store's: expecting it, Open succeeds.
				oneCopy := !inData && off/s.eraseSize == (off+int64(max(len(junk), 1))-1)/s.eraseSize && off < 2*s.eraseSize
				if o.Expect != nil && oneCopy {
					t.Fatalf("damage within superblock copy %d only: Open expecting chip 1 of pair 42: %v", off/s.eraseSize, err)
				}
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
			if o.Expect != nil {
				if id := st.Identity(); id.ChipID != 1 || id.PairID != 42 {
					t.Fatalf("opened expecting chip 1 of pair 42, got chip %d of pair %#x", id.ChipID, id.PairID)
				}
			}
			rep := st.Report(true)
			if !inData && len(rep.BadChunks) > 0 && len(st.Damage()) == 0 {
				t.Fatalf("generation %d opened without damage reported, but %d committed chunk(s) fail their digests (first: %s)", rep.Generation, len(rep.BadChunks), rep.BadChunks[0].Error)
			}
			if !o.ReadOnly {
				runAfterDamage(t, chip, st, uint64(at))
			}
		}
	})
}

// checkedPlan is planOf with each chunk's check (ChunkCheck), as the
// engine plans a round: the reference decoder checks it.
func checkedPlan(gen uint64, ps payloads) Plan {
	plan := planOf(gen, ps)
	for i := range plan.Types {
		tp := &plan.Types[i]
		tp.Checks = make([]uint64, len(tp.Chunks))
		for k := range tp.Chunks {
			lo, hi := ChunkBounds(tp.Size, testPhase, 4096, k)
			tp.Checks[k] = ChunkCheck(ps[tp.Type][lo:hi])
		}
	}
	return plan
}

// runCheckedRound is runRound of checkedPlan.
func runCheckedRound(t testing.TB, s *Store, gen uint64, ps payloads) {
	t.Helper()
	plan := checkedPlan(gen, ps)
	r, err := s.Begin(plan)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range r.Writes() {
		b := ps[w.Type]
		lo, hi := ChunkBounds(int64(len(b)), testPhase, 4096, w.Index)
		if _, _, err := r.Write(i, b[lo:hi]); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Commit(State{Generation: gen, Config: plan.Config}); err != nil {
		t.Fatal(err)
	}
}

// readBytes reads n bytes of chip at off.
func readBytes(t testing.TB, chip hal.Flash, off, n int64) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := chip.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}

// runAfterDamage purges st's interrupted round (if any) and runs a round
// of new payloads (seeded by seed) on it; the round must commit and read
// back whole after a reopen, and the reference decoder (package
// faults/reference) must decode the generation with every committed chunk
// matching its digest and the payloads whole. A store whose metadata
// damage leaves no room to write (a purge or a compaction that fails with
// an error) is left alone: an error loses nothing.
func runAfterDamage(t *testing.T, chip *sim.Flash, st *Store, seed uint64) {
	t.Helper()
	if _, err := st.Purge(); err != nil {
		return
	}
	gen := st.State().Generation + 1
	np := payloads{1: randomBytes(seed|1, 20000), 2: randomBytes(seed|2, 3000)}
	plan := checkedPlan(gen, np)
	r, err := st.Begin(plan)
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
	if err := r.Commit(State{Generation: gen, Config: plan.Config}); err != nil {
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
	ref, err := reference.Decode(chip, testStoreOff, testStoreSize)
	if err != nil {
		t.Fatalf("round %d after damage: the reference decoder: %v", gen, err)
	}
	if ref.Committed.Generation != gen {
		t.Fatalf("round %d after damage: the reference decoder reads generation %d", gen, ref.Committed.Generation)
	}
	bad, err := ref.VerifyChunks(chip)
	if err != nil || len(bad) > 0 {
		t.Fatalf("round %d after damage: the reference decoder finds %d chunk(s) failing their digests (%v; first: %v)", gen, len(bad), err, bad)
	}
	for typ, want := range np {
		got, err := ref.Payload(chip, typ)
		if err != nil || string(got) != string(want) {
			t.Fatalf("round %d after damage: the reference decoder reads type %d: %v", gen, typ, err)
		}
	}
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
