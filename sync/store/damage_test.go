package store

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func junk(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestDamagedSuperblockCopy(t *testing.T) {
	for copyNo := int64(0); copyNo < 2; copyNo++ {
		f := newChip(t)
		formatTest(t, f)
		s := openTest(t, f, Options{})
		ps := payloads{1: randomBytes(1, 10000)}
		runRound(t, s, 1, ps)
		f.Poke(testStoreOff+copyNo*4096, junk(uint64(copyNo), 200))
		s = openTest(t, f, Options{})
		require.Equal(t, uint64(1), s.State().Generation)
		require.NotEmpty(t, s.Damage())
		require.Contains(t, strings.Join(s.Damage(), "\n"), "superblock copy")
		checkPayloads(t, s, ps)
	}
	// Both copies gone: not formatted.
	f := newChip(t)
	formatTest(t, f)
	f.Poke(testStoreOff, junk(5, 300))
	f.Poke(testStoreOff+4096, junk(6, 300))
	_, err := Open(f, testStoreOff, testStoreSize, Options{})
	require.ErrorIs(t, err, ErrNotFormatted)
	// The journal and chunks after the copies are intact: the error must
	// not send the user to format, which would erase them, without
	// saying so.
	require.Contains(t, err.Error(), "may still hold committed information")
	require.Contains(t, err.Error(), "formatting erases all of it")
	require.NotContains(t, err.Error(), "(run format)")
	// A blank range is another matter: nothing is lost, but the hint names
	// reseed (one chip) and says that serve --format erases both stores.
	_, err = Open(newChip(t), testStoreOff, testStoreSize, Options{})
	require.ErrorIs(t, err, ErrNotFormatted)
	require.Contains(t, err.Error(), "both copies are erased (a blank range, never formatted: a replaced chip? `cmcsync reseed` formats the store of the standby chip only and syncs it from the active one; `cmcsync serve --format` formats BOTH chips and ERASES both stores)")
	require.NotContains(t, err.Error(), "`cmcsync serve --format` formats the pair")
}

func TestDamagedCommitRecordFallsBack(t *testing.T) {
	f, s := newStore(t)
	ps1 := payloads{1: randomBytes(1, 10000)}
	runRound(t, s, 1, ps1)
	ps2 := payloads{1: randomBytes(2, 10000)}
	runRound(t, s, 2, ps2)
	commit := s.lastRecord
	require.Equal(t, kindCommit, commit.kind)
	ps3 := payloads{1: randomBytes(3, 10000)}
	runRound(t, s, 3, ps3)
	// Scribble over generation 2's commit record: generation 3's records
	// follow it, so this is damage, not a torn tail.
	f.Poke(commit.off, junk(9, int(commit.size)))
	s = openTest(t, f, Options{})
	require.NotEmpty(t, s.Damage())
	// Generation 1 is the last intact one; its blocks were never reused
	// (the data area is large), so its data verifies.
	require.Equal(t, uint64(1), s.State().Generation)
	checkPayloads(t, s, ps1)
	require.NotNil(t, s.Interrupted(), "generation 2's intent is pending")
	_, err := s.Purge()
	require.NoError(t, err)
	// The journal compacts before appending; a new generation commits.
	runRound(t, s, 4, ps3)
	s = openTest(t, f, Options{})
	require.Equal(t, uint64(4), s.State().Generation)
	require.Empty(t, s.Damage())
	checkPayloads(t, s, ps3)
}

func TestDamagedDataBlockIsReported(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 20000)}
	runRound(t, s, 1, ps)
	ts, _ := s.StateRef().Type(1)
	f.Poke(s.BlockOffset(ts.Chunks[2].Block)+100, []byte{0x00, 0x11})
	rep, err := Inspect(f, testStoreOff, testStoreSize, true)
	require.NoError(t, err)
	require.Len(t, rep.BadChunks, 1)
	require.Equal(t, 2, rep.BadChunks[0].Index)
	_, err = s.ReadPayload(1)
	require.ErrorIs(t, err, ErrVerify)
	// A forced rewrite commits an intact generation.
	p := planOf(2, ps)
	p.Rewrite = map[uint8][]int{1: {2}}
	r, err := s.Begin(p)
	require.NoError(t, err)
	require.Len(t, r.Writes(), 1)
	for i, w := range r.Writes() {
		lo, hi := ChunkBounds(int64(len(ps[1])), testPhase, 4096, w.Index)
		_, _, err := r.Write(i, ps[1][lo:hi])
		require.NoError(t, err)
	}
	require.NoError(t, r.Commit(State{Generation: 2}))
	checkPayloads(t, s, ps)
}

func TestReadOnlyNeverWrites(t *testing.T) {
	f, s := newStore(t)
	runRound(t, s, 1, payloads{1: randomBytes(1, 10000)})
	_, err := s.Begin(planOf(2, payloads{1: randomBytes(2, 10000)}))
	require.NoError(t, err)
	before := f.Stats()
	ro, err := Open(f, testStoreOff, testStoreSize, Options{ReadOnly: true})
	require.NoError(t, err)
	require.NotNil(t, ro.Interrupted())
	_, err = ro.Purge()
	require.ErrorIs(t, err, ErrReadOnly)
	require.ErrorIs(t, ro.StageConfig(Config{}), ErrReadOnly)
	d := f.Stats().Sub(before)
	require.Zero(t, d.Programs+d.Erases)
}

// TestFindingKindText: every finding kind's name parses back; an unknown
// name does not.
func TestFindingKindText(t *testing.T) {
	for k := SuperblockDamaged; k <= BlockRetired; k++ {
		b, err := k.MarshalText()
		require.NoError(t, err)
		var got FindingKind
		require.NoError(t, got.UnmarshalText(b))
		require.Equal(t, k, got)
	}
	var k FindingKind
	require.Error(t, k.UnmarshalText([]byte("bad-luck")))
}
