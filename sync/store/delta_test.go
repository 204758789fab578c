package store

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
)

// deltaPlanOf is planOf with the payloads' bytes: changed chunks may go
// as deltas.
func deltaPlanOf(gen uint64, ps payloads) Plan {
	p := planOf(gen, ps)
	for i := range p.Types {
		p.Types[i].Payload = ps[p.Types[i].Type]
	}
	return p
}

// deltaRound syncs ps as generation gen with deltas allowed and returns
// the round's writes (chunks whole, delta blocks) and its changed chunks.
func deltaRound(t testing.TB, s *Store, gen uint64, ps payloads) (full, deltaBlocks, changed int) {
	t.Helper()
	r, err := s.Begin(deltaPlanOf(gen, ps))
	require.NoError(t, err)
	_, changed = r.Changed()
	full, deltaBlocks = writeAndCommit(t, r, gen, ps)
	return full, deltaBlocks, changed
}

// writeAndCommit writes r's chunks from ps (the delta blocks from the
// store) and commits generation gen; it returns the chunks written whole
// and the delta blocks.
func writeAndCommit(t testing.TB, r *Round, gen uint64, ps payloads) (full, deltaBlocks int) {
	t.Helper()
	for i, w := range r.Writes() {
		var data []byte
		if w.Type == DeltaBlockType {
			deltaBlocks++
		} else {
			b := ps[w.Type]
			lo, hi := ChunkBounds(int64(len(b)), testPhase, 4096, w.Index)
			data = b[lo:hi]
			full++
		}
		_, _, err := r.Write(i, data)
		require.NoError(t, err)
	}
	require.NoError(t, r.Commit(State{Generation: gen, Time: time.Unix(int64(gen), 0).UTC(), Config: planOf(gen, ps).Config}))
	return full, deltaBlocks
}

// scatter changes n bytes of b at random places (seeded).
func scatter(b []byte, n int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	for range n {
		b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
	}
}

// TestDeltasCommitReopenCompact: a round that changes a few bytes of many
// chunks writes delta blocks, not whole chunks; the committed payloads read
// back exactly, after a reopen (journal replay) and after a compaction
// (checkpoint-deltas), and the chunks' digests verify.
func TestDeltasCommitReopenCompact(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 100_000), 2: randomBytes(2, 30_000)}
	full, dblocks, _ := deltaRound(t, s, 1, ps)
	require.Equal(t, 0, dblocks, "the first round has no base")
	require.Positive(t, full)

	scatter(ps[1], 200, 3)
	full, dblocks, changed := deltaRound(t, s, 2, ps)
	require.Zero(t, full, "scattered bytes go as deltas")
	require.Positive(t, dblocks)
	require.Less(t, dblocks, changed, "delta records pack several chunks per block")
	require.Equal(t, uint32(FormatVersion), s.Identity().Version, "the first delta round upgrades the store")
	checkPayloads(t, s, ps)
	require.Empty(t, s.VerifyChunks())

	// Again: cumulative deltas over the same bases.
	scatter(ps[1], 100, 4)
	scatter(ps[2], 20, 5)
	_, dblocks, _ = deltaRound(t, s, 3, ps)
	require.Positive(t, dblocks)
	checkPayloads(t, s, ps)

	s2 := openTest(t, f, Options{ReadOnly: true})
	require.Empty(t, s2.Damage())
	require.Equal(t, s.State(), s2.State())
	checkPayloads(t, s2, ps)

	requireCompactsWithDeltas(t, f, s, ps)
}

// requireCompactsWithDeltas compacts s and checks that the store reopened
// from f holds the same state (the checkpoint carries the deltas), reads
// ps back and verifies every chunk.
func requireCompactsWithDeltas(t *testing.T, f *sim.Flash, s *Store, ps payloads) {
	t.Helper()
	require.NoError(t, s.Compact())
	s2 := openTest(t, f, Options{})
	require.Empty(t, s2.Damage())
	require.Equal(t, s.State(), s2.State(), "the checkpoint carries the deltas")
	checkPayloads(t, s2, ps)
	require.Empty(t, s2.VerifyChunks())
}

// TestDeltaFoldsLargeChanges: a chunk whose change is too large for a
// delta is written whole, which drops its delta; the state then holds no
// delta block for it.
func TestDeltaFoldsLargeChanges(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 20_000)}
	deltaRound(t, s, 1, ps)
	ps[1][100] ^= 1
	_, dblocks, _ := deltaRound(t, s, 2, ps)
	require.Equal(t, 1, dblocks)
	ts, _ := s.StateRef().Type(1)
	require.Len(t, ts.Chunks[0].Deltas, 1)
	copy(ps[1][0:4000], randomBytes(9, 4000)) // most of chunk 0 and 1
	full, _, _ := deltaRound(t, s, 3, ps)
	require.Positive(t, full)
	ts, _ = s.StateRef().Type(1)
	require.Empty(t, ts.Chunks[0].Deltas, "a large change folds the chunk")
	requireReopens(t, f, s, ps)
}

// TestDeltaChainsFold: each round that changes a chunk again appends a
// delta record to its chain (only what changed since); a chain that is
// full (maxDeltaChain) or too large folds the chunk into a full copy.
func TestDeltaChainsFold(t *testing.T) {
	// Fewer chunks than the test store's, so that the delta budget holds
	// a full chain's blocks (one per round).
	f := newChip(t)
	require.NoError(t, Format(f, testStoreOff, testStoreSize, FormatOptions{
		ChipID: 1, PairID: 42, Time: time.Unix(1000, 0), MaxChunks: 50,
		Config: Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second},
	}))
	s := openTest(t, f, Options{})
	require.Greater(t, s.deltaBudget(), maxDeltaChain)
	ps := payloads{1: randomBytes(1, 20_000)}
	deltaRound(t, s, 1, ps)
	for g := uint64(2); g < 2+maxDeltaChain; g++ {
		ps[1][5000+int(g)] ^= 1
		full, dblocks, _ := deltaRound(t, s, g, ps)
		require.Zero(t, full, "generation %d", g)
		require.Equal(t, 1, dblocks)
		ts, _ := s.StateRef().Type(1)
		require.Len(t, ts.Chunks[1].Deltas, int(g-1))
		checkPayloads(t, s, ps)
	}
	ps[1][5000] ^= 1
	full, dblocks, _ := deltaRound(t, s, 2+maxDeltaChain, ps)
	require.Equal(t, 1, full, "a full chain folds")
	require.Zero(t, dblocks)
	ts, _ := s.StateRef().Type(1)
	require.Empty(t, ts.Chunks[1].Deltas)
	requireReopens(t, f, s, ps)
}

// TestDeltaBudgetFolds: the committed delta blocks stay within the budget:
// rounds that each change a different chunk would pin a delta block each;
// past the budget, old delta blocks are folded.
func TestDeltaBudgetFolds(t *testing.T) {
	_, s := newStore(t)
	ps := payloads{1: randomBytes(1, 240*4096)}
	deltaRound(t, s, 1, ps)
	budget := s.deltaBudget()
	require.Positive(t, budget)
	for g := uint64(2); g < uint64(budget)+12; g++ {
		ps[1][int(g)*4096+5] ^= 0x55 // a different chunk each round
		deltaRound(t, s, g, ps)
		blocks := map[uint32]bool{}
		for _, ts := range s.StateRef().Types {
			for _, c := range ts.Chunks {
				for _, d := range c.Deltas {
					blocks[d.Block] = true
				}
			}
		}
		require.LessOrEqual(t, len(blocks), budget, "generation %d", g)
	}
	checkPayloads(t, s, ps)
}

// TestDeltaDamageIsFound: a delta record whose bytes are wrong fails its
// chunk's verification (the CRC and the digest), never read as good.
func TestDeltaDamageIsFound(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 20_000)}
	deltaRound(t, s, 1, ps)
	ps[1][5000] ^= 1
	deltaRound(t, s, 2, ps)
	ts, _ := s.StateRef().Type(1)
	require.Len(t, ts.Chunks[1].Deltas, 1)
	d := ts.Chunks[1].Deltas[0]
	off := s.BlockOffset(d.Block) + int64(d.Off) + deltaHead5 + deltaRunHead // the run's byte
	b := []byte{0}
	_, err := f.ReadAt(b, off)
	require.NoError(t, err)
	b[0] &= b[0] - 1 // clear a bit: programmable over the old value
	_, err = f.WriteAt(b, off)
	require.NoError(t, err)
	bad := s.VerifyChunks()
	require.Len(t, bad, 1)
	require.Equal(t, 1, bad[0].Index)
	require.ErrorIs(t, bad[0].Err, ErrVerify)
}

// TestDeltaRecordRoundTrip: encodeDelta and applyDelta invert each other
// and applyDelta refuses a record for another chunk or with a bad CRC.
func TestDeltaRecordRoundTrip(t *testing.T) {
	base := randomBytes(1, 4096)
	data := append([]byte(nil), base...)
	scatter(data, 50, 2)
	data[4095] ^= 1
	data[0] ^= 1
	rec := encodeDelta(FormatVersion, 3, 7, 9, base, data)
	got := append([]byte(nil), base...)
	require.NoError(t, applyDelta(rec, 3, 7, got))
	require.Equal(t, data, got)
	require.ErrorIs(t, applyDelta(rec, 3, 8, got), ErrCorrupt)
	rec[len(rec)-1] ^= 1
	require.ErrorIs(t, applyDelta(rec, 3, 7, got), ErrCorrupt)
	same := encodeDelta(FormatVersion, 3, 7, 9, base, base)
	require.Len(t, same, deltaOverhead5, "no runs")
	old := encodeDelta(chainVersion, 3, 7, 9, base, data)
	got = append([]byte(nil), base...)
	require.NoError(t, applyDelta(old, 3, 7, got), "a version 3 record")
	require.Equal(t, data, got)
	require.Len(t, old, len(rec)+deltaOverhead-deltaOverhead5, "the compact record saves 14 header bytes")
}

// TestNoDeltasOption: Options.NoDeltas writes changed chunks whole.
func TestNoDeltasOption(t *testing.T) {
	f := newChip(t)
	formatTest(t, f)
	s := openTest(t, f, Options{NoDeltas: true})
	ps := payloads{1: randomBytes(1, 20_000)}
	deltaRound(t, s, 1, ps)
	ps[1][5000] ^= 1
	full, dblocks, _ := deltaRound(t, s, 2, ps)
	require.Equal(t, 1, full)
	require.Zero(t, dblocks)
	require.Equal(t, uint32(FormatVersion), s.Identity().Version)
}

// asVersion2 rewrites both superblock copies of the test store as format
// version 2 (a store a version 2 writer left).
func asVersion2(t *testing.T, f *sim.Flash) {
	for i := int64(0); i < 2; i++ {
		rewriteRecord(t, f, testStoreOff+i*4096, func(_, b []byte) { le.PutUint32(b, 2) })
	}
}

// TestVersion2StoreUpgradedByTheFirstDelta: a version 2 store opens and
// reads as it is, a round without deltas leaves it version 2, and the
// first round that commits a delta upgrades it (both superblock copies)
// before its intent; a version 2 store holding an intent-deltas record is
// damage, never read as deltas.
func TestVersion2StoreUpgradedByTheFirstDelta(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 20_000)}
	deltaRound(t, s, 1, ps)
	asVersion2(t, f)
	s = openTest(t, f, Options{})
	require.Equal(t, uint32(2), s.Identity().Version)
	require.Empty(t, s.Damage())
	checkPayloads(t, s, ps)
	ps[1] = randomBytes(2, 20_000) // every chunk whole: no delta
	_, dblocks, _ := deltaRound(t, s, 2, ps)
	require.Zero(t, dblocks)
	require.Equal(t, uint32(2), openTest(t, f, Options{ReadOnly: true}).Identity().Version, "no silent upgrade")
	ps[1][3000] ^= 1
	_, dblocks, _ = deltaRound(t, s, 3, ps)
	require.Equal(t, 1, dblocks)
	for i := int64(0); i < 2; i++ {
		c, err := readSuperblockCopy(f, testStoreOff+i*4096, 256, false)
		require.NoError(t, err)
		require.Equal(t, uint32(FormatVersion), c.sb.Version, "copy %d", i)
	}
	s2 := openTest(t, f, Options{ReadOnly: true})
	require.Empty(t, s2.Damage())
	checkPayloads(t, s2, ps)

	// Version 2 again: the intent-deltas record is malformed there.
	asVersion2(t, f)
	s3 := openTest(t, f, Options{ReadOnly: true})
	require.NotEmpty(t, s3.Damage())
	require.Equal(t, uint64(2), s3.State().Generation, "the state before the rejected record")
}

// accessorRound is deltaRound with the payloads given through chunk
// accessors (a round that read only its changed chunks): its types'
// committed chains cannot be folded by the round.
func accessorRound(t testing.TB, s *Store, gen uint64, ps payloads) (full, deltaBlocks int) {
	t.Helper()
	p := planOf(gen, ps)
	for i := range p.Types {
		b := ps[p.Types[i].Type]
		p.Types[i].Chunk = func(c int) ([]byte, error) {
			lo, hi := ChunkBounds(int64(len(b)), testPhase, 4096, c)
			return b[lo:hi], nil
		}
	}
	r, err := s.Begin(p)
	require.NoError(t, err)
	return writeAndCommit(t, r, gen, ps)
}

// TestDeltaBudgetDropReleasesTheOldChain: with the delta budget full and
// nothing foldable (the round read its chunks through accessors), the
// round drops its last deltas until they fit; a chunk whose delta is
// dropped is written whole, so its old chain no longer counts and the
// round's other delta stays a delta. (Counting the dropped chunk's old
// chain drops every delta of the round: two chunks written whole.)
func TestDeltaBudgetDropReleasesTheOldChain(t *testing.T) {
	f := newChip(t)
	formatTest(t, f)
	s := openTest(t, f, Options{})
	budget := s.deltaBudget()
	require.Positive(t, budget)
	ps := payloads{1: randomBytes(1, (budget+4)*4096)}
	accessorRound(t, s, 1, ps)
	g := uint64(2)
	for i := range budget { // one delta block per round, a chunk each
		ps[1][(i+1)*4096+5] ^= 0x55
		full, dblocks := accessorRound(t, s, g, ps)
		require.Zero(t, full, "generation %d", g)
		require.Equal(t, 1, dblocks, "generation %d", g)
		g++
	}
	// Chunk 0 is new to deltas; the last chunk changed above holds a
	// chain (one delta block, alone in it). Both changed: one new delta
	// block over a full budget.
	ps[1][0*4096+7] ^= 0x11
	ps[1][budget*4096+9] ^= 0x22
	full, dblocks := accessorRound(t, s, g, ps)
	require.Equal(t, 1, full, "the last delta is dropped and written whole")
	require.Equal(t, 1, dblocks, "its old chain released, the other delta fits")
	checkPayloads(t, s, ps)
	s2 := openTest(t, f, Options{ReadOnly: true})
	require.Equal(t, s.State(), s2.State())
}

// TestVersion3ChainUpgraded: a version 3 store's chains hold at most 8
// delta records; the next delta round upgrades it to FormatVersion (both
// superblock copies, before its intent) and the chain grows past 8;
// read as version 3 again, the 9th record is damage (the state before it).
func TestVersion3ChainUpgraded(t *testing.T) {
	f := newChip(t)
	require.NoError(t, Format(f, testStoreOff, testStoreSize, FormatOptions{
		ChipID: 1, PairID: 42, Time: time.Unix(1000, 0), MaxChunks: 50,
		Config: Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second},
	}))
	asVersion(t, f, chainVersion)
	s := openTest(t, f, Options{})
	s.version = chainVersion // a version 4 writer: version 3 records
	ps := payloads{1: randomBytes(1, 20_000)}
	deltaRound(t, s, 1, ps)
	for g := uint64(2); g < 2+maxDeltaChainV3; g++ {
		ps[1][5000+int(g)] ^= 1
		deltaRound(t, s, g, ps)
	}
	ts, _ := s.StateRef().Type(1)
	require.Len(t, ts.Chunks[1].Deltas, maxDeltaChainV3)
	asVersion(t, f, 3)
	s = openTest(t, f, Options{})
	require.Equal(t, uint32(3), s.Identity().Version)
	require.Empty(t, s.Damage())
	checkPayloads(t, s, ps)

	g := uint64(2 + maxDeltaChainV3)
	ps[1][5000] ^= 1
	full, dblocks, _ := deltaRound(t, s, g, ps)
	require.Zero(t, full, "version 4 and later extend the chain")
	require.Equal(t, 1, dblocks)
	for i := int64(0); i < 2; i++ {
		c, err := readSuperblockCopy(f, testStoreOff+i*4096, 256, false)
		require.NoError(t, err)
		require.Equal(t, uint32(FormatVersion), c.sb.Version, "copy %d", i)
	}
	ts, _ = s.StateRef().Type(1)
	require.Len(t, ts.Chunks[1].Deltas, maxDeltaChainV3+1)
	requireReopens(t, f, s, ps)

	asVersion(t, f, 3)
	s3 := openTest(t, f, Options{ReadOnly: true})
	require.NotEmpty(t, s3.Damage())
	require.Equal(t, g-1, s3.State().Generation, "the state before the 9th record")
}

// asVersion rewrites both superblock copies of the test store as format
// version v.
func asVersion(t *testing.T, f *sim.Flash, v uint32) {
	for i := int64(0); i < 2; i++ {
		rewriteRecord(t, f, testStoreOff+i*4096, func(_, b []byte) { le.PutUint32(b, v) })
	}
}

// TestDeltaRecordCapKeepsACheckpointInItsArea: the committed delta records
// stay within deltaRecordCap, so a checkpoint of them and a round as large
// as the store was sized for fit in one journal area; with a cap of a few
// records, rounds that keep changing every chunk fold chains early.
func TestDeltaRecordCapKeepsACheckpointInItsArea(t *testing.T) {
	f, s := newStore(t)
	limit := s.deltaRecordCap()
	require.Positive(t, limit)
	// The cap by the formula of deltaRecordCap's comment, for this layout
	// (E = 4096, 250 chunks, K = 88 journal blocks, format version 5):
	// checkpoint 250/92 + 1 + 6 + 2 = 11 blocks; round 250/82 + 1 +
	// 250·47/4054 + 1 + 250/(4096/deltaOverhead) + 1 = 3+1+2+1+1+1 = 9;
	// 88 − 11 − 9 − 8 = 60 blocks of ⌊4058/17⌋ = 238 entries.
	require.Equal(t, uint32(88), s.layout.JournalBlocks)
	require.Equal(t, int64(1), int64(testMaxChunks)/(4096/deltaOverhead))
	require.Equal(t, 60*238, limit)
	e := s.eraseSize
	perBlock := (e - recordOverhead - 10) / ckptDeltaEntrySize
	ckpt := int64(testMaxChunks)/((e-44)/44) + 1 + 8 + int64(limit)/perBlock + 1
	round := int64(testMaxChunks)*(intentEntrySize+deltaEntrySize5)/(e-recordOverhead-16) + 4
	require.LessOrEqual(t, ckpt+round, int64(s.layout.JournalBlocks))

	ps := payloads{1: randomBytes(1, 100_000)}
	deltaRound(t, s, 1, ps)
	s.recordCap = 40 // fewer than two rounds' records
	for g := uint64(2); g < 12; g++ {
		scatter(ps[1], 30, g)
		deltaRound(t, s, g, ps)
		n := 0
		for _, ts := range s.StateRef().Types {
			for _, c := range ts.Chunks {
				n += len(c.Deltas)
			}
		}
		require.LessOrEqual(t, n, 40, "generation %d", g)
		require.Positive(t, n, "generation %d", g)
	}
	requireReopens(t, f, s, ps)
}

// TestOverTheCapWithNothingToFold: committed delta chains over the record
// cap, and a round that can neither fold them (its plan carries no
// payloads: nothing to write them whole from) nor cut deltas of its own
// (it plans none): the round commits, whole chunks only, and keeps the
// chains as they are.
func TestOverTheCapWithNothingToFold(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 100_000), 2: randomBytes(2, 50_000)}
	runRound(t, s, 1, ps)
	ps[2] = bytes.Clone(ps[2])
	for i := range 4 {
		ps[2][i*4096+100] ^= 0x5A
	}
	_, dblocks, _ := deltaRound(t, s, 2, ps)
	require.Positive(t, dblocks)
	chains := func() int {
		n := 0
		for _, ts := range s.StateRef().Types {
			for _, c := range ts.Chunks {
				n += len(c.Deltas)
			}
		}
		return n
	}
	require.Equal(t, 4, chains())
	s.recordCap = 1
	ps[1] = bytes.Clone(ps[1])
	ps[1][5000] ^= 1
	full, dblocks := writeAndCommit(t, mustBegin(t, s, planOf(3, ps)), 3, ps)
	require.Equal(t, 1, full)
	require.Zero(t, dblocks)
	require.Equal(t, 4, chains(), "the chains over the cap are kept")
	requireReopens(t, f, s, ps)
}

func mustBegin(t testing.TB, s *Store, p Plan) *Round {
	t.Helper()
	r, err := s.Begin(p)
	require.NoError(t, err)
	return r
}
