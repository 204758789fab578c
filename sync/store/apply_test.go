package store

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestApplyIntentOwnedEqualsApplyIntent: the replay's in-place commit gives
// the same types, or the same error, as the copying one, and leaves the
// state untouched on error; over random intents, well formed and not.
func TestApplyIntentOwnedEqualsApplyIntent(t *testing.T) {
	const seed = 11
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	mkState := func() []TypeState {
		var ts []TypeState
		for _, ty := range []uint8{1, 2, 4} {
			n := rng.IntN(6)
			c := make([]Chunk, n, n+rng.IntN(3))
			for i := range c {
				c[i] = Chunk{Block: uint32(100*int(ty) + i), Check: uint64(i)}
			}
			ts = append(ts, TypeState{Type: ty, Size: int64(n), Chunks: c})
		}
		return ts
	}
	for iter := range 3000 {
		base := mkState()
		in := &intent{}
		for _, ty := range []uint8{1, 3, 4} {
			if rng.IntN(2) == 0 {
				in.types = append(in.types, TypeState{Type: ty, Size: int64(rng.IntN(9))})
				in.chunkCounts = append(in.chunkCounts, rng.IntN(7))
			}
		}
		if rng.IntN(20) == 0 && len(in.types) > 0 { // a type listed twice
			in.types = append(in.types, in.types[0])
			in.chunkCounts = append(in.chunkCounts, rng.IntN(7))
		}
		for range rng.IntN(12) {
			ty := []uint8{SpareType, 1, 2, 3, 4}[rng.IntN(5)]
			in.entries = append(in.entries, IntentEntry{Type: ty, Index: uint32(rng.IntN(8)), Block: uint32(1000 + rng.IntN(100)), Check: rng.Uint64(), Digest: Digest{byte(rng.Uint32()), 31: byte(rng.Uint32())}})
		}
		setDigests(base, in, rng.IntN(8) == 0)
		cp := func(ts []TypeState) []TypeState {
			out := make([]TypeState, len(ts))
			for i := range ts {
				out[i] = ts[i].clone()
			}
			return out
		}
		s1 := &Store{committed: State{Types: cp(base)}}
		s2 := &Store{committed: State{Types: cp(base)}}
		want, werr := s1.applyIntent(in)
		// The replay's intents hold their entries encoded, split over
		// records.
		raw := *in
		raw.entries = nil
		for rest := in.entries; len(rest) > 0; {
			n := 1 + rng.IntN(len(rest))
			raw.raw = append(raw.raw, encodeEntries(rest[:n]))
			rest = rest[n:]
		}
		got, gerr := s2.applyIntentOwned(&raw, nil)
		if werr != nil {
			require.EqualError(t, gerr, werr.Error(), "iteration %d (seed %d)", iter, seed)
			require.Equal(t, base, s2.committed.Types, "iteration %d: state changed on error", iter)
			continue
		}
		require.NoError(t, gerr, "iteration %d (seed %d)", iter, seed)
		require.Equal(t, want, got, "iteration %d (seed %d)", iter, seed)
	}
}

// setDigests gives each type of in the payload digest of the chunk map its
// commit onto committed makes (the last entry naming a chunk wins), and
// spoils one if wrong.
func setDigests(committed []TypeState, in *intent, wrong bool) {
	for i := range in.types {
		t := &in.types[i]
		chunks := make([]Chunk, in.chunkCounts[i])
		for _, c := range committed {
			if c.Type == t.Type {
				copy(chunks, c.Chunks)
			}
		}
		for _, x := range in.entries {
			if x.Type == t.Type && int(x.Index) < len(chunks) {
				chunks[x.Index].Digest = x.Digest
			}
		}
		t.Digest = payloadDigestOf(t.Size, chunks)
		if wrong {
			t.Digest[0] ^= 1
		}
	}
}

// encodeEntries encodes intent entries as an intent chunk record lists them.
func encodeEntries(entries []IntentEntry) []byte {
	var b enc
	for _, x := range entries {
		b.u8(x.Type)
		b.u32(x.Index)
		b.u32(x.Block)
		b.u64(x.Check)
		b.raw(x.Digest[:])
	}
	return b.buf
}

// TestReleaseThenReopen: stores opened after others were released (their
// maps reused from the pools, with stale contents) hold exactly what a
// store opened fresh holds, over several rounds and a pending round.
func TestReleaseThenReopen(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 50000), 2: randomBytes(2, 9000)}
	runRound(t, s, 1, ps)
	want := openTest(t, f, Options{ReadOnly: true}).State()
	for i := range 4 {
		// Dirty the pools with other maps first.
		for range 3 {
			o := openTest(t, f, Options{ReadOnly: true})
			for _, ty := range o.StateRef().Types {
				for k := range ty.Chunks {
					ty.Chunks[k] = Chunk{Block: 0xdead, Check: 1}
				}
			}
			o.Release()
		}
		got := openTest(t, f, Options{ReadOnly: true})
		require.Equal(t, want, got.State(), "reopen %d after releases", i)
		checkPayloads(t, got, ps)
		got.Release()
		ps[1][1000*(i+1)] ^= 0xFF
		s = openTest(t, f, Options{})
		runRound(t, s, uint64(i+2), ps)
		want = openTest(t, f, Options{ReadOnly: true}).State()
		require.Equal(t, uint64(i+2), want.Generation)
	}
}
